package sensor

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/extract"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// ruleAlert is an alert of the coverage test and whether the process that
// caused it descends from the test process, as every trigger does.
type ruleAlert struct {
	alert.Alert
	ours bool
}

// descendsFrom reports whether an ancestor of p has the given pid.
func descendsFrom(p *event.Process, pid uint32) bool {
	for a := p.Parent; a != nil; a = a.Parent {
		if a.PID == pid {
			return true
		}
	}
	return false
}

// zone is the DNS of a coverage test: the addresses that the host names of
// the rules resolve to.
type zone struct {
	mu      sync.Mutex
	records map[string][]netip.Addr
}

func (z *zone) resolve(_ context.Context, host string) ([]netip.Addr, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if addrs, ok := z.records[host]; ok {
		return addrs, nil
	}
	return nil, fmt.Errorf("lookup %s: no such host", host)
}

// point makes host resolve to addrs, or to nothing when addrs is empty, and
// has names resolve again.
func (z *zone) point(names *extract.Names, host string, addrs ...netip.Addr) {
	z.mu.Lock()
	if len(addrs) == 0 {
		delete(z.records, host)
	} else {
		z.records[host] = addrs
	}
	z.mu.Unlock()
	names.Resolve(context.Background())
}

// ruleRun is a sensor running the stable rules.
type ruleRun struct {
	alerts <-chan ruleAlert
	// names and dns give fd.sip.name its host names.
	names *extract.Names
	dns   *zone
}

// ruleSensor runs the sensor with Falco's stable rules from
// RIPOSTE_TEST_CORPUS. Each event fires at most its first matching rule, as
// with Falco's default rule matching, so the alerts are those of the default
// configuration.
func ruleSensor(t *testing.T) *ruleRun {
	t.Helper()
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; set it to the directory of the upstream Falco rule files")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}
	sensortest.RequireRoot(t)
	eng, _, err := rules.LoadFiles(rules.Options{Matching: rules.MatchFirst}, filepath.Join(dir, "falco_rules.yaml"))
	if err != nil {
		t.Fatalf("load stable rules: %v", err)
	}
	adapter := extract.New("test-node", extract.NewUsers("/proc"))
	dns := &zone{records: map[string][]netip.Addr{}}
	names := extract.NewNames(eng.Values(fields.FdSIPName), extract.NamesOptions{Resolve: dns.resolve})
	adapter.SetNames(names)
	alerts := runRuleSensor(t, eng, adapter)
	return &ruleRun{alerts: alerts, names: names, dns: dns}
}

// runRuleSensor runs the sensor until the test ends, matching each event
// against eng through adapter, and returns the channel of alerts.
func runRuleSensor(t *testing.T, eng *rules.Engine, adapter *extract.Event) <-chan ruleAlert {
	t.Helper()
	alerts := make(chan ruleAlert, 4096)
	self := uint32(os.Getpid())
	var matches []*rules.Rule
	s, err := New(Config{
		Syscalls: extract.SensorTypes(eng.EventTypes()),
		Handler: func(ev *event.Event) {
			adapter.Reset(ev)
			matches = eng.Match(adapter, matches[:0])
			for _, r := range matches {
				a := ruleAlert{Alert: r.Alert(adapter, ev.Time, "test-node"), ours: ev.Proc != nil && descendsFrom(ev.Proc, self)}
				select {
				case alerts <- a:
				default:
					t.Errorf("alert channel full: lost %q", a.Rule)
				}
			}
		},
	}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-s.Ready()
	return alerts
}

// settleTime is how long waitRule keeps reading alerts after the expected
// one, to catch other rules that the same trigger fires.
const settleTime = 500 * time.Millisecond

// waitRule returns the first alert of rule whose output contains marker. It
// fails the test when a process started by the test fires any rule but this
// one and those listed in also, up to settleTime after the expected alert.
func waitRule(t *testing.T, alerts <-chan ruleAlert, rule, marker string, also ...string) alert.Alert {
	t.Helper()
	allowed := map[string]bool{rule: true}
	for _, r := range also {
		allowed[r] = true
	}
	others := map[string]string{}
	check := func(a ruleAlert) {
		if a.ours && !allowed[a.Rule] {
			if _, ok := others[a.Rule]; !ok {
				others[a.Rule] = a.Output
			}
		}
	}
	var found *alert.Alert
	deadline := time.After(waitTimeout)
	for found == nil {
		select {
		case a := <-alerts:
			check(a)
			if a.Rule == rule && strings.Contains(a.Output, marker) {
				found = &a.Alert
			}
		case <-deadline:
			t.Fatalf("no %q alert containing %q within %v", rule, marker, waitTimeout)
		}
	}
	settle := time.After(settleTime)
	for done := false; !done; {
		select {
		case a := <-alerts:
			check(a)
		case <-settle:
			done = true
		}
	}
	for r, out := range others {
		t.Errorf("the trigger of %q also fired %q: %s", rule, r, out)
	}
	return *found
}

// helperCmd returns the test binary as a helper child running action.
func helperCmd(action, arg string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$", arg)
	cmd.Env = append(os.Environ(), helperEnv+"="+action)
	return cmd
}

// helperInCgroup runs a helper action inside a kubelet-like container
// cgroup.
func helperInCgroup(t *testing.T, action, arg string) {
	t.Helper()
	id := sensortest.RandomHex(t, 32)
	cg := sensortest.KubeletCgroup(t, sensortest.Hierarchies(t)[0], id)
	cmd := sensortest.CommandInCgroup(cg, "exec "+os.Args[0]+" -test.run=^$ "+arg)
	cmd.Env = append(os.Environ(), helperEnv+"="+action)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper %s in cgroup: %v: %s", action, err, out)
	}
}

