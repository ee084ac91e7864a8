package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/riposte-sec/riposte/sensor/cgroup"
	"github.com/riposte-sec/riposte/sensor/event"
)

// clockTicks is USER_HZ, the unit of start times in /proc/<pid>/stat. It is
// 100 on every Linux architecture Riposte builds for.
const clockTicks = 100

// FS reads process state from a procfs mount.
type FS struct {
	root     string
	bootTime time.Time
}

// NewFS returns a reader of the procfs mounted at root (usually "/proc").
func NewFS(root string) *FS {
	fs := &FS{root: root}
	fs.bootTime, _ = readBootTime(root)
	return fs
}

func readBootTime(root string) (time.Time, error) {
	data, err := os.ReadFile(filepath.Join(root, "stat"))
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("parse btime %q: %w", v, err)
			}
			return time.Unix(sec, 0), nil
		}
	}
	return time.Time{}, errors.New("btime missing from stat")
}

// Exists reports whether the process directory of pid exists.
func (fs *FS) Exists(pid uint32) bool {
	_, err := os.Stat(fs.path(pid, ""))
	return err == nil
}

func (fs *FS) path(pid uint32, name string) string {
	return filepath.Join(fs.root, strconv.FormatUint(uint64(pid), 10), name)
}

// stat holds the fields of /proc/<pid>/stat that the table uses.
type stat struct {
	comm      string
	ppid      uint32
	pgrp      uint32
	session   uint32
	ttyNr     uint32
	startTime uint64 // clock ticks after boot
}

// parseStat parses /proc/<pid>/stat. The command name may contain spaces
// and parentheses, so the fields after it are found from the last ')'.
func parseStat(data []byte) (stat, error) {
	open := bytes.IndexByte(data, '(')
	end := bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return stat{}, fmt.Errorf("parse stat %q: missing command name in parentheses", data)
	}
	fields := strings.Fields(string(data[end+1:]))
	// fields[0] is the state (field 3 of proc(5)), so field N is fields[N-3].
	if len(fields) < 20 {
		return stat{}, fmt.Errorf("parse stat %q: %d fields after the command name, want at least 20", data, len(fields))
	}
	ppid, err := strconv.ParseUint(fields[1], 10, 32)
	if err != nil {
		return stat{}, fmt.Errorf("parse stat ppid %q: %w", fields[1], err)
	}
	tty, err := strconv.ParseInt(fields[4], 10, 64)
	if err != nil {
		return stat{}, fmt.Errorf("parse stat tty_nr %q: %w", fields[4], err)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return stat{}, fmt.Errorf("parse stat starttime %q: %w", fields[19], err)
	}
	pgrp, _ := strconv.ParseUint(fields[2], 10, 32)
	session, _ := strconv.ParseUint(fields[3], 10, 32)
	return stat{comm: string(data[open+1 : end]), ppid: uint32(ppid), pgrp: uint32(pgrp), session: uint32(session),
		ttyNr: uint32(tty), startTime: start}, nil
}

// ReadPPID returns the parent process id of pid.
func (fs *FS) ReadPPID(pid uint32) (uint32, error) {
	data, err := os.ReadFile(fs.path(pid, "stat"))
	if err != nil {
		return 0, err
	}
	st, err := parseStat(data)
	if err != nil {
		return 0, err
	}
	return st.ppid, nil
}

