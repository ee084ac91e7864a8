package extract

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/riposte-sec/riposte/sensor/cgroup"
	"github.com/riposte-sec/riposte/sensor/event"
)

// User is an entry of a passwd file.
type User struct {
	Name  string
	Home  string
	Shell string
}

// Users resolves user and group ids inside the root directory of the process
// that uses them, so a process in a container gets the names of the
// container's /etc/passwd and /etc/group. The files are read once per mount
// namespace, which processes of one container share.
type Users struct {
	procRoot string

	mu     sync.Mutex
	users  map[nsID]map[uint32]User
	groups map[nsID]map[uint32]string
}

// nsID identifies a root directory: the mount namespace, or the container
// id when the namespace is unknown.
type nsID struct {
	mntNS     uint32
	container string
}

func keyOf(p *event.Process) nsID {
	if p.MntNS != 0 {
		return nsID{mntNS: p.MntNS}
	}
	return nsID{container: p.ContainerID}
}

// maxCachedNamespaces bounds the caches; past it they are cleared.
const maxCachedNamespaces = 4096

// NewUsers returns a resolver that reads process roots under procRoot
// (usually "/proc").
func NewUsers(procRoot string) *Users {
	return &Users{
		procRoot: procRoot,
		users:    make(map[nsID]map[uint32]User),
		groups:   make(map[nsID]map[uint32]string),
	}
}

// rootDir returns the directory whose etc/passwd applies to p: the root of
// the process, or of its nearest living ancestor in the same mount
// namespace, or the host's for host processes.
func (u *Users) rootDir(p *event.Process) (string, bool) {
	for a := p; a != nil; a = a.Parent {
		if a != p && (a.MntNS != p.MntNS || p.MntNS == 0) {
			break
		}
		dir := filepath.Join(u.procRoot, strconv.FormatUint(uint64(a.PID), 10), "root")
		if _, err := os.Stat(filepath.Join(dir, "etc")); err == nil {
			return dir, true
		}
	}
	if p.ContainerID == cgroup.HostID || p.ContainerID == "" {
		return "/", true
	}
	// NOTE: the user name of a container process stays missing when it and
	// its ancestors in the container exited before the lookup.
	return "", false
}

// User returns the passwd entry of uid as seen by p.
func (u *Users) User(p *event.Process, uid uint32) (User, bool) {
	key := keyOf(p)
	u.mu.Lock()
	defer u.mu.Unlock()
	db, ok := u.users[key]
	if !ok {
		dir, found := u.rootDir(p)
		if !found {
			return User{}, false
		}
		db = parsePasswd(readFile(filepath.Join(dir, "etc/passwd")))
		if len(u.users) >= maxCachedNamespaces {
			clear(u.users)
		}
		u.users[key] = db
	}
	usr, ok := db[uid]
	return usr, ok
}

// GroupName returns the name of gid as seen by p.
func (u *Users) GroupName(p *event.Process, gid uint32) (string, bool) {
	key := keyOf(p)
	u.mu.Lock()
	defer u.mu.Unlock()
	db, ok := u.groups[key]
	if !ok {
		dir, found := u.rootDir(p)
		if !found {
			return "", false
		}
		db = parseGroup(readFile(filepath.Join(dir, "etc/group")))
		if len(u.groups) >= maxCachedNamespaces {
			clear(u.groups)
		}
		u.groups[key] = db
	}
	name, ok := db[gid]
	return name, ok
}

func readFile(path string) []byte {
	data, _ := os.ReadFile(path)
	return data
}

// parsePasswd parses passwd(5) lines "name:password:uid:gid:gecos:home:shell".
// The first entry of a uid wins, as getpwuid returns it.
func parsePasswd(data []byte) map[uint32]User {
	db := make(map[uint32]User)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 7 {
			continue
		}
		uid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		if _, dup := db[uint32(uid)]; !dup {
			db[uint32(uid)] = User{Name: f[0], Home: f[5], Shell: f[6]}
		}
	}
	return db
}

// parseGroup parses group(5) lines "name:password:gid:members".
func parseGroup(data []byte) map[uint32]string {
	db := make(map[uint32]string)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 3 {
			continue
		}
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			continue
		}
		if _, dup := db[uint32(gid)]; !dup {
			db[uint32(gid)] = f[0]
		}
	}
	return db
}