// TestStableRuleCoverage triggers, in temporary files, child processes and
// kubelet-like cgroups, the behaviour behind stable rules that can be
// triggered safely, and expects each rule, and no other, to fire with the
// right fields.
// "Redirect STDOUT/STDIN to Network Connection in Container" has its own
// test, TestStableRuleRedirectToNetwork.
func TestStableRuleCoverage(t *testing.T) {
	run := ruleSensor(t)
	alerts := run.alerts
	tmp := t.TempDir()
	self := filepath.Base(os.Args[0])
	if len(self) > 15 {
		self = self[:15] // comm is 15 characters at most
	}

	t.Run("Read sensitive file untrusted", func(t *testing.T) {
		if err := helperCmd("open-read", "/etc/shadow").Run(); err != nil {
			t.Fatal(err)
		}
		a := waitRule(t, alerts, "Read sensitive file untrusted", "file=/etc/shadow")
		if a.OutputFields["proc.name"] != self {
			t.Errorf("proc.name = %v, want %s", a.OutputFields["proc.name"], self)
		}
	})

	t.Run("Directory traversal monitored file read", func(t *testing.T) {
		raw := "/tmp/../etc/../etc/shadow"
		if err := helperCmd("open-read", raw).Run(); err != nil {
			t.Fatal(err)
		}
		a := waitRule(t, alerts, "Directory traversal monitored file read", "fileraw="+raw)
		if a.OutputFields["fd.name"] != "/etc/shadow" {
			t.Errorf("fd.name = %v, want /etc/shadow", a.OutputFields["fd.name"])
		}
	})

	t.Run("Create Symlink Over Sensitive Files", func(t *testing.T) {
		link := filepath.Join(tmp, "shadow-link")
		if err := helperCmd("symlink", "/etc/shadow|"+link).Run(); err != nil {
			t.Fatal(err)
		}
		waitRule(t, alerts, "Create Symlink Over Sensitive Files", "linkpath="+link)
	})

	t.Run("Create Hardlink Over Sensitive Files", func(t *testing.T) {
		// The link may fail across file systems; the rule fires on the
		// attempt.
		link := filepath.Join(tmp, "shadow-hardlink")
		_ = helperCmd("link", "/etc/shadow|"+link).Run()
		waitRule(t, alerts, "Create Hardlink Over Sensitive Files", "linkpath="+link)
	})

	t.Run("Clear Log Activities", func(t *testing.T) {
		logFile := filepath.Join("/var/log", "riposte-test-"+sensortest.RandomHex(t, 4)+".log")
		if err := os.WriteFile(logFile, []byte("entry\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(logFile) })
		if err := helperCmd("open-trunc", logFile).Run(); err != nil {
			t.Fatal(err)
		}
		waitRule(t, alerts, "Clear Log Activities", "file="+logFile)
	})

	t.Run("PTRACE anti-debug attempt", func(t *testing.T) {
		cmd := helperCmd("ptrace-traceme", "")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		waitRule(t, alerts, "PTRACE anti-debug attempt", "process="+self)
	})

	t.Run("Execution from /dev/shm", func(t *testing.T) {
		shm := filepath.Join("/dev/shm", "riposte-test-"+sensortest.RandomHex(t, 4))
		data, err := os.ReadFile("/bin/true")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shm, data, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(shm) })
		if err := exec.Command(shm).Run(); err != nil {
			t.Fatal(err)
		}
		waitRule(t, alerts, "Execution from /dev/shm", "proc_exepath="+shm)

		// The rule also matches a relative path run from /dev/shm, through
		// proc.cwd, which ends with a slash.
		relative := exec.Command("./" + filepath.Base(shm))
		relative.Dir = "/dev/shm"
		if err := relative.Run(); err != nil {
			t.Fatal(err)
		}
		waitRule(t, alerts, "Execution from /dev/shm", "proc_cwd=/dev/shm/ ")
	})

	t.Run("Fileless execution via memfd_create", func(t *testing.T) {
		if err := helperCmd("memfd-exec", "/bin/true").Run(); err != nil {
			t.Fatal(err)
		}
		a := waitRule(t, alerts, "Fileless execution via memfd_create", "proc_exepath=memfd:riposte-test")
		if !strings.Contains(a.Output, "EXE_FROM_MEMFD") {
			t.Errorf("output %q lacks EXE_FROM_MEMFD in exe_flags", a.Output)
		}
	})

	t.Run("Packet socket created in container", func(t *testing.T) {
		helperInCgroup(t, "socket-packet", "")
		a := waitRule(t, alerts, "Packet socket created in container", "process="+self)
		if !strings.Contains(a.Output, "AF_PACKET") {
			t.Errorf("output %q lacks the AF_PACKET domain", a.Output)
		}
	})

	t.Run("Search Private Keys or Passwords", func(t *testing.T) {
		// find fails on the missing directory; the rule looks at the exec.
		_ = exec.Command("find", filepath.Join(tmp, "missing"), "-name", "id_rsa").Run()
		waitRule(t, alerts, "Search Private Keys or Passwords", "-name id_rsa")
	})

	t.Run("Find AWS Credentials", func(t *testing.T) {
		_ = exec.Command("find", filepath.Join(tmp, "missing"), filepath.Join(tmp, ".aws/credentials")).Run()
		waitRule(t, alerts, "Find AWS Credentials", ".aws/credentials")
	})

	t.Run("Remove Bulk Data from Disk", func(t *testing.T) {
		victim := filepath.Join(tmp, "victim")
		if err := os.WriteFile(victim, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := exec.Command("shred", "-u", victim).Run(); err != nil {
			t.Fatal(err)
		}
		waitRule(t, alerts, "Remove Bulk Data from Disk", "shred -u "+victim)
	})

	t.Run("Netcat Remote Code Execution in Container", func(t *testing.T) {
		busybox, err := exec.LookPath("busybox")
		if err != nil {
			t.Fatalf("busybox not found; install busybox-static: %v", err)
		}
		nc := filepath.Join(tmp, "nc")
		if err := os.Symlink(busybox, nc); err != nil {
			t.Fatal(err)
		}
		id := sensortest.RandomHex(t, 32)
		cg := sensortest.KubeletCgroup(t, sensortest.Hierarchies(t)[0], id)
		// Port 9 on localhost refuses the connection, so nc exits at once.
		_ = sensortest.CommandInCgroup(cg, nc+" -e /bin/true 127.0.0.1 9").Run()
		waitRule(t, alerts, "Netcat Remote Code Execution in Container", "command=nc -e /bin/true")
	})

	t.Run("PTRACE attached to process", func(t *testing.T) {
		if err := helperCmd("ptrace-attach", "").Run(); err != nil {
			t.Fatal(err)
		}
		waitRule(t, alerts, "PTRACE attached to process", "process="+self)
	})

	t.Run("Read sensitive file trusted after startup", func(t *testing.T) {
		// A server program, here the helper running as nginx, reads
		// /etc/shadow six seconds after it started.
		nginx := filepath.Join(tmp, "nginx-late", "nginx")
		if err := os.MkdirAll(filepath.Dir(nginx), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(os.Args[0], nginx); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(nginx, "-test.run=^$", "/etc/shadow")
		cmd.Env = append(os.Environ(), helperEnv+"=sleep-open")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("late open: %v: %s", err, out)
		}
		a := waitRule(t, alerts, "Read sensitive file trusted after startup", "file=/etc/shadow")
		if a.OutputFields["proc.name"] != "nginx" {
			t.Errorf("proc.name = %v, want nginx", a.OutputFields["proc.name"])
		}
	})

	t.Run("Run shell untrusted", func(t *testing.T) {
		// The helper runs under the name of a web server, which should
		// never start a shell.
		nginx := filepath.Join(tmp, "nginx")
		if err := os.Symlink(os.Args[0], nginx); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(nginx, "-test.run=^$", "true riposte-untrusted-shell")
		cmd.Env = append(os.Environ(), helperEnv+"=spawn-shell")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("spawn shell: %v: %s", err, out)
		}
		a := waitRule(t, alerts, "Run shell untrusted", "riposte-untrusted-shell")
		if a.OutputFields["proc.pname"] != "nginx" {
			t.Errorf("proc.pname = %v, want nginx", a.OutputFields["proc.pname"])
		}
	})

	t.Run("Detect release_agent File Container Escapes", func(t *testing.T) {
		// A root process in a container cgroup keeps CAP_SYS_ADMIN here, as
		// a privileged container's would.
		agent := filepath.Join(tmp, "release_agent")
		helperInCgroup(t, "open-create", agent)
		a := waitRule(t, alerts, "Detect release_agent File Container Escapes", "file="+agent)
		if !strings.Contains(a.Output, "CAP_SYS_ADMIN") {
			t.Errorf("output %q lacks CAP_SYS_ADMIN in cap_effective", a.Output)
		}
	})

	t.Run("Disallowed SSH Connection Non Standard Port", func(t *testing.T) {
		ssh, err := exec.LookPath("ssh")
		if err != nil {
			t.Fatalf("ssh not found; install openssh-client: %v", err)
		}
		peer := sensortest.NetnsPeer(t)
		// Nothing listens in the namespace, so ssh fails at once; the rule
		// looks at the connect.
		_ = exec.Command(ssh, "-p", "4444", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", peer, "true").Run()
		a := waitRule(t, alerts, "Disallowed SSH Connection Non Standard Port", "->"+peer+":4444")
		if a.OutputFields["fd.rport"] != uint64(4444) {
			t.Errorf("fd.rport = %v, want 4444", a.OutputFields["fd.rport"])
		}
	})

	t.Run("System user interactive", func(t *testing.T) {
		// A program named login run as the system user bin (uid 2) looks
		// like an interactive login of that account.
		// The test's temporary directories are private to root, so bin
		// gets a directory of its own.
		dir, err := os.MkdirTemp("", "riposte-login-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		login := filepath.Join(dir, "login")
		trueData, err := os.ReadFile("/bin/true")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(login, trueData, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(login, "riposte-system-login")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 2, Gid: 2}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("run login as bin: %v: %s", err, out)
		}
		a := waitRule(t, alerts, "System user interactive", "riposte-system-login")
		if a.OutputFields["user.name"] != "bin" {
			t.Errorf("user.name = %v, want bin", a.OutputFields["user.name"])
		}
	})

	t.Run("Terminal shell in container", func(t *testing.T) {
		// script gives the command a terminal; the helper, named like the
		// container runtime, starts the shell in a kubelet-like cgroup.
		runc := filepath.Join(tmp, "tty-runtime", "runc")
		if err := os.MkdirAll(filepath.Dir(runc), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(os.Args[0], runc); err != nil {
			t.Fatal(err)
		}
		id := sensortest.RandomHex(t, 32)
		cg := sensortest.KubeletCgroup(t, sensortest.Hierarchies(t)[0], id)
		cmd := sensortest.CommandInCgroup(cg, "script -qec \"exec "+runc+" -test.run=^$ riposte_tty=1\" /dev/null")
		cmd.Env = append(os.Environ(), helperEnv+"=spawn-shell")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("shell with a terminal in cgroup: %v: %s", err, out)
		}
		a := waitRule(t, alerts, "Terminal shell in container", "riposte_tty=1")
		if tty, ok := a.OutputFields["proc.tty"].(uint64); !ok || tty == 0 {
			t.Errorf("proc.tty = %v, want a terminal", a.OutputFields["proc.tty"])
		}
	})

	t.Run("Linux Kernel Module Injection Detected", func(t *testing.T) {
		// finit_module with descriptor -1 from a root process, which has
		// CAP_SYS_MODULE, in a kubelet-like cgroup: the call fails (EBADF,
		// or ENOSYS on a kernel built without modules) and loads nothing.
		helperInCgroup(t, "finit-module-badfd", "")
		a := waitRule(t, alerts, "Linux Kernel Module Injection Detected", "process="+self)
		if res, _ := a.OutputFields["evt.res"].(string); res != "EBADF" && res != "ENOSYS" {
			t.Errorf("evt.res = %v, want EBADF or ENOSYS", a.OutputFields["evt.res"])
		}
	})

	t.Run("Contact K8S API Server From Container", func(t *testing.T) {
		// The API server's name resolves to a listener of the test, which a
		// process in a kubelet-like cgroup connects to.
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		const apiServer = "kubernetes.default.svc.cluster.local"
		run.dns.point(run.names, apiServer, netip.MustParseAddr("127.0.0.1"))
		defer run.dns.point(run.names, apiServer)
		helperInCgroup(t, "connect", ln.Addr().String())
		a := waitRule(t, alerts, "Contact K8S API Server From Container", "->"+ln.Addr().String())
		if a.OutputFields["fd.rport"] != uint64(ln.Addr().(*net.TCPAddr).Port) {
			t.Errorf("fd.rport = %v, want %d", a.OutputFields["fd.rport"], ln.Addr().(*net.TCPAddr).Port)
		}
	})

	t.Run("Drop and execute new binary in container", func(t *testing.T) {
		sensortest.RunContainer(t, "cp /bin/busybox /tmp/true && /tmp/true; sleep 1")
		waitRule(t, alerts, "Drop and execute new binary in container", "proc_exepath=/tmp/true")
	})
}
