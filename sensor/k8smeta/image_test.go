package k8smeta

import (
	"strings"
	"testing"
)

func TestParseImage(t *testing.T) {
	tests := []struct {
		ref  string
		want ImageRef
	}{
		{"nginx", ImageRef{Repository: "nginx", Tag: "latest"}},
		{"nginx:1.25", ImageRef{Repository: "nginx", Tag: "1.25"}},
		{"library/nginx:1.25-alpine", ImageRef{Repository: "library/nginx", Tag: "1.25-alpine"}},
		{"docker.io/library/nginx:latest", ImageRef{Repository: "docker.io/library/nginx", Tag: "latest"}},
		{"localhost:5000/app", ImageRef{Repository: "localhost:5000/app", Tag: "latest"}},
		{"localhost:5000/app:v1", ImageRef{Repository: "localhost:5000/app", Tag: "v1"}},
		{"registry.example.com:5000/team/sub/app:v1.2.3", ImageRef{Repository: "registry.example.com:5000/team/sub/app", Tag: "v1.2.3"}},
		{"nginx@sha256:0123abcd", ImageRef{Repository: "nginx", Digest: "sha256:0123abcd"}},
		{"registry:5000/app@sha256:0123abcd", ImageRef{Repository: "registry:5000/app", Digest: "sha256:0123abcd"}},
		{"ghcr.io/org/app:v2@sha256:0123abcd", ImageRef{Repository: "ghcr.io/org/app", Tag: "v2", Digest: "sha256:0123abcd"}},
		{"[::1]:5000/app:v1", ImageRef{Repository: "[::1]:5000/app", Tag: "v1"}},
		{"", ImageRef{}},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got := ParseImage(tt.ref)
			if got != tt.want {
				t.Errorf("ParseImage(%q) = %+v, want %+v", tt.ref, got, tt.want)
			}
		})
	}
}

func FuzzParseImage(f *testing.F) {
	for _, seed := range []string{"nginx", "a:b", "h:1/a:b@sha256:00", "@", ":", "/:", "a@b@c", "x/y:z/w"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		got := ParseImage(ref)
		if strings.Contains(got.Repository, "@") {
			t.Fatalf("ParseImage(%q): repository %q contains '@'", ref, got.Repository)
		}
		if strings.Contains(got.Tag, "/") {
			t.Fatalf("ParseImage(%q): tag %q contains '/'", ref, got.Tag)
		}

		// Rebuilding the reference from its parts gives it back.
		rebuilt := got.Repository
		rest := strings.TrimPrefix(ref, got.Repository)
		if strings.HasPrefix(rest, ":") {
			rebuilt += ":" + got.Tag
		}
		if strings.Contains(ref, "@") {
			rebuilt += "@" + got.Digest
		}
		if rebuilt != ref {
			t.Fatalf("ParseImage(%q) = %+v, which rebuilds to %q", ref, got, rebuilt)
		}
	})
}
