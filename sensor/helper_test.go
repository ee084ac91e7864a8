package sensor

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/riposte-sec/riposte/internal/k8stest"
)

// helperEnv selects a helper action when the test binary runs as a child:
// syscalls of the test process itself are filtered out by the kernel
// programs, so the tests make a child do them.
const helperEnv = "RIPOSTE_SENSOR_TEST_HELPER"

// TestMain runs a helper action when the test binary is a helper child.
// Otherwise it runs the tests and stops the Kubernetes control plane if a
// test started it.
func TestMain(m *testing.M) {
	if action := os.Getenv(helperEnv); action != "" {
		if err := runHelper(action, os.Args[len(os.Args)-1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(k8stest.Main(m))
}

// runHelper performs one action with raw syscalls.
func runHelper(action, arg string) error {
	switch action {
	case "open":
		fd, err := unix.Openat(unix.AT_FDCWD, arg, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	case "open-missing":
		if _, err := unix.Openat(unix.AT_FDCWD, arg, unix.O_RDONLY, 0); err != unix.ENOENT {
			return fmt.Errorf("open %s: err = %v, want ENOENT", arg, err)
		}
		return nil
	case "connect-dup":
		addr, err := net.ResolveTCPAddr("tcp4", arg)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		sa := &unix.SockaddrInet4{Port: addr.Port, Addr: [4]byte(addr.IP.To4())}
		if err := unix.Connect(fd, sa); err != nil {
			return err
		}
		if _, _, errno := unix.Syscall(unix.SYS_DUP2, uintptr(fd), 1, 0); errno != 0 {
			return errno
		}
		return unix.Close(fd)
	case "loop-getpid", "loop-open", "loop-exec", "loop-connect":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return err
		}
		return runLoop(action, n)
	case "connect":
		addr, err := net.ResolveTCPAddr("tcp4", arg)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		if err := unix.Connect(fd, &unix.SockaddrInet4{Port: addr.Port, Addr: [4]byte(addr.IP.To4())}); err != nil {
			return err
		}
		return unix.Close(fd)
	case "connect6":
		addr, err := net.ResolveTCPAddr("tcp6", arg)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		sa := &unix.SockaddrInet6{Port: addr.Port, Addr: [16]byte(addr.IP.To16())}
		if err := unix.Connect(fd, sa); err != nil {
			return err
		}
		return unix.Close(fd)
	case "connect-unix":
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		if err := unix.Connect(fd, &unix.SockaddrUnix{Name: arg}); err != nil {
			return err
		}
		return unix.Close(fd)
	case "open-read":
		fd, err := unix.Openat(unix.AT_FDCWD, arg, unix.O_RDONLY, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	case "sleep-open":
		// Past proc_is_new, five seconds after the process started.
		time.Sleep(6 * time.Second)
		fd, err := unix.Openat(unix.AT_FDCWD, arg, unix.O_RDONLY, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	case "finit-module-badfd":
		// An invalid descriptor makes the call fail before any module is
		// read, so nothing is loaded.
		params, _ := unix.BytePtrFromString("")
		_, _, errno := unix.Syscall(unix.SYS_FINIT_MODULE, ^uintptr(0), uintptr(unsafe.Pointer(params)), 0)
		if errno == 0 {
			return fmt.Errorf("finit_module with descriptor -1 succeeded")
		}
		return nil
	case "open-create":
		fd, err := unix.Openat(unix.AT_FDCWD, arg, unix.O_WRONLY|unix.O_CREAT, 0o600)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	case "open-trunc":
		fd, err := unix.Openat(unix.AT_FDCWD, arg, unix.O_WRONLY|unix.O_TRUNC, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	case "symlink":
		target, link, _ := strings.Cut(arg, "|")
		return unix.Symlinkat(target, unix.AT_FDCWD, link)
	case "link":
		oldpath, newpath, _ := strings.Cut(arg, "|")
		return unix.Linkat(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, 0)
	case "socket-packet":
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	case "ptrace-traceme":
		if _, _, errno := unix.Syscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0); errno != 0 {
			return errno
		}
		return nil
	case "ptrace-attach":
		return ptraceAttach()
	case "spawn-shell":
		return exec.Command("/bin/sh", "-c", arg).Run()
	case "memfd-exec":
		return memfdExec(arg)
	case "fchmod-setgid":
		fd, err := unix.Open(arg, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Fchmod(fd, 0o2755)
	case "setuid-as-nobody":
		return setuidAsNobody()
	case "unlink":
		if err := os.WriteFile(arg, nil, 0o600); err != nil {
			return err
		}
		return unix.Unlinkat(unix.AT_FDCWD, arg, 0)
	}
	return fmt.Errorf("unknown helper action %q", action)
}

// setuidAsNobody becomes nobody (uid and gid 65534) with setresuid and
// setresgid, then calls setuid(65534), which succeeds, and setuid(0), which
// fails with EPERM.
func setuidAsNobody() error {
	const nobody = 65534
	if err := unix.Setresgid(nobody, nobody, nobody); err != nil {
		return fmt.Errorf("setresgid: %w", err)
	}
	if err := unix.Setresuid(nobody, nobody, nobody); err != nil {
		return fmt.Errorf("setresuid: %w", err)
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETUID, nobody, 0, 0); errno != 0 {
		return fmt.Errorf("setuid(%d): %w", nobody, errno)
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETUID, 0, 0, 0); errno != unix.EPERM {
		return fmt.Errorf("setuid(0) as nobody: err = %v, want EPERM", errno)
	}
	return nil
}

// runHelperChild runs the test binary as a helper child and returns its pid.
func runHelperChild(t *testing.T, action, arg string) uint32 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", arg)
	cmd.Env = append(os.Environ(), helperEnv+"="+action)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s %s: %v: %s", action, arg, err, out)
	}
	return uint32(cmd.Process.Pid)
}
