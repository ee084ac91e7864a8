package imagebuild

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// gzipLayer is an OCI layer held in memory. Unlike the layers of the tarball
// package it carries no annotations, so its descriptor in the manifest reads
// back exactly as written.
type gzipLayer struct {
	compressed []byte
	digest     v1.Hash
	diffID     v1.Hash
}

// newGzipLayer compresses an uncompressed layer tar. The same input always
// gives the same compressed bytes, since compress/gzip is deterministic and
// the gzip header carries no time or name.
func newGzipLayer(uncompressed []byte) (*gzipLayer, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("compress layer: %w", err)
	}
	if _, err := zw.Write(uncompressed); err != nil {
		return nil, fmt.Errorf("compress layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress layer: %w", err)
	}

	l := &gzipLayer{compressed: buf.Bytes()}
	if l.digest, _, err = v1.SHA256(bytes.NewReader(l.compressed)); err != nil {
		return nil, fmt.Errorf("hash layer: %w", err)
	}
	if l.diffID, _, err = v1.SHA256(bytes.NewReader(uncompressed)); err != nil {
		return nil, fmt.Errorf("hash layer: %w", err)
	}
	return l, nil
}

func (l *gzipLayer) Digest() (v1.Hash, error) { return l.digest, nil }

func (l *gzipLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

func (l *gzipLayer) Size() (int64, error) { return int64(len(l.compressed)), nil }

func (l *gzipLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

func (l *gzipLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.compressed)), nil
}

func (l *gzipLayer) Uncompressed() (io.ReadCloser, error) {
	zr, err := gzip.NewReader(bytes.NewReader(l.compressed))
	if err != nil {
		return nil, fmt.Errorf("decompress layer: %w", err)
	}
	return zr, nil
}
