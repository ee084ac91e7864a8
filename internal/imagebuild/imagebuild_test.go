package imagebuild

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// helloBinary is testdata/hello built as a static Linux binary by TestMain.
var helloBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imagebuild-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	helloBinary, err = buildHello(dir)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildHello compiles testdata/hello into dir with CGO disabled and returns
// the binary's path.
func buildHello(dir string) (string, error) {
	out := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build testdata/hello: %v\n%s", err, output)
	}
	return out, nil
}

// writeCABundle writes a PEM bundle with one self-signed CA certificate.
func writeCABundle(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "imagebuild test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func testSpec(t *testing.T) Spec {
	t.Helper()
	return Spec{
		Binary:       helloBinary,
		BinaryPath:   "/usr/bin/hello",
		CABundle:     writeCABundle(t),
		User:         User{Name: "nonroot", UID: 65532, GID: 65532},
		Cmd:          []string{"--help"},
		Env:          []string{"HELLO=1"},
		ExposedPorts: []string{"2803/tcp"},
		Labels:       map[string]string{"org.opencontainers.image.title": "hello"},
		Created:      time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC),
	}
}

func TestBuildConfig(t *testing.T) {
	spec := testSpec(t)
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("validate image: %v", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "linux" {
		t.Errorf("OS = %q, want linux", cfg.OS)
	}
	if cfg.Architecture != runtime.GOARCH {
		t.Errorf("Architecture = %q, want %q", cfg.Architecture, runtime.GOARCH)
	}
	if !cfg.Created.Equal(spec.Created) {
		t.Errorf("Created = %v, want %v", cfg.Created.Time, spec.Created)
	}
	if diff := cmp.Diff([]string{"/usr/bin/hello"}, cfg.Config.Entrypoint); diff != "" {
		t.Errorf("Entrypoint (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"--help"}, cfg.Config.Cmd); diff != "" {
		t.Errorf("Cmd (-want +got):\n%s", diff)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532", cfg.Config.User)
	}
	wantEnv := []string{"PATH=/usr/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "HELLO=1"}
	if diff := cmp.Diff(wantEnv, cfg.Config.Env); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(spec.Labels, cfg.Config.Labels); diff != "" {
		t.Errorf("Labels (-want +got):\n%s", diff)
	}
	if _, ok := cfg.Config.ExposedPorts["2803/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v, want 2803/tcp", cfg.Config.ExposedPorts)
	}

	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	if mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type = %s, want %s", mt, types.OCIManifestSchema1)
	}
	manifest, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if manifest.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("config media type = %s, want %s", manifest.Config.MediaType, types.OCIConfigJSON)
	}
	if len(manifest.Layers) != 1 || manifest.Layers[0].MediaType != types.OCILayer {
		t.Errorf("layers = %+v, want one %s", manifest.Layers, types.OCILayer)
	}
}

// layerFile is one entry of the image's flattened filesystem.
type layerFile struct {
	header *tar.Header
	data   []byte
}

func readFilesystem(t *testing.T, img v1.Image) map[string]layerFile {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]layerFile{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read image filesystem: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", h.Name, err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = layerFile{header: h, data: data}
	}
	return files
}

func TestBuildFilesystem(t *testing.T) {
	spec := testSpec(t)
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	files := readFilesystem(t, img)

	binary, err := os.ReadFile(spec.Binary)
	if err != nil {
		t.Fatal(err)
	}
	caBundle, err := os.ReadFile(spec.CABundle)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		mode int64
		uid  int
		data []byte
	}{
		{name: "usr/bin/hello", mode: 0o755, data: binary},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: caBundle},
		{name: "tmp", mode: 0o1777},
		{name: "home/nonroot", mode: 0o700, uid: 65532},
		{name: "usr", mode: 0o755},
		{name: "etc/ssl/certs", mode: 0o755},
	}
	for _, c := range checks {
		f, ok := files[c.name]
		if !ok {
			t.Errorf("%s missing from the image", c.name)
			continue
		}
		if f.header.Mode != c.mode {
			t.Errorf("%s mode = %o, want %o", c.name, f.header.Mode, c.mode)
		}
		if f.header.Uid != c.uid {
			t.Errorf("%s uid = %d, want %d", c.name, f.header.Uid, c.uid)
		}
		if c.data != nil && !bytes.Equal(f.data, c.data) {
			t.Errorf("%s content differs from the input file", c.name)
		}
		if !f.header.ModTime.Equal(spec.Created) {
			t.Errorf("%s modification time = %v, want %v", c.name, f.header.ModTime, spec.Created)
		}
	}
	if passwd := string(files["etc/passwd"].data); !strings.Contains(passwd, "\nnonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot entry:\n%s", passwd)
	}
	if group := string(files["etc/group"].data); !strings.Contains(group, "\nnonroot:x:65532:") {
		t.Errorf("/etc/group has no nonroot entry:\n%s", group)
	}
}

