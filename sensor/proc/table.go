// Package proc keeps the sensor's process table: one entry per live process,
// seeded from procfs at start and updated from fork, exec and exit events.
package proc

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/riposte-sec/riposte/sensor/event"
)

// DefaultMaxProcesses is the table size limit when none is given.
const DefaultMaxProcesses = 65536

// Table maps process ids to entries. It is not safe for concurrent use: the
// sensor updates it from its single event-reading goroutine.
type Table struct {
	fs     *FS
	max    int
	logger *slog.Logger
	procs  map[uint32]*event.Process
	// evicted counts entries removed to stay within max.
	evicted uint64
}

// NewTable returns an empty table that reads missing entries from the
// procfs mounted at root and holds at most max entries (DefaultMaxProcesses
// when max <= 0).
func NewTable(root string, max int, logger *slog.Logger) *Table {
	if max <= 0 {
		max = DefaultMaxProcesses
	}
	return &Table{
		fs:     NewFS(root),
		max:    max,
		logger: logger,
		procs:  make(map[uint32]*event.Process),
	}
}

// Seed adds every process found in procfs and links each to its parent.
// Processes that exit while being read are skipped.
func (t *Table) Seed() error {
	entries, err := os.ReadDir(t.fs.root)
	if err != nil {
		return fmt.Errorf("seed process table: %w", err)
	}
	sockets := make(map[uint32]map[uint64]socketInfo) // by network namespace
	for _, e := range entries {
		pid, err := strconv.ParseUint(e.Name(), 10, 32)
		if err != nil || !e.IsDir() {
			continue
		}
		p, err := t.fs.Read(uint32(pid))
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				t.logger.Debug("skip process while seeding", "pid", pid, "error", err)
			}
			continue
		}
		netNS := nsInode(t.fs.path(p.PID, "ns/net"))
		socks, ok := sockets[netNS]
		if !ok {
			socks = t.fs.socketsByInode(p.PID)
			sockets[netNS] = socks
		}
		p.FDs = t.fs.ReadFDs(p.PID, socks)
		t.insert(p)
	}
	for _, p := range t.procs {
		p.Parent = t.procs[p.PPID]
	}
	return nil
}

// Len returns the number of entries.
func (t *Table) Len() int { return len(t.procs) }

// Evicted returns how many entries were removed to stay within the limit.
func (t *Table) Evicted() uint64 { return t.evicted }

// Get returns the entry of pid, or nil.
func (t *Table) Get(pid uint32) *event.Process {
	return t.procs[pid]
}

// Lookup returns the entry of pid, reading it from procfs and adding it when
// the table has none. It returns nil when the process is gone.
func (t *Table) Lookup(pid uint32) *event.Process {
	if p := t.procs[pid]; p != nil {
		return p
	}
	p, err := t.fs.Read(pid)
	if err != nil {
		return nil
	}
	p.FDs = t.fs.ReadFDs(pid, t.fs.socketsByInode(pid))
	p.Parent = t.parentOf(p)
	t.insert(p)
	return p
}

// Exec replaces the entry of p.PID with p, which describes the program the
// process now runs, and links it to its parent. The descriptors of the old
// entry carry over, less those marked close-on-exec.
func (t *Table) Exec(p *event.Process) {
	if old := t.procs[p.PID]; old != nil {
		if p.StartTime.IsZero() {
			p.StartTime = old.StartTime
		}
		p.EnvShebang = ranEnvForScript(old, p)
		if p.FDs == nil {
			p.FDs = old.FDs
			p.FDs.CloseOnExec()
		}
	}
	if p.FDs == nil {
		p.FDs = event.NewFDTable()
	}
	p.Parent = t.parentOf(p)
	t.insert(p)
}

// ranEnvForScript reports whether p ran env for the #! line of a script and
// next is the interpreter that env then started for that script. For
// "#!/usr/bin/env bash", the kernel runs env with the arguments
// [/usr/bin/env bash /path/to/script ...] and names the process after the
// script, and env runs [bash /path/to/script ...]. Each part is checked, so
// that env run under another name, as through a symbolic link, to start
// "sh -c" is not taken for a script.
// NOTE: busybox's env applet (executable /bin/busybox) is not recognized.
func ranEnvForScript(p, next *event.Process) bool {
	if path.Base(p.ExePath) != "env" || p.Name == "env" || p.Name == "" || len(p.Args) < 3 {
		return false
	}
	// The script is the argument after the #! line's one argument. The
	// kernel passes it as given to execve, which a shell gives as a path.
	script := p.Args[2]
	if !strings.Contains(script, "/") || !strings.HasPrefix(path.Base(script), p.Name) {
		return false
	}
	return slices.Contains(next.Args[min(1, len(next.Args)):], script)
}

// Fork adds an entry for a new process, copied from its parent's entry as
// the kernel copies the parent's state. The parent entry is read from procfs
// when missing. It returns the child's entry, or nil when neither the parent
// nor the child can be found.
func (t *Table) Fork(parentPID, childPID uint32, child event.Process) *event.Process {
	parent := t.Lookup(parentPID)
	if parent == nil {
		return t.Lookup(childPID)
	}
	t.refreshParent(parent)

	c := *parent
	c.PID = childPID
	c.PPID = parentPID
	c.VPID = child.VPID
	c.StartTime = child.StartTime
	c.Parent = parent
	c.FDs = parent.FDs.Clone()
	t.insert(&c)
	return &c
}

// Exit removes the entry of pid and returns it, or nil when absent.
func (t *Table) Exit(pid uint32) *event.Process {
	p := t.procs[pid]
	delete(t.procs, pid)
	return p
}

// parentOf returns the entry of p's parent, reading it from procfs if
// needed.
func (t *Table) parentOf(p *event.Process) *event.Process {
	if p.PPID == 0 || p.PPID == p.PID {
		return nil
	}
	return t.Lookup(p.PPID)
}

// refreshParent relinks p when its parent has exited since p was linked:
// the kernel reparented p (to init or a subreaper), so the procfs parent id
// is read again. This also keeps chains of exited ancestors from growing.
func (t *Table) refreshParent(p *event.Process) {
	if p.Parent != nil && t.procs[p.PPID] == p.Parent {
		return
	}
	ppid, err := t.fs.ReadPPID(p.PID)
	if err != nil {
		return
	}
	p.PPID = ppid
	p.Parent = t.parentOf(p)
}

// insert adds or replaces an entry, first making room when the table is
// full: entries of processes that no longer exist in procfs go first, then
// arbitrary ones.
func (t *Table) insert(p *event.Process) {
	if _, ok := t.procs[p.PID]; !ok && len(t.procs) >= t.max {
		t.makeRoom()
	}
	t.procs[p.PID] = p
}

func (t *Table) makeRoom() {
	for pid := range t.procs {
		if !t.fs.Exists(pid) {
			delete(t.procs, pid)
			t.evicted++
		}
	}
	for pid := range t.procs {
		if len(t.procs) < t.max {
			break
		}
		delete(t.procs, pid)
		t.evicted++
	}
	t.logger.Warn("process table full, evicted entries", "max", t.max, "evicted_total", t.evicted)
}
