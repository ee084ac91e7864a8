/* Generic syscall records, written at syscall exit for the syscalls that
 * userspace selected in syscall_specs.
 *
 * On x86_64 the saved user registers in pt_regs still hold a syscall's
 * arguments when it returns (only ax is replaced by the return value), so
 * one program at sys_exit captures arguments and result together without a
 * per-task map. What else to capture (an fd to describe, user strings, a
 * sockaddr) comes from the syscall's spec, so adding a syscall needs no
 * change here.
 */
#ifndef RIPOSTE_SYSCALL_H
#define RIPOSTE_SYSCALL_H

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

/* Pending bytes in the ring buffer above which a syscall record wakes the
 * reader. */
#define WAKEUP_BYTES (64 * 1024)

#define S_IFMT 00170000
#define S_IFSOCK 0140000

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSCALL_NR_MAX);
	__type(key, __u32);
	__type(value, struct syscall_spec);
} syscall_specs SEC(".maps");

/* Records are assembled here, then copied to the ring buffer with their
 * used length. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct syscall_event);
} syscall_scratch SEC(".maps");

/* Thread group id of the sensor, whose own syscalls are not reported.
 * Set by the loader. */
volatile const __u32 self_tgid = 0;

static __always_inline __u64 syscall_arg(struct pt_regs *regs, __u32 index)
{
	switch (index) {
	case 0:
		return regs->di;
	case 1:
		return regs->si;
	case 2:
		return regs->dx;
	case 3:
		return regs->r10;
	case 4:
		return regs->r8;
	case 5:
		return regs->r9;
	}
	return 0;
}

#define O_CLOEXEC 02000000

/* Returns the open file of fd in task, or NULL, and sets *cloexec when the
 * descriptor is closed on exec (a bit of the fdtable, not of f_flags). */
static __always_inline struct file *fd_file(struct task_struct *task, long fd, bool *cloexec)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned long *bits, word = 0;
	struct file **files;
	struct file *file = NULL;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fd &= 0xffffff;
	files = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &files[fd]);
	bits = BPF_CORE_READ(fdt, close_on_exec);
	bpf_probe_read_kernel(&word, sizeof(word), &bits[fd / 64]);
	*cloexec = (word >> (fd % 64)) & 1;
	return file;
}

/* Fills the sk_* fields from the socket behind file. */
static __always_inline void describe_socket(struct syscall_event *e, struct file *file)
{
	struct socket *sock = BPF_CORE_READ(file, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);

	if (!sk)
		return;
	e->sk_family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->sk_state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->sk_type = BPF_CORE_READ(sk, sk_type);
	e->sk_protocol = BPF_CORE_READ(sk, sk_protocol);
	if (e->sk_family == AF_INET) {
		bpf_probe_read_kernel(e->sk_laddr, 4, __builtin_preserve_access_index(&sk->__sk_common.skc_rcv_saddr));
		bpf_probe_read_kernel(e->sk_raddr, 4, __builtin_preserve_access_index(&sk->__sk_common.skc_daddr));
	} else if (e->sk_family == AF_INET6) {
		bpf_probe_read_kernel(e->sk_laddr, 16, __builtin_preserve_access_index(&sk->__sk_common.skc_v6_rcv_saddr));
		bpf_probe_read_kernel(e->sk_raddr, 16, __builtin_preserve_access_index(&sk->__sk_common.skc_v6_daddr));
	} else {
		return;
	}
	e->sk_lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->sk_rport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/* Fills the fd_* and sk_* fields, and when want_path is set the path of a
 * file at the start of data. Returns the length of the path written. */
static __always_inline __u32 describe_fd(struct syscall_event *e, struct task_struct *task, long fd, bool want_path)
{
	bool cloexec = false;
	struct file *file = fd_file(task, fd, &cloexec);
	struct inode *inode;
	int walk;

	e->fd = fd;
	if (!file)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	e->flags |= SYSCALL_F_FD_RESOLVED;
	e->fd_mode = BPF_CORE_READ(inode, i_mode);
	e->fd_ino = BPF_CORE_READ(inode, i_ino);
	e->fd_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	e->fd_flags = BPF_CORE_READ(file, f_flags) & ~O_CLOEXEC;
	if (cloexec)
		e->fd_flags |= O_CLOEXEC;
	if ((e->fd_mode & S_IFMT) == S_IFSOCK) {
		describe_socket(e, file);
		return 0;
	}
	if (!want_path)
		return 0;

	walk = walk_path(BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt), EXEC_PATH_LEN);
	if (walk & WALK_TRUNCATED)
		e->flags |= SYSCALL_F_FD_PATH_TRUNCATED;
	if (walk & WALK_DETACHED)
		e->flags |= SYSCALL_F_FD_DETACHED;
	return copy_scratch(e->data, EXEC_PATH_LEN, walk);
}

