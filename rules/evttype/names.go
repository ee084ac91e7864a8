// Code generated from the syscall and event names of falcosecurity/libs; DO NOT EDIT.
// The names are the union of the ppm_sc syscall table (driver/ppm_events_public.h)
// and the event table (driver/event_table.c) at libs commit 48dfd53cd23f, which are
// the names Falco accepts as evt.type values.

package evttype

// Event types, one per name, in name order.
const (
	UnderscoreLlseek      Type = iota + 1 // _llseek
	UnderscoreNewselect                   // _newselect
	UnderscoreSysctl                      // _sysctl
	Accept                                // accept
	Accept4                               // accept4
	Access                                // access
	Acct                                  // acct
	AddKey                                // add_key
	Adjtimex                              // adjtimex
	Alarm                                 // alarm
	ArchPrctl                             // arch_prctl
	Asyncevent                            // asyncevent
	Bdflush                               // bdflush
	Bind                                  // bind
	Bpf                                   // bpf
	Brk                                   // brk
	Cachestat                             // cachestat
	Capget                                // capget
	Capset                                // capset
	Chdir                                 // chdir
	Chmod                                 // chmod
	Chown                                 // chown
	Chroot                                // chroot
	ClockAdjtime                          // clock_adjtime
	ClockGetres                           // clock_getres
	ClockGettime                          // clock_gettime
	ClockNanosleep                        // clock_nanosleep
	ClockSettime                          // clock_settime
	Clone                                 // clone
	Clone3                                // clone3
	Close                                 // close
	CloseRange                            // close_range
	Connect                               // connect
	Container                             // container
	CopyFileRange                         // copy_file_range
	CpuHotplug                            // cpu_hotplug
	Creat                                 // creat
	CreateModule                          // create_module
	DeleteModule                          // delete_module
	Drop                                  // drop
	Dup                                   // dup
	Dup2                                  // dup2
	Dup3                                  // dup3
	EpollCreate                           // epoll_create
	EpollCreate1                          // epoll_create1
	EpollCtl                              // epoll_ctl
	EpollCtlOld                           // epoll_ctl_old
	EpollPwait                            // epoll_pwait
	EpollPwait2                           // epoll_pwait2
	EpollWait                             // epoll_wait
	EpollWaitOld                          // epoll_wait_old
	Eventfd                               // eventfd
	Eventfd2                              // eventfd2
	Execve                                // execve
	Execveat                              // execveat
	Exit                                  // exit
	ExitGroup                             // exit_group
	Faccessat                             // faccessat
	Faccessat2                            // faccessat2
	Fadvise64                             // fadvise64
	Fallocate                             // fallocate
	FanotifyInit                          // fanotify_init
	FanotifyMark                          // fanotify_mark
	Fchdir                                // fchdir
	Fchmod                                // fchmod
	Fchmodat                              // fchmodat
	Fchmodat2                             // fchmodat2
	Fchown                                // fchown
	Fchownat                              // fchownat
	Fcntl                                 // fcntl
	Fcntl64                               // fcntl64
	Fdatasync                             // fdatasync
	Fgetxattr                             // fgetxattr
	FileGetattr                           // file_getattr
	FileSetattr                           // file_setattr
	FinitModule                           // finit_module
	Flistxattr                            // flistxattr
	Flock                                 // flock
	Fork                                  // fork
	Fremovexattr                          // fremovexattr
	Fsconfig                              // fsconfig
	Fsetxattr                             // fsetxattr
	Fsmount                               // fsmount
	Fsopen                                // fsopen
	Fspick                                // fspick
	Fstat                                 // fstat
	Fstat64                               // fstat64
	Fstatat64                             // fstatat64
	Fstatfs                               // fstatfs
	Fstatfs64                             // fstatfs64
	Fsync                                 // fsync
	Ftruncate                             // ftruncate
	Futex                                 // futex
	FutexRequeue                          // futex_requeue
	FutexWait                             // futex_wait
	FutexWaitv                            // futex_waitv
	FutexWake                             // futex_wake
	Futimesat                             // futimesat
	GetKernelSyms                         // get_kernel_syms
	GetMempolicy                          // get_mempolicy
	GetRobustList                         // get_robust_list
	GetThreadArea                         // get_thread_area
	Getcpu                                // getcpu
	Getcwd                                // getcwd
	Getdents                              // getdents
	Getdents64                            // getdents64
	Getegid                               // getegid
	Getegid32                             // getegid32
	Geteuid                               // geteuid
	Geteuid32                             // geteuid32
	Getgid                                // getgid
	Getgid32                              // getgid32
	Getgroups                             // getgroups
	Getitimer                             // getitimer
	Getpeername                           // getpeername
	Getpgid                               // getpgid
	Getpgrp                               // getpgrp
	Getpid                                // getpid
	Getpmsg                               // getpmsg
	Getppid                               // getppid
	Getpriority                           // getpriority
	Getrandom                             // getrandom
	Getresgid                             // getresgid
	Getresgid32                           // getresgid32
	Getresuid                             // getresuid
	Getresuid32                           // getresuid32
	Getrlimit                             // getrlimit
	Getrusage                             // getrusage
	Getsid                                // getsid
	Getsockname                           // getsockname
	Getsockopt                            // getsockopt
	Gettid                                // gettid
	Gettimeofday                          // gettimeofday
	Getuid                                // getuid
	Getuid32                              // getuid32
	Getxattr                              // getxattr
	Getxattrat                            // getxattrat
	Groupadded                            // groupadded
	Groupdeleted                          // groupdeleted
	Idle                                  // idle
	Infra                                 // infra
	InitModule                            // init_module
	InotifyAddWatch                       // inotify_add_watch
	InotifyInit                           // inotify_init
	InotifyInit1                          // inotify_init1
	InotifyRmWatch                        // inotify_rm_watch
	IoCancel                              // io_cancel
	IoDestroy                             // io_destroy
	IoGetevents                           // io_getevents
	IoPgetevents                          // io_pgetevents
	IoSetup                               // io_setup
	IoSubmit                              // io_submit
	IoUringEnter                          // io_uring_enter
	IoUringRegister                       // io_uring_register
	IoUringSetup                          // io_uring_setup
	Ioctl                                 // ioctl
	Ioperm                                // ioperm
	Iopl                                  // iopl
	IoprioGet                             // ioprio_get
	IoprioSet                             // ioprio_set
	Ipc                                   // ipc
	K8s                                   // k8s
	Kcmp                                  // kcmp
	KexecFileLoad                         // kexec_file_load
	KexecLoad                             // kexec_load
	Keyctl                                // keyctl
	Kill                                  // kill
	LandlockAddRule                       // landlock_add_rule
	LandlockCreateRuleset                 // landlock_create_ruleset
	LandlockRestrictSelf                  // landlock_restrict_self
	Lchown                                // lchown
	Lgetxattr                             // lgetxattr
	Link                                  // link
	Linkat                                // linkat
	Listen                                // listen
	Listmount                             // listmount
	Listns                                // listns
	Listxattr                             // listxattr
	Listxattrat                           // listxattrat
	Llistxattr                            // llistxattr
	Llseek                                // llseek
	LookupDcookie                         // lookup_dcookie
	Lremovexattr                          // lremovexattr
	Lseek                                 // lseek
	Lsetxattr                             // lsetxattr
	LsmGetSelfAttr                        // lsm_get_self_attr
	LsmListModules                        // lsm_list_modules
	LsmSetSelfAttr                        // lsm_set_self_attr
	Lstat                                 // lstat
	Lstat64                               // lstat64
	Madvise                               // madvise
	MapShadowStack                        // map_shadow_stack
	Mbind                                 // mbind
	Membarrier                            // membarrier
	MemfdCreate                           // memfd_create
	MemfdSecret                           // memfd_secret
	Mesos                                 // mesos
	MigratePages                          // migrate_pages
	Mincore                               // mincore
	Mkdir                                 // mkdir
	Mkdirat                               // mkdirat
	Mknod                                 // mknod
	Mknodat                               // mknodat
	Mlock                                 // mlock
	Mlock2                                // mlock2
	Mlockall                              // mlockall
	Mmap                                  // mmap
	Mmap2                                 // mmap2
	ModifyLdt                             // modify_ldt
	Mount                                 // mount
	MountSetattr                          // mount_setattr
	MoveMount                             // move_mount
	MovePages                             // move_pages
	Mprotect                              // mprotect
	MqGetsetattr                          // mq_getsetattr
	MqNotify                              // mq_notify
	MqOpen                                // mq_open
	MqTimedreceive                        // mq_timedreceive
	MqTimedsend                           // mq_timedsend
	MqUnlink                              // mq_unlink
	Mremap                                // mremap
	Mseal                                 // mseal
	Msgctl                                // msgctl
	Msgget                                // msgget
	Msgrcv                                // msgrcv
	Msgsnd                                // msgsnd
	Msync                                 // msync
	Multiplexer                           // multiplexer
	Munlock                               // munlock
	Munlockall                            // munlockall
	Munmap                                // munmap
	Na1                                   // na_1
	NameToHandleAt                        // name_to_handle_at
	Nanosleep                             // nanosleep
	Newfstatat                            // newfstatat
	Nfsservctl                            // nfsservctl
	Nice                                  // nice
	Notification                          // notification
	Oldfstat                              // oldfstat
	Oldlstat                              // oldlstat
	Oldolduname                           // oldolduname
	Oldstat                               // oldstat
	Olduname                              // olduname
	Open                                  // open
	OpenByHandleAt                        // open_by_handle_at
	OpenTree                              // open_tree
	OpenTreeAttr                          // open_tree_attr
	Openat                                // openat
	Openat2                               // openat2
	PageFault                             // page_fault
	PageFaultKernel                       // page_fault_kernel
	PageFaultUser                         // page_fault_user
	Pause                                 // pause
	PciconfigIobase                       // pciconfig_iobase
	PciconfigRead                         // pciconfig_read
	PciconfigWrite                        // pciconfig_write
	PerfEventOpen                         // perf_event_open
	Personality                           // personality
	PidfdGetfd                            // pidfd_getfd
	PidfdOpen                             // pidfd_open
	PidfdSendSignal                       // pidfd_send_signal
	Pipe                                  // pipe
	Pipe2                                 // pipe2
	PivotRoot                             // pivot_root
	PkeyAlloc                             // pkey_alloc
	PkeyFree                              // pkey_free
	PkeyMprotect                          // pkey_mprotect
	Pluginevent                           // pluginevent
	Poll                                  // poll
	Ppoll                                 // ppoll
	Prctl                                 // prctl
	Pread                                 // pread
	Pread64                               // pread64
	Preadv                                // preadv
	Preadv2                               // preadv2
	Prlimit                               // prlimit
	Prlimit64                             // prlimit64
	ProcessMadvise                        // process_madvise
	ProcessMrelease                       // process_mrelease
	ProcessVmReadv                        // process_vm_readv
	ProcessVmWritev                       // process_vm_writev
	Procexit                              // procexit
	Procinfo                              // procinfo
	Pselect6                              // pselect6
	Ptrace                                // ptrace
	Pwrite                                // pwrite
	Pwrite64                              // pwrite64
	Pwritev                               // pwritev
	Pwritev2                              // pwritev2
	QueryModule                           // query_module
	Quotactl                              // quotactl
	QuotactlFd                            // quotactl_fd
	Read                                  // read
	Readahead                             // readahead
	Readdir                               // readdir
	Readlink                              // readlink
	Readlinkat                            // readlinkat
	Readv                                 // readv
	Reboot                                // reboot
	Recv                                  // recv
	Recvfrom                              // recvfrom
	Recvmmsg                              // recvmmsg
	Recvmsg                               // recvmsg
	RemapFilePages                        // remap_file_pages
	Removexattr                           // removexattr
	Removexattrat                         // removexattrat
	Rename                                // rename
	Renameat                              // renameat
	Renameat2                             // renameat2
	RequestKey                            // request_key
	RestartSyscall                        // restart_syscall
	RiscvFlushIcache                      // riscv_flush_icache
	RiscvHwprobe                          // riscv_hwprobe
	Rmdir                                 // rmdir
	Rseq                                  // rseq
	RseqSliceYield                        // rseq_slice_yield
	RtSigaction                           // rt_sigaction
	RtSigpending                          // rt_sigpending
	RtSigprocmask                         // rt_sigprocmask
	RtSigqueueinfo                        // rt_sigqueueinfo
	RtSigreturn                           // rt_sigreturn
	RtSigsuspend                          // rt_sigsuspend
	RtSigtimedwait                        // rt_sigtimedwait
	RtTgsigqueueinfo                      // rt_tgsigqueueinfo
	Rtas                                  // rtas
	S390GuardedStorage                    // s390_guarded_storage
	S390PciMmioRead                       // s390_pci_mmio_read
	S390PciMmioWrite                      // s390_pci_mmio_write
	S390RuntimeInstr                      // s390_runtime_instr
	S390Sthyi                             // s390_sthyi
	Scapevent                             // scapevent
	SchedGetPriorityMax                   // sched_get_priority_max
	SchedGetPriorityMin                   // sched_get_priority_min
	SchedGetaffinity                      // sched_getaffinity
	SchedGetattr                          // sched_getattr
	SchedGetparam                         // sched_getparam
	SchedGetscheduler                     // sched_getscheduler
	SchedProcessExit                      // sched_process_exit
	SchedRrGetInterval                    // sched_rr_get_interval
	SchedSetaffinity                      // sched_setaffinity
	SchedSetattr                          // sched_setattr
	SchedSetparam                         // sched_setparam
	SchedSetscheduler                     // sched_setscheduler
	SchedSwitch                           // sched_switch
	SchedYield                            // sched_yield
	Seccomp                               // seccomp
	Select                                // select
	Semctl                                // semctl
	Semget                                // semget
	Semop                                 // semop
	Semtimedop                            // semtimedop
	Send                                  // send
	Sendfile                              // sendfile
	Sendfile64                            // sendfile64
	Sendmmsg                              // sendmmsg
	Sendmsg                               // sendmsg
	Sendto                                // sendto
	SetMempolicy                          // set_mempolicy
	SetMempolicyHomeNode                  // set_mempolicy_home_node
	SetRobustList                         // set_robust_list
	SetThreadArea                         // set_thread_area
	SetTidAddress                         // set_tid_address
	Setdomainname                         // setdomainname
	Setfsgid                              // setfsgid
	Setfsuid                              // setfsuid
	Setgid                                // setgid
	Setgid32                              // setgid32
	Setgroups                             // setgroups
	Sethostname                           // sethostname
	Setitimer                             // setitimer
	Setns                                 // setns
	Setpgid                               // setpgid
	Setpriority                           // setpriority
	Setregid                              // setregid
	Setresgid                             // setresgid
	Setresgid32                           // setresgid32
	Setresuid                             // setresuid
	Setresuid32                           // setresuid32
	Setreuid                              // setreuid
	Setrlimit                             // setrlimit
	Setsid                                // setsid
	Setsockopt                            // setsockopt
	Settimeofday                          // settimeofday
	Setuid                                // setuid
	Setuid32                              // setuid32
	Setxattr                              // setxattr
	Setxattrat                            // setxattrat
	Sgetmask                              // sgetmask
	Shmat                                 // shmat
	Shmctl                                // shmctl
	Shmdt                                 // shmdt
	Shmget                                // shmget
	Shutdown                              // shutdown
	Sigaction                             // sigaction
	Sigaltstack                           // sigaltstack
	Signal                                // signal
	SignalDeliver                         // signal_deliver
	Signaldeliver                         // signaldeliver
	Signalfd                              // signalfd
	Signalfd4                             // signalfd4
	Sigpending                            // sigpending
	Sigprocmask                           // sigprocmask
	Sigreturn                             // sigreturn
	Sigsuspend                            // sigsuspend
	Socket                                // socket
	Socketcall                            // socketcall
	Socketpair                            // socketpair
	Splice                                // splice
	SpuCreate                             // spu_create
	SpuRun                                // spu_run
	Ssetmask                              // ssetmask
	Stat                                  // stat
	Stat64                                // stat64
	Statfs                                // statfs
	Statfs64                              // statfs64
	Statmount                             // statmount
	Statx                                 // statx
	Stime                                 // stime
	SubpageProt                           // subpage_prot
	Swapcontext                           // swapcontext
	Swapoff                               // swapoff
	Swapon                                // swapon
	Switch                                // switch
	SwitchEndian                          // switch_endian
	Symlink                               // symlink
	Symlinkat                             // symlinkat
	Sync                                  // sync
	SyncFileRange                         // sync_file_range
	SyncFileRange2                        // sync_file_range2
	Syncfs                                // syncfs
	SysDebugSetcontext                    // sys_debug_setcontext
	Syscall                               // syscall
	Sysfs                                 // sysfs
	Sysinfo                               // sysinfo
	Syslog                                // syslog
	Task                                  // task
	TaskFileDirectory                     // task_file_directory
	TaskFileMemfd                         // task_file_memfd
	TaskFilePipe                          // task_file_pipe
	TaskFileRegular                       // task_file_regular
	TaskFileSocketInet                    // task_file_socket_inet
	TaskFileSocketInet6                   // task_file_socket_inet6
	TaskFileSocketNetlink                 // task_file_socket_netlink
	TaskFileSocketUnix                    // task_file_socket_unix
	Tee                                   // tee
	Tgkill                                // tgkill
	Time                                  // time
	TimerCreate                           // timer_create
	TimerDelete                           // timer_delete
	TimerGetoverrun                       // timer_getoverrun
	TimerGettime                          // timer_gettime
	TimerSettime                          // timer_settime
	Timerfd                               // timerfd
	TimerfdCreate                         // timerfd_create
	TimerfdGettime                        // timerfd_gettime
	TimerfdSettime                        // timerfd_settime
	Times                                 // times
	Tkill                                 // tkill
	Tracer                                // tracer
	Truncate                              // truncate
	Ugetrlimit                            // ugetrlimit
	Umask                                 // umask
	Umount                                // umount
	Umount2                               // umount2
	Uname                                 // uname
	Unknown                               // unknown
	Unlink                                // unlink
	Unlinkat                              // unlinkat
	Unshare                               // unshare
	Uprobe                                // uprobe
	Uretprobe                             // uretprobe
	Uselib                                // uselib
	Useradded                             // useradded
	Userdeleted                           // userdeleted
	Userfaultfd                           // userfaultfd
	Ustat                                 // ustat
	Utime                                 // utime
	Utimensat                             // utimensat
	Utimes                                // utimes
	Vfork                                 // vfork
	Vhangup                               // vhangup
	Vm86                                  // vm86
	Vmsplice                              // vmsplice
	Wait4                                 // wait4
	Waitid                                // waitid
	Waitpid                               // waitpid
	Write                                 // write
	Writev                                // writev
)

