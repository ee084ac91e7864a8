package extract

import (
	"strings"

	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/cgroup"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/k8smeta"
	"github.com/riposte-sec/riposte/sensor/syscalls"
)

// Event adapts one sensor event to the rules engine. The zero value is not
// usable; call Reset before each use. Reusing one Event for every event of
// a sensor avoids an allocation per event.
type Event struct {
	ev       *event.Event
	typ      evttype.Type
	hostname string
	users    *Users
	meta     ContainerMetadata
	names    *Names

	// looked is set once the current event's container and pod were looked
	// up in meta.
	looked    bool
	container *k8smeta.Container
	pod       *k8smeta.Pod
}

// New returns an adapter whose evt.hostname is hostname and whose user.name
// and group.name come from users (nil leaves them missing).
func New(hostname string, users *Users) *Event {
	return &Event{hostname: hostname, users: users}
}

// Reset points the adapter at ev.
func (e *Event) Reset(ev *event.Event) {
	e.ev = ev
	e.typ = typeOf(ev.Type)
	e.looked = false
}

// typeTable maps sensor event types, by index, to the engine's event types
// of the same name; evttype.None marks a type the engine lacks.
var typeTable = func() []evttype.Type {
	types := event.Types()
	m := make([]evttype.Type, int(types[len(types)-1])+1)
	for _, t := range types {
		if et, ok := evttype.Lookup(t.String()); ok {
			m[t] = et
		}
	}
	return m
}()

func typeOf(t event.Type) evttype.Type {
	if int(t) < len(typeTable) {
		return typeTable[t]
	}
	return evttype.None
}

// EventType returns the rules engine's type for a sensor event type, and
// whether it has one.
func EventType(t event.Type) (evttype.Type, bool) {
	et := typeOf(t)
	return et, et != evttype.None
}

// Type returns the event type as the rules engine names it.
func (e *Event) Type() evttype.Type { return e.typ }

func str(dst []fields.Value, s string) []fields.Value {
	return append(dst, fields.Value{Str: s})
}

func num(dst []fields.Value, n int64) []fields.Value {
	return append(dst, fields.Value{Num: n})
}

func boolean(dst []fields.Value, b bool) []fields.Value {
	return append(dst, fields.Value{Bool: b})
}

// Extract appends the values of ref for the current event to dst.
func (e *Event) Extract(ref *fields.Ref, dst []fields.Value) []fields.Value {
	ev := e.ev
	if ev == nil {
		return dst
	}
	switch ref.Field {
	case fields.EvtNum:
		return num(dst, int64(ev.Num))
	case fields.EvtTime, fields.EvtTimeS, fields.EvtTimeISO8601, fields.EvtDatetime, fields.EvtRawtime:
		return num(dst, ev.Time.UnixNano())
	case fields.EvtHostname:
		if e.hostname == "" {
			return dst
		}
		return str(dst, e.hostname)
	case fields.EvtDir:
		// Riposte delivers one event per syscall, at its exit.
		return str(dst, "<")
	case fields.EvtCPU:
		return num(dst, int64(ev.CPU))
	case fields.EvtCategory:
		return str(dst, category(ev.Type))
	case fields.EvtRes:
		return str(dst, resString(ev.Res))
	case fields.EvtRawres:
		return num(dst, ev.Res)
	case fields.EvtFailed:
		return boolean(dst, ev.Res < 0)
	case fields.EvtIsOpenRead, fields.EvtIsOpenWrite, fields.EvtIsOpenExec, fields.EvtIsOpenCreate:
		return boolean(dst, isOpen(ref.Field, ev))
	case fields.EvtIsIO, fields.EvtIsIORead, fields.EvtIsIOWrite, fields.EvtIsWait:
		return boolean(dst, isIO(ref.Field, ev.Type))
	case fields.EvtArgs:
		return str(dst, e.renderArgs())
	case fields.EvtArg:
		if p, ok := e.param(ref); ok {
			return str(dst, p.argText())
		}
		return dst
	case fields.EvtRawarg:
		if p, ok := e.param(ref); ok && p.numeric {
			return num(dst, p.num)
		}
		return dst
	case fields.ThreadTID:
		return num(dst, int64(ev.TID))
	case fields.ThreadIsMainThread:
		return boolean(dst, ev.Proc != nil && ev.TID == ev.Proc.PID)
	}
	if isFDField(ref.Field) {
		return extractFD(ref, ev, e.names, dst)
	}
	if isK8sField(ref.Field) {
		return e.extractK8s(ref, dst)
	}
	if ev.Proc == nil {
		return dst
	}
	return e.extractProcess(ref, ev.Proc, dst)
}

// resString renders a return value as Falco's evt.res does.
func resString(res int64) string { return syscalls.ResText(res) }

