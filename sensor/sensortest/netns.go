package sensortest

import (
	"crypto/rand"
	"fmt"
	"os/exec"
	"testing"
)

// NetnsPeer creates a network namespace joined to the host's by a veth
// pair and returns the address of its end. Connections to that address
// stay on this machine but look, to rules that ignore loopback and private
// networks, like traffic to an outside host: the pair gets a /30 of
// 198.51.100.0/24, a range reserved for documentation (RFC 5737). The
// namespace and the pair are removed when the test ends. It fails the test
// when the ip command is missing.
func NetnsPeer(t testing.TB) string {
	t.Helper()
	RequireRoot(t)
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Fatalf("ip not found; install iproute2: %v", err)
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}

	suffix := RandomHex(t, 4)
	ns, hostIf, peerIf := "riposte-"+suffix, "rpth"+suffix, "rptp"+suffix
	var b [1]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	base := int(b[0]%64) * 4
	hostAddr := fmt.Sprintf("198.51.100.%d", base+2)
	peerAddr := fmt.Sprintf("198.51.100.%d", base+1)

	run("netns", "add", ns)
	t.Cleanup(func() {
		// Deleting the namespace deletes the peer end and with it the pair.
		if out, err := exec.Command(ip, "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	run("link", "add", hostIf, "type", "veth", "peer", "name", peerIf, "netns", ns)
	run("addr", "add", hostAddr+"/30", "dev", hostIf)
	run("link", "set", hostIf, "up")
	run("-n", ns, "addr", "add", peerAddr+"/30", "dev", peerIf)
	run("-n", ns, "link", "set", peerIf, "up")
	run("-n", ns, "link", "set", "lo", "up")
	return peerAddr
}
