package extract

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// execFields are the values read through the adapter for one exec, while
// the sensor's process state is valid.
type execFields struct {
	name, exepath, pname, containerID, fullID, userName string
	upperLayer                                          bool
}

func resolveRef(t *testing.T, name string) *fields.Ref {
	t.Helper()
	ref, err := fields.Resolve(name, "", false)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestRuncContainer runs a real runc container on an overlayfs root with a
// kubelet-like cgroup path, and checks the container id, the user name from
// the container's own /etc/passwd, and proc.is_exe_upper_layer for a binary
// the container copies and runs.
func TestRuncContainer(t *testing.T) {
	sensortest.RequireRoot(t)
	refs := map[string]*fields.Ref{}
	for _, n := range []string{"proc.name", "proc.exepath", "proc.pname", "container.id", "container.full_id", "user.name", "proc.is_exe_upper_layer"} {
		refs[n] = resolveRef(t, n)
	}
	adapter := New("", NewUsers("/proc"))
	execs := make(chan execFields, 4096)
	handler := func(ev *event.Event) {
		if ev.Exec == nil || ev.Res != 0 || ev.Proc.ContainerID == "host" {
			return
		}
		adapter.Reset(ev)
		str := func(n string) string {
			v := adapter.Extract(refs[n], nil)
			if len(v) == 0 {
				return "<NA>"
			}
			return v[0].Str
		}
		upper := adapter.Extract(refs["proc.is_exe_upper_layer"], nil)
		f := execFields{
			name: str("proc.name"), exepath: str("proc.exepath"), pname: str("proc.pname"),
			containerID: str("container.id"), fullID: str("container.full_id"), userName: str("user.name"),
			upperLayer: len(upper) == 1 && upper[0].Bool,
		}
		select {
		case execs <- f:
		default:
		}
	}
	s, err := sensor.New(sensor.Config{Handler: handler}, nil)
	if err != nil {
		t.Fatalf("sensor.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	<-s.Ready()

	// The shell sleeps at the end so that it, and the container's root,
	// outlive the lookups of user names.
	c := sensortest.RunContainer(t, "id; cp /bin/busybox /tmp/true && /tmp/true; sleep 1")
	t.Logf("container output: %s", c.Output)
	if !strings.Contains(string(c.Output), "uid=0(containerroot)") {
		t.Fatalf("container output %q, want uid=0(containerroot)", c.Output)
	}

	got := map[string]execFields{}
	deadline := time.After(30 * time.Second)
	// busybox runs id inside the shell without an exec, so the execs seen
	// are the shell's (from runc) and the copied true's.
	for got["sh"].name == "" || got["true"].name == "" {
		select {
		case f := <-execs:
			if f.fullID == c.ID {
				got[f.name] = f
			}
		case <-deadline:
			t.Fatalf("execs of sh and /tmp/true in container %s not seen within 30s; got %+v", c.ID[:12], got)
		}
	}

	sh := got["sh"]
	if sh.containerID != c.ID[:12] {
		t.Errorf("sh: container.id = %q, want %q", sh.containerID, c.ID[:12])
	}
	if sh.exepath != "/bin/busybox" {
		t.Errorf("sh: proc.exepath = %q, want /bin/busybox (inside the container root)", sh.exepath)
	}
	if sh.userName != "containerroot" {
		t.Errorf("sh: user.name = %q, want containerroot from the container's /etc/passwd", sh.userName)
	}
	if sh.upperLayer {
		t.Error("sh: proc.is_exe_upper_layer = true for an image binary")
	}

	dropped := got["true"]
	if dropped.exepath != "/tmp/true" {
		t.Errorf("dropped: proc.exepath = %q, want /tmp/true", dropped.exepath)
	}
	if !dropped.upperLayer {
		t.Error("dropped: proc.is_exe_upper_layer = false for a binary written in the container")
	}
	if dropped.pname != "sh" {
		t.Errorf("dropped: proc.pname = %q, want sh", dropped.pname)
	}
	if dropped.containerID != c.ID[:12] {
		t.Errorf("dropped: container.id = %q, want %q", dropped.containerID, c.ID[:12])
	}
}
