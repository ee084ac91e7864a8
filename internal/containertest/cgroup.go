package containertest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// CgroupDriver is the kubelet cgroup driver whose layout a cgroup path
// follows.
type CgroupDriver int

const (
	// Cgroupfs lays out kubepods/besteffort/pod<uid>/<container id>.
	Cgroupfs CgroupDriver = iota
	// Systemd lays out kubepods.slice/kubepods-besteffort.slice/
	// kubepods-besteffort-pod<uid with underscores>.slice/
	// cri-containerd-<container id>.scope, the directories the systemd
	// driver creates. The cgroups are still made directly by the harness
	// or by runc's cgroupfs manager, so no systemd is needed.
	Systemd
)

// String returns the driver name as the kubelet's --cgroup-driver flag
// spells it.
func (d CgroupDriver) String() string {
	if d == Systemd {
		return "systemd"
	}
	return "cgroupfs"
}

// QoS classes as the kubelet names their cgroups.
const (
	BestEffort = "besteffort"
	Burstable  = "burstable"
	Guaranteed = "guaranteed"
)

// Runtime names used in the scope names of the systemd layout.
const (
	Containerd = "containerd"
	CRIO       = "crio"
	Docker     = "docker"
)

// Layout selects the kubelet-like cgroup path of a container.
type Layout struct {
	// Driver is the cgroup driver to imitate. The default is Cgroupfs.
	Driver CgroupDriver
	// QoS is the pod's QoS class. The default is BestEffort. Guaranteed
	// pods sit directly under kubepods.
	QoS string
	// Runtime is the container runtime whose scope prefix the systemd
	// layout uses. The default is Containerd.
	Runtime string
	// PodUID is the pod UID. The default is a random UUID.
	PodUID string
	// ContainerID is the container id. The default is 64 random hex digits.
	ContainerID string
}

// withDefaults fills the zero fields of l.
func (l Layout) withDefaults() Layout {
	if l.QoS == "" {
		l.QoS = BestEffort
	}
	if l.Runtime == "" {
		l.Runtime = Containerd
	}
	if l.PodUID == "" {
		l.PodUID = uuid.NewString()
	}
	if l.ContainerID == "" {
		l.ContainerID = RandomContainerID()
	}
	return l
}

// Path returns the cgroup path of the container relative to the kubelet's
// root cgroup, without a leading slash, for example
// "kubepods/besteffort/pod<uid>/<id>". Zero fields of l must have been
// filled; Start and NewCgroup do that.
func (l Layout) Path() string {
	switch l.Driver {
	case Systemd:
		uid := strings.ReplaceAll(l.PodUID, "-", "_")
		scope := "cri-containerd-" + l.ContainerID + ".scope"
		switch l.Runtime {
		case CRIO:
			scope = "crio-" + l.ContainerID + ".scope"
		case Docker:
			scope = "docker-" + l.ContainerID + ".scope"
		}
		if l.QoS == Guaranteed {
			return filepath.Join("kubepods.slice", "kubepods-pod"+uid+".slice", scope)
		}
		return filepath.Join("kubepods.slice", "kubepods-"+l.QoS+".slice",
			"kubepods-"+l.QoS+"-pod"+uid+".slice", scope)
	default:
		if l.QoS == Guaranteed {
			return filepath.Join("kubepods", "pod"+l.PodUID, l.ContainerID)
		}
		return filepath.Join("kubepods", l.QoS, "pod"+l.PodUID, l.ContainerID)
	}
}

// RandomContainerID returns 64 random hexadecimal digits, the form of a
// containerd, CRI-O or Docker container id.
func RandomContainerID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hierarchy is one mounted cgroup hierarchy and the test process's cgroup
// in it.
type hierarchy struct {
	// name is the controller list of a cgroup v1 hierarchy as in
	// /proc/self/cgroup ("cpu", "name=systemd"), or empty for cgroup2.
	name string
	// ownDir is the directory of the test process's own cgroup.
	ownDir string
}

// hierarchies returns every cgroup hierarchy mounted in the test's mount
// namespace, each with the directory of the process's own cgroup.
func hierarchies() ([]hierarchy, error) {
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}

	var out []hierarchy
	for name, path := range own {
		m, ok := mounts[name]
		if !ok {
			continue
		}
		rel, err := filepath.Rel(m.root, path)
		if err != nil || strings.HasPrefix(rel, "..") {
			// The process's cgroup is outside this mount's root.
			continue
		}
		out = append(out, hierarchy{name: name, ownDir: filepath.Join(m.point, rel)})
	}
	if len(out) == 0 {
		return nil, errors.New("no mounted cgroup hierarchy contains this process: mount cgroup v1 controllers or cgroup2 under /sys/fs/cgroup")
	}
	return out, nil
}

