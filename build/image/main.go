// Command image builds the riposte container image from a static riposte
// binary and the build machine's CA certificate bundle, and writes it as an
// OCI image archive. It needs no Docker engine and no network.
//
//	CGO_ENABLED=0 go build -trimpath -o bin/riposte ./cmd/riposte
//	go run ./build/image -binary bin/riposte -out bin/riposte-image.tar -version 0.1.0
//
// The image runs as the non-root user nonroot (65532:65532), which suits the
// responder; the chart runs the sensor as root with a short list of
// capabilities instead.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/riposte-sec/riposte/internal/imagebuild"
)

// Image defaults. The repository is only a name written into the archive; the
// build contacts no registry.
const (
	defaultRepository = "ghcr.io/riposte-sec/riposte"
	binaryPath        = "/usr/bin/riposte"
	sourceURL         = "https://github.com/riposte-sec/riposte"
)

// nonroot is the default user of the image. 65532 is the UID and GID that
// distroless images use for "nonroot", so policies written for them apply.
var nonroot = imagebuild.User{Name: "nonroot", UID: 65532, GID: 65532}

// exposedPorts are the webhook port (Falco Talon's 2803) and the metrics port.
var exposedPorts = []string{"2803/tcp", "9376/tcp"}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	binary   string
	caBundle string
	out      string
	ref      string
	version  string
	revision string
	created  string
}

func run(args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.binary, "binary", "bin/riposte", "static riposte binary to put in the image (build it with CGO_ENABLED=0)")
	fs.StringVar(&o.caBundle, "ca-bundle", imagebuild.CABundlePath, "PEM bundle of CA certificates to put in the image")
	fs.StringVar(&o.out, "out", "bin/riposte-image.tar", "path of the OCI image archive to write")
	fs.StringVar(&o.ref, "ref", "", "image reference written into the archive (default "+defaultRepository+":<version>)")
	fs.StringVar(&o.version, "version", "dev", "version for the tag and the org.opencontainers.image.version label")
	fs.StringVar(&o.revision, "revision", "", "source revision for the org.opencontainers.image.revision label")
	fs.StringVar(&o.created, "created", "", "creation time, RFC 3339 (default: $SOURCE_DATE_EPOCH, else the Unix epoch, so builds are reproducible)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: pass options as flags only", fs.Args())
	}

	spec, err := riposteSpec(o, getenv)
	if err != nil {
		return err
	}
	ref := o.ref
	if ref == "" {
		ref = defaultRepository + ":" + o.version
	}
	img, err := imagebuild.Build(spec)
	if err != nil {
		return fmt.Errorf("build image: %w", err)
	}
	if err := imagebuild.WriteArchiveFile(o.out, img, ref); err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("hash image: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %s %s\n", o.out, ref, digest)
	return nil
}

// riposteSpec returns the definition of the riposte image.
func riposteSpec(o options, getenv func(string) string) (imagebuild.Spec, error) {
	created, err := creationTime(o.created, getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return imagebuild.Spec{}, err
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       "riposte",
		"org.opencontainers.image.description": "Runtime security for Linux and Kubernetes: eBPF detection with Falco rules and responses chosen by Rego policies",
		"org.opencontainers.image.source":      sourceURL,
		"org.opencontainers.image.url":         sourceURL,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.version":     o.version,
		"org.opencontainers.image.created":     created.Format(time.RFC3339),
	}
	if o.revision != "" {
		labels["org.opencontainers.image.revision"] = o.revision
	}
	return imagebuild.Spec{
		Binary:       o.binary,
		BinaryPath:   binaryPath,
		CABundle:     o.caBundle,
		User:         nonroot,
		Entrypoint:   []string{binaryPath},
		ExposedPorts: exposedPorts,
		Labels:       labels,
		Created:      created,
	}, nil
}

// creationTime parses the -created flag, falling back to SOURCE_DATE_EPOCH
// (seconds since the epoch, as reproducible-builds.org defines it) and then to
// the epoch itself.
func creationTime(flagValue, sourceDateEpoch string) (time.Time, error) {
	if flagValue != "" {
		t, err := time.Parse(time.RFC3339, flagValue)
		if err != nil {
			return time.Time{}, fmt.Errorf("invalid -created %q: use RFC 3339, such as 2026-12-04T16:00:00Z", flagValue)
		}
		return t.UTC(), nil
	}
	if sourceDateEpoch != "" {
		seconds, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
		if err != nil || seconds < 0 {
			return time.Time{}, errors.New("invalid SOURCE_DATE_EPOCH " + strconv.Quote(sourceDateEpoch) + ": use a count of seconds since 1970-01-01")
		}
		return time.Unix(seconds, 0).UTC(), nil
	}
	return time.Unix(0, 0).UTC(), nil
}
