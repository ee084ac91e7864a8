package k8smeta

import "strings"

// podUIDLength is the length of a pod UID in its UUID form
// (8-4-4-4-12 hexadecimal digits). Static pods that the kubelet reads from a
// manifest use a 32-digit hexadecimal hash instead.
const (
	podUIDLength     = 36
	staticPodUIDSize = 32
)

// PodUIDFromCgroup returns the UID of the pod whose cgroup contains path, as
// the kubelet lays it out:
//
//	cgroupfs driver: .../kubepods/besteffort/pod<uid>/<container id>
//	                 .../kubepods/pod<uid>/<container id>  (Guaranteed QoS)
//	systemd driver:  .../kubepods-besteffort-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope
//	runc cgroupsPath: kubepods-burstable-pod<uid>.slice:cri-containerd:<id>
//
// The systemd driver replaces the dashes of the UID with underscores. The
// returned UID always uses dashes, as in pod metadata. Prefixes before
// "kubepods" (nested clusters, kind nodes) are accepted. The innermost pod
// segment wins.
func PodUIDFromCgroup(path string) (string, bool) {
	raw, ok := rawPodUID(path)
	if !ok {
		return "", false
	}
	if strings.IndexByte(raw, '_') < 0 {
		return raw, true
	}
	return strings.ReplaceAll(raw, "_", "-"), true
}

// rawPodUID returns the pod UID of path as it is spelled there, with
// underscores when the systemd driver wrote it. It does not allocate.
func rawPodUID(path string) (string, bool) {
	end := len(path)
	for end > 0 {
		start := end
		for start > 0 && path[start-1] != '/' && path[start-1] != ':' {
			start--
		}
		if uid, ok := podUIDFromSegment(path[start:end]); ok {
			return uid, true
		}
		end = start - 1
	}
	return "", false
}

// podUIDFromSegment parses one path segment: "pod<uid>" (cgroupfs) or
// "kubepods[-qos]-pod<uid>.slice" (systemd).
func podUIDFromSegment(segment string) (string, bool) {
	var candidate string
	if slice, ok := strings.CutSuffix(segment, ".slice"); ok {
		i := strings.LastIndex(slice, "-pod")
		if i < 0 {
			return "", false
		}
		candidate = slice[i+len("-pod"):]
	} else if rest, ok := strings.CutPrefix(segment, "pod"); ok {
		candidate = rest
	} else {
		return "", false
	}
	if !isPodUID(candidate) {
		return "", false
	}
	return candidate, true
}

// isPodUID reports whether s is a UUID whose separators are all dashes or
// all underscores, or a 32-digit hexadecimal static pod hash.
func isPodUID(s string) bool {
	switch len(s) {
	case staticPodUIDSize:
		return isHex(s)
	case podUIDLength:
	default:
		return false
	}

	separator := s[8]
	if separator != '-' && separator != '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != separator {
				return false
			}
		default:
			if !isHexDigit(s[i]) {
				return false
			}
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
