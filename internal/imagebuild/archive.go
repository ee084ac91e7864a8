package imagebuild

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations that name the image in index.json. containerd reads the first;
// the OCI image layout specification defines the second as the tag.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// WriteArchiveFile writes img to file as an OCI image archive named ref,
// replacing the file only once the archive is complete.
func WriteArchiveFile(file string, img v1.Image, ref string) (err error) {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(file)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create archive: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	if err := WriteArchive(tmp, img, ref); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("set archive mode: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close archive: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("move archive into place: %w", err)
	}
	return nil
}

// WriteArchive writes img to w as a tar of an OCI image layout that also
// contains a Docker-style manifest.json. ref is the image reference, such as
// ghcr.io/riposte-sec/riposte:0.1.0; a reference without a tag gets "latest".
func WriteArchive(w io.Writer, img v1.Image, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("invalid image reference %q: use registry/repository:tag: %w", ref, err)
	}
	blobs, manifestDesc, err := imageBlobs(img)
	if err != nil {
		return err
	}
	manifestDesc.Annotations = map[string]string{
		annotationContainerdName: tag.Name(),
		annotationRefName:        tag.TagStr(),
	}

	index, err := json.Marshal(v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests:     []v1.Descriptor{manifestDesc},
	})
	if err != nil {
		return fmt.Errorf("encode index.json: %w", err)
	}
	dockerManifest, err := json.Marshal(tarball.Manifest{{
		Config:   blobs[1].name,
		RepoTags: []string{tag.Name()},
		Layers:   blobNames(blobs[2:]),
	}})
	if err != nil {
		return fmt.Errorf("encode manifest.json: %w", err)
	}

	// Every entry gets the image's creation time, so the archive is as
	// reproducible as the image.
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("read image config: %w", err)
	}
	modified := cfg.Created.UTC()

	tw := tar.NewWriter(w)
	files := []archiveFile{
		{name: "oci-layout", data: []byte(`{"imageLayoutVersion":"1.0.0"}`)},
		{name: "index.json", data: index},
		{name: "manifest.json", data: dockerManifest},
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		h := &tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: modified, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("write archive entry %s: %w", dir, err)
		}
	}
	for _, f := range append(blobs, files...) {
		if err := writeArchiveFile(tw, f, modified); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("close archive: %w", err)
	}
	return nil
}

type archiveFile struct {
	name string
	data []byte
}

func writeArchiveFile(tw *tar.Writer, f archiveFile, modified time.Time) error {
	h := &tar.Header{
		Name:     f.name,
		Typeflag: tar.TypeReg,
		Mode:     0o644,
		Size:     int64(len(f.data)),
		ModTime:  modified,
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("write archive entry %s: %w", f.name, err)
	}
	if _, err := tw.Write(f.data); err != nil {
		return fmt.Errorf("write archive entry %s: %w", f.name, err)
	}
	return nil
}

// imageBlobs returns the manifest, the config and the compressed layers of img,
// in that order, named by digest under blobs/, and the manifest's descriptor.
func imageBlobs(img v1.Image) ([]archiveFile, v1.Descriptor, error) {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("read manifest: %w", err)
	}
	manifestDigest, manifestSize, err := v1.SHA256(bytes.NewReader(rawManifest))
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("hash manifest: %w", err)
	}
	mediaType, err := img.MediaType()
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("read manifest media type: %w", err)
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("read config: %w", err)
	}
	configDigest, err := img.ConfigName()
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("hash config: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("read config: %w", err)
	}

	blobs := []archiveFile{
		{name: blobName(manifestDigest), data: rawManifest},
		{name: blobName(configDigest), data: rawConfig},
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, v1.Descriptor{}, fmt.Errorf("read layers: %w", err)
	}
	for i, l := range layers {
		digest, err := l.Digest()
		if err != nil {
			return nil, v1.Descriptor{}, fmt.Errorf("hash layer %d: %w", i, err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, v1.Descriptor{}, fmt.Errorf("compress layer %d: %w", i, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, v1.Descriptor{}, fmt.Errorf("compress layer %d: %w", i, err)
		}
		blobs = append(blobs, archiveFile{name: blobName(digest), data: data})
	}

	desc := v1.Descriptor{
		MediaType: mediaType,
		Size:      manifestSize,
		Digest:    manifestDigest,
		Platform:  &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture},
	}
	return blobs, desc, nil
}

func blobName(h v1.Hash) string {
	return "blobs/" + h.Algorithm + "/" + h.Hex
}

func blobNames(files []archiveFile) []string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	return names
}