// Read builds a table entry for pid from procfs. Only the stat file is
// required. Fields whose files cannot be read stay empty, such as exe and
// cwd of kernel threads, or of other users' processes without
// CAP_SYS_PTRACE.
func (fs *FS) Read(pid uint32) (*event.Process, error) {
	data, err := os.ReadFile(fs.path(pid, "stat"))
	if err != nil {
		return nil, err
	}
	st, err := parseStat(data)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}
	p := &event.Process{
		PID:         pid,
		PPID:        st.ppid,
		VPID:        pid,
		Name:        st.comm,
		TTY:         st.ttyNr,
		SID:         st.session,
		PGID:        st.pgrp,
		LoginUID:    event.LoginUIDUnset,
		ContainerID: cgroup.HostID,
	}
	if !fs.bootTime.IsZero() {
		p.StartTime = fs.bootTime.Add(time.Duration(st.startTime) * time.Second / clockTicks)
	}

	if data, err := os.ReadFile(fs.path(pid, "cmdline")); err == nil && len(data) > 0 {
		p.Args = splitCmdline(data)
	}
	p.ExePath, _ = os.Readlink(fs.path(pid, "exe"))
	p.ExePath = strings.TrimSuffix(p.ExePath, " (deleted)")
	if strings.HasPrefix(p.ExePath, "/memfd:") {
		// Named as exec records name it (see sensor.processFromExec).
		p.ExePath = p.ExePath[1:]
		p.ExeFromMemfd = true
	}
	p.Cwd, _ = os.Readlink(fs.path(pid, "cwd"))
	var exe unix.Stat_t
	if err := unix.Stat(fs.path(pid, "exe"), &exe); err == nil {
		p.ExeIno = exe.Ino
		p.ExeMode = exe.Mode
		p.ExeUID, p.ExeGID = exe.Uid, exe.Gid
		p.ExeCtime = time.Unix(exe.Ctim.Unix())
		p.ExeMtime = time.Unix(exe.Mtim.Unix())
	}

	if data, err := os.ReadFile(fs.path(pid, "status")); err == nil {
		parseStatus(data, p)
	}
	if data, err := os.ReadFile(fs.path(pid, "loginuid")); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 32); err == nil {
			p.LoginUID = uint32(v)
		}
	}
	if data, err := os.ReadFile(fs.path(pid, "cgroup")); err == nil {
		p.Cgroups = cgroupPaths(data)
		if c, ok := cgroup.FromProcFile(data); ok {
			p.ContainerID = c.ID
			p.ContainerRuntime = string(c.Runtime)
		}
	}
	p.PIDNS = nsInode(fs.path(pid, "ns/pid"))
	p.MntNS = nsInode(fs.path(pid, "ns/mnt"))
	return p, nil
}

// splitCmdline splits /proc/<pid>/cmdline into arguments. The file ends
// each argument with a NUL byte; the final one is dropped before splitting
// so that empty arguments survive.
func splitCmdline(data []byte) []string {
	data = bytes.TrimSuffix(data, []byte{0})
	return strings.Split(string(data), "\x00")
}

// parseStatus fills the real and effective user and group ids, the
// capability sets and the namespace pid from /proc/<pid>/status.
func parseStatus(data []byte, p *event.Process) {
	for _, line := range strings.Split(string(data), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(value)
		num := func(i int) uint32 {
			if i >= len(f) {
				return 0
			}
			v, _ := strconv.ParseUint(f[i], 10, 32)
			return uint32(v)
		}
		hex := func() uint64 {
			if len(f) == 0 {
				return 0
			}
			v, _ := strconv.ParseUint(f[0], 16, 64)
			return v
		}
		switch key {
		case "CapInh":
			p.CapInheritable = hex()
		case "CapPrm":
			p.CapPermitted = hex()
		case "CapEff":
			p.CapEffective = hex()
		case "Uid":
			p.UID, p.EUID = num(0), num(1)
		case "Gid":
			p.GID, p.EGID = num(0), num(1)
		case "Threads":
			p.Threads = int(num(0))
		case "NSpid":
			if len(f) > 0 {
				p.VPID = num(len(f) - 1)
			}
		}
	}
}

// cgroupPaths returns the paths of a /proc/<pid>/cgroup file.
func cgroupPaths(data []byte) []string {
	var paths []string
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 {
			paths = append(paths, parts[2])
		}
	}
	return paths
}

// nsInode returns the inode number in a namespace link such as
// "pid:[4026531836]", or 0.
func nsInode(link string) uint32 {
	target, err := os.Readlink(link)
	if err != nil {
		return 0
	}
	open := strings.IndexByte(target, '[')
	if open < 0 || !strings.HasSuffix(target, "]") {
		return 0
	}
	v, err := strconv.ParseUint(target[open+1:len(target)-1], 10, 32)
	if err != nil {
		return 0
	}
	return uint32(v)
}