// extractProcess extracts the proc.*, user.*, group.* and container.* fields.
func (e *Event) extractProcess(ref *fields.Ref, p *event.Process, dst []fields.Value) []fields.Value {
	switch ref.Field {
	case fields.ProcPID:
		return num(dst, int64(p.PID))
	case fields.ProcPPID:
		return num(dst, int64(p.PPID))
	case fields.ProcVPID:
		return num(dst, int64(p.VPID))
	case fields.ProcName:
		return str(dst, p.Name)
	case fields.ProcExe:
		return str(dst, p.Exe())
	case fields.ProcExepath:
		return str(dst, p.ExePath)
	case fields.ProcArgs:
		if ref.Index != fields.AnyIndex {
			if ref.Index+1 < len(p.Args) {
				return str(dst, p.Args[ref.Index+1])
			}
			return dst
		}
		return str(dst, p.ArgsString())
	case fields.ProcCmdline:
		return str(dst, p.Cmdline())
	case fields.ProcExeline:
		if a := p.ArgsString(); a != "" {
			return str(dst, p.Exe()+" "+a)
		}
		return str(dst, p.Exe())
	case fields.ProcCmdnargs:
		return num(dst, int64(max(len(p.Args)-1, 0)))
	case fields.ProcCmdlenargs:
		n := 0
		for _, a := range p.Args[min(1, len(p.Args)):] {
			n += len(a)
		}
		return num(dst, int64(n))
	case fields.ProcCwd:
		if p.Cwd == "" {
			return dst
		}
		// Falco's proc.cwd ends with a slash, and rules rely on it, as in
		// proc.cwd startswith "/dev/shm/".
		if !strings.HasSuffix(p.Cwd, "/") {
			return str(dst, p.Cwd+"/")
		}
		return str(dst, p.Cwd)
	case fields.ProcTTY:
		return num(dst, int64(p.TTY))
	case fields.ProcPname, fields.ProcPexe, fields.ProcPexepath, fields.ProcPcmdline:
		if p.Parent == nil {
			return dst
		}
		return str(dst, parentField(ref.Field, p.Parent))
	case fields.ProcAname, fields.ProcApid, fields.ProcAexe, fields.ProcAexepath:
		return ancestorValues(ref, p, dst)
	case fields.ProcDuration:
		if p.StartTime.IsZero() {
			return dst
		}
		return num(dst, int64(e.ev.Time.Sub(p.StartTime)))
	case fields.ProcPPIDDuration:
		if p.Parent == nil || p.Parent.StartTime.IsZero() {
			return dst
		}
		return num(dst, int64(e.ev.Time.Sub(p.Parent.StartTime)))
	case fields.ProcStartTs:
		if p.StartTime.IsZero() {
			return dst
		}
		return num(dst, p.StartTime.UnixNano())
	case fields.ProcNthreads:
		if p.Threads == 0 {
			return dst
		}
		return num(dst, int64(p.Threads))
	case fields.ProcIsExeFromMemfd:
		return boolean(dst, p.ExeFromMemfd)
	case fields.ProcIsExeUpperLayer:
		return boolean(dst, p.ExeUpperLayer)
	case fields.ProcIsExeLowerLayer:
		return boolean(dst, p.ExeOverlay && !p.ExeUpperLayer)
	case fields.ProcIsExeWritable:
		return boolean(dst, p.ExeWritable())
	case fields.ProcIsEnvShebang:
		return boolean(dst, p.EnvShebang)
	case fields.ProcExeIno:
		if p.ExeIno == 0 {
			return dst
		}
		return num(dst, int64(p.ExeIno))
	case fields.ProcExeInoCtime:
		if p.ExeCtime.IsZero() {
			return dst
		}
		return num(dst, p.ExeCtime.UnixNano())
	case fields.ProcExeInoMtime:
		if p.ExeMtime.IsZero() {
			return dst
		}
		return num(dst, p.ExeMtime.UnixNano())
	case fields.ProcExeInoCtimeDurationProcStart:
		if p.ExeCtime.IsZero() || p.StartTime.IsZero() {
			return dst
		}
		return num(dst, int64(p.StartTime.Sub(p.ExeCtime)))
	case fields.ProcSid:
		return num(dst, int64(p.SID))
	case fields.ProcIsSidLeader:
		return boolean(dst, p.SID == p.PID)
	case fields.ProcSname:
		if l := leader(p, p.SID); l != nil {
			return str(dst, l.Name)
		}
		return dst
	case fields.ProcVpgid:
		// NOTE: the id is in the initial pid namespace, not the process's
		// own, for processes in a container.
		return num(dst, int64(p.PGID))
	case fields.ProcIsVpgidLeader:
		return boolean(dst, p.PGID == p.PID)
	case fields.ProcVpgidName, fields.ProcVpgidExe:
		l := leader(p, p.PGID)
		if l == nil {
			return dst
		}
		if ref.Field == fields.ProcVpgidExe {
			return str(dst, l.Exe())
		}
		return str(dst, l.Name)
	case fields.ThreadCapEffective:
		return str(dst, capsText(p.CapEffective))
	case fields.ThreadCapPermitted:
		return str(dst, capsText(p.CapPermitted))
	case fields.ThreadCapInheritable:
		return str(dst, capsText(p.CapInheritable))
	case fields.ProcEnv:
		return e.extractEnv(ref, p, dst)
	case fields.ProcPidnsInit:
		return boolean(dst, p.VPID == 1)
	case fields.UserUID:
		return num(dst, int64(p.EUID))
	case fields.UserLoginUID:
		if p.LoginUID == event.LoginUIDUnset {
			return num(dst, -1)
		}
		return num(dst, int64(p.LoginUID))
	case fields.GroupGID:
		return num(dst, int64(p.EGID))
	case fields.UserName, fields.UserHomedir, fields.UserShell, fields.UserLoginName, fields.GroupName:
		return e.extractAccount(ref.Field, p, dst)
	case fields.ContainerID:
		return str(dst, p.ShortContainerID())
	case fields.ContainerFullID:
		return str(dst, p.ContainerID)
	case fields.ContainerType:
		if p.ContainerID == cgroup.HostID {
			return str(dst, "host")
		}
		if p.ContainerRuntime == "" || p.ContainerRuntime == string(cgroup.RuntimeUnknown) {
			return dst
		}
		return str(dst, p.ContainerRuntime)
	}
	return dst
}

