//go:build ignore

/* Process lifecycle programs: exec (successful and failed), fork and exit.
 *
 * All programs are tp_btf (BTF-typed tracepoints), which need Linux 5.5 or
 * newer with BTF. Records go to the events ring buffer; a record that cannot
 * be reserved is counted in the per-CPU drops map instead.
 */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "events.h"
#include "task.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PF_KTHREAD 0x00200000

#if defined(__TARGET_ARCH_x86)
#define NR_CLONE 56
#define NR_FORK 57
#define NR_VFORK 58
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define NR_CLONE3 435
/* regs is always a BTF pointer (a tp_btf argument or bpf_task_pt_regs),
 * so plain loads work and cost less than probe-read helper calls. */
#define SYSCALL_ARG1(regs) ((regs)->di)
#define SYSCALL_ARG2(regs) ((regs)->si)
#define SYSCALL_ARG3(regs) ((regs)->dx)
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#else
#error "riposte BPF programs support only x86_64 for now"
#endif

/* Exec records are about 8 KiB, so 8 MiB has room for about a thousand. The
 * loader may resize the map before loading. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Lost records per CPU, indexed by cause * RECORD_KIND_MAX + kind. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_CAUSE_MAX * RECORD_KIND_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Keep the record types in the object's BTF for the layout test and bpf2go. */
const struct exec_event *unused_exec_event __attribute__((unused));
const struct fork_event *unused_fork_event __attribute__((unused));
const struct exit_event *unused_exit_event __attribute__((unused));
const struct syscall_event *unused_syscall_event __attribute__((unused));

static __always_inline void count_drop(__u32 cause, __u32 kind)
{
	__u32 key = cause * RECORD_KIND_MAX + kind;
	__u64 *count = bpf_map_lookup_elem(&drops, &key);
	if (count)
		*count += 1;
}

#include "syscall.h"

/* Fills everything in an exec record that comes from the task itself rather
 * than from the syscall arguments. */
static __always_inline void fill_exec_task(struct exec_event *e, struct task_struct *task)
{
	struct cgroup *v1;
	int walk;

	const struct cred *cred = BPF_CORE_READ(task, cred);

	fill_header(&e->hdr, task, RECORD_EXEC);
	read_pid_ns(task, &e->vpid, &e->pid_ns);
	read_session(task, &e->sid, &e->pgid);
	e->cap_inheritable = read_caps(__builtin_preserve_access_index(&cred->cap_inheritable));
	e->cap_permitted = read_caps(__builtin_preserve_access_index(&cred->cap_permitted));
	e->cap_effective = read_caps(__builtin_preserve_access_index(&cred->cap_effective));
	e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	e->tty = read_tty(task);

	walk = walk_path(BPF_CORE_READ(task, fs, pwd.dentry), BPF_CORE_READ(task, fs, pwd.mnt), sizeof(e->cwd));
	if (!(walk & WALK_FAILED))
		e->flags |= EXEC_F_CWD_RESOLVED;
	if (walk & WALK_TRUNCATED)
		e->flags |= EXEC_F_CWD_TRUNCATED;
	e->cwd_len = copy_scratch(e->cwd, sizeof(e->cwd), walk);

	walk = walk_cgroup(BPF_CORE_READ(task, cgroups, dfl_cgrp), sizeof(e->cgroup));
	if (walk & WALK_TRUNCATED)
		e->flags |= EXEC_F_CGROUP_TRUNCATED;
	e->cgroup_len = copy_scratch(e->cgroup, sizeof(e->cgroup), walk);

	v1 = deepest_v1_cgroup(BPF_CORE_READ(task, cgroups));
	if (v1) {
		walk = walk_cgroup(v1, sizeof(e->cgroup_v1));
		if (walk & WALK_TRUNCATED)
			e->flags |= EXEC_F_CGROUP_V1_TRUNCATED;
		e->cgroup_v1_len = copy_scratch(e->cgroup_v1, sizeof(e->cgroup_v1), walk);
	}
}

#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* Inode times are split into seconds and nanoseconds fields since Linux
 * 6.11; earlier kernels have struct timespec64 fields. */
