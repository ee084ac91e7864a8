package sensor

import (
	"net"
	"os"
	"testing"

	"github.com/riposte-sec/riposte/sensor/sensortest"
)

// TestStableRuleRedirectToNetwork runs Falco's stable rules on the sensor
// and makes a process in a kubelet-like cgroup connect to a TCP listener
// and dup2 the socket onto its standard output, the pattern of a reverse
// shell. It expects "Redirect STDOUT/STDIN to Network Connection in
// Container", and no other rule, with the connection in its fields.
func TestStableRuleRedirectToNetwork(t *testing.T) {
	run := ruleSensor(t)

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

	id := sensortest.RandomHex(t, 32)
	cg := sensortest.KubeletCgroup(t, sensortest.Hierarchies(t)[0], id)
	cmd := sensortest.CommandInCgroup(cg, "exec "+os.Args[0]+" -test.run=^$ "+ln.Addr().String())
	cmd.Env = append(os.Environ(), helperEnv+"=connect-dup")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper in cgroup: %v: %s", err, out)
	}

	a := waitRule(t, run.alerts, "Redirect STDOUT/STDIN to Network Connection in Container", "->"+ln.Addr().String())
	if got := a.OutputFields["fd.type"]; got != "ipv4" {
		t.Errorf("fd.type = %v, want ipv4", got)
	}
	if got, ok := a.OutputFields["fd.rport"].(uint64); !ok || int(got) != ln.Addr().(*net.TCPAddr).Port {
		t.Errorf("fd.rport = %v (%T), want %d", a.OutputFields["fd.rport"], a.OutputFields["fd.rport"], ln.Addr().(*net.TCPAddr).Port)
	}
	if got := a.OutputFields["fd.l4proto"]; got != "tcp" {
		t.Errorf("fd.l4proto = %v, want tcp", got)
	}
}