// count is the number of named event types.
const count = 488

// names lists the event type names, indexed by Type.
var names = [count + 1]string{
	"",
	"_llseek",
	"_newselect",
	"_sysctl",
	"accept",
	"accept4",
	"access",
	"acct",
	"add_key",
	"adjtimex",
	"alarm",
	"arch_prctl",
	"asyncevent",
	"bdflush",
	"bind",
	"bpf",
	"brk",
	"cachestat",
	"capget",
	"capset",
	"chdir",
	"chmod",
	"chown",
	"chroot",
	"clock_adjtime",
	"clock_getres",
	"clock_gettime",
	"clock_nanosleep",
	"clock_settime",
	"clone",
	"clone3",
	"close",
	"close_range",
	"connect",
	"container",
	"copy_file_range",
	"cpu_hotplug",
	"creat",
	"create_module",
	"delete_module",
	"drop",
	"dup",
	"dup2",
	"dup3",
	"epoll_create",
	"epoll_create1",
	"epoll_ctl",
	"epoll_ctl_old",
	"epoll_pwait",
	"epoll_pwait2",
	"epoll_wait",
	"epoll_wait_old",
	"eventfd",
	"eventfd2",
	"execve",
	"execveat",
	"exit",
	"exit_group",
	"faccessat",
	"faccessat2",
	"fadvise64",
	"fallocate",
	"fanotify_init",
	"fanotify_mark",
	"fchdir",
	"fchmod",
	"fchmodat",
	"fchmodat2",
	"fchown",
	"fchownat",
	"fcntl",
	"fcntl64",
	"fdatasync",
	"fgetxattr",
	"file_getattr",
	"file_setattr",
	"finit_module",
	"flistxattr",
	"flock",
	"fork",
	"fremovexattr",
	"fsconfig",
	"fsetxattr",
	"fsmount",
	"fsopen",
	"fspick",
	"fstat",
	"fstat64",
	"fstatat64",
	"fstatfs",
	"fstatfs64",
	"fsync",
	"ftruncate",
	"futex",
	"futex_requeue",
	"futex_wait",
	"futex_waitv",
	"futex_wake",
	"futimesat",
	"get_kernel_syms",
	"get_mempolicy",
	"get_robust_list",
	"get_thread_area",
	"getcpu",
	"getcwd",
	"getdents",
	"getdents64",
	"getegid",
	"getegid32",
	"geteuid",
	"geteuid32",
	"getgid",
	"getgid32",
	"getgroups",
	"getitimer",
	"getpeername",
	"getpgid",
	"getpgrp",
	"getpid",
	"getpmsg",
	"getppid",
	"getpriority",
	"getrandom",
	"getresgid",
	"getresgid32",
	"getresuid",
	"getresuid32",
	"getrlimit",
	"getrusage",
	"getsid",
	"getsockname",
	"getsockopt",
	"gettid",
	"gettimeofday",
	"getuid",
	"getuid32",
	"getxattr",
	"getxattrat",
	"groupadded",
	"groupdeleted",
	"idle",
	"infra",
	"init_module",
	"inotify_add_watch",
	"inotify_init",
	"inotify_init1",
	"inotify_rm_watch",
	"io_cancel",
	"io_destroy",
	"io_getevents",
	"io_pgetevents",
	"io_setup",
	"io_submit",
	"io_uring_enter",
	"io_uring_register",
	"io_uring_setup",
	"ioctl",
	"ioperm",
	"iopl",
	"ioprio_get",
	"ioprio_set",
	"ipc",
	"k8s",
	"kcmp",
	"kexec_file_load",
	"kexec_load",
	"keyctl",
	"kill",
	"landlock_add_rule",
	"landlock_create_ruleset",
	"landlock_restrict_self",
	"lchown",
	"lgetxattr",
	"link",
	"linkat",
	"listen",
	"listmount",
	"listns",
	"listxattr",
	"listxattrat",
	"llistxattr",
	"llseek",
	"lookup_dcookie",
	"lremovexattr",
	"lseek",
	"lsetxattr",
	"lsm_get_self_attr",
	"lsm_list_modules",
	"lsm_set_self_attr",
	"lstat",
	"lstat64",
	"madvise",
	"map_shadow_stack",
	"mbind",
	"membarrier",
	"memfd_create",
	"memfd_secret",
	"mesos",
	"migrate_pages",
	"mincore",
	"mkdir",
	"mkdirat",
	"mknod",
	"mknodat",
	"mlock",
	"mlock2",
	"mlockall",
	"mmap",
	"mmap2",
	"modify_ldt",
	"mount",
	"mount_setattr",
	"move_mount",
	"move_pages",
	"mprotect",
	"mq_getsetattr",
	"mq_notify",
	"mq_open",
	"mq_timedreceive",
	"mq_timedsend",
	"mq_unlink",
	"mremap",
	"mseal",
	"msgctl",
	"msgget",
	"msgrcv",
	"msgsnd",
	"msync",
	"multiplexer",
	"munlock",
	"munlockall",
	"munmap",
	"na_1",
	"name_to_handle_at",
	"nanosleep",
	"newfstatat",
	"nfsservctl",
	"nice",
	"notification",
	"oldfstat",
	"oldlstat",
	"oldolduname",
	"oldstat",
	"olduname",
	"open",
	"open_by_handle_at",
	"open_tree",
	"open_tree_attr",
	"openat",
	"openat2",
	"page_fault",
	"page_fault_kernel",
	"page_fault_user",
	"pause",
	"pciconfig_iobase",
	"pciconfig_read",
	"pciconfig_write",
	"perf_event_open",
	"personality",
	"pidfd_getfd",
	"pidfd_open",
	"pidfd_send_signal",
	"pipe",
	"pipe2",
	"pivot_root",
	"pkey_alloc",
	"pkey_free",
	"pkey_mprotect",
	"pluginevent",
	"poll",
	"ppoll",
	"prctl",
	"pread",
	"pread64",
	"preadv",
	"preadv2",
	"prlimit",
	"prlimit64",
	"process_madvise",
	"process_mrelease",
	"process_vm_readv",
	"process_vm_writev",
	"procexit",
	"procinfo",
	"pselect6",
	"ptrace",
	"pwrite",
	"pwrite64",
	"pwritev",
	"pwritev2",
	"query_module",
	"quotactl",
	"quotactl_fd",
	"read",
	"readahead",
	"readdir",
	"readlink",
	"readlinkat",
	"readv",
	"reboot",
	"recv",
	"recvfrom",
	"recvmmsg",
	"recvmsg",
	"remap_file_pages",
	"removexattr",
	"removexattrat",
	"rename",
	"renameat",
	"renameat2",
	"request_key",
	"restart_syscall",
	"riscv_flush_icache",
	"riscv_hwprobe",
	"rmdir",
	"rseq",
	"rseq_slice_yield",
	"rt_sigaction",
	"rt_sigpending",
	"rt_sigprocmask",
	"rt_sigqueueinfo",
	"rt_sigreturn",
	"rt_sigsuspend",
	"rt_sigtimedwait",
	"rt_tgsigqueueinfo",
	"rtas",
	"s390_guarded_storage",
	"s390_pci_mmio_read",
	"s390_pci_mmio_write",
	"s390_runtime_instr",
	"s390_sthyi",
	"scapevent",
	"sched_get_priority_max",
	"sched_get_priority_min",
	"sched_getaffinity",
	"sched_getattr",
	"sched_getparam",
	"sched_getscheduler",
	"sched_process_exit",
	"sched_rr_get_interval",
	"sched_setaffinity",
	"sched_setattr",
	"sched_setparam",
	"sched_setscheduler",
	"sched_switch",
	"sched_yield",
	"seccomp",
	"select",
	"semctl",
	"semget",
	"semop",
	"semtimedop",
	"send",
	"sendfile",
	"sendfile64",
	"sendmmsg",
	"sendmsg",
	"sendto",
	"set_mempolicy",
	"set_mempolicy_home_node",
	"set_robust_list",
	"set_thread_area",
	"set_tid_address",
	"setdomainname",
	"setfsgid",
	"setfsuid",
	"setgid",
	"setgid32",
	"setgroups",
	"sethostname",
	"setitimer",
	"setns",
	"setpgid",
	"setpriority",
	"setregid",
	"setresgid",
	"setresgid32",
	"setresuid",
	"setresuid32",
	"setreuid",
	"setrlimit",
	"setsid",
	"setsockopt",
	"settimeofday",
	"setuid",
	"setuid32",
	"setxattr",
	"setxattrat",
	"sgetmask",
	"shmat",
	"shmctl",
	"shmdt",
	"shmget",
	"shutdown",
	"sigaction",
	"sigaltstack",
	"signal",
	"signal_deliver",
	"signaldeliver",
	"signalfd",
	"signalfd4",
	"sigpending",
	"sigprocmask",
	"sigreturn",
	"sigsuspend",
	"socket",
	"socketcall",
	"socketpair",
	"splice",
	"spu_create",
	"spu_run",
	"ssetmask",
	"stat",
	"stat64",
	"statfs",
	"statfs64",
	"statmount",
	"statx",
	"stime",
	"subpage_prot",
	"swapcontext",
	"swapoff",
	"swapon",
	"switch",
	"switch_endian",
	"symlink",
	"symlinkat",
	"sync",
	"sync_file_range",
	"sync_file_range2",
	"syncfs",
	"sys_debug_setcontext",
	"syscall",
	"sysfs",
	"sysinfo",
	"syslog",
	"task",
	"task_file_directory",
	"task_file_memfd",
	"task_file_pipe",
	"task_file_regular",
	"task_file_socket_inet",
	"task_file_socket_inet6",
	"task_file_socket_netlink",
	"task_file_socket_unix",
	"tee",
	"tgkill",
	"time",
	"timer_create",
	"timer_delete",
	"timer_getoverrun",
	"timer_gettime",
	"timer_settime",
	"timerfd",
	"timerfd_create",
	"timerfd_gettime",
	"timerfd_settime",
	"times",
	"tkill",
	"tracer",
	"truncate",
	"ugetrlimit",
	"umask",
	"umount",
	"umount2",
	"uname",
	"unknown",
	"unlink",
	"unlinkat",
	"unshare",
	"uprobe",
	"uretprobe",
	"uselib",
	"useradded",
	"userdeleted",
	"userfaultfd",
	"ustat",
	"utime",
	"utimensat",
	"utimes",
	"vfork",
	"vhangup",
	"vm86",
	"vmsplice",
	"wait4",
	"waitid",
	"waitpid",
	"write",
	"writev",
}

