package rules_test

import (
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
)

// benchProc is the process part of a benchmark event.
type benchProc struct {
	name, exe, exepath, args, cmdline, cwd string
	pname, pexe, pexepath, pcmdline        string
	anames                                 []string
	pid, ppid                              int64
	uid                                    int64
	user                                   string
	tty                                    int64
	container, image                       string
}

// benchEvent is a struct-backed event, laid out as a sensor's adapter would
// keep one, so that the benchmark measures the engine and not a map.
type benchEvent struct {
	typ      evttype.Type
	proc     *benchProc
	fdName   string
	fdType   string
	fdChar   string
	fdDir    string
	fdFile   string
	fdNum    int64
	flags    string
	openRead bool
	openWr   bool
	rawres   int64
	res      string
	sip, cip netip.Addr
	sport    int64
	l4proto  string
}

func (e *benchEvent) Type() evttype.Type { return e.typ }

func (e *benchEvent) Extract(ref *fields.Ref, dst []fields.Value) []fields.Value {
	if s, ok := e.str(ref); ok {
		return append(dst, fields.Value{Str: s})
	}
	p := e.proc
	switch ref.Field {
	case fields.ProcAname:
		if ref.Index == fields.AnyIndex {
			for _, a := range p.anames {
				dst = append(dst, fields.Value{Str: a})
			}
			return dst
		}
		if ref.Index == 0 {
			return append(dst, fields.Value{Str: p.name})
		}
		if ref.Index-1 < len(p.anames) {
			return append(dst, fields.Value{Str: p.anames[ref.Index-1]})
		}
		return dst
	case fields.ProcPID:
		return append(dst, fields.Value{Num: p.pid})
	case fields.ProcPPID:
		return append(dst, fields.Value{Num: p.ppid})
	case fields.UserUID:
		return append(dst, fields.Value{Num: p.uid})
	case fields.UserLoginUID:
		return append(dst, fields.Value{Num: -1})
	case fields.ProcTTY:
		return append(dst, fields.Value{Num: p.tty})
	case fields.ContainerImageRepository:
		if p.image == "" {
			return dst
		}
		return append(dst, fields.Value{Str: p.image})
	case fields.EvtRawres:
		return append(dst, fields.Value{Num: e.rawres})
	}
	if e.fdType == "" {
		return dst
	}
	switch ref.Field {
	case fields.FdNum:
		return append(dst, fields.Value{Num: e.fdNum})
	case fields.EvtArg:
		if ref.Key == "flags" && e.flags != "" {
			return append(dst, fields.Value{Str: e.flags})
		}
	case fields.EvtIsOpenRead:
		return append(dst, fields.Value{Bool: e.openRead})
	case fields.EvtIsOpenWrite:
		return append(dst, fields.Value{Bool: e.openWr})
	}
	if !e.sip.IsValid() {
		return dst
	}
	switch ref.Field {
	case fields.FdSIP, fields.FdSNet:
		return append(dst, fields.Value{Addr: e.sip})
	case fields.FdCIP, fields.FdCNet:
		return append(dst, fields.Value{Addr: e.cip})
	case fields.FdIP, fields.FdNet:
		return append(dst, fields.Value{Addr: e.cip}, fields.Value{Addr: e.sip})
	case fields.FdSPort:
		return append(dst, fields.Value{Num: e.sport})
	}
	return dst
}

func newProc(cmdline, exepath, pcmdline string, anames []string, container string) *benchProc {
	name, args, _ := strings.Cut(cmdline, " ")
	pname, _, _ := strings.Cut(pcmdline, " ")
	return &benchProc{
		name: name, exe: name, exepath: exepath, args: args, cmdline: cmdline, cwd: "/srv/app",
		pname: pname, pexe: pname, pexepath: "/usr/bin/" + pname, pcmdline: pcmdline,
		anames: append([]string{pname}, anames...), pid: 4242, ppid: 4200, uid: 33, user: "www-data",
		container: container, image: map[bool]string{true: "", false: "docker.io/library/nginx"}[container == "host"],
	}
}

