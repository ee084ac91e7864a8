package extract

import (
	"strconv"
	"strings"

	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/syscalls"
)

// Parameter positions of the exit events in Falco's event table, so that
// evt.arg[N] selects what Falco users expect. An empty name is a parameter
// the sensor does not capture.
// NOTE: the positions follow the execve, clone and procexit exit events of
// falcosecurity/libs as of 2025; verify them when a rule indexes past the
// first few.
var (
	execParams = []string{
		"res", "exe", "args", "tid", "pid", "ptid", "cwd", "", "", "", "", "", "", "comm", "cgroups",
		"", "tty", "", "loginuid", "flags", "cap_inheritable", "cap_permitted", "cap_effective", "exe_ino",
		"exe_ino_ctime", "exe_ino_mtime", "uid", "trusted_exepath", "", "gid",
		"filename",
	}
	cloneParams = []string{
		"res", "exe", "args", "tid", "pid", "ptid", "cwd", "", "", "", "", "", "", "comm", "cgroups",
		"flags", "uid", "gid", "vtid", "vpid",
	}
	exitParams = []string{"status", "ret", "sig", "core"}
)

// param is one rendered event parameter.
type param struct {
	name string
	text string
	// resolved is Falco's resolved value, such as the user name of a uid.
	// When it is set, evt.arg prints it in place of text and evt.args
	// prints it after text, in brackets.
	resolved string
	num      int64
	numeric  bool
}

// argText returns the parameter as evt.arg prints it.
func (p param) argText() string {
	if p.resolved != "" {
		return p.resolved
	}
	return p.text
}

func (e *Event) paramNames() []string {
	switch {
	case e.ev.Exec != nil:
		return execParams
	case e.ev.Clone != nil:
		return cloneParams
	case e.ev.Exit != nil:
		return exitParams
	}
	return nil
}

// param returns the parameter that ref selects by name or position.
func (e *Event) param(ref *fields.Ref) (param, bool) {
	if s := syscalls.ByType(e.ev.Type); s != nil && e.ev.Syscall != nil {
		return e.syscallParam(s, ref)
	}
	name := ref.Key
	if name == "" && ref.Index != fields.AnyIndex {
		names := e.paramNames()
		if ref.Index >= len(names) {
			return param{}, false
		}
		name = names[ref.Index]
	}
	if name == "" {
		return param{}, false
	}
	return e.paramByName(name)
}

// syscallParam returns the parameter of a syscall event that ref selects.
func (e *Event) syscallParam(s *syscalls.Syscall, ref *fields.Ref) (param, bool) {
	for i, prm := range s.Params {
		if (ref.Key != "" && prm.Name == ref.Key) || (ref.Key == "" && ref.Index == i) {
			return e.syscallParamValue(prm)
		}
	}
	return param{}, false
}

// syscallParamValue renders prm for the current syscall event.
func (e *Event) syscallParamValue(prm syscalls.Param) (param, bool) {
	v, ok := syscalls.ParamValue(prm, e.ev)
	if !ok {
		return param{}, false
	}
	p := param{name: prm.Name, text: v.Text, num: v.Num, numeric: v.Numeric}
	switch prm.Kind {
	case syscalls.KindUID, syscalls.KindGID:
		p.resolved = e.accountName(prm.Kind, uint32(v.Num))
	}
	return p, true
}

// Falco's texts for a user or group id without a name (<NA>) and for the
// id -1, which leaves an id unchanged in setresuid and its kin (<NONE>).
// They follow the PT_UID and PT_GID cases of sinsp_evt::get_param_as_str
// in falcosecurity/libs (userspace/libsinsp/event.cpp).
const (
	accountNameMissing = "<NA>"
	accountNameUnset   = "<NONE>"
)

// accountName returns the user (KindUID) or group (KindGID) name of id in
// the passwd or group file of the event's process, as Falco resolves
// PT_UID and PT_GID parameters. Without a resolver it returns "", so the
// number is printed.
func (e *Event) accountName(kind syscalls.Kind, id uint32) string {
	if e.users == nil {
		return ""
	}
	if id == ^uint32(0) {
		return accountNameUnset
	}
	p := e.ev.Proc
	if p == nil {
		return accountNameMissing
	}
	if kind == syscalls.KindUID {
		if u, ok := e.users.User(p, id); ok {
			return u.Name
		}
		return accountNameMissing
	}
	if name, ok := e.users.GroupName(p, id); ok {
		return name
	}
	return accountNameMissing
}

// params returns every captured parameter in Falco's order.
func (e *Event) params() []param {
	if s := syscalls.ByType(e.ev.Type); s != nil && e.ev.Syscall != nil {
		var out []param
		for _, prm := range s.Params {
			if p, ok := e.syscallParamValue(prm); ok {
				out = append(out, p)
			}
		}
		return out
	}
	var out []param
	for _, name := range e.paramNames() {
		if name == "" {
			continue
		}
		if p, ok := e.paramByName(name); ok {
			out = append(out, p)
		}
	}
	return out
}

