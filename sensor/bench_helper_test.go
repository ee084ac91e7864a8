package sensor

import (
	"fmt"
	"net"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// runLoop runs n iterations of a syscall-heavy workload for the slowdown
// benchmarks.
func runLoop(action string, n int) error {
	switch action {
	case "loop-getpid":
		for range n {
			unix.Getpid()
		}
	case "loop-open":
		for range n {
			fd, err := unix.Openat(unix.AT_FDCWD, "/etc/hostname", unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			unix.Close(fd)
		}
	case "loop-exec":
		for range n {
			if err := exec.Command("/bin/true").Run(); err != nil {
				return err
			}
		}
	case "loop-connect":
		addr := os.Getenv("RIPOSTE_BENCH_ADDR")
		for range n {
			c, err := net.Dial("tcp4", addr)
			if err != nil {
				return fmt.Errorf("dial %s: %w", addr, err)
			}
			c.Close()
		}
	}
	return nil
}