struct inode___pre611 {
	struct timespec64 __i_ctime;
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

/* Fills the executable's inode fields of an exec record. */
static __always_inline void describe_exe(struct exec_event *e, struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	e->exe_ino = BPF_CORE_READ(inode, i_ino);
	e->exe_mode = BPF_CORE_READ(inode, i_mode);
	e->exe_uid = BPF_CORE_READ(inode, i_uid.val);
	e->exe_gid = BPF_CORE_READ(inode, i_gid.val);
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		e->exe_ctime_ns = BPF_CORE_READ(inode, i_ctime_sec) * 1000000000 + BPF_CORE_READ(inode, i_ctime_nsec);
		e->exe_mtime_ns = BPF_CORE_READ(inode, i_mtime_sec) * 1000000000 + BPF_CORE_READ(inode, i_mtime_nsec);
	} else {
		struct inode___pre611 *old = (void *)inode;
		e->exe_ctime_ns = BPF_CORE_READ(old, __i_ctime.tv_sec) * 1000000000 + BPF_CORE_READ(old, __i_ctime.tv_nsec);
		e->exe_mtime_ns = BPF_CORE_READ(old, i_mtime.tv_sec) * 1000000000 + BPF_CORE_READ(old, i_mtime.tv_nsec);
	}
	if (BPF_CORE_READ(inode, i_sb, s_magic) == OVERLAYFS_SUPER_MAGIC) {
		/* The overlay inode is embedded in struct ovl_inode, whose
		 * __upperdentry is set once the file exists in the upper layer. */
		struct ovl_inode *oi = (void *)inode - bpf_core_field_offset(struct ovl_inode, vfs_inode);

		e->exe_flags |= EXE_F_OVERLAY;
		if (BPF_CORE_READ(oi, __upperdentry))
			e->exe_flags |= EXE_F_UPPER_LAYER;
	}
}

/* Zeroes the fixed part of a reserved exec record; the string areas are
 * bounded by their lengths, so they need no clearing. */
static __always_inline void clear_exec_fixed(struct exec_event *e)
{
	__builtin_memset(e, 0, offsetof(struct exec_event, filename));
}

/* Emits an exec record for an execve or execveat that failed.
 *
 * A failed exec returns to the old program image with the user registers
 * unchanged but for the return value, so the filename and argv pointers
 * are still in regs and still point into the caller's memory. A successful
 * exec has already been reported by sched_process_exec. */
static __always_inline int exec_exit(struct pt_regs *regs, long nr, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct exec_event *e;
	__u64 filename, argv;
	long n;
	int walk;

	if (ret >= 0)
		return 0;
	if (nr == NR_EXECVE) {
		filename = SYSCALL_ARG1(regs);
		argv = SYSCALL_ARG2(regs);
	} else {
		filename = SYSCALL_ARG2(regs);
		argv = SYSCALL_ARG3(regs);
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RINGBUF_FULL, RECORD_EXEC);
		return 0;
	}
	clear_exec_fixed(e);
	fill_exec_task(e, task);
	e->retval = ret;
	e->flags |= EXEC_F_SYSCALL_KNOWN;
	if (nr == NR_EXECVEAT)
		e->flags |= EXEC_F_EXECVEAT;

	n = bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const char *)filename);
	if (n > 0) {
		e->filename_len = n - 1;
		if (n == sizeof(e->filename))
			e->flags |= EXEC_F_FILENAME_TRUNCATED;
	}

	walk = walk_argv(argv, sizeof(e->args));
	if (walk & WALK_TRUNCATED)
		e->flags |= EXEC_F_ARGS_TRUNCATED;
	e->argc = (walk >> WALK_ARGC_SHIFT) & 0xff;
	e->args_len = copy_scratch(e->args, sizeof(e->args), walk);

	/* Exec records wake the reader at once, because syscall records before
	 * them may have been written without a wakeup (see syscall.h) and the
	 * rules that trigger responses mostly match execs. */
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* Dispatches every syscall exit: execve and execveat to exec_exit, the
 * others to syscall_exit, which drops those not selected in syscall_specs.
 *
 * Fires on every syscall exit (sys_exit tracepoint in syscall_exit_work),
 * in the context of the returning task, with its user registers in regs. */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR(regs);

	if (nr == NR_EXECVE || nr == NR_EXECVEAT)
		return exec_exit(regs, nr, ret);
	return syscall_exit(regs, nr, ret);
}

