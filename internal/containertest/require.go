package containertest

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// EnvBusybox names the environment variable that overrides the path of the
// statically linked busybox binary.
const EnvBusybox = "RIPOSTE_TEST_BUSYBOX"

// skipOrFail skips the test, or fails it when CI is "true", because the
// environment cannot run containers.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but containers cannot run: %s", msg)
	}
	t.Skipf("skipping: %s", msg)
}

// requireRoot stops the test unless it runs as root.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "containers need root (euid %d)", os.Geteuid())
	}
}

var (
	busyboxOnce sync.Once
	busyboxPath string
	busyboxApps []string
	busyboxErr  error
)

// requireBusybox returns the path of a statically linked busybox and the
// names of its applets.
func requireBusybox(t testing.TB) (string, []string) {
	t.Helper()
	busyboxOnce.Do(func() { busyboxPath, busyboxApps, busyboxErr = findBusybox() })
	if busyboxErr != nil {
		skipOrFail(t, "%v", busyboxErr)
	}
	return busyboxPath, busyboxApps
}

func findBusybox() (string, []string, error) {
	path := os.Getenv(EnvBusybox)
	if path == "" {
		var err error
		if path, err = exec.LookPath("busybox"); err != nil {
			return "", nil, fmt.Errorf("busybox not found in PATH: install busybox-static or set %s: %w", EnvBusybox, err)
		}
	}

	f, err := elf.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("read busybox %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", nil, fmt.Errorf("busybox %s is dynamically linked, so it cannot run in a bare rootfs: install busybox-static or set %s", path, EnvBusybox)
		}
	}

	out, err := exec.Command(path, "--list").Output()
	if err != nil {
		return "", nil, fmt.Errorf("list busybox applets of %s: %w", path, err)
	}
	return path, strings.Fields(string(out)), nil
}

var (
	runcOnce sync.Once
	runcPath string
	runcErr  error
)

// requireRunc returns the path of runc.
func requireRunc(t testing.TB) string {
	t.Helper()
	runcOnce.Do(func() {
		runcPath, runcErr = exec.LookPath("runc")
		if runcErr != nil {
			runcErr = fmt.Errorf("runc not found in PATH: install the runc package: %w", runcErr)
		}
	})
	if runcErr != nil {
		skipOrFail(t, "%v", runcErr)
	}
	return runcPath
}
