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
	RECORD_SYSCALL = 4, /* any other syscall selected in syscall_specs returned */
	RECORD_KIND_MAX = 16,
};

/* Causes of lost records, used with the kind as index into the drops map:
 * index = cause * RECORD_KIND_MAX + kind. */
enum drop_cause {
	DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_reserve failed */
	DROP_SCRATCH_MISSING = 2, /* the per-CPU scratch buffer could not be looked up */
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

/* Bits of exec_event.exe_flags. */
#define EXE_F_OVERLAY (1U << 0)	    /* the executable is on an overlayfs */
#define EXE_F_UPPER_LAYER (1U << 1) /* ... and in its upper (writable) layer */

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
	__u32 exe_flags; /* EXE_F_* */
	__u32 sid;	 /* session id (pid of the session leader, initial namespace) */
	__u32 pgid;	 /* process group id (initial namespace) */
	__u64 cap_inheritable;
	__u64 cap_permitted;
	__u64 cap_effective;
	__u64 exe_ino;
	__s64 exe_ctime_ns; /* status change time of the executable, Unix ns */
	__s64 exe_mtime_ns; /* modification time of the executable, Unix ns */
	__u32 exe_mode;
	__u32 exe_uid;
	__u32 exe_gid;
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

/* Capture instructions for one syscall number, written by userspace into
 * syscall_specs. A syscall whose spec has enabled == 0 produces no record. */
#define SPEC_ARG_NONE 0xff
#define SPEC_ARG_RET 0xfe

struct syscall_spec {
	__u8 enabled;
	__u8 fd_arg;	  /* argument holding the fd to describe, SPEC_ARG_RET, or SPEC_ARG_NONE */
	__u8 path_arg;	  /* argument holding a user path string, or SPEC_ARG_NONE */
	__u8 path2_arg;	  /* argument holding a second user path string, or SPEC_ARG_NONE */
	__u8 addr_arg;	  /* argument holding a user sockaddr, or SPEC_ARG_NONE */
	__u8 addrlen_arg; /* argument holding the sockaddr length, or SPEC_ARG_NONE */
	__u8 flags;	  /* SPEC_F_* */
	__u8 pad;
};

/* Bits of syscall_spec.flags. */
#define SPEC_F_FD_PATH (1U << 0) /* write the path of a file descriptor's file */

#define SYSCALL_NR_MAX 512
#define SYSCALL_PATH_LEN 512
#define SYSCALL_ADDR_LEN 128
/* The data area holds, in this order: the fd's path (leaf first, at most
 * EXEC_PATH_LEN bytes), path, path2 and addr. */
#define SYSCALL_DATA_LEN (EXEC_PATH_LEN + 2 * SYSCALL_PATH_LEN + SYSCALL_ADDR_LEN)

/* Bits of syscall_event.flags. */
#define SYSCALL_F_FD_RESOLVED (1U << 0)	   /* fd_* fields describe an open file */
#define SYSCALL_F_FD_PATH_TRUNCATED (1U << 1)
#define SYSCALL_F_FD_DETACHED (1U << 2)	   /* the fd's file is not reachable from a mount root */
#define SYSCALL_F_PATH_TRUNCATED (1U << 3)
#define SYSCALL_F_PATH2_TRUNCATED (1U << 4)

/* A syscall other than exec, written at syscall exit. Records are variable
 * length: only the used part of data is sent. */
struct syscall_event {
	struct event_header hdr;
	__s64 ret;
	__u64 args[6];
	__u32 nr;
	__u32 flags;
	__s32 fd;	/* the fd described by the fd_* fields, -1 when none */
	__u32 fd_mode;	/* i_mode of the fd's inode: file type and permissions */
	__u64 fd_ino;
	__u32 fd_dev;	/* s_dev of the inode's super block */
	__u32 fd_flags; /* f_flags of the open file, with O_CLOEXEC from the fdtable */
	__u16 sk_family;
	__u16 sk_type;
	__u16 sk_protocol;
	__u16 sk_state;
	__u16 sk_lport; /* host byte order */
	__u16 sk_rport; /* host byte order */
	__u32 pad;
	__u8 sk_laddr[16]; /* IPv4 addresses use the first 4 bytes */
	__u8 sk_raddr[16];
	__u16 fd_path_len;
	__u16 path_len;
	__u16 path2_len;
	__u16 addr_len;
	char data[SYSCALL_DATA_LEN];
};

#endif /* RIPOSTE_EVENTS_H */
