package k8smeta

import "testing"

func TestSplitContainerID(t *testing.T) {
	const hex64 = "3f4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233445566778a"
	tests := []struct {
		in          string
		wantRuntime string
		wantID      string
	}{
		{"containerd://" + hex64, "containerd", hex64},
		{"cri-o://" + hex64, "cri-o", hex64},
		{"docker://" + hex64, "docker", hex64},
		{hex64, "", hex64},
		{"containerd://", "containerd", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		runtime, id := SplitContainerID(tt.in)
		if runtime != tt.wantRuntime {
			t.Errorf("SplitContainerID(%q) runtime = %q, want %q", tt.in, runtime, tt.wantRuntime)
		}
		if id != tt.wantID {
			t.Errorf("SplitContainerID(%q) id = %q, want %q", tt.in, id, tt.wantID)
		}
	}
}

func TestShortID(t *testing.T) {
	if got := ShortID("3f4a5b6c7d8e9f0011"); got != "3f4a5b6c7d8e" {
		t.Errorf("ShortID of an 18-digit id = %q, want %q", got, "3f4a5b6c7d8e")
	}
	if got := ShortID("abc"); got != "abc" {
		t.Errorf("ShortID(%q) = %q, want it unchanged", "abc", got)
	}
}
