// Package cgroup finds container ids in cgroup paths.
//
// Container runtimes name the cgroup of a container after its 64-hex-digit
// id. The layouts recognised, under cgroup v1 and v2 alike, are:
//
//	.../cri-containerd-<id>.scope         containerd, systemd driver
//	...slice:cri-containerd:<id>          containerd, systemd driver, name as passed to runc
//	.../crio-<id>.scope, .../crio-<id>    CRI-O
//	.../docker-<id>.scope, .../docker/<id> Docker, systemd and cgroupfs drivers
//	.../libpod-<id>.scope                 Podman
//	.../<id>                              any runtime with the cgroupfs driver (kubepods/pod<uid>/<id>)
//
// A crio-conmon-<id>.scope or libpod-conmon-<id>.scope cgroup holds the
// runtime's monitor process, which is not part of the container.
package cgroup

import (
	"bufio"
	"bytes"
	"strings"
)

// HostID is the container id of processes that run in no container, as in
// Falco's container.id field.
const HostID = "host"

// ShortIDLen is the length of the short container id (Falco's container.id).
const ShortIDLen = 12

// Runtime names a container runtime.
type Runtime string

// Runtimes recognised from cgroup names.
const (
	RuntimeContainerd Runtime = "containerd"
	RuntimeCRIO       Runtime = "cri-o"
	RuntimeDocker     Runtime = "docker"
	RuntimePodman     Runtime = "podman"
	// RuntimeUnknown is a bare 64-hex-digit cgroup name, which the cgroupfs
	// driver of every runtime uses.
	RuntimeUnknown Runtime = "unknown"
)

// Container is a container found in a cgroup path.
type Container struct {
	ID      string // full id, 64 lowercase hex digits
	Runtime Runtime
}

// ShortID returns the first 12 characters of id, or id itself when shorter.
func ShortID(id string) string {
	if len(id) > ShortIDLen {
		return id[:ShortIDLen]
	}
	return id
}

// prefixes maps a cgroup name prefix to its runtime. Each prefix is followed
// by the id; a ".scope" suffix is optional.
var prefixes = []struct {
	prefix  string
	runtime Runtime
}{
	{"cri-containerd-", RuntimeContainerd},
	{"crio-", RuntimeCRIO},
	{"docker-", RuntimeDocker},
	{"libpod-", RuntimePodman},
}

// FromPath returns the container named by the innermost matching component
// of a cgroup path, so a container nested in another (a kind node running
// pods) yields the inner one. It reports false when no component names a
// container.
func FromPath(path string) (Container, bool) {
	rest := path
	for rest != "" {
		var name string
		if i := strings.LastIndexByte(rest, '/'); i >= 0 {
			name, rest = rest[i+1:], rest[:i]
		} else {
			name, rest = rest, ""
		}
		if c, ok := fromName(name); ok {
			if c.Runtime == RuntimeUnknown && strings.HasSuffix(rest, "/docker") {
				c.Runtime = RuntimeDocker
			}
			return c, true
		}
	}
	return Container{}, false
}

// fromName matches one cgroup directory name.
func fromName(name string) (Container, bool) {
	if strings.Contains(name, ":") {
		// systemd driver form "<slice>:<prefix>:<id>".
		parts := strings.Split(name, ":")
		id := parts[len(parts)-1]
		if len(parts) != 3 || !isID(id) || strings.Contains(parts[1], "conmon") {
			return Container{}, false
		}
		switch parts[1] {
		case "cri-containerd":
			return Container{ID: id, Runtime: RuntimeContainerd}, true
		case "crio":
			return Container{ID: id, Runtime: RuntimeCRIO}, true
		case "docker":
			return Container{ID: id, Runtime: RuntimeDocker}, true
		case "libpod":
			return Container{ID: id, Runtime: RuntimePodman}, true
		}
		return Container{ID: id, Runtime: RuntimeUnknown}, true
	}

	if isID(name) {
		return Container{ID: name, Runtime: RuntimeUnknown}, true
	}
	base := strings.TrimSuffix(name, ".scope")
	for _, p := range prefixes {
		id, ok := strings.CutPrefix(base, p.prefix)
		if ok && isID(id) {
			// crio-conmon-<id> and libpod-conmon-<id> fail isID because of
			// the "conmon-" part, so monitors never match.
			return Container{ID: id, Runtime: p.runtime}, true
		}
	}
	return Container{}, false
}

// isID reports whether s is 64 lowercase hex digits.
func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// FromProcFile returns the container named in the contents of a
// /proc/<pid>/cgroup file (lines "hierarchy-id:controllers:path", with
// "0::path" for cgroup v2). Lines that do not match the format are skipped.
func FromProcFile(data []byte) (Container, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		_, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		_, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if c, ok := FromPath(path); ok {
			return c, true
		}
	}
	return Container{}, false
}
