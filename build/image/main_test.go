package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/riposte-sec/riposte/internal/imagebuild"
)

// buildTinyBinary compiles the image package's tiny test program as a static
// Linux binary.
func buildTinyBinary(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "riposte")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "../../internal/imagebuild/testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tiny binary: %v\n%s", err, output)
	}
	return out
}

func TestRunWritesRiposteImage(t *testing.T) {
	if _, err := os.Stat(imagebuild.CABundlePath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CA bundle %s is missing: install the Debian package ca-certificates", imagebuild.CABundlePath)
		}
		t.Skipf("CA bundle %s is missing: %v", imagebuild.CABundlePath, err)
	}
	binary := buildTinyBinary(t)
	out := filepath.Join(t.TempDir(), "riposte-image.tar")
	env := map[string]string{"SOURCE_DATE_EPOCH": "1796400000"}
	var stdout bytes.Buffer
	args := []string{"-binary", binary, "-out", out, "-version", "1.2.3", "-revision", "abc123"}
	if err := run(args, &stdout, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "ghcr.io/riposte-sec/riposte:1.2.3 sha256:") {
		t.Errorf("output = %q, want the reference and digest", stdout.String())
	}

	tag, err := name.NewTag("ghcr.io/riposte-sec/riposte:1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatalf("load %s: %v", out, err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("validate image: %v", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/usr/bin/riposte"}, cfg.Config.Entrypoint); diff != "" {
		t.Errorf("Entrypoint (-want +got):\n%s", diff)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532 (nonroot)", cfg.Config.User)
	}
	created := time.Unix(1796400000, 0).UTC()
	if !cfg.Created.Equal(created) {
		t.Errorf("Created = %v, want %v from SOURCE_DATE_EPOCH", cfg.Created.Time, created)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.title":    "riposte",
		"org.opencontainers.image.source":   "https://github.com/riposte-sec/riposte",
		"org.opencontainers.image.url":      "https://github.com/riposte-sec/riposte",
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.version":  "1.2.3",
		"org.opencontainers.image.revision": "abc123",
		"org.opencontainers.image.created":  created.Format(time.RFC3339),
	}
	for k, want := range wantLabels {
		if got := cfg.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if cfg.Config.Labels["org.opencontainers.image.description"] == "" {
		t.Error("label org.opencontainers.image.description is empty")
	}
	for _, port := range []string{"2803/tcp", "9376/tcp"} {
		if _, ok := cfg.Config.ExposedPorts[port]; !ok {
			t.Errorf("ExposedPorts = %v, want %s", cfg.Config.ExposedPorts, port)
		}
	}

	caBundle, err := os.ReadFile(imagebuild.CABundlePath)
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	found := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		found[strings.TrimSuffix(h.Name, "/")] = true
		if h.Name == "etc/ssl/certs/ca-certificates.crt" {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, caBundle) {
				t.Error("the image's CA bundle differs from the build machine's")
			}
		}
	}
	for _, f := range []string{"usr/bin/riposte", "etc/ssl/certs/ca-certificates.crt", "etc/passwd", "etc/group", "tmp"} {
		if !found[f] {
			t.Errorf("%s missing from the image", f)
		}
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"missing binary", []string{"-binary", "/nonexistent/riposte", "-out", "x.tar"}, nil, "read binary"},
		{"bad created", []string{"-created", "yesterday"}, nil, "invalid -created"},
		{"bad SOURCE_DATE_EPOCH", nil, map[string]string{"SOURCE_DATE_EPOCH": "-5"}, "invalid SOURCE_DATE_EPOCH"},
		{"extra argument", []string{"build"}, nil, "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-out", filepath.Join(t.TempDir(), "x.tar")}, tt.args...)
			err := run(args, io.Discard, func(k string) string { return tt.env[k] })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