func parentField(id fields.ID, parent *event.Process) string {
	switch id {
	case fields.ProcPname:
		return parent.Name
	case fields.ProcPexe:
		return parent.Exe()
	case fields.ProcPexepath:
		return parent.ExePath
	}
	return parent.Cmdline()
}

// ancestorValues extracts proc.aname and its siblings: [0] is the process
// itself, [N] its N-th ancestor, and no index every ancestor from the parent
// up.
func ancestorValues(ref *fields.Ref, p *event.Process, dst []fields.Value) []fields.Value {
	valueOf := func(a *event.Process) fields.Value {
		switch ref.Field {
		case fields.ProcApid:
			return fields.Value{Num: int64(a.PID)}
		case fields.ProcAexe:
			return fields.Value{Str: a.Exe()}
		case fields.ProcAexepath:
			return fields.Value{Str: a.ExePath}
		}
		return fields.Value{Str: a.Name}
	}
	if ref.Index != fields.AnyIndex {
		a := p
		if ref.Index > 0 {
			a = p.Ancestor(ref.Index)
		}
		if a == nil {
			return dst
		}
		return append(dst, valueOf(a))
	}
	for _, a := range p.Ancestors() {
		dst = append(dst, valueOf(a))
	}
	return dst
}

// extractAccount extracts the fields that need the process's user and
// group databases.
func (e *Event) extractAccount(id fields.ID, p *event.Process, dst []fields.Value) []fields.Value {
	if e.users == nil {
		return dst
	}
	switch id {
	case fields.GroupName:
		if name, ok := e.users.GroupName(p, p.EGID); ok {
			return str(dst, name)
		}
		return dst
	case fields.UserLoginName:
		if p.LoginUID == event.LoginUIDUnset {
			return dst
		}
		if u, ok := e.users.User(p, p.LoginUID); ok {
			return str(dst, u.Name)
		}
		return dst
	}
	u, ok := e.users.User(p, p.EUID)
	if !ok {
		return dst
	}
	switch id {
	case fields.UserHomedir:
		return str(dst, u.Home)
	case fields.UserShell:
		return str(dst, u.Shell)
	}
	return str(dst, u.Name)
}

// renderArgs renders every parameter as Falco's evt.args does: name=value
// pairs separated by spaces, with a resolved value in brackets after the
// value, such as uid=65534(nobody).
func (e *Event) renderArgs() string {
	var b strings.Builder
	for i, p := range e.params() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.text)
		if p.resolved != "" {
			b.WriteByte('(')
			b.WriteString(p.resolved)
			b.WriteByte(')')
		}
	}
	return b.String()
}

// SensorTypes returns the sensor event types whose syscalls the rules
// engine's set selects, for the sensor's SetSyscalls. Types the sensor
// does not capture are left out.
func SensorTypes(set evttype.Set) []event.Type {
	var out []event.Type
	for _, t := range event.Types() {
		if et, ok := EventType(t); ok && set.Has(et) {
			out = append(out, t)
		}
	}
	return out
}