// benchEvents returns a realistic event mix: 70% opens, 15% connects, 10%
// execs and 5% other syscalls, from a web server, a Python worker, a JVM,
// a shell and system daemons, on the host and in containers.
func benchEvents() []rules.Event {
	nginx := newProc("nginx -g daemon off;", "/usr/sbin/nginx", "containerd-shim -namespace k8s.io", []string{"containerd", "systemd"}, "3ad7c5f1e8b2")
	python := newProc("python3 /srv/app/worker.py --queue default", "/usr/bin/python3.11", "gunicorn app:wsgi", []string{"gunicorn", "containerd-shim", "systemd"}, "91be0c7d2a44")
	java := newProc("java -Xmx2g -jar /opt/app/service.jar", "/usr/lib/jvm/java-17/bin/java", "bash /opt/app/run.sh", []string{"bash", "containerd-shim", "systemd"}, "5f2e88aa0c13")
	bash := newProc("bash -c ls -la /var/log", "/usr/bin/bash", "sshd: admin@pts/0", []string{"sshd", "sshd", "systemd"}, "host")
	bash.tty = 34816
	kubelet := newProc("kubelet --config=/var/lib/kubelet/config.yaml", "/usr/bin/kubelet", "systemd", nil, "host")
	procs := []*benchProc{nginx, python, java, bash, kubelet}

	paths := []string{
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/ld.so.cache", "/proc/self/stat", "/var/log/nginx/access.log",
		"/srv/app/static/index.html", "/etc/passwd", "/sys/fs/cgroup/memory.max", "/usr/lib/python3.11/json/__init__.py",
		"/opt/app/lib/guava-32.jar", "/tmp/upload-83d1.tmp", "/etc/hosts", "/proc/4242/status", "/etc/nginx/nginx.conf",
		"/var/lib/kubelet/pods/1c2d/volumes", "/dev/null", "/etc/ssl/certs/ca-certificates.crt",
	}
	var evs []rules.Event
	open := func(p *benchProc, path string, write bool) {
		i := strings.LastIndexByte(path, '/')
		flags := "O_RDONLY|O_CLOEXEC"
		if write {
			flags = "O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC"
		}
		evs = append(evs, &benchEvent{
			typ: evttype.Openat, proc: p, fdName: path, fdType: "file", fdChar: "f", fdDir: path[:i], fdFile: path[i+1:],
			fdNum: 7, flags: flags, openRead: !write, openWr: write, rawres: 7, res: "SUCCESS",
		})
	}
	connect := func(p *benchProc, ip string, port int64) {
		evs = append(evs, &benchEvent{
			typ: evttype.Connect, proc: p, fdName: "10.244.1.7:51234->" + ip, fdType: "ipv4", fdChar: "4", fdNum: 9,
			sip: netip.MustParseAddr(ip), cip: netip.MustParseAddr("10.244.1.7"), sport: port, l4proto: "tcp", res: "SUCCESS",
		})
	}
	exec := func(p *benchProc) {
		evs = append(evs, &benchEvent{typ: evttype.Execve, proc: p, res: "SUCCESS"})
	}
	for i := 0; i < 100; i++ {
		p := procs[i%len(procs)]
		switch {
		case i < 70:
			open(p, paths[i%len(paths)], i%9 == 0)
		case i < 85:
			ips := []string{"10.96.0.1", "10.244.2.15", "142.250.74.110", "169.254.169.254", "10.96.0.10"}
			ports := []int64{443, 5432, 443, 80, 53}
			connect(p, ips[i%len(ips)], ports[i%len(ports)])
		case i < 95:
			exec(p)
		default:
			other := []evttype.Type{evttype.Close, evttype.Dup2, evttype.Socket, evttype.Read, evttype.Mmap}
			evs = append(evs, &benchEvent{typ: other[i%len(other)], proc: p})
		}
	}
	return evs
}

func benchmarkMatch(b *testing.B, files ...string) {
	eng, _, err := rules.Load(rules.Options{}, corpusFiles(b, files...)...)
	if err != nil {
		b.Fatal(err)
	}
	evs := benchEvents()
	m := eng.NewMatcher()
	dst := make([]*rules.Rule, 0, 8)
	matched := 0
	for _, ev := range evs {
		matched += len(eng.Match(ev, dst[:0]))
	}
	b.Logf("%d of %d events in the mix match a rule", matched, len(evs))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		dst = m.Match(evs[i%len(evs)], dst[:0])
	}
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	// On a shared machine the wall-clock rate includes time spent waiting
	// for a CPU; the rate per CPU-second of this process does not.
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkMatchStable(b *testing.B) {
	benchmarkMatch(b, "falco_rules.yaml")
}

func BenchmarkMatchStableIncubatingSandbox(b *testing.B) {
	benchmarkMatch(b, "falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml")
}

func BenchmarkLoadStable(b *testing.B) {
	files := corpusFiles(b, "falco_rules.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := rules.Load(rules.Options{}, files...); err != nil {
			b.Fatal(err)
		}
	}
}

// str returns the value of the string fields this event always has.
func (e *benchEvent) str(ref *fields.Ref) (string, bool) {
	p := e.proc
	switch ref.Field {
	case fields.ProcName:
		return p.name, true
	case fields.ProcExe:
		return p.exe, true
	case fields.ProcExepath:
		return p.exepath, true
	case fields.ProcArgs:
		return p.args, true
	case fields.ProcCmdline:
		return p.cmdline, true
	case fields.ProcCwd:
		return p.cwd, true
	case fields.ProcPname:
		return p.pname, true
	case fields.ProcPexe:
		return p.pexe, true
	case fields.ProcPexepath:
		return p.pexepath, true
	case fields.ProcPcmdline:
		return p.pcmdline, true
	case fields.UserName:
		return p.user, true
	case fields.ContainerID:
		return p.container, true
	case fields.EvtRes:
		return e.res, true
	case fields.FdName:
		return e.fdName, e.fdType != ""
	case fields.FdType:
		return e.fdType, e.fdType != ""
	case fields.FdTypechar:
		return e.fdChar, e.fdType != ""
	case fields.FdDirectory:
		return e.fdDir, e.fdType != ""
	case fields.FdFilename:
		return e.fdFile, e.fdType != ""
	case fields.FdL4Proto:
		return e.l4proto, e.fdType != ""
	}
	return "", false
}