/* Emits an exec record for a successful exec.
 *
 * Fires from exec_binprm once the new program is loaded and the exec can no
 * longer fail, in the context of the task (p == current) whose memory map is
 * now the new program's. bprm->file is the file actually loaded (the
 * interpreter for a script) and bprm->filename the path passed to the
 * syscall. The arguments are read from
 * the new stack (mm->arg_start .. arg_end), which exec has just written and
 * so is resident. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_event *e;
	struct file *file;
	__u64 arg_start, arg_end, len;
	long n, nr = -1;
	int walk;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RINGBUF_FULL, RECORD_EXEC);
		return 0;
	}
	clear_exec_fixed(e);
	fill_exec_task(e, p);

	/* An exec from a syscall has the syscall number in the task's saved
	 * registers. The kernel's own execs (kernel_execve, for init and
	 * usermode helpers) have another value there and leave the syscall
	 * unknown. */
	nr = SYSCALL_NR((struct pt_regs *)bpf_task_pt_regs(p));
	if (nr == NR_EXECVE || nr == NR_EXECVEAT) {
		e->flags |= EXEC_F_SYSCALL_KNOWN;
		if (nr == NR_EXECVEAT)
			e->flags |= EXEC_F_EXECVEAT;
	}

	n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	if (n > 0) {
		e->filename_len = n - 1;
		if (n == sizeof(e->filename))
			e->flags |= EXEC_F_FILENAME_TRUNCATED;
	}

	file = BPF_CORE_READ(bprm, file);
	if (file) {
		walk = walk_path(BPF_CORE_READ(file, f_path.dentry), BPF_CORE_READ(file, f_path.mnt), sizeof(e->exe));
		if (!(walk & WALK_FAILED))
			e->flags |= EXEC_F_EXE_RESOLVED;
		if (walk & WALK_TRUNCATED)
			e->flags |= EXEC_F_EXE_TRUNCATED;
		if (walk & WALK_DETACHED)
			e->flags |= EXEC_F_EXE_DETACHED;
		e->exe_len = copy_scratch(e->exe, sizeof(e->exe), walk);
		describe_exe(e, file);
	}

	arg_start = BPF_CORE_READ(p, mm, arg_start);
	arg_end = BPF_CORE_READ(p, mm, arg_end);
	len = arg_end - arg_start;
	if (arg_end < arg_start)
		len = 0;
	if (len > sizeof(e->args)) {
		len = sizeof(e->args);
		e->flags |= EXEC_F_ARGS_TRUNCATED;
	}
	if (len > 0 && bpf_probe_read_user(e->args, len, (void *)arg_start) == 0)
		e->args_len = len;
	e->argc = BPF_CORE_READ(bprm, argc);

	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

/* Emits a fork record for every new task, process or thread.
 *
 * Fires from kernel_clone (copy_process has succeeded, the child is not yet
 * running) in the parent's context. The parent's syscall registers give the
 * syscall that created the child and its clone flags. A kernel thread
 * creating a task has no syscall, so syscall_nr is then -1. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;
	struct fork_event *e;
	long nr = -1;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RINGBUF_FULL, RECORD_FORK);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	fill_header(&e->hdr, parent, RECORD_FORK);
	e->child_pid = BPF_CORE_READ(child, tgid);
	e->child_tid = BPF_CORE_READ(child, pid);
	if (e->child_pid != e->child_tid)
		e->flags |= FORK_F_THREAD;

	if (!(BPF_CORE_READ(task, flags) & PF_KTHREAD)) {
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		nr = SYSCALL_NR(regs);
		if (nr == NR_CLONE) {
			e->clone_flags = SYSCALL_ARG1(regs);
		} else if (nr == NR_CLONE3) {
			__u64 flags = 0;
			/* struct clone_args starts with the 64-bit flags. */
			bpf_probe_read_user(&flags, sizeof(flags), (void *)SYSCALL_ARG1(regs));
			e->clone_flags = flags;
		}
	}
	e->syscall_nr = nr;

	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Emits an exit record for every exiting task.
 *
 * Fires from do_exit in the exiting task's context, once per thread.
 * do_exit sets exit_code (the wait status) and decrements signal->live
 * before this point, so live == 0 means the whole thread group is gone.
 * Checked on Linux 6.18, whose tracepoint also passes group_dead; reading
 * live instead keeps the program valid on kernels without that argument. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	struct exit_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RINGBUF_FULL, RECORD_EXIT);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	fill_header(&e->hdr, p, RECORD_EXIT);
	e->exit_code = BPF_CORE_READ(p, exit_code);
	if (BPF_CORE_READ(p, signal, live.counter) == 0)
		e->flags |= EXIT_F_GROUP_DEAD;

	bpf_ringbuf_submit(e, 0);
	return 0;
}
