/* Helpers that read process state from a task_struct with CO-RE relocations.
 *
 * All reads go through BPF_CORE_READ or bpf_probe_read_kernel, so a NULL or
 * stale pointer yields zeroes instead of a verifier rejection.
 */
#ifndef RIPOSTE_TASK_H
#define RIPOSTE_TASK_H

#define PATH_MAX_DEPTH 32
#define CGROUP_MAX_DEPTH 16
#define CGROUP_SUBSYS_MAX 16
#define NAME_READ_MAX 256

/* kernfs_node.parent was renamed to __parent in Linux 6.15. */
struct kernfs_node___pre615 {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
}

/* Fills the header from task, which must be a BTF pointer (a tp_btf
 * argument or bpf_get_current_task_btf): the plain loads through it are
 * checked by the verifier and cost less than probe-read helper calls. */
static __always_inline void fill_header(struct event_header *h, struct task_struct *task, __u32 kind)
{
	const struct cred *cred = task->cred;

	h->ts_ns = bpf_ktime_get_boot_ns();
	h->kind = kind;
	h->cpu = bpf_get_smp_processor_id();
	h->pid = task->tgid;
	h->tid = task->pid;
	h->ppid = task->real_parent->tgid;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->euid = cred->euid.val;
	h->egid = cred->egid.val;
	if (bpf_core_field_exists(task->loginuid))
		h->loginuid = task->loginuid.val;
	else
		h->loginuid = (__u32)-1;
	h->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	bpf_probe_read_kernel_str(&h->comm, sizeof(h->comm), task->comm);
}

/* Reads the thread group id in the task's own pid namespace and that
 * namespace's inode number. */
static __always_inline void read_pid_ns(struct task_struct *task, __u32 *vpid, __u32 *ns_inum)
{
	struct pid *pid = BPF_CORE_READ(task, group_leader, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};
	void *addr = (void *)pid + bpf_core_field_offset(struct pid, numbers) +
		     (__u64)(level & 63) * bpf_core_type_size(struct upid);

	bpf_probe_read_kernel(&upid, sizeof(upid), addr);
	*vpid = upid.nr;
	*ns_inum = BPF_CORE_READ(upid.ns, ns.inum);
}

/* Reads the thread group id of the group leader's session and process
 * group in the initial pid namespace. */
static __always_inline void read_session(struct task_struct *task, __u32 *sid, __u32 *pgid)
{
	struct pid *s = BPF_CORE_READ(task, signal, pids[PIDTYPE_SID]);
	struct pid *g = BPF_CORE_READ(task, signal, pids[PIDTYPE_PGID]);

	*sid = BPF_CORE_READ(s, numbers[0].nr);
	*pgid = BPF_CORE_READ(g, numbers[0].nr);
}

/* Reads a kernel_cap_t, which is a struct with one u64 since Linux 6.3 and
 * an array of two u32 before; both are 8 little-endian bytes. */
static __always_inline __u64 read_caps(const void *field)
{
	__u64 caps = 0;

	bpf_probe_read_kernel(&caps, sizeof(caps), field);
	return caps;
}

/* Returns the controlling terminal as a kernel dev_t (major << 20 | minor),
 * or 0 when the task has none. */
static __always_inline __u32 read_tty(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	__u32 major = BPF_CORE_READ(tty, driver, major);
	__u32 minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	return (major << 20) | (minor & 0xfffff);
}

/* Scratch space for building strings with variable-length parts. The
 * walkers below run their loops through bpf_loop (Linux 5.17+) and keep
 * their state in this per-CPU map value rather than on the stack. The
 * verifier treats values loaded from a map as unknown, so every iteration
 * looks the same to it and it checks the callback in a few passes instead
 * of once per iteration and branch. The caller then copies the result into
 * its record with a bounded length. */
#define SCRATCH_LEN 8192

/* State of a walk. Kernel pointers are kept as integers because they come
 * from probe reads. */
struct walk {
	__u64 cur;	/* dentry, kernfs_node or argv address */
	__u64 vfsmnt;
	__u32 off;
	__u32 max;
	__u32 flags;
	__u32 count;
	__u32 done; /* set when the walk reached its natural end */
	__u32 pad;
};

