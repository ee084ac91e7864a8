package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// skipUnlessRunc skips the test, or fails it when CI=true, unless the test
// runs as root with runc installed.
func skipUnlessRunc(t *testing.T) string {
	t.Helper()
	runc, err := exec.LookPath("runc")
	reason := ""
	switch {
	case os.Geteuid() != 0:
		reason = "running an image with runc needs root"
	case err != nil:
		reason = "runc is not installed: install the Debian package runc"
	}
	if reason == "" {
		return runc
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s", reason)
	}
	t.Skip(reason)
	return ""
}

// runImage unpacks the image archive into an OCI runtime bundle and runs its
// entrypoint with args under runc, as the image's user, on a read-only root
// file system. It returns the standard output.
func runImage(t *testing.T, runc, archive, ref string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(archive, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundle")
	unpackRootfs(t, img, filepath.Join(bundle, "rootfs"))
	writeRuntimeConfig(t, runc, bundle, cfg, args)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := fmt.Sprintf("riposte-image-test-%d-%s", os.Getpid(), filepath.Base(dir))
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, runc, "--root", filepath.Join(dir, "runc-state"), "run", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("runc run: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func TestImageRunsAsNonroot(t *testing.T) {
	runc := skipUnlessRunc(t)
	archive := filepath.Join(t.TempDir(), "image.tar")
	args := []string{"-binary", buildTinyBinary(t), "-out", archive, "-version", "1.0.0"}
	if err := run(args, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	out := runImage(t, runc, archive, "ghcr.io/riposte-sec/riposte:1.0.0")
	if want := "hello from uid=65532 gid=65532\n"; out != want {
		t.Errorf("output = %q, want %q", out, want)
	}
}

// TestImageRunsWithRunc builds the image from the real riposte binary and
// runs `riposte version` in it.
func TestImageRunsWithRunc(t *testing.T) {
	runc := skipUnlessRunc(t)
	dir := t.TempDir()

	binary := filepath.Join(dir, "riposte")
	build := exec.Command("go", "build", "-trimpath", "-o", binary, "../../cmd/riposte")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build riposte: %v\n%s", err, out)
	}
	archive := filepath.Join(dir, "riposte-image.tar")
	if err := run([]string{"-binary", binary, "-out", archive, "-version", "9.9.9"}, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	out := runImage(t, runc, archive, "ghcr.io/riposte-sec/riposte:9.9.9", "version")
	if !strings.HasPrefix(out, "riposte ") {
		t.Errorf("riposte version printed %q, want a line starting with \"riposte \"", out)
	}
}

// unpackRootfs writes the image's file system into dir with the modes and
// owners of its tar entries.
func unpackRootfs(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("read image file system: %v", err)
		}
		if !filepath.IsLocal(h.Name) {
			t.Fatalf("image entry %q leaves the root file system", h.Name)
		}
		target := filepath.Join(dir, h.Name)
		mode := os.FileMode(h.Mode & 0o777)
		if h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(target, data, 0o600); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("image entry %q has unexpected type %c", h.Name, h.Typeflag)
		}
		if err := os.Chmod(target, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(target, h.Uid, h.Gid); err != nil {
			t.Fatal(err)
		}
	}
}

// writeRuntimeConfig writes the bundle's config.json: runc's default spec
// with the image's entrypoint, environment and user, no terminal, and a
// read-only root file system.
func writeRuntimeConfig(t *testing.T, runc, bundle string, cfg *v1.ConfigFile, args []string) {
	t.Helper()
	if out, err := exec.Command(runc, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v\n%s", err, out)
	}
	file := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	uidText, gidText, ok := strings.Cut(cfg.Config.User, ":")
	if !ok {
		t.Fatalf("image user %q is not uid:gid", cfg.Config.User)
	}
	uid, err := strconv.Atoi(uidText)
	if err != nil {
		t.Fatal(err)
	}
	gid, err := strconv.Atoi(gidText)
	if err != nil {
		t.Fatal(err)
	}
	process := spec["process"].(map[string]any)
	process["terminal"] = false
	process["args"] = append(append([]string{}, cfg.Config.Entrypoint...), args...)
	process["env"] = cfg.Config.Env
	process["cwd"] = cfg.Config.WorkingDir
	process["user"] = map[string]any{"uid": uid, "gid": gid}
	spec["root"] = map[string]any{"path": "rootfs", "readonly": true}
	data, err = json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