func numParam(name string, n int64) (param, bool) {
	return param{name: name, text: strconv.FormatInt(n, 10), num: n, numeric: true}, true
}

func textParam(name, text string) (param, bool) {
	return param{name: name, text: text}, true
}

func (e *Event) paramByName(name string) (param, bool) {
	ev := e.ev
	p := ev.Proc
	switch name {
	case "res":
		if ev.Exit != nil {
			return param{}, false
		}
		if ev.Res < 0 {
			return param{name: name, text: resString(ev.Res), num: ev.Res, numeric: true}, true
		}
		return numParam(name, ev.Res)
	}

	if ev.Exit != nil {
		switch name {
		case "status":
			return numParam(name, int64(ev.Exit.Status))
		case "ret":
			code, _ := ev.Exit.ExitCode()
			return numParam(name, int64(code))
		case "sig":
			sig, _ := ev.Exit.Signal()
			return numParam(name, int64(sig))
		case "core":
			return numParam(name, int64(ev.Exit.Status>>7&1))
		}
		return param{}, false
	}

	if ev.Exec != nil {
		switch name {
		case "filename":
			return textParam(name, ev.Exec.Filename)
		case "exe":
			if len(ev.Exec.Args) > 0 {
				return textParam(name, ev.Exec.Args[0])
			}
			return textParam(name, "")
		case "args":
			return textParam(name, renderArgv(ev.Exec.Args))
		case "flags":
			if p == nil {
				return param{}, false
			}
			bits, text := exeFlags(p)
			return param{name: name, text: text, num: bits, numeric: true}, true
		case "cap_inheritable":
			return capParam(name, p, p.CapInheritable)
		case "cap_permitted":
			return capParam(name, p, p.CapPermitted)
		case "cap_effective":
			return capParam(name, p, p.CapEffective)
		case "exe_ino":
			if p == nil || p.ExeIno == 0 {
				return param{}, false
			}
			return numParam(name, int64(p.ExeIno))
		case "exe_ino_ctime":
			if p == nil || p.ExeCtime.IsZero() {
				return param{}, false
			}
			return numParam(name, p.ExeCtime.UnixNano())
		case "exe_ino_mtime":
			if p == nil || p.ExeMtime.IsZero() {
				return param{}, false
			}
			return numParam(name, p.ExeMtime.UnixNano())
		}
	}
	if ev.Clone != nil {
		switch name {
		case "flags":
			return numParam(name, int64(ev.Clone.Flags))
		case "vtid", "vpid":
			return param{}, false
		}
	}
	if p == nil {
		return param{}, false
	}
	switch name {
	case "exe":
		return textParam(name, p.Exe())
	case "args":
		return textParam(name, renderArgv(p.Args))
	case "tid":
		return numParam(name, int64(ev.TID))
	case "pid":
		return numParam(name, int64(p.PID))
	case "ptid":
		return numParam(name, int64(p.PPID))
	case "cwd":
		return textParam(name, p.Cwd)
	case "comm":
		return textParam(name, p.Name)
	case "cgroups":
		return textParam(name, strings.Join(p.Cgroups, " "))
	case "tty":
		return numParam(name, int64(p.TTY))
	case "loginuid":
		if p.LoginUID == event.LoginUIDUnset {
			return numParam(name, -1)
		}
		return numParam(name, int64(p.LoginUID))
	case "uid":
		return numParam(name, int64(p.EUID))
	case "gid":
		return numParam(name, int64(p.EGID))
	case "trusted_exepath":
		return textParam(name, p.ExePath)
	}
	return param{}, false
}

// Falco's exe flags (PPM_EXE_* in the driver's public events header).
var exeFlagNames = []struct {
	bit  int64
	name string
}{
	{1, "EXE_WRITABLE"},
	{2, "EXE_UPPER_LAYER"},
	{4, "EXE_FROM_MEMFD"},
	{8, "EXE_LOWER_LAYER"},
}

// exeFlags computes the execve "flags" parameter from the new process's
// executable, as bits and as names joined by '|'.
func exeFlags(p *event.Process) (int64, string) {
	var bits int64
	if p.ExeWritable() {
		bits |= 1
	}
	if p.ExeUpperLayer {
		bits |= 2
	}
	if p.ExeFromMemfd {
		bits |= 4
	}
	if p.ExeOverlay && !p.ExeUpperLayer {
		bits |= 8
	}
	var names []string
	for _, f := range exeFlagNames {
		if bits&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	return bits, strings.Join(names, "|")
}

func capParam(name string, p *event.Process, mask uint64) (param, bool) {
	if p == nil {
		return param{}, false
	}
	return param{name: name, text: capsText(mask), num: int64(mask), numeric: true}, true
}

// renderArgv renders argv after argv[0] as Falco renders the args byte
// buffer: each argument followed by a NUL byte, printed as '.'.
func renderArgv(argv []string) string {
	if len(argv) <= 1 {
		return ""
	}
	var b strings.Builder
	for _, a := range argv[1:] {
		b.WriteString(a)
		b.WriteByte('.')
	}
	return b.String()
}
