package extract

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor/event"
)

// leader returns p or the ancestor of p whose pid is id, the leader of its
// session or process group, or nil when the chain does not contain it.
func leader(p *event.Process, id uint32) *event.Process {
	if p.PID == id {
		return p
	}
	for _, a := range p.Ancestors() {
		if a.PID == id {
			return a
		}
	}
	return nil
}

// capNames are the capability names of linux/capability.h, by number.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// capsText renders a capability mask as space-separated names, as Falco's
// thread.cap_* fields do. Unknown bits print as their number.
func capsText(mask uint64) string {
	var names []string
	for bit := range 64 {
		if mask&(1<<bit) == 0 {
			continue
		}
		if bit < len(capNames) {
			names = append(names, capNames[bit])
		} else {
			names = append(names, strconv.Itoa(bit))
		}
	}
	return strings.Join(names, " ")
}

// extractEnv reads proc.env from /proc/<pid>/environ only when a rule or
// output uses it. It returns the whole environment space-separated, or the
// value of one variable, and no value for a process that has exited.
func (e *Event) extractEnv(ref *fields.Ref, p *event.Process, dst []fields.Value) []fields.Value {
	if e.users == nil {
		return dst
	}
	data, err := os.ReadFile(filepath.Join(e.users.procRoot, strconv.FormatUint(uint64(p.PID), 10), "environ"))
	if err != nil {
		return dst
	}
	vars := bytes.Split(bytes.TrimSuffix(data, []byte{0}), []byte{0})
	if !ref.HasArg {
		parts := make([]string, 0, len(vars))
		for _, v := range vars {
			parts = append(parts, string(v))
		}
		return str(dst, strings.Join(parts, " "))
	}
	prefix := []byte(ref.Key + "=")
	for _, v := range vars {
		if bytes.HasPrefix(v, prefix) {
			return str(dst, string(v[len(prefix):]))
		}
	}
	return dst
}
