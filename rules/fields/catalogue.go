package fields

// Field IDs. The order is not stable across releases; use the constants.
const (
	EvtNum                            ID = iota + 1 // evt.num
	EvtTime                                         // evt.time
	EvtTimeS                                        // evt.time.s
	EvtTimeISO8601                                  // evt.time.iso8601
	EvtDatetime                                     // evt.datetime
	EvtRawtime                                      // evt.rawtime
	EvtHostname                                     // evt.hostname
	EvtType                                         // evt.type
	EvtDir                                          // evt.dir
	EvtCPU                                          // evt.cpu
	EvtArgs                                         // evt.args
	EvtArg                                          // evt.arg
	EvtRawarg                                       // evt.rawarg
	EvtRes                                          // evt.res
	EvtRawres                                       // evt.rawres
	EvtFailed                                       // evt.failed
	EvtIsIO                                         // evt.is_io
	EvtIsIORead                                     // evt.is_io_read
	EvtIsIOWrite                                    // evt.is_io_write
	EvtIsWait                                       // evt.is_wait
	EvtIsOpenRead                                   // evt.is_open_read
	EvtIsOpenWrite                                  // evt.is_open_write
	EvtIsOpenExec                                   // evt.is_open_exec
	EvtIsOpenCreate                                 // evt.is_open_create
	EvtBuffer                                       // evt.buffer
	EvtBuflen                                       // evt.buflen
	EvtSource                                       // evt.source
	EvtCategory                                     // evt.category
	EvtLatency                                      // evt.latency
	EvtPluginname                                   // evt.pluginname
	EvtPlugininfo                                   // evt.plugininfo
	SyscallType                                     // syscall.type
	ProcPID                                         // proc.pid
	ProcPPID                                        // proc.ppid
	ProcVPID                                        // proc.vpid
	ProcName                                        // proc.name
	ProcExe                                         // proc.exe
	ProcExepath                                     // proc.exepath
	ProcArgs                                        // proc.args
	ProcCmdline                                     // proc.cmdline
	ProcExeline                                     // proc.exeline
	ProcCmdnargs                                    // proc.cmdnargs
	ProcCmdlenargs                                  // proc.cmdlenargs
	ProcEnv                                         // proc.env
	ProcCwd                                         // proc.cwd
	ProcTTY                                         // proc.tty
	ProcPname                                       // proc.pname
	ProcPexe                                        // proc.pexe
	ProcPexepath                                    // proc.pexepath
	ProcPcmdline                                    // proc.pcmdline
	ProcAname                                       // proc.aname
	ProcApid                                        // proc.apid
	ProcAexe                                        // proc.aexe
	ProcAexepath                                    // proc.aexepath
	ProcLoginshellid                                // proc.loginshellid
	ProcSid                                         // proc.sid
	ProcSname                                       // proc.sname
	ProcVpgid                                       // proc.vpgid
	ProcVpgidName                                   // proc.vpgid.name
	ProcVpgidExe                                    // proc.vpgid.exe
	ProcIsVpgidLeader                               // proc.is_vpgid_leader
	ProcIsSidLeader                                 // proc.is_sid_leader
	ProcDuration                                    // proc.duration
	ProcPPIDDuration                                // proc.ppid.duration
	ProcStartTs                                     // proc.pid.ts
	ProcExeIno                                      // proc.exe_ino
	ProcExeInoCtime                                 // proc.exe_ino.ctime
	ProcExeInoMtime                                 // proc.exe_ino.mtime
	ProcExeInoCtimeDurationProcStart                // proc.exe_ino.ctime_duration_proc_start
	ProcExeInoCtimeDurationPidnsStart               // proc.exe_ino.ctime_duration_pidns_start
	ProcIsExeWritable                               // proc.is_exe_writable
	ProcIsExeUpperLayer                             // proc.is_exe_upper_layer
	ProcIsExeFromMemfd                              // proc.is_exe_from_memfd
	ProcIsExeLowerLayer                             // proc.is_exe_lower_layer
	ProcIsEnvShebang                                // proc.is_env_shebang
	ProcIsContainerHealthcheck                      // proc.is_container_healthcheck
	ProcIsContainerLivenessProbe                    // proc.is_container_liveness_probe
	ProcIsContainerReadinessProbe                   // proc.is_container_readiness_probe
	ProcPidnsInit                                   // proc.is_pidns_init
	ProcNthreads                                    // proc.nthreads
	ProcFdopencount                                 // proc.fdopencount
	ProcStdinName                                   // proc.stdin.name
	ProcStdoutName                                  // proc.stdout.name
	ProcStderrName                                  // proc.stderr.name
	ThreadTID                                       // thread.tid
	ThreadVTID                                      // thread.vtid
	ThreadIsMainThread                              // thread.ismain
	ThreadCapPermitted                              // thread.cap_permitted
	ThreadCapInheritable                            // thread.cap_inheritable
	ThreadCapEffective                              // thread.cap_effective
	UserUID                                         // user.uid
	UserName                                        // user.name
	UserHomedir                                     // user.homedir
	UserShell                                       // user.shell
	UserLoginUID                                    // user.loginuid
	UserLoginName                                   // user.loginname
	GroupGID                                        // group.gid
	GroupName                                       // group.name
	FdNum                                           // fd.num
	FdType                                          // fd.type
	FdTypechar                                      // fd.typechar
	FdName                                          // fd.name
	FdNameraw                                       // fd.nameraw
	FdDirectory                                     // fd.directory
	FdFilename                                      // fd.filename
	FdIP                                            // fd.ip
	FdCIP                                           // fd.cip
	FdSIP                                           // fd.sip
	FdLIP                                           // fd.lip
	FdRIP                                           // fd.rip
	FdPort                                          // fd.port
	FdCPort                                         // fd.cport
	FdSPort                                         // fd.sport
	FdLPort                                         // fd.lport
	FdRPort                                         // fd.rport
	FdL4Proto                                       // fd.l4proto
	FdSockfamily                                    // fd.sockfamily
	FdIsServer                                      // fd.is_server
	FdNet                                           // fd.net
	FdCNet                                          // fd.cnet
	FdSNet                                          // fd.snet
	FdLNet                                          // fd.lnet
	FdRNet                                          // fd.rnet
	FdCIPName                                       // fd.cip.name
	FdSIPName                                       // fd.sip.name
	FdLIPName                                       // fd.lip.name
	FdRIPName                                       // fd.rip.name
	FdConnected                                     // fd.connected
	FdNameChanged                                   // fd.name_changed
	FdDev                                           // fd.dev
	FdIno                                           // fd.ino
	FdTypes                                         // fd.types
	FsPathName                                      // fs.path.name
	FsPathNameraw                                   // fs.path.nameraw
	FsPathSource                                    // fs.path.source
	FsPathTarget                                    // fs.path.target
	ContainerID                                     // container.id
	ContainerFullID                                 // container.full_id
	ContainerName                                   // container.name
	ContainerImage                                  // container.image
	ContainerImageID                                // container.image.id
	ContainerImageRepository                        // container.image.repository
	ContainerImageTag                               // container.image.tag
	ContainerImageDigest                            // container.image.digest
	ContainerType                                   // container.type
	ContainerPrivileged                             // container.privileged
	ContainerMounts                                 // container.mounts
	ContainerMount                                  // container.mount
	ContainerMountSource                            // container.mount.source
	ContainerMountDest                              // container.mount.dest
	ContainerMountMode                              // container.mount.mode
	ContainerMountRdwr                              // container.mount.rdwr
	ContainerMountPropagation                       // container.mount.propagation
	ContainerIP                                     // container.ip
	ContainerCNIJSON                                // container.cni.json
	ContainerStartTs                                // container.start_ts
	ContainerDuration                               // container.duration
	ContainerHealthcheck                            // container.healthcheck
	ContainerLabel                                  // container.label
	ContainerLabels                                 // container.labels
	K8sPodName                                      // k8s.pod.name
	K8sPodUID                                       // k8s.pod.uid
	K8sPodSandboxID                                 // k8s.pod.sandbox_id
	K8sPodFullSandboxID                             // k8s.pod.full_sandbox_id
	K8sPodLabel                                     // k8s.pod.label
	K8sPodLabels                                    // k8s.pod.labels
	K8sPodIP                                        // k8s.pod.ip
	K8sPodCNIJSON                                   // k8s.pod.cni.json
	K8sNsName                                       // k8s.ns.name

	maxID // one past the last ID
)

