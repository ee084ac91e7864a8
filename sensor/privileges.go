package sensor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrMissingCapability is returned by New when the process lacks a
// capability the sensor needs.
var ErrMissingCapability = errors.New("missing capability")

// Capability numbers from linux/capability.h.
const (
	capSysPtrace = 19
	capSysAdmin  = 21
	capPerfmon   = 38
	capBPF       = 39
)

var capNames = map[int]string{
	capSysPtrace: "CAP_SYS_PTRACE",
	capSysAdmin:  "CAP_SYS_ADMIN",
	capPerfmon:   "CAP_PERFMON",
	capBPF:       "CAP_BPF",
}

// effectiveCaps returns the effective capability set of the calling
// process from the CapEff line of /proc/self/status.
func effectiveCaps(procRoot string) (uint64, error) {
	data, err := os.ReadFile(procRoot + "/self/status")
	if err != nil {
		return 0, fmt.Errorf("read capabilities: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("parse CapEff %q: %w", v, err)
			}
			return caps, nil
		}
	}
	return 0, errors.New("read capabilities: CapEff missing from /proc/self/status")
}

// checkCapabilities returns an error naming each capability needed to load
// and attach the programs that the effective set lacks. CAP_SYS_ADMIN
// covers CAP_BPF and CAP_PERFMON. A missing CAP_SYS_PTRACE only limits what
// can be read from /proc of other users' processes, so it is logged.
func checkCapabilities(caps uint64, logger *slog.Logger) error {
	has := func(c int) bool { return caps&(1<<c) != 0 }
	if !has(capSysPtrace) {
		logger.Warn("missing capability, executable paths of other users' processes started before the sensor stay unknown",
			"capability", capNames[capSysPtrace])
	}
	if has(capSysAdmin) {
		return nil
	}
	var missing []string
	for _, c := range []int{capBPF, capPerfmon} {
		if !has(c) {
			missing = append(missing, capNames[c])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s; run as root or grant CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN also covers them)",
			ErrMissingCapability, strings.Join(missing, ", "))
	}
	return nil
}

// File system magic numbers from linux/magic.h.
const (
	tracefsMagic = 0x74726163
	bpffsMagic   = 0xcafe4a11
)

// ensureMount mounts a file system of fstype at dir unless one is already
// there.
func ensureMount(dir, fstype string, magic int64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err == nil && int64(st.Type) == magic {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mount %s at %s: %w", fstype, dir, err)
	}
	if err := unix.Mount(fstype, dir, fstype, 0, ""); err != nil {
		return fmt.Errorf("mount %s at %s: %w", fstype, dir, err)
	}
	return nil
}
