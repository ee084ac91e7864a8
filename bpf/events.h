/* Records that the BPF programs write to the ring buffer.
 *
 * Every record starts with struct event_header. The layouts have no implicit
 * padding, so the Go mirrors in package bpf decode them field by field, and a
 * test compares those mirrors with the BTF of the compiled object.
 */
#ifndef RIPOSTE_EVENTS_H
#define RIPOSTE_EVENTS_H

/* Record kinds (event_header.kind). */
enum record_kind {
	RECORD_EXEC = 1, /* an execve or execveat finished (successfully or not) */
	RECORD_FORK = 2, /* a task was created by fork, vfork, clone or clone3 */
	RECORD_EXIT = 3, /* a task exited */
	RECORD_KIND_MAX = 16,
};

/* Causes of lost records, used with the kind as index into the drops map:
 * index = cause * RECORD_KIND_MAX + kind. */
enum drop_cause {
	DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_reserve failed */
	DROP_PENDING_FULL = 1, /* the pending_execs map rejected an update */
	DROP_CAUSE_MAX = 4,
};

#define COMM_LEN 16
#define EXEC_FILENAME_LEN 512
#define EXEC_ARGS_LEN 4096
#define EXEC_PATH_LEN 1024
#define EXEC_CGROUP_LEN 512

/* Bits of exec_event.flags. */
#define EXEC_F_ARGS_TRUNCATED (1U << 0)
#define EXEC_F_FILENAME_TRUNCATED (1U << 1)
#define EXEC_F_EXE_TRUNCATED (1U << 2)
#define EXEC_F_CWD_TRUNCATED (1U << 3)
#define EXEC_F_CGROUP_TRUNCATED (1U << 4)
#define EXEC_F_CGROUP_V1_TRUNCATED (1U << 5)
#define EXEC_F_EXE_RESOLVED (1U << 6) /* exe contains a path (zero components means "/") */
#define EXEC_F_CWD_RESOLVED (1U << 7)
#define EXEC_F_EXE_DETACHED (1U << 8) /* exe file is not reachable from a mount root (memfd, deleted) */
#define EXEC_F_EXECVEAT (1U << 9)     /* the syscall was execveat, not execve */
#define EXEC_F_SYSCALL_KNOWN (1U << 10) /* the syscall entry was seen, so EXEC_F_EXECVEAT is meaningful */

/* Bits of fork_event.flags. */
#define FORK_F_THREAD (1U << 0) /* the child shares the parent's thread group */

/* Bits of exit_event.flags. */
#define EXIT_F_GROUP_DEAD (1U << 0) /* the last thread of the thread group exited */

/* Process identity common to all records. Ids are those of the initial
 * namespaces; ts_ns is CLOCK_BOOTTIME. */
struct event_header {
	__u64 ts_ns;
	__u32 kind;
	__u32 cpu;
	__u32 pid; /* thread group id */
	__u32 tid;
	__u32 ppid; /* thread group id of real_parent */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 loginuid; /* (u32)-1 when unset */
	__u64 cgroup_id; /* kernfs id of the cgroup v2 (default hierarchy) cgroup */
	char comm[COMM_LEN];
};

/* Strings in exec_event are not NUL-terminated as a whole. Paths are written
 * leaf first: each component followed by a NUL byte, so "/usr/bin/id" is
 * "id\0bin\0usr\0" and the root directory is zero components. args contains
 * argv as the kernel stores it: each argument followed by a NUL byte. */
struct exec_event {
	struct event_header hdr;
	__s64 retval;
	__u32 flags;
	__u32 vpid; /* thread group id in the task's own pid namespace */
	__u32 pid_ns; /* inode number of the pid namespace */
	__u32 mnt_ns; /* inode number of the mount namespace */
	__u32 tty; /* kernel dev_t of the controlling terminal, 0 when none */
	__u32 argc;
	__u16 args_len;
	__u16 filename_len;
	__u16 exe_len;
	__u16 cwd_len;
	__u16 cgroup_len;
	__u16 cgroup_v1_len;
	__u32 pad;
	char filename[EXEC_FILENAME_LEN]; /* path as passed to the syscall */
	char args[EXEC_ARGS_LEN];
	char exe[EXEC_PATH_LEN]; /* executable file actually loaded */
	char cwd[EXEC_PATH_LEN];
	char cgroup[EXEC_CGROUP_LEN]; /* cgroup v2 path */
	char cgroup_v1[EXEC_CGROUP_LEN]; /* deepest cgroup v1 path among controllers */
};

struct fork_event {
	struct event_header hdr; /* the parent, which runs the syscall */
	__u64 clone_flags;
	__u32 child_pid;
	__u32 child_tid;
	__s32 syscall_nr; /* -1 when the task was not created by a syscall */
	__u32 flags;
};

struct exit_event {
	struct event_header hdr;
	__u32 exit_code; /* wait status: exit status << 8 | terminating signal */
	__u32 flags;
};

#endif /* RIPOSTE_EVENTS_H */
