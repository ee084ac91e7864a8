package k8smeta

import (
	"strings"
	"testing"
)

func TestPodUIDFromCgroup(t *testing.T) {
	const (
		uid             = "0f3b1c9e-7a2d-4c1e-9b8f-123456789abc"
		uidSd           = "0f3b1c9e_7a2d_4c1e_9b8f_123456789abc"
		static          = "6f1a2b3c4d5e6f708192a3b4c5d6e7f8"
		ctrHex          = "3f4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778a"
		scope           = "/cri-containerd-" + ctrHex + ".scope"
		besteffortSlice = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
	)
	tests := []struct {
		name string
		path string
		want string
		ok   bool
	}{
		{"cgroupfs besteffort", "/kubepods/besteffort/pod" + uid + "/" + ctrHex, uid, true},
		{"cgroupfs burstable", "/kubepods/burstable/pod" + uid + "/" + ctrHex, uid, true},
		{"cgroupfs guaranteed", "/kubepods/pod" + uid + "/" + ctrHex, uid, true},
		{"cgroupfs pod only", "/kubepods/besteffort/pod" + uid, uid, true},
		{"cgroupfs nested prefix", "/process_api/abc/kubepods/besteffort/pod" + uid + "/" + ctrHex, uid, true},
		{"systemd besteffort", besteffortSlice + uidSd + ".slice" + scope, uid, true},
		{"systemd guaranteed", "/kubepods.slice/kubepods-pod" + uidSd + ".slice" + scope, uid, true},
		{"systemd crio", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidSd + ".slice/crio-" + ctrHex + ".scope", uid, true},
		{"systemd crio conmon", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidSd + ".slice/crio-conmon-" + ctrHex + ".scope", uid, true},
		{"systemd kind node", "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" + uidSd + ".slice" + scope, uid, true},
		{"runc systemd cgroupsPath", "kubepods-besteffort-pod" + uidSd + ".slice:cri-containerd:" + ctrHex, uid, true},
		{"static pod hash", "/kubepods/burstable/pod" + static + "/" + ctrHex, static, true},
		{"uppercase hex", "/kubepods/pod" + strings.ToUpper(uid), strings.ToUpper(uid), true},
		{"qos level only", "/kubepods/besteffort", "", false},
		{"docker container", "/docker/" + ctrHex, "", false},
		{"systemd user slice", "/user.slice/user-1000.slice/session-2.scope", "", false},
		{"root", "/", "", false},
		{"empty", "", "", false},
		{"short uid", "/kubepods/pod0f3b1c9e-7a2d-4c1e-9b8f", "", false},
		{"mixed separators", "/kubepods.slice/kubepods-pod0f3b1c9e_7a2d-4c1e_9b8f_123456789abc.slice", "", false},
		{"non-hex uid", "/kubepods/pod0f3b1c9e-7a2d-4c1e-9b8f-123456789xyz", "", false},
		{"pod word not a pod", "/podcast/" + uid, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := PodUIDFromCgroup(tt.path)
			if ok != tt.ok {
				t.Fatalf("PodUIDFromCgroup(%q) ok = %v, want %v", tt.path, ok, tt.ok)
			}
			if got != tt.want {
				t.Errorf("PodUIDFromCgroup(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func FuzzPodUIDFromCgroup(f *testing.F) {
	for _, seed := range []string{
		"/kubepods/besteffort/pod0f3b1c9e-7a2d-4c1e-9b8f-123456789abc/abc",
		"/kubepods.slice/kubepods-pod0f3b1c9e_7a2d_4c1e_9b8f_123456789abc.slice/x.scope",
		"a-pod.slice", "pod", "::", "/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		uid, ok := PodUIDFromCgroup(path)
		if !ok {
			if uid != "" {
				t.Fatalf("PodUIDFromCgroup(%q) = %q with ok false", path, uid)
			}
			return
		}
		if !isPodUID(uid) || strings.Contains(uid, "_") {
			t.Fatalf("PodUIDFromCgroup(%q) = %q, not a dashed pod UID", path, uid)
		}
		if !strings.Contains(path, uid) && !strings.Contains(path, strings.ReplaceAll(uid, "-", "_")) {
			t.Fatalf("PodUIDFromCgroup(%q) = %q, which is not in the path", path, uid)
		}
	})
}