/* Reads the user string at addr into data at off. Returns the bytes used,
 * NUL included. */
static __always_inline __u32 read_user_path(struct syscall_event *e, __u32 off, __u64 addr, __u32 truncated_flag)
{
	long n;

	if (!addr || off > SYSCALL_DATA_LEN - SYSCALL_PATH_LEN)
		return 0;
	n = bpf_probe_read_user_str(e->data + off, SYSCALL_PATH_LEN, (const void *)addr);
	if (n <= 0)
		return 0;
	if (n == SYSCALL_PATH_LEN)
		e->flags |= truncated_flag;
	return n;
}

/* Emits a record for a selected syscall other than exec. */
static __always_inline int syscall_exit(struct pt_regs *regs, long nr, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct syscall_spec *spec;
	struct syscall_event *e;
	__u32 key = nr, zero = 0, off, n, size;
	bool want_path;
	__u64 flags;
	int i;

	if (nr < 0 || nr >= SYSCALL_NR_MAX)
		return 0;
	spec = bpf_map_lookup_elem(&syscall_specs, &key);
	if (!spec || !spec->enabled)
		return 0;
	if ((bpf_get_current_pid_tgid() >> 32) == self_tgid)
		return 0;
	e = bpf_map_lookup_elem(&syscall_scratch, &zero);
	if (!e) {
		count_drop(DROP_SCRATCH_MISSING, RECORD_SYSCALL);
		return 0;
	}

	fill_header(&e->hdr, task, RECORD_SYSCALL);
	e->ret = ret;
	e->nr = nr;
	e->flags = 0;
	e->fd = -1;
	e->fd_mode = 0;
	e->fd_ino = 0;
	e->fd_dev = 0;
	e->fd_flags = 0;
	e->sk_family = 0;
	e->sk_type = 0;
	e->sk_protocol = 0;
	e->sk_state = 0;
	e->sk_lport = 0;
	e->sk_rport = 0;
	__builtin_memset(e->sk_laddr, 0, sizeof(e->sk_laddr));
	__builtin_memset(e->sk_raddr, 0, sizeof(e->sk_raddr));
	for (i = 0; i < 6; i++)
		e->args[i] = syscall_arg(regs, i);

	off = 0;
	want_path = spec->flags & SPEC_F_FD_PATH;
	if (spec->fd_arg == SPEC_ARG_RET)
		off = describe_fd(e, task, ret, want_path);
	else if (spec->fd_arg < 6)
		off = describe_fd(e, task, (int)e->args[spec->fd_arg], want_path);
	if (off > EXEC_PATH_LEN)
		off = EXEC_PATH_LEN;
	e->fd_path_len = off;

	n = 0;
	if (spec->path_arg < 6)
		n = read_user_path(e, off, e->args[spec->path_arg], SYSCALL_F_PATH_TRUNCATED);
	e->path_len = n;
	off += n;

	n = 0;
	if (spec->path2_arg < 6)
		n = read_user_path(e, off, e->args[spec->path2_arg], SYSCALL_F_PATH2_TRUNCATED);
	e->path2_len = n;
	off += n;

	n = 0;
	if (spec->addr_arg < 6 && spec->addrlen_arg < 6 && off <= SYSCALL_DATA_LEN - SYSCALL_ADDR_LEN) {
		n = e->args[spec->addrlen_arg];
		if (n > SYSCALL_ADDR_LEN)
			n = SYSCALL_ADDR_LEN;
		if (bpf_probe_read_user(e->data + off, n, (const void *)e->args[spec->addr_arg]))
			n = 0;
	}
	e->addr_len = n;
	off += n;

	size = offsetof(struct syscall_event, data) + off;
	if (size > sizeof(*e))
		size = sizeof(*e);
	/* Waking the reader for every record costs a context switch each, which
	 * dominates the cost of frequent syscalls. The reader is woken once
	 * WAKEUP_BYTES are pending and otherwise polls at a short interval. */
	flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&events, e, size, flags))
		count_drop(DROP_RINGBUF_FULL, RECORD_SYSCALL);
	return 0;
}

#endif /* RIPOSTE_SYSCALL_H */