struct scratch {
	struct walk w;
	char buf[SCRATCH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* Result of a walker: the length in the low 16 bits plus these flags. */
#define WALK_LEN_MASK 0xffff
#define WALK_TRUNCATED (1U << 16)
#define WALK_DETACHED (1U << 17)
#define WALK_FAILED (1U << 18)
#define WALK_ARGC_SHIFT 20

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch_map, &zero);
}

/* Starts a walk from cur, or returns NULL when the scratch map is missing. */
static __always_inline struct scratch *walk_start(__u64 cur, __u64 vfsmnt, __u32 max)
{
	struct scratch *s = get_scratch();

	if (!s)
		return NULL;
	s->w.cur = cur;
	s->w.vfsmnt = vfsmnt;
	s->w.off = 0;
	s->w.max = max;
	s->w.flags = 0;
	s->w.count = 0;
	s->w.done = 0;
	return s;
}

/* Combines length and flags; a walk that ran out of loop iterations before
 * its natural end is truncated. */
static __always_inline int walk_result(struct scratch *s)
{
	int r = (s->w.off & WALK_LEN_MASK) | s->w.flags;

	if (!s->w.done && !(s->w.flags & WALK_FAILED))
		r |= WALK_TRUNCATED;
	return r;
}

/* Appends the NUL-terminated kernel string at src to the scratch buffer.
 * Returns 1 (stop) when the buffer is full or the read fails. */
static __always_inline long append_kernel_str(struct scratch *s, const void *src)
{
	__u32 off = s->w.off;
	long n;

	if (off > SCRATCH_LEN - NAME_READ_MAX || off + NAME_READ_MAX > s->w.max) {
		s->w.flags |= WALK_TRUNCATED;
		return 1;
	}
	n = bpf_probe_read_kernel_str(s->buf + off, NAME_READ_MAX, src);
	if (n <= 0) {
		s->w.done = 1;
		return 1;
	}
	s->w.off = off + n;
	return 0;
}

static long path_step(__u32 index, void *ctx)
{
	struct scratch *s = get_scratch();
	struct dentry *dentry, *parent;
	struct vfsmount *vfsmnt;

	if (!s)
		return 1;
	dentry = (struct dentry *)s->w.cur;
	vfsmnt = (struct vfsmount *)s->w.vfsmnt;
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		if (mnt_parent == mnt || !mnt_parent) {
			s->w.done = 1;
			return 1;
		}
		s->w.cur = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
		s->w.vfsmnt = (__u64)mnt_parent + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	if (append_kernel_str(s, BPF_CORE_READ(dentry, d_name.name)))
		return 1;
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent == dentry) {
		s->w.flags |= WALK_DETACHED;
		s->w.done = 1;
		return 1;
	}
	s->w.cur = (__u64)parent;
	return 0;
}

/* Writes the path of a dentry/vfsmount pair leaf first into the scratch
 * buffer (see the format note in events.h), crossing mount points up to the
 * root of the mount namespace, and stopping before max bytes. When the
 * dentry is not reachable from its mount root (memfd and other pseudo
 * files), the path ends at the pseudo file system's root and WALK_DETACHED
 * is set. */
static __always_inline int walk_path(struct dentry *dentry, struct vfsmount *vfsmnt, __u32 max)
{
	struct scratch *s;

	if (!dentry || !vfsmnt)
		return WALK_FAILED;
	s = walk_start((__u64)dentry, (__u64)vfsmnt, max);
	if (!s)
		return WALK_FAILED;
	bpf_loop(PATH_MAX_DEPTH, path_step, NULL, 0);
	return walk_result(s);
}

static long cgroup_step(__u32 index, void *ctx)
{
	struct scratch *s = get_scratch();
	struct kernfs_node *kn, *parent;

	if (!s)
		return 1;
	kn = (struct kernfs_node *)s->w.cur;
	if (!kn || !(parent = kernfs_parent(kn))) {
		s->w.done = 1;
		return 1;
	}
	if (append_kernel_str(s, BPF_CORE_READ(kn, name)))
		return 1;
	s->w.cur = (__u64)parent;
	return 0;
}

/* Writes the path of a cgroup leaf first into the scratch buffer, stopping
 * below the hierarchy root and before max bytes. */
static __always_inline int walk_cgroup(struct cgroup *cgrp, __u32 max)
{
	struct scratch *s;

	if (!cgrp)
		return WALK_FAILED;
	s = walk_start((__u64)BPF_CORE_READ(cgrp, kn), 0, max);
	if (!s)
		return WALK_FAILED;
	bpf_loop(CGROUP_MAX_DEPTH, cgroup_step, NULL, 0);
	return walk_result(s);
}

