package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// pfKthread is the PF_KTHREAD bit of the flags field of /proc/PID/stat, set
// for kernel threads (include/linux/sched.h).
const pfKthread = 0x00200000

// procStat holds the fields of /proc/PID/stat that the actionners use.
type procStat struct {
	comm  string
	state byte
	ppid  int
	pgrp  int
	flags uint64
}

// readStat parses /proc/PID/stat under procRoot. The comm field is in
// parentheses and may itself contain spaces and parentheses, so the fields
// after it are found from the last closing parenthesis (proc(5)).
func readStat(procRoot string, pid int) (procStat, error) {
	data, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	open := bytes.IndexByte(data, '(')
	end := bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no command name in parentheses", pid)
	}
	var st procStat
	st.comm = string(data[open+1 : end])
	fields := bytes.Fields(data[end+1:])
	// fields[0] is field 3 of proc(5): state, ppid, pgrp, session, tty_nr,
	// tpgid, flags.
	if len(fields) < 7 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields after the command name, want at least 7", pid, len(fields))
	}
	st.state = fields[0][0]
	if st.ppid, err = strconv.Atoi(string(fields[1])); err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat ppid: %w", pid, err)
	}
	if st.pgrp, err = strconv.Atoi(string(fields[2])); err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat pgrp: %w", pid, err)
	}
	if st.flags, err = strconv.ParseUint(string(fields[6]), 10, 64); err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat flags: %w", pid, err)
	}
	return st, nil
}

// isKernelThread reports whether pid is a kernel thread: its PF_KTHREAD flag
// is set, or it has no executable (/proc/PID/exe does not exist).
func isKernelThread(procRoot string, pid int, st procStat) bool {
	if st.flags&pfKthread != 0 {
		return true
	}
	_, err := os.Readlink(filepath.Join(procRoot, strconv.Itoa(pid), "exe"))
	return errors.Is(err, os.ErrNotExist) && st.state != 'Z'
}
