package cgroup

import (
	"strings"
	"testing"
)

const (
	id1 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	id2 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	pod = "kubepods-besteffort-pod3b5d2a1c_9f1e_4c55_8d8e_0a1b2c3d4e5f.slice"
)

func TestFromPath(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		id      string
		runtime Runtime
	}{
		{"containerd systemd v2", "/kubepods.slice/kubepods-besteffort.slice/" + pod + "/cri-containerd-" + id1 + ".scope", id1, RuntimeContainerd},
		{"containerd systemd v1 pids", "/kubepods.slice/kubepods-burstable.slice/" + pod + "/cri-containerd-" + id1 + ".scope", id1, RuntimeContainerd},
		{"containerd colon form", "/kubepods.slice/kubepods-besteffort.slice/" + pod + ":cri-containerd:" + id1, id1, RuntimeContainerd},
		{"crio colon form", "/kubepods.slice/" + pod + ":crio:" + id1, id1, RuntimeCRIO},
		{"crio systemd", "/kubepods.slice/kubepods-burstable.slice/" + pod + "/crio-" + id1 + ".scope", id1, RuntimeCRIO},
		{"crio cgroupfs", "/kubepods/burstable/pod3b5d2a1c-9f1e-4c55-8d8e-0a1b2c3d4e5f/crio-" + id1, id1, RuntimeCRIO},
		{"crio conmon is not a container", "/kubepods.slice/" + pod + "/crio-conmon-" + id1 + ".scope", "", ""},
		{"crio conmon colon form", "/kubepods.slice/" + pod + ":crio-conmon:" + id1, "", ""},
		{"docker cgroupfs", "/docker/" + id1, id1, RuntimeDocker},
		{"docker systemd", "/system.slice/docker-" + id1 + ".scope", id1, RuntimeDocker},
		{"podman", "/machine.slice/libpod-" + id1 + ".scope", id1, RuntimePodman},
		{"podman with nested container cgroup", "/machine.slice/libpod-" + id1 + ".scope/container", id1, RuntimePodman},
		{"podman conmon", "/machine.slice/libpod-conmon-" + id1 + ".scope", "", ""},
		{"kubelet cgroupfs", "/kubepods/besteffort/pod3b5d2a1c-9f1e-4c55-8d8e-0a1b2c3d4e5f/" + id1, id1, RuntimeUnknown},
		{"kind node nesting takes inner", "/system.slice/docker-" + id2 + ".scope/kubelet.slice/kubelet-kubepods.slice/" + pod + "/cri-containerd-" + id1 + ".scope", id1, RuntimeContainerd},
		{"host user session", "/user.slice/user-0.slice/session-3.scope", "", ""},
		{"host service", "/system.slice/containerd.service", "", ""},
		{"root", "/", "", ""},
		{"empty", "", "", ""},
		{"short hex", "/docker/0123456789ab", "", ""},
		{"uppercase hex", "/docker/" + strings.ToUpper(id1), "", ""},
		{"65 hex digits", "/docker/" + id1 + "0", "", ""},
		{"scope of non-hex", "/system.slice/cri-containerd-" + strings.Repeat("z", 64) + ".scope", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := FromPath(tt.path)
			if ok != (tt.id != "") {
				t.Fatalf("FromPath(%q) ok = %v, want %v", tt.path, ok, tt.id != "")
			}
			if c.ID != tt.id {
				t.Errorf("FromPath(%q).ID = %q, want %q", tt.path, c.ID, tt.id)
			}
			if ok && tt.runtime != "" && c.Runtime != tt.runtime {
				t.Errorf("FromPath(%q).Runtime = %q, want %q", tt.path, c.Runtime, tt.runtime)
			}
		})
	}
}

func TestShortID(t *testing.T) {
	if got := ShortID(id1); got != "0123456789ab" {
		t.Errorf("ShortID(%q) = %q, want %q", id1, got, "0123456789ab")
	}
	if got := ShortID("abc"); got != "abc" {
		t.Errorf("ShortID(%q) = %q, want %q", "abc", got, "abc")
	}
}

func TestFromProcFile(t *testing.T) {
	hybrid := "12:pids:/kubepods.slice/" + pod + "/cri-containerd-" + id1 + ".scope\n" +
		"11:cpu,cpuacct:/user.slice\n" +
		"1:name=systemd:/user.slice/user-0.slice/session-1.scope\n" +
		"0::/user.slice/user-0.slice/session-1.scope\n"
	if c, ok := FromProcFile([]byte(hybrid)); !ok || c.ID != id1 {
		t.Errorf("FromProcFile(hybrid) = %+v, %v; want id %s", c, ok, id1)
	}

	v2 := "0::/system.slice/docker-" + id2 + ".scope\n"
	if c, ok := FromProcFile([]byte(v2)); !ok || c.ID != id2 || c.Runtime != RuntimeDocker {
		t.Errorf("FromProcFile(v2) = %+v, %v; want docker %s", c, ok, id2)
	}

	host := "0::/init.scope\n"
	if c, ok := FromProcFile([]byte(host)); ok {
		t.Errorf("FromProcFile(host) = %+v, want none", c)
	}

	garbage := "no colons here\n7:only-one-colon\n"
	if c, ok := FromProcFile([]byte(garbage)); ok {
		t.Errorf("FromProcFile(garbage) = %+v, want none", c)
	}
}

func FuzzFromPath(f *testing.F) {
	f.Add("/kubepods.slice/" + pod + "/cri-containerd-" + id1 + ".scope")
	f.Add("/a:b:" + id1)
	f.Add("/docker/" + id1)
	f.Fuzz(func(t *testing.T, path string) {
		c, ok := FromPath(path)
		if ok && !isID(c.ID) {
			t.Fatalf("FromPath(%q) returned invalid id %q", path, c.ID)
		}
		if ok && !strings.Contains(path, c.ID) {
			t.Fatalf("FromPath(%q) returned id %q not in the path", path, c.ID)
		}
	})
}
