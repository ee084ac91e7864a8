// Package imagebuild assembles a container image from a static binary and a CA
// certificate bundle, with no base image, no Docker engine and no network, and
// writes it as an OCI image archive.
//
// The image has one layer holding the binary, the CA bundle, /etc/passwd and
// /etc/group entries for a non-root user, and a world-writable /tmp. Every file
// carries the same modification time, so the same inputs always give the same
// image digest.
//
// The archive is a tar file of an OCI image layout (index.json, oci-layout and
// blobs/sha256/...) that also contains a Docker-style manifest.json: the
// formats of `skopeo copy oci-archive:`, `ctr images import` and `docker
// load`. The tests read it with go-containerregistry and run it with runc.
package imagebuild

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrNotStatic means the binary needs a dynamic loader or shared libraries,
// which an image built from scratch does not contain.
var ErrNotStatic = errors.New("binary is not statically linked")

// User is the non-root account written to /etc/passwd and /etc/group.
type User struct {
	Name string
	UID  int
	GID  int
}

// Spec describes the image to build.
type Spec struct {
	// Binary is the path of the static executable on the build machine.
	Binary string
	// BinaryPath is the path of the binary in the image, such as /usr/bin/riposte.
	BinaryPath string
	// CABundle is the path of a PEM bundle of CA certificates on the build
	// machine, such as Debian's /etc/ssl/certs/ca-certificates.crt.
	CABundle string
	// User is the account the image runs as by default.
	User User
	// Entrypoint is the image's entrypoint; it defaults to [BinaryPath].
	Entrypoint []string
	// Cmd holds the default arguments, if any.
	Cmd []string
	// Env holds extra environment variables as KEY=value.
	Env []string
	// ExposedPorts lists ports such as "2803/tcp".
	ExposedPorts []string
	// Labels are the image config labels, such as org.opencontainers.image.*.
	Labels map[string]string
	// Created is the image creation time and the modification time of every
	// file in the layer. The zero value means the Unix epoch.
	Created time.Time
}

// CABundlePath is the path of the CA bundle in the image. It is the first path
// that Go's crypto/x509 tries on Linux, and the path Debian uses.
const CABundlePath = "/etc/ssl/certs/ca-certificates.crt"

// Build assembles the image described by spec.
func Build(spec Spec) (v1.Image, error) {
	if err := checkSpec(spec); err != nil {
		return nil, err
	}
	binary, err := os.ReadFile(spec.Binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	arch, err := staticArchitecture(spec.Binary)
	if err != nil {
		return nil, err
	}
	caBundle, err := os.ReadFile(spec.CABundle)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w (install the Debian package ca-certificates or pass another bundle)", err)
	}
	if !bytes.Contains(caBundle, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("CA bundle %s contains no PEM certificate: pass a bundle such as %s", spec.CABundle, CABundlePath)
	}

	created := spec.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	created = created.UTC()

	layerTar, err := rootFilesystem(spec, binary, caBundle, created)
	if err != nil {
		return nil, err
	}
	layer, err := newGzipLayer(layerTar)
	if err != nil {
		return nil, err
	}

	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "imagebuild: " + spec.BinaryPath + " and " + CABundlePath,
			Comment:   "static binary and CA certificates, no base image",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}

	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = arch
	cfg.OS = "linux"
	cfg.Created = v1.Time{Time: created}
	cfg.Config = imageConfig(spec)
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("set image config: %w", err)
	}
	return img, nil
}

func checkSpec(spec Spec) error {
	switch {
	case spec.Binary == "":
		return errors.New("missing binary: set the path of a static executable")
	case spec.CABundle == "":
		return fmt.Errorf("missing CA bundle: set a PEM bundle such as %s", CABundlePath)
	case !path.IsAbs(spec.BinaryPath) || path.Clean(spec.BinaryPath) != spec.BinaryPath || spec.BinaryPath == "/":
		return fmt.Errorf("invalid binary path in image %q: use a clean absolute file path such as /usr/bin/riposte", spec.BinaryPath)
	case spec.User.Name == "" || spec.User.UID <= 0 || spec.User.GID <= 0:
		return fmt.Errorf("invalid user %+v: set a name and a UID and GID above 0", spec.User)
	case strings.ContainsAny(spec.User.Name, ":\n"):
		return fmt.Errorf("invalid user name %q: it may not contain ':' or a newline", spec.User.Name)
	}
	return nil
}

