package k8smeta

import "strings"

// DefaultImageTag is the tag a container runtime pulls when an image
// reference names neither a tag nor a digest.
const DefaultImageTag = "latest"

// ImageRef is an image reference split into the parts that Falco exposes as
// container.image.repository, container.image.tag and container.image.digest.
type ImageRef struct {
	// Repository is the reference without its tag and digest, including the
	// registry host and port when present ("registry:5000/team/app").
	Repository string
	// Tag is the explicit tag, DefaultImageTag when the reference has neither
	// tag nor digest, and empty when it is pinned by digest only or ends in
	// an empty tag ("app:", which no registry accepts).
	Tag string
	// Digest is the content digest after "@" ("sha256:..."), or empty.
	Digest string
}

// ParseImage splits an image reference as written in a pod spec.
//
// A colon counts as a tag separator only after the last slash, so the port of
// a registry ("localhost:5000/app") is kept in the repository. Unlike Falco's
// own splitter (libsinsp split_container_image, which cuts at the first colon
// after the first slash), this keeps nested paths and ports intact. The
// reference is not normalized: "nginx" stays "nginx" and does not become
// "docker.io/library/nginx", which is why the upstream rule lists carry both
// spellings of the images they name.
func ParseImage(ref string) ImageRef {
	var out ImageRef
	name := ref
	if at := strings.IndexByte(ref, '@'); at >= 0 {
		name, out.Digest = ref[:at], ref[at+1:]
	}

	lastSlash := strings.LastIndexByte(name, '/')
	colon := strings.LastIndexByte(name, ':')
	if colon > lastSlash {
		name, out.Tag = name[:colon], name[colon+1:]
	}
	out.Repository = name

	if colon <= lastSlash && out.Digest == "" && out.Repository != "" {
		out.Tag = DefaultImageTag
	}
	return out
}