// writeArchive writes img as an archive in a temporary directory.
func writeArchive(t *testing.T, img v1.Image, ref string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "out", "image.tar")
	if err := WriteArchiveFile(file, img, ref); err != nil {
		t.Fatal(err)
	}
	return file
}

// untar extracts a tar file into a new temporary directory.
func untar(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatalf("read archive: %v", err)
		}
		if !filepath.IsLocal(h.Name) {
			t.Fatalf("archive entry %q escapes the archive", h.Name)
		}
		target := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(target, data, 0o644); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("archive entry %q has unexpected type %c", h.Name, h.Typeflag)
		}
	}
}

func TestArchiveIsOCILayout(t *testing.T) {
	img, err := Build(testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	dir := untar(t, writeArchive(t, img, "example.test/riposte/hello:1.2.3"))

	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("read OCI layout: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1", len(im.Manifests))
	}
	desc := im.Manifests[0]
	if desc.Digest != want {
		t.Errorf("index.json digest = %s, want %s", desc.Digest, want)
	}
	if got := desc.Annotations[annotationContainerdName]; got != "example.test/riposte/hello:1.2.3" {
		t.Errorf("%s = %q, want the full reference", annotationContainerdName, got)
	}
	if got := desc.Annotations[annotationRefName]; got != "1.2.3" {
		t.Errorf("%s = %q, want the tag 1.2.3", annotationRefName, got)
	}
	if desc.Platform == nil || desc.Platform.Architecture != runtime.GOARCH || desc.Platform.OS != "linux" {
		t.Errorf("platform = %+v, want linux/%s", desc.Platform, runtime.GOARCH)
	}

	loaded, err := idx.Image(desc.Digest)
	if err != nil {
		t.Fatalf("load image from the layout: %v", err)
	}
	if err := validate.Image(loaded); err != nil {
		t.Fatalf("validate loaded image: %v", err)
	}
	cfg, err := loaded.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "65532:65532" {
		t.Errorf("loaded User = %q, want 65532:65532", cfg.Config.User)
	}
}

func TestArchiveIsDockerTarball(t *testing.T) {
	img, err := Build(testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	file := writeArchive(t, img, "example.test/hello")

	tag, err := name.NewTag("example.test/hello:latest")
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := tarball.ImageFromPath(file, &tag)
	if err != nil {
		t.Fatalf("load archive through manifest.json: %v", err)
	}
	if err := validate.Image(loaded); err != nil {
		t.Fatalf("validate loaded image: %v", err)
	}
	got, err := loaded.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("config digest = %s, want %s", got, want)
	}
}

func TestBuildReproducible(t *testing.T) {
	spec := testSpec(t)
	var archives [2][]byte
	for i := range archives {
		img, err := Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteArchive(&buf, img, "example.test/hello:1"); err != nil {
			t.Fatal(err)
		}
		archives[i] = buf.Bytes()
	}
	if !bytes.Equal(archives[0], archives[1]) {
		t.Error("two builds from the same inputs gave different archives")
	}
}

func TestBuildRejectsDynamicBinary(t *testing.T) {
	const dynamic = "/bin/ls"
	f, err := os.Open(dynamic)
	if err != nil {
		t.Skipf("no %s to use as a dynamically linked binary: %v", dynamic, err)
	}
	f.Close()
	spec := testSpec(t)
	spec.Binary = dynamic
	_, err = Build(spec)
	if !errors.Is(err, ErrNotStatic) {
		t.Fatalf("Build(%s) error = %v, want ErrNotStatic", dynamic, err)
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	notELF := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	noPEM := filepath.Join(t.TempDir(), "empty.crt")
	if err := os.WriteFile(noPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := testSpec(t)
	tests := []struct {
		name   string
		change func(*Spec)
		want   string
	}{
		{"missing binary", func(s *Spec) { s.Binary = "" }, "missing binary"},
		{"binary not found", func(s *Spec) { s.Binary = "/nonexistent/riposte" }, "read binary"},
		{"binary not ELF", func(s *Spec) { s.Binary = notELF }, "as ELF"},
		{"missing CA bundle", func(s *Spec) { s.CABundle = "" }, "missing CA bundle"},
		{"CA bundle not found", func(s *Spec) { s.CABundle = "/nonexistent/ca.crt" }, "ca-certificates"},
		{"CA bundle without PEM", func(s *Spec) { s.CABundle = noPEM }, "no PEM certificate"},
		{"relative binary path", func(s *Spec) { s.BinaryPath = "usr/bin/hello" }, "invalid binary path"},
		{"root user", func(s *Spec) { s.User.UID = 0 }, "invalid user"},
		{"user name with colon", func(s *Spec) { s.User.Name = "a:b" }, "invalid user name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := base
			tt.change(&spec)
			_, err := Build(spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Build error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteArchiveRejectsBadReference(t *testing.T) {
	img, err := Build(testSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	err = WriteArchive(io.Discard, img, "Not A/Reference")
	if err == nil || !strings.Contains(err.Error(), "invalid image reference") {
		t.Fatalf("WriteArchive error = %v, want invalid image reference", err)
	}
}