func imageConfig(spec Spec) v1.Config {
	entrypoint := spec.Entrypoint
	if len(entrypoint) == 0 {
		entrypoint = []string{spec.BinaryPath}
	}
	env := append([]string{
		"PATH=" + path.Dir(spec.BinaryPath),
		"SSL_CERT_FILE=" + CABundlePath,
	}, spec.Env...)
	var ports map[string]struct{}
	if len(spec.ExposedPorts) > 0 {
		ports = map[string]struct{}{}
		for _, p := range spec.ExposedPorts {
			ports[p] = struct{}{}
		}
	}
	return v1.Config{
		Entrypoint:   entrypoint,
		Cmd:          spec.Cmd,
		Env:          env,
		User:         fmt.Sprintf("%d:%d", spec.User.UID, spec.User.GID),
		WorkingDir:   "/",
		ExposedPorts: ports,
		Labels:       spec.Labels,
		StopSignal:   "SIGTERM",
	}
}

// staticArchitecture returns the OCI architecture name of an ELF executable
// and ErrNotStatic when the executable requests a dynamic loader or needs
// shared libraries.
func staticArchitecture(file string) (string, error) {
	f, err := elf.Open(file)
	if err != nil {
		return "", fmt.Errorf("read binary %s as ELF: %w (build it for Linux with CGO_ENABLED=0)", file, err)
	}
	defer f.Close()

	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%w: %s asks for a dynamic loader: build it with CGO_ENABLED=0", ErrNotStatic, file)
		}
	}
	libs, err := f.ImportedLibraries()
	if err == nil && len(libs) > 0 {
		return "", fmt.Errorf("%w: %s needs %s: build it with CGO_ENABLED=0", ErrNotStatic, file, strings.Join(libs, ", "))
	}

	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_RISCV:
		return "riscv64", nil
	case elf.EM_PPC64:
		return "ppc64le", nil
	case elf.EM_S390:
		return "s390x", nil
	default:
		return "", fmt.Errorf("unsupported ELF machine %s in %s: build for amd64, arm64, riscv64, ppc64le or s390x", f.Machine, file)
	}
}

// entry is one file or directory of the root filesystem layer.
type entry struct {
	name string
	mode int64
	uid  int
	gid  int
	data []byte
	dir  bool
}

// rootFilesystem returns the uncompressed tar of the image's only layer.
func rootFilesystem(spec Spec, binary, caBundle []byte, modified time.Time) ([]byte, error) {
	u := spec.User
	home := "/home/" + u.Name
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", u.Name, u.UID, u.GID, u.Name, home)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", u.Name, u.GID)

	entries := []entry{
		{name: strings.TrimPrefix(spec.BinaryPath, "/"), mode: 0o755, data: binary},
		{name: strings.TrimPrefix(CABundlePath, "/"), mode: 0o644, data: caBundle},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "tmp", mode: 0o1777, dir: true},
		{name: "root", mode: 0o700, dir: true},
		{name: strings.TrimPrefix(home, "/"), mode: 0o700, uid: u.UID, gid: u.GID, dir: true},
	}
	entries = withParentDirectories(entries)
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: modified,
			Format:  tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("write layer entry %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("write layer entry %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close layer: %w", err)
	}
	return buf.Bytes(), nil
}

// withParentDirectories adds a root-owned 0755 directory entry for every parent
// directory that entries do not list themselves.
func withParentDirectories(entries []entry) []entry {
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.name] = true
	}
	out := entries
	for _, e := range entries {
		for dir := path.Dir(e.name); dir != "." && !listed[dir]; dir = path.Dir(dir) {
			listed[dir] = true
			out = append(out, entry{name: dir, mode: 0o755, dir: true})
		}
	}
	return out
}