// catalogue lists every field of the syscall source, indexed by ID.
var catalogue = [maxID]Field{
	EvtNum:                            {ID: EvtNum, Name: "evt.num", Type: TypeUint64, Desc: "Sequential number of the event, starting at 1."},
	EvtTime:                           {ID: EvtTime, Name: "evt.time", Type: TypeAbsTime, Desc: "Event timestamp; printed as local wall-clock time HH:MM:SS.nnnnnnnnn."},
	EvtTimeS:                          {ID: EvtTimeS, Name: "evt.time.s", Type: TypeAbsTime, Desc: "Event timestamp; printed as local wall-clock time HH:MM:SS."},
	EvtTimeISO8601:                    {ID: EvtTimeISO8601, Name: "evt.time.iso8601", Type: TypeAbsTime, Desc: "Event timestamp; printed as UTC YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000."},
	EvtDatetime:                       {ID: EvtDatetime, Name: "evt.datetime", Type: TypeAbsTime, Desc: "Event timestamp; printed as local YYYY-MM-DD HH:MM:SS.nnnnnnnnn."},
	EvtRawtime:                        {ID: EvtRawtime, Name: "evt.rawtime", Type: TypeAbsTime, Desc: "Event timestamp in nanoseconds since the epoch."},
	EvtHostname:                       {ID: EvtHostname, Name: "evt.hostname", Type: TypeString, Desc: "Name of the host that produced the event."},
	EvtType:                           {ID: EvtType, Name: "evt.type", Type: TypeString, Desc: "Event (syscall) name, such as open or execve; the engine reads it from Event.Type."},
	EvtDir:                            {ID: EvtDir, Name: "evt.dir", Type: TypeString, Flags: FlagDeprecated, Desc: "Event direction: > for enter events, < for exit events."},
	EvtCPU:                            {ID: EvtCPU, Name: "evt.cpu", Type: TypeInt64, Desc: "Number of the CPU where the event happened."},
	EvtArgs:                           {ID: EvtArgs, Name: "evt.args", Type: TypeString, Desc: "Every parameter of the event rendered into one string."},
	EvtArg:                            {ID: EvtArg, Name: "evt.arg", Type: TypeString, Flags: FlagArgRequired, Arg: ArgParam, Desc: "One event parameter, by name (evt.arg.NAME or evt.arg[NAME]) or position (evt.arg[N]), rendered as text."},
	EvtRawarg:                         {ID: EvtRawarg, Name: "evt.rawarg", Type: TypeInt64, Flags: FlagArgRequired | FlagNoTransformer, Arg: ArgParamName, Desc: "One event parameter by name (evt.rawarg.NAME), as its raw number."},
	EvtRes:                            {ID: EvtRes, Name: "evt.res", Type: TypeString, Desc: "Return value as text: SUCCESS, or an errno name such as ENOENT."},
	EvtRawres:                         {ID: EvtRawres, Name: "evt.rawres", Type: TypeInt64, Desc: "Return value of the syscall as a signed number."},
	EvtFailed:                         {ID: EvtFailed, Name: "evt.failed", Type: TypeBool, Desc: "true when the syscall returned an error."},
	EvtIsIO:                           {ID: EvtIsIO, Name: "evt.is_io", Type: TypeBool, Desc: "true for events that read or write data."},
	EvtIsIORead:                       {ID: EvtIsIORead, Name: "evt.is_io_read", Type: TypeBool, Desc: "true for events that read data."},
	EvtIsIOWrite:                      {ID: EvtIsIOWrite, Name: "evt.is_io_write", Type: TypeBool, Desc: "true for events that write data."},
	EvtIsWait:                         {ID: EvtIsWait, Name: "evt.is_wait", Type: TypeBool, Desc: "true for events that make the thread wait."},
	EvtIsOpenRead:                     {ID: EvtIsOpenRead, Name: "evt.is_open_read", Type: TypeBool, Desc: "true for open-family events whose flags request read access."},
	EvtIsOpenWrite:                    {ID: EvtIsOpenWrite, Name: "evt.is_open_write", Type: TypeBool, Desc: "true for open-family events whose flags request write access."},
	EvtIsOpenExec:                     {ID: EvtIsOpenExec, Name: "evt.is_open_exec", Type: TypeBool, Desc: "true for open-family events that create an executable file."},
	EvtIsOpenCreate:                   {ID: EvtIsOpenCreate, Name: "evt.is_open_create", Type: TypeBool, Desc: "true for open-family events that create a file."},
	EvtBuffer:                         {ID: EvtBuffer, Name: "evt.buffer", Type: TypeBytes, Desc: "Data buffer of the event (for read and write family events)."},
	EvtBuflen:                         {ID: EvtBuflen, Name: "evt.buflen", Type: TypeUint64, Desc: "Length of the event's data buffer."},
	EvtSource:                         {ID: EvtSource, Name: "evt.source", Type: TypeString, Desc: "Event source name; always syscall for this catalogue."},
	EvtCategory:                       {ID: EvtCategory, Name: "evt.category", Type: TypeString, Desc: "Event category, such as file, net or process."},
	EvtLatency:                        {ID: EvtLatency, Name: "evt.latency", Type: TypeRelTime, Flags: FlagDeprecated, Desc: "Time between the enter and exit events of the syscall."},
	EvtPluginname:                     {ID: EvtPluginname, Name: "evt.pluginname", Type: TypeString, Desc: "Name of the plugin that produced the event."},
	EvtPlugininfo:                     {ID: EvtPlugininfo, Name: "evt.plugininfo", Type: TypeString, Desc: "Summary of the plugin event."},
	SyscallType:                       {ID: SyscallType, Name: "syscall.type", Type: TypeString, Desc: "Syscall name of the event, for syscall events."},
	ProcPID:                           {ID: ProcPID, Name: "proc.pid", Type: TypeInt64, Desc: "Process ID (thread group ID) of the process."},
	ProcPPID:                          {ID: ProcPPID, Name: "proc.ppid", Type: TypeInt64, Desc: "Process ID of the parent process."},
	ProcVPID:                          {ID: ProcVPID, Name: "proc.vpid", Type: TypeInt64, Desc: "Process ID as seen from the process' own PID namespace."},
	ProcName:                          {ID: ProcName, Name: "proc.name", Type: TypeString, Desc: "Process name (the kernel's comm, at most 16 characters)."},
	ProcExe:                           {ID: ProcExe, Name: "proc.exe", Type: TypeString, Desc: "First command-line argument (argv[0]) of the process."},
	ProcExepath:                       {ID: ProcExepath, Name: "proc.exepath", Type: TypeString, Desc: "Full path of the process' executable file."},
	ProcArgs:                          {ID: ProcArgs, Name: "proc.args", Type: TypeString, Flags: FlagArgAllowed, Arg: ArgIndex, Desc: "Command-line arguments after argv[0], space separated."},
	ProcCmdline:                       {ID: ProcCmdline, Name: "proc.cmdline", Type: TypeString, Desc: "proc.name, a space and proc.args."},
	ProcExeline:                       {ID: ProcExeline, Name: "proc.exeline", Type: TypeString, Desc: "proc.exe, a space and proc.args."},
	ProcCmdnargs:                      {ID: ProcCmdnargs, Name: "proc.cmdnargs", Type: TypeUint64, Desc: "Number of command-line arguments."},
	ProcCmdlenargs:                    {ID: ProcCmdlenargs, Name: "proc.cmdlenargs", Type: TypeUint64, Desc: "Total length of the command-line arguments."},
	ProcEnv:                           {ID: ProcEnv, Name: "proc.env", Type: TypeString, Flags: FlagArgAllowed, Arg: ArgKey, Desc: "Environment of the process; proc.env[NAME] selects one variable."},
	ProcCwd:                           {ID: ProcCwd, Name: "proc.cwd", Type: TypeString, Desc: "Current working directory of the process."},
	ProcTTY:                           {ID: ProcTTY, Name: "proc.tty", Type: TypeUint32, Desc: "Controlling terminal number; 0 when the process has none."},
	ProcPname:                         {ID: ProcPname, Name: "proc.pname", Type: TypeString, Desc: "Name of the parent process."},
	ProcPexe:                          {ID: ProcPexe, Name: "proc.pexe", Type: TypeString, Desc: "argv[0] of the parent process."},
	ProcPexepath:                      {ID: ProcPexepath, Name: "proc.pexepath", Type: TypeString, Desc: "Executable path of the parent process."},
	ProcPcmdline:                      {ID: ProcPcmdline, Name: "proc.pcmdline", Type: TypeString, Desc: "Command line of the parent process."},
	ProcAname:                         {ID: ProcAname, Name: "proc.aname", Type: TypeString, Flags: FlagArgAllowed | FlagNoRHS | FlagNoTransformer | FlagAnyValue, Arg: ArgIndex, Desc: "Name of an ancestor: [0] is the process, [1] the parent, [2] the grandparent; without an argument a check matches when any ancestor matches."},
	ProcApid:                          {ID: ProcApid, Name: "proc.apid", Type: TypeInt64, Flags: FlagArgAllowed | FlagNoRHS | FlagNoTransformer | FlagAnyValue, Arg: ArgIndex, Desc: "Process ID of an ancestor, selected as for proc.aname."},
	ProcAexe:                          {ID: ProcAexe, Name: "proc.aexe", Type: TypeString, Flags: FlagArgAllowed | FlagNoRHS | FlagNoTransformer | FlagAnyValue, Arg: ArgIndex, Desc: "argv[0] of an ancestor, selected as for proc.aname."},
	ProcAexepath:                      {ID: ProcAexepath, Name: "proc.aexepath", Type: TypeString, Flags: FlagArgAllowed | FlagNoRHS | FlagNoTransformer | FlagAnyValue, Arg: ArgIndex, Desc: "Executable path of an ancestor, selected as for proc.aname."},
	ProcLoginshellid:                  {ID: ProcLoginshellid, Name: "proc.loginshellid", Type: TypeInt64, Desc: "Process ID of the oldest shell among the process' ancestors."},
	ProcSid:                           {ID: ProcSid, Name: "proc.sid", Type: TypeInt64, Desc: "Session ID of the process."},
	ProcSname:                         {ID: ProcSname, Name: "proc.sname", Type: TypeString, Desc: "Name of the session leader process."},
	ProcVpgid:                         {ID: ProcVpgid, Name: "proc.vpgid", Type: TypeInt64, Desc: "Process group ID as seen from the process' PID namespace."},
	ProcVpgidName:                     {ID: ProcVpgidName, Name: "proc.vpgid.name", Type: TypeString, Desc: "Name of the process group leader."},
	ProcVpgidExe:                      {ID: ProcVpgidExe, Name: "proc.vpgid.exe", Type: TypeString, Desc: "argv[0] of the process group leader."},
	ProcIsVpgidLeader:                 {ID: ProcIsVpgidLeader, Name: "proc.is_vpgid_leader", Type: TypeBool, Desc: "true when the process is its process group's leader."},
	ProcIsSidLeader:                   {ID: ProcIsSidLeader, Name: "proc.is_sid_leader", Type: TypeBool, Desc: "true when the process is its session's leader."},
	ProcDuration:                      {ID: ProcDuration, Name: "proc.duration", Type: TypeRelTime, Desc: "Nanoseconds since the process started."},
	ProcPPIDDuration:                  {ID: ProcPPIDDuration, Name: "proc.ppid.duration", Type: TypeRelTime, Desc: "Nanoseconds since the parent process started."},
	ProcStartTs:                       {ID: ProcStartTs, Name: "proc.pid.ts", Type: TypeAbsTime, Desc: "Start time of the process."},
	ProcExeIno:                        {ID: ProcExeIno, Name: "proc.exe_ino", Type: TypeUint64, Desc: "Inode number of the executable file."},
	ProcExeInoCtime:                   {ID: ProcExeInoCtime, Name: "proc.exe_ino.ctime", Type: TypeAbsTime, Desc: "Last status-change time (ctime) of the executable's inode."},
	ProcExeInoMtime:                   {ID: ProcExeInoMtime, Name: "proc.exe_ino.mtime", Type: TypeAbsTime, Desc: "Last modification time (mtime) of the executable's inode."},
	ProcExeInoCtimeDurationProcStart:  {ID: ProcExeInoCtimeDurationProcStart, Name: "proc.exe_ino.ctime_duration_proc_start", Type: TypeAbsTime, Desc: "Nanoseconds between the executable's last status change and the process start."},
	ProcExeInoCtimeDurationPidnsStart: {ID: ProcExeInoCtimeDurationPidnsStart, Name: "proc.exe_ino.ctime_duration_pidns_start", Type: TypeAbsTime, Desc: "Nanoseconds between the executable's last status change and the start of its PID namespace."},
	ProcIsExeWritable:                 {ID: ProcIsExeWritable, Name: "proc.is_exe_writable", Type: TypeBool, Desc: "true when the executable is writable by the process' user."},
	ProcIsExeUpperLayer:               {ID: ProcIsExeUpperLayer, Name: "proc.is_exe_upper_layer", Type: TypeBool, Desc: "true when the executable lives in the upper (writable) layer of an overlay file system."},
	ProcIsExeFromMemfd:                {ID: ProcIsExeFromMemfd, Name: "proc.is_exe_from_memfd", Type: TypeBool, Desc: "true when the process executes an anonymous memfd_create file."},
	ProcIsExeLowerLayer:               {ID: ProcIsExeLowerLayer, Name: "proc.is_exe_lower_layer", Type: TypeBool, Desc: "true when the executable lives in a lower layer of an overlay file system."},
	ProcIsEnvShebang:                  {ID: ProcIsEnvShebang, Name: "proc.is_env_shebang", Type: TypeBool, Desc: "true when env started the program for the #! line of a script, such as bash for #!/usr/bin/env bash. A Riposte field, unknown to Falco."},
	ProcIsContainerHealthcheck:        {ID: ProcIsContainerHealthcheck, Name: "proc.is_container_healthcheck", Type: TypeBool, Desc: "true when the process is a container health check."},
	ProcIsContainerLivenessProbe:      {ID: ProcIsContainerLivenessProbe, Name: "proc.is_container_liveness_probe", Type: TypeBool, Desc: "true when the process is a Kubernetes liveness probe."},
	ProcIsContainerReadinessProbe:     {ID: ProcIsContainerReadinessProbe, Name: "proc.is_container_readiness_probe", Type: TypeBool, Desc: "true when the process is a Kubernetes readiness probe."},
	ProcPidnsInit:                     {ID: ProcPidnsInit, Name: "proc.is_pidns_init", Type: TypeBool, Desc: "true when the process is the init of its PID namespace."},
	ProcNthreads:                      {ID: ProcNthreads, Name: "proc.nthreads", Type: TypeUint64, Desc: "Number of threads of the process."},
	ProcFdopencount:                   {ID: ProcFdopencount, Name: "proc.fdopencount", Type: TypeUint64, Desc: "Number of open file descriptors of the process."},
	ProcStdinName:                     {ID: ProcStdinName, Name: "proc.stdin.name", Type: TypeString, Desc: "Name of the process' standard input."},
	ProcStdoutName:                    {ID: ProcStdoutName, Name: "proc.stdout.name", Type: TypeString, Desc: "Name of the process' standard output."},
	ProcStderrName:                    {ID: ProcStderrName, Name: "proc.stderr.name", Type: TypeString, Desc: "Name of the process' standard error."},
	ThreadTID:                         {ID: ThreadTID, Name: "thread.tid", Type: TypeInt64, Desc: "Thread ID."},
	ThreadVTID:                        {ID: ThreadVTID, Name: "thread.vtid", Type: TypeInt64, Desc: "Thread ID as seen from the thread's PID namespace."},
	ThreadIsMainThread:                {ID: ThreadIsMainThread, Name: "thread.ismain", Type: TypeBool, Desc: "true when the thread is its process' main thread."},
	ThreadCapPermitted:                {ID: ThreadCapPermitted, Name: "thread.cap_permitted", Type: TypeString, Desc: "Permitted capability set, as capability names."},
	ThreadCapInheritable:              {ID: ThreadCapInheritable, Name: "thread.cap_inheritable", Type: TypeString, Desc: "Inheritable capability set, as capability names."},
	ThreadCapEffective:                {ID: ThreadCapEffective, Name: "thread.cap_effective", Type: TypeString, Desc: "Effective capability set, as capability names."},
	UserUID:                           {ID: UserUID, Name: "user.uid", Type: TypeUint32, Desc: "User ID of the process."},
	UserName:                          {ID: UserName, Name: "user.name", Type: TypeString, Desc: "User name of the process' user ID."},
	UserHomedir:                       {ID: UserHomedir, Name: "user.homedir", Type: TypeString, Desc: "Home directory of the user."},
	UserShell:                         {ID: UserShell, Name: "user.shell", Type: TypeString, Desc: "Login shell of the user."},
	UserLoginUID:                      {ID: UserLoginUID, Name: "user.loginuid", Type: TypeInt64, Desc: "Audit login user ID; -1 when unset."},
	UserLoginName:                     {ID: UserLoginName, Name: "user.loginname", Type: TypeString, Desc: "User name of the audit login user ID."},
	GroupGID:                          {ID: GroupGID, Name: "group.gid", Type: TypeUint32, Desc: "Group ID of the process."},
	GroupName:                         {ID: GroupName, Name: "group.name", Type: TypeString, Desc: "Group name of the process' group ID."},
	FdNum:                             {ID: FdNum, Name: "fd.num", Type: TypeInt64, Desc: "File descriptor number; -1 when the call failed."},
	FdType:                            {ID: FdType, Name: "fd.type", Type: TypeString, Desc: "Kind of file descriptor: file, directory, ipv4, ipv6, unix, pipe, event, signalfd, eventpoll, inotify, timerfd, netlink, memfd, bpf, userfaultfd, io_uring."},
	FdTypechar:                        {ID: FdTypechar, Name: "fd.typechar", Type: TypeString, Desc: "Kind of file descriptor as one character: f file, d directory, 4 or 6 IP socket, u unix socket, p pipe, e eventfd, m memfd, o other."},
	FdName:                            {ID: FdName, Name: "fd.name", Type: TypeString, Desc: "Full name: absolute path for files, cip:cport->sip:sport for sockets."},
	FdNameraw:                         {ID: FdNameraw, Name: "fd.nameraw", Type: TypeString, Desc: "Path as the process passed it, not made absolute."},
	FdDirectory:                       {ID: FdDirectory, Name: "fd.directory", Type: TypeString, Desc: "Directory part of a file's path."},
	FdFilename:                        {ID: FdFilename, Name: "fd.filename", Type: TypeString, Desc: "Last component of a file's path."},
	FdIP:                              {ID: FdIP, Name: "fd.ip", Type: TypeIPAddr, Flags: FlagFilterOnly | FlagNoRHS | FlagNoTransformer | FlagAnyValue, Desc: "Either IP address of the socket (client or server); filter only."},
	FdCIP:                             {ID: FdCIP, Name: "fd.cip", Type: TypeIPAddr, Desc: "Client IP address of the socket."},
	FdSIP:                             {ID: FdSIP, Name: "fd.sip", Type: TypeIPAddr, Desc: "Server IP address of the socket."},
	FdLIP:                             {ID: FdLIP, Name: "fd.lip", Type: TypeIPAddr, Desc: "Local IP address of the socket."},
	FdRIP:                             {ID: FdRIP, Name: "fd.rip", Type: TypeIPAddr, Desc: "Remote IP address of the socket."},
	FdPort:                            {ID: FdPort, Name: "fd.port", Type: TypePort, Flags: FlagFilterOnly | FlagNoRHS | FlagNoTransformer | FlagAnyValue, Desc: "Either port of the socket (client or server); filter only."},
	FdCPort:                           {ID: FdCPort, Name: "fd.cport", Type: TypePort, Desc: "Client port of the socket."},
	FdSPort:                           {ID: FdSPort, Name: "fd.sport", Type: TypePort, Desc: "Server port of the socket."},
	FdLPort:                           {ID: FdLPort, Name: "fd.lport", Type: TypePort, Desc: "Local port of the socket."},
	FdRPort:                           {ID: FdRPort, Name: "fd.rport", Type: TypePort, Desc: "Remote port of the socket."},
	FdL4Proto:                         {ID: FdL4Proto, Name: "fd.l4proto", Type: TypeString, Desc: "Transport protocol of the socket: tcp, udp, icmp or raw."},
	FdSockfamily:                      {ID: FdSockfamily, Name: "fd.sockfamily", Type: TypeString, Desc: "Socket family: ip or unix."},
	FdIsServer:                        {ID: FdIsServer, Name: "fd.is_server", Type: TypeBool, Desc: "true when the process is the server end of the socket."},
	FdNet:                             {ID: FdNet, Name: "fd.net", Type: TypeIPNet, Flags: FlagFilterOnly | FlagNoRHS | FlagNoTransformer | FlagAnyValue, Desc: "Either IP address of the socket, matched against a CIDR network; filter only."},
	FdCNet:                            {ID: FdCNet, Name: "fd.cnet", Type: TypeIPNet, Flags: FlagFilterOnly | FlagNoRHS | FlagNoTransformer, Desc: "Client IP address matched against a CIDR network; filter only."},
	FdSNet:                            {ID: FdSNet, Name: "fd.snet", Type: TypeIPNet, Flags: FlagFilterOnly | FlagNoRHS | FlagNoTransformer, Desc: "Server IP address matched against a CIDR network; filter only."},
	FdLNet:                            {ID: FdLNet, Name: "fd.lnet", Type: TypeIPNet, Flags: FlagFilterOnly | FlagNoRHS | FlagNoTransformer, Desc: "Local IP address matched against a CIDR network; filter only."},
	FdRNet:                            {ID: FdRNet, Name: "fd.rnet", Type: TypeIPNet, Flags: FlagFilterOnly | FlagNoRHS | FlagNoTransformer, Desc: "Remote IP address matched against a CIDR network; filter only."},
	FdCIPName:                         {ID: FdCIPName, Name: "fd.cip.name", Type: TypeString, Flags: FlagNoRHS | FlagNoTransformer, Desc: "DNS name of the client IP address."},
	FdSIPName:                         {ID: FdSIPName, Name: "fd.sip.name", Type: TypeString, Flags: FlagNoRHS | FlagNoTransformer | FlagAnyValue, Desc: "Host name of the server IP address, among the names that the rules compare this field with; a check matches when any such name matches."},
	FdLIPName:                         {ID: FdLIPName, Name: "fd.lip.name", Type: TypeString, Flags: FlagNoRHS | FlagNoTransformer, Desc: "DNS name of the local IP address."},
	FdRIPName:                         {ID: FdRIPName, Name: "fd.rip.name", Type: TypeString, Flags: FlagNoRHS | FlagNoTransformer, Desc: "DNS name of the remote IP address."},
	FdConnected:                       {ID: FdConnected, Name: "fd.connected", Type: TypeBool, Desc: "true when the socket is connected."},
	FdNameChanged:                     {ID: FdNameChanged, Name: "fd.name_changed", Type: TypeBool, Desc: "true when the event changed the name of the file descriptor."},
	FdDev:                             {ID: FdDev, Name: "fd.dev", Type: TypeUint32, Desc: "Device number of the file."},
	FdIno:                             {ID: FdIno, Name: "fd.ino", Type: TypeUint64, Desc: "Inode number of the file."},
	FdTypes:                           {ID: FdTypes, Name: "fd.types", Type: TypeString, Flags: FlagArgAllowed | FlagAnyValue, Arg: ArgIndex, Desc: "Kinds of the file descriptors an event uses."},
	FsPathName:                        {ID: FsPathName, Name: "fs.path.name", Type: TypeString, Desc: "Path of a file-system event (open, unlink, rename and similar), made absolute."},
	FsPathNameraw:                     {ID: FsPathNameraw, Name: "fs.path.nameraw", Type: TypeString, Desc: "Path of a file-system event as the process passed it."},
	FsPathSource:                      {ID: FsPathSource, Name: "fs.path.source", Type: TypeString, Desc: "Source path of a file-system event that has two paths."},
	FsPathTarget:                      {ID: FsPathTarget, Name: "fs.path.target", Type: TypeString, Desc: "Target path of a file-system event that has two paths."},
	ContainerID:                       {ID: ContainerID, Name: "container.id", Type: TypeString, Desc: "Short (12-character) container ID, or host for processes outside containers."},
	ContainerFullID:                   {ID: ContainerFullID, Name: "container.full_id", Type: TypeString, Desc: "Full container ID, or host for processes outside containers."},
	ContainerName:                     {ID: ContainerName, Name: "container.name", Type: TypeString, Desc: "Container name, or host."},
	ContainerImage:                    {ID: ContainerImage, Name: "container.image", Type: TypeString, Desc: "Container image name, with tag."},
	ContainerImageID:                  {ID: ContainerImageID, Name: "container.image.id", Type: TypeString, Desc: "Container image ID."},
	ContainerImageRepository:          {ID: ContainerImageRepository, Name: "container.image.repository", Type: TypeString, Desc: "Repository of the container image."},
	ContainerImageTag:                 {ID: ContainerImageTag, Name: "container.image.tag", Type: TypeString, Desc: "Tag of the container image."},
	ContainerImageDigest:              {ID: ContainerImageDigest, Name: "container.image.digest", Type: TypeString, Desc: "Digest of the container image."},
	ContainerType:                     {ID: ContainerType, Name: "container.type", Type: TypeString, Desc: "Container runtime type, such as docker, containerd or cri-o."},
	ContainerPrivileged:               {ID: ContainerPrivileged, Name: "container.privileged", Type: TypeBool, Desc: "true when the container runs in privileged mode."},
	ContainerMounts:                   {ID: ContainerMounts, Name: "container.mounts", Type: TypeString, Desc: "Mounts of the container, separated by commas."},
	ContainerMount:                    {ID: ContainerMount, Name: "container.mount", Type: TypeString, Flags: FlagArgRequired, Arg: ArgIndexOrKey, Desc: "One mount of the container, by position or source path."},
	ContainerMountSource:              {ID: ContainerMountSource, Name: "container.mount.source", Type: TypeString, Flags: FlagArgRequired, Arg: ArgIndexOrKey, Desc: "Source path of one mount, by position or destination path."},
	ContainerMountDest:                {ID: ContainerMountDest, Name: "container.mount.dest", Type: TypeString, Flags: FlagArgRequired, Arg: ArgIndexOrKey, Desc: "Destination path of one mount, by position or source path."},
	ContainerMountMode:                {ID: ContainerMountMode, Name: "container.mount.mode", Type: TypeString, Flags: FlagArgRequired, Arg: ArgIndexOrKey, Desc: "Mode of one mount, by position or source path."},
	ContainerMountRdwr:                {ID: ContainerMountRdwr, Name: "container.mount.rdwr", Type: TypeString, Flags: FlagArgRequired, Arg: ArgIndexOrKey, Desc: "Whether one mount is read-write, by position or source path."},
	ContainerMountPropagation:         {ID: ContainerMountPropagation, Name: "container.mount.propagation", Type: TypeString, Flags: FlagArgRequired, Arg: ArgIndexOrKey, Desc: "Propagation of one mount, by position or source path."},
	ContainerIP:                       {ID: ContainerIP, Name: "container.ip", Type: TypeIPAddr, Desc: "IP address of the container."},
	ContainerCNIJSON:                  {ID: ContainerCNIJSON, Name: "container.cni.json", Type: TypeString, Desc: "CNI result of the container, as JSON."},
	ContainerStartTs:                  {ID: ContainerStartTs, Name: "container.start_ts", Type: TypeAbsTime, Desc: "Start time of the container, in nanoseconds since the epoch."},
	ContainerDuration:                 {ID: ContainerDuration, Name: "container.duration", Type: TypeRelTime, Desc: "Nanoseconds since the container started."},
	ContainerHealthcheck:              {ID: ContainerHealthcheck, Name: "container.healthcheck", Type: TypeString, Desc: "Health check command of the container."},
	ContainerLabel:                    {ID: ContainerLabel, Name: "container.label", Type: TypeString, Flags: FlagArgRequired, Arg: ArgKeyDotted, Desc: "One label of the container."},
	ContainerLabels:                   {ID: ContainerLabels, Name: "container.labels", Type: TypeString, Desc: "Labels of the container, as key:value pairs separated by commas."},
	K8sPodName:                        {ID: K8sPodName, Name: "k8s.pod.name", Type: TypeString, Desc: "Name of the Kubernetes pod of the container."},
	K8sPodUID:                         {ID: K8sPodUID, Name: "k8s.pod.uid", Type: TypeString, Desc: "UID of the Kubernetes pod."},
	K8sPodSandboxID:                   {ID: K8sPodSandboxID, Name: "k8s.pod.sandbox_id", Type: TypeString, Desc: "Short ID of the pod's sandbox container."},
	K8sPodFullSandboxID:               {ID: K8sPodFullSandboxID, Name: "k8s.pod.full_sandbox_id", Type: TypeString, Desc: "Full ID of the pod's sandbox container."},
	K8sPodLabel:                       {ID: K8sPodLabel, Name: "k8s.pod.label", Type: TypeString, Flags: FlagArgRequired, Arg: ArgKeyDotted, Desc: "One label of the Kubernetes pod."},
	K8sPodLabels:                      {ID: K8sPodLabels, Name: "k8s.pod.labels", Type: TypeString, Desc: "Labels of the Kubernetes pod, as key:value pairs separated by commas."},
	K8sPodIP:                          {ID: K8sPodIP, Name: "k8s.pod.ip", Type: TypeString, Desc: "IP address of the Kubernetes pod."},
	K8sPodCNIJSON:                     {ID: K8sPodCNIJSON, Name: "k8s.pod.cni.json", Type: TypeString, Desc: "CNI result of the pod, as JSON."},
	K8sNsName:                         {ID: K8sNsName, Name: "k8s.ns.name", Type: TypeString, Desc: "Kubernetes namespace of the pod."},
}
