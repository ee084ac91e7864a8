package event

// MaxFDsPerProcess bounds the descriptors an FDTable keeps; descriptors
// opened past it are not recorded.
const MaxFDsPerProcess = 16384

// oCloexec is O_CLOEXEC on x86_64.
const oCloexec = 0o2000000

// FDTable maps the descriptor numbers of one process to descriptors. It is
// not safe for concurrent use.
type FDTable struct {
	fds map[int64]*FD
	// Skipped counts descriptors not recorded because the table was full.
	Skipped uint64
}

// NewFDTable returns an empty table.
func NewFDTable() *FDTable {
	return &FDTable{fds: make(map[int64]*FD)}
}

// Get returns the descriptor numbered num, or nil.
func (t *FDTable) Get(num int64) *FD {
	if t == nil {
		return nil
	}
	return t.fds[num]
}

// Set records fd under fd.Num, replacing any previous entry.
func (t *FDTable) Set(fd *FD) {
	if _, ok := t.fds[fd.Num]; !ok && len(t.fds) >= MaxFDsPerProcess {
		t.Skipped++
		return
	}
	t.fds[fd.Num] = fd
}

// Delete removes the descriptor numbered num.
func (t *FDTable) Delete(num int64) {
	delete(t.fds, num)
}

// Len returns the number of descriptors.
func (t *FDTable) Len() int {
	if t == nil {
		return 0
	}
	return len(t.fds)
}

// Clone returns a copy, as fork gives the child a copy of the parent's
// descriptors. The FD values are shared: they are replaced, never changed.
func (t *FDTable) Clone() *FDTable {
	c := &FDTable{fds: make(map[int64]*FD, t.Len())}
	if t != nil {
		for n, fd := range t.fds {
			c.fds[n] = fd
		}
	}
	return c
}

// CloseOnExec removes the descriptors opened with O_CLOEXEC, as exec does.
func (t *FDTable) CloseOnExec() {
	if t == nil {
		return
	}
	for n, fd := range t.fds {
		if fd.Flags&oCloexec != 0 {
			delete(t.fds, n)
		}
	}
}

// Range calls f for every descriptor until f returns false.
func (t *FDTable) Range(f func(*FD) bool) {
	if t == nil {
		return
	}
	for _, fd := range t.fds {
		if !f(fd) {
			return
		}
	}
}