// kernelCodes is the number of kernel event codes (enter, exit and older
// versions) that Falco's event table has for each name. A 0 marks a syscall
// without events of its own, which Falco reports through its generic syscall
// event.
var kernelCodes = [count + 1]uint8{
	Accept:                8,
	Accept4:               2,
	Access:                2,
	Asyncevent:            1,
	Bind:                  2,
	Bpf:                   3,
	Brk:                   4,
	Capset:                2,
	Chdir:                 2,
	Chmod:                 2,
	Chown:                 2,
	Chroot:                2,
	Clone:                 8,
	Clone3:                2,
	Close:                 2,
	CloseRange:            1,
	Connect:               2,
	Container:             1,
	CopyFileRange:         2,
	CpuHotplug:            1,
	Creat:                 2,
	DeleteModule:          2,
	Drop:                  2,
	Dup:                   4,
	Dup2:                  2,
	Dup3:                  2,
	EpollCreate:           2,
	EpollCreate1:          2,
	EpollWait:             2,
	Eventfd:               2,
	Eventfd2:              2,
	Execve:                16,
	Execveat:              2,
	Fchdir:                2,
	Fchmod:                2,
	Fchmodat:              2,
	Fchown:                2,
	Fchownat:              2,
	Fcntl:                 2,
	FinitModule:           2,
	Flock:                 2,
	Fork:                  6,
	Fsconfig:              2,
	Fstat:                 2,
	Fstat64:               1,
	Futex:                 2,
	Getcwd:                2,
	Getdents:              2,
	Getdents64:            2,
	Getegid:               1,
	Geteuid:               1,
	Getgid:                1,
	Getpeername:           2,
	Getresgid:             2,
	Getresuid:             2,
	Getrlimit:             2,
	Getsockname:           2,
	Getsockopt:            1,
	Getuid:                1,
	Groupadded:            1,
	Groupdeleted:          1,
	Infra:                 1,
	InitModule:            2,
	InotifyInit:           2,
	InotifyInit1:          2,
	IoUringEnter:          2,
	IoUringRegister:       1,
	IoUringSetup:          1,
	Ioctl:                 4,
	K8s:                   1,
	Kill:                  2,
	Lchown:                2,
	Link:                  4,
	Linkat:                4,
	Listen:                2,
	Llseek:                2,
	Lseek:                 2,
	Lstat:                 2,
	Lstat64:               2,
	MemfdCreate:           2,
	Mesos:                 1,
	Mkdir:                 4,
	Mkdirat:               2,
	Mknod:                 2,
	Mknodat:               2,
	Mlock:                 2,
	Mlock2:                2,
	Mlockall:              2,
	Mmap:                  2,
	Mmap2:                 2,
	Mount:                 2,
	Mprotect:              2,
	Munlock:               2,
	Munlockall:            1,
	Munmap:                2,
	Nanosleep:             2,
	Newfstatat:            2,
	Notification:          1,
	Open:                  2,
	OpenByHandleAt:        2,
	Openat:                4,
	Openat2:               2,
	PageFault:             1,
	PidfdGetfd:            2,
	PidfdOpen:             2,
	Pipe:                  2,
	Pipe2:                 2,
	Pluginevent:           1,
	Poll:                  2,
	Ppoll:                 2,
	Prctl:                 2,
	Pread:                 1,
	Preadv:                2,
	Prlimit:               2,
	ProcessVmReadv:        2,
	ProcessVmWritev:       2,
	Procexit:              2,
	Procinfo:              1,
	Ptrace:                1,
	Pwrite:                1,
	Pwritev:               1,
	Quotactl:              2,
	Read:                  2,
	Readv:                 2,
	Recv:                  2,
	Recvfrom:              2,
	Recvmmsg:              2,
	Recvmsg:               2,
	Rename:                2,
	Renameat:              2,
	Renameat2:             2,
	Rmdir:                 4,
	Scapevent:             1,
	Seccomp:               2,
	Select:                3,
	Semctl:                2,
	Semget:                2,
	Semop:                 2,
	Send:                  2,
	Sendfile:              2,
	Sendmmsg:              2,
	Sendmsg:               2,
	Sendto:                2,
	Setgid:                2,
	Setns:                 2,
	Setpgid:               2,
	Setregid:              2,
	Setresgid:             2,
	Setresuid:             2,
	Setreuid:              2,
	Setrlimit:             2,
	Setsid:                2,
	Setsockopt:            1,
	Setuid:                2,
	Shutdown:              2,
	Signaldeliver:         1,
	Signalfd:              1,
	Signalfd4:             2,
	Socket:                2,
	Socketpair:            2,
	Splice:                2,
	Stat:                  2,
	Stat64:                2,
	Switch:                1,
	Symlink:               2,
	Symlinkat:             2,
	Syscall:               2,
	Task:                  1,
	TaskFileDirectory:     1,
	TaskFileMemfd:         1,
	TaskFilePipe:          1,
	TaskFileRegular:       1,
	TaskFileSocketInet:    1,
	TaskFileSocketInet6:   1,
	TaskFileSocketNetlink: 1,
	TaskFileSocketUnix:    1,
	Tgkill:                2,
	TimerfdCreate:         2,
	Tkill:                 2,
	Tracer:                1,
	Umount:                4,
	Umount2:               2,
	Unlink:                4,
	Unlinkat:              4,
	Unshare:               2,
	Useradded:             1,
	Userdeleted:           1,
	Userfaultfd:           2,
	Vfork:                 6,
	Write:                 2,
	Writev:                2,
}