#define ARG_READ_MAX 1024
#define ARGV_MAX 128

static long argv_step(__u32 index, void *ctx)
{
	struct scratch *s = get_scratch();
	const char *arg = NULL;
	__u32 off;
	long n;

	if (!s)
		return 1;
	off = s->w.off;
	if (bpf_probe_read_user(&arg, sizeof(arg), (void *)(s->w.cur + (__u64)index * sizeof(arg))) || !arg) {
		s->w.done = 1;
		return 1;
	}
	if (off > SCRATCH_LEN - ARG_READ_MAX || off + ARG_READ_MAX > s->w.max) {
		s->w.flags |= WALK_TRUNCATED;
		return 1;
	}
	n = bpf_probe_read_user_str(s->buf + off, ARG_READ_MAX, arg);
	if (n <= 0) {
		s->w.done = 1;
		return 1;
	}
	s->w.off = off + n;
	s->w.count++;
	if (n == ARG_READ_MAX) {
		/* An argument cut short ends the copy. */
		s->w.flags |= WALK_TRUNCATED;
		return 1;
	}
	return 0;
}

/* Copies the strings of a user argv array into the scratch buffer, each
 * followed by a NUL byte, stopping before max bytes. Returns the length and
 * flags, with the number of arguments copied at WALK_ARGC_SHIFT. */
static __always_inline int walk_argv(__u64 argv, __u32 max)
{
	struct scratch *s;

	if (!argv)
		return WALK_FAILED;
	s = walk_start(argv, 0, max);
	if (!s)
		return WALK_FAILED;
	bpf_loop(ARGV_MAX, argv_step, NULL, 0);
	return walk_result(s) | (s->w.count & 0xff) << WALK_ARGC_SHIFT;
}

/* Copies the scratch buffer into a record field of size cap. */
static __always_inline __u16 copy_scratch(char *dst, __u32 cap, int walk)
{
	struct scratch *s = get_scratch();
	__u32 len = walk & WALK_LEN_MASK;

	if (!s || (walk & WALK_FAILED))
		return 0;
	if (len > cap)
		len = cap;
	if (len > SCRATCH_LEN)
		return 0;
	bpf_probe_read_kernel(dst, len, s->buf);
	return len;
}

struct v1_search {
	__u64 cset;
	__u64 dfl_root;
	__u64 best;
	__s32 best_level;
	__u32 count;
};

static long v1_step(__u32 index, void *ctx)
{
	struct v1_search *v = ctx;
	struct css_set *cset = (struct css_set *)v->cset;
	struct cgroup_subsys_state *css = NULL;
	struct cgroup *cgrp;
	int level;

	if (index >= v->count || index >= CGROUP_SUBSYS_MAX)
		return 1;
	bpf_probe_read_kernel(&css, sizeof(css), (void *)cset + bpf_core_field_offset(struct css_set, subsys) +
							    index * sizeof(void *));
	if (!css)
		return 0;
	cgrp = BPF_CORE_READ(css, cgroup);
	if (!cgrp || (__u64)BPF_CORE_READ(cgrp, root) == v->dfl_root)
		return 0;
	level = BPF_CORE_READ(cgrp, level);
	if (level > v->best_level) {
		v->best = (__u64)cgrp;
		v->best_level = level;
	}
	return 0;
}

/* Returns the deepest cgroup of a task's css_set among the controllers
 * mounted in a cgroup v1 hierarchy, or NULL when every controller is in the
 * default (v2) hierarchy. On a hybrid host a container runtime may have
 * moved the task only in v1 hierarchies, so this path can name the
 * container while the v2 path does not. */
static __always_inline struct cgroup *deepest_v1_cgroup(struct css_set *cset)
{
	struct v1_search v = {.cset = (__u64)cset, .best_level = -1};

	if (!cset)
		return NULL;
	v.dfl_root = (__u64)BPF_CORE_READ(cset, dfl_cgrp, root);
	v.count = bpf_core_field_size(cset->subsys) / sizeof(void *);
	bpf_loop(CGROUP_SUBSYS_MAX, v1_step, &v, 0);
	return (struct cgroup *)v.best;
}

#endif /* RIPOSTE_TASK_H */
