package k8smeta

import "strings"

// ShortIDLength is the length of the short container id that Falco prints
// as container.id: the first 12 hexadecimal digits of the full id.
const ShortIDLength = 12

// SplitContainerID splits a container id as the kubelet reports it in pod
// status ("containerd://<64 hex>", "cri-o://...", "docker://...") into the
// runtime name and the bare id. An id without a "runtime://" prefix is
// returned unchanged with an empty runtime.
func SplitContainerID(statusID string) (runtime, id string) {
	if i := strings.Index(statusID, "://"); i >= 0 {
		return statusID[:i], statusID[i+3:]
	}
	return "", statusID
}

// ShortID returns the first ShortIDLength characters of id, or id itself when
// it is shorter.
func ShortID(id string) string {
	if len(id) <= ShortIDLength {
		return id
	}
	return id[:ShortIDLength]
}
