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

// memfdExec copies the program at path into an anonymous memfd_create file
// and execs it from there, the way fileless malware runs.
func memfdExec(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fd, err := unix.MemfdCreate("riposte-test", 0)
	if err != nil {
		return err
	}
	if _, err := unix.Write(fd, data); err != nil {
		return err
	}
	argv := []string{"memfd-true"}
	return unix.Exec(fmt.Sprintf("/proc/self/fd/%d", fd), argv, nil)
}

// ptraceAttach starts a sleeping child, attaches to it with PTRACE_ATTACH
// as a debugger or an injector would, then detaches and ends it.
func ptraceAttach() error {
	child := exec.Command("/bin/sleep", "5")
	if err := child.Start(); err != nil {
		return err
	}
	defer func() {
		child.Process.Kill()
		child.Wait()
	}()
	if err := unix.PtraceAttach(child.Process.Pid); err != nil {
		return fmt.Errorf("attach to %d: %w", child.Process.Pid, err)
	}
	var status unix.WaitStatus
	if _, err := unix.Wait4(child.Process.Pid, &status, 0, nil); err != nil {
		return err
	}
	return unix.PtraceDetach(child.Process.Pid)
}