// ownCgroups parses /proc/self/cgroup into hierarchy name → cgroup path.
func ownCgroups() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read own cgroups: %w", err)
	}
	defer f.Close()

	own := make(map[string]string)
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(scanner.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		own[parts[1]] = parts[2]
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read own cgroups: %w", err)
	}
	return own, nil
}

type cgroupMount struct {
	point string
	root  string
}

// cgroupMounts parses /proc/self/mountinfo into hierarchy name → mount. The
// name is the v1 controller list in /proc/self/cgroup order, or empty for
// cgroup2.
func cgroupMounts() (map[string]cgroupMount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()

	mounts := make(map[string]cgroupMount)
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(scanner.Text(), " - ")
		if !ok {
			continue
		}
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(tail) < 3 {
			continue
		}
		m := cgroupMount{point: fields[4], root: fields[3]}
		switch tail[0] {
		case "cgroup2":
			if _, seen := mounts[""]; !seen {
				mounts[""] = m
			}
		case "cgroup":
			name := v1HierarchyName(tail[2])
			if _, seen := mounts[name]; !seen && name != "" {
				mounts[name] = m
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return mounts, nil
}

// v1HierarchyName returns the controller list of a cgroup v1 mount as
// /proc/self/cgroup spells it ("cpu,cpuacct", "name=systemd"), taken from
// its super options.
func v1HierarchyName(superOptions string) string {
	var names []string
	for _, opt := range strings.Split(superOptions, ",") {
		switch {
		case opt == "rw" || opt == "ro" || strings.HasPrefix(opt, "release_agent=") ||
			opt == "clone_children" || opt == "noprefix" || opt == "xattr" || opt == "cpuset_v2_mode":
		default:
			names = append(names, opt)
		}
	}
	return strings.Join(names, ",")
}

// cgroupDirs is a cgroup path under the process's own cgroup in every
// hierarchy. In t.Cleanup it removes the path and its empty parents.
type cgroupDirs struct {
	hierarchies []hierarchy
	// created lists the directories made here, parents first.
	created []string
	// leaves are the directories of path, one per hierarchy.
	leaves []string
}

// makeCgroupDirs prepares path in every hierarchy and registers its removal.
// With create set it makes the directories. Without it, it only records
// them, because runc creates the whole path of a container itself.
func makeCgroupDirs(t testing.TB, path string, create bool) *cgroupDirs {
	t.Helper()
	hs, err := hierarchies()
	if err != nil {
		skipOrFail(t, "%v", err)
	}
	d := &cgroupDirs{hierarchies: hs}
	t.Cleanup(d.remove)

	for _, h := range hs {
		d.leaves = append(d.leaves, filepath.Join(h.ownDir, path))
		if create {
			if err := d.mkdirs(h, path); err != nil {
				t.Fatal(err)
			}
		}
	}
	return d
}

// mkdirs creates path below h.ownDir one level at a time. Another test's
// cleanup may remove an empty shared parent such as kubepods between two
// levels, so a missing parent restarts the walk from the top.
func (d *cgroupDirs) mkdirs(h hierarchy, path string) error {
	parts := strings.Split(path, "/")
	var err error
	for range 10 {
		if err = d.mkdirsOnce(h, parts); !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return err
}

func (d *cgroupDirs) mkdirsOnce(h hierarchy, parts []string) error {
	dir := h.ownDir
	for _, part := range parts {
		dir = filepath.Join(dir, part)
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		d.created = append(d.created, dir)
		if h.name == "cpuset" {
			if err := inheritCpuset(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// inheritCpuset copies cpuset.cpus and cpuset.mems from the parent of a new
// cgroup v1 cpuset cgroup, which starts with both empty and then rejects
// every task.
func inheritCpuset(dir string) error {
	for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
		value, err := os.ReadFile(filepath.Join(filepath.Dir(dir), file))
		if err != nil {
			return fmt.Errorf("read parent %s of cgroup %s: %w", file, dir, err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), value, 0o644); err != nil {
			return fmt.Errorf("set %s of cgroup %s: %w", file, dir, err)
		}
	}
	return nil
}

// remove deletes the created directories, deepest first, then the empty
// kubepods parents up to the test's own cgroup. Two tests running at once
// share those parents, and only the first one creates them, so the one that
// finishes last removes them. A directory that is still in use stays,
// because the kernel refuses to remove a cgroup with children or tasks.
func (d *cgroupDirs) remove() {
	for i := len(d.created) - 1; i >= 0; i-- {
		_ = os.Remove(d.created[i])
	}
	for i, leaf := range d.leaves {
		own := d.hierarchies[i].ownDir
		for dir := filepath.Dir(leaf); dir != own && strings.HasPrefix(dir, own+"/"); dir = filepath.Dir(dir) {
			if os.Remove(dir) != nil {
				break
			}
		}
	}
}
