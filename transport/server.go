package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerOptions configure the embedded nats-server. The zero value listens on
// a free port of 127.0.0.1 and stores JetStream data in a new temporary
// directory that Close removes.
type ServerOptions struct {
	// Host is the address to listen on. Empty means 127.0.0.1.
	Host string
	// Port is the client port. Zero picks a free port.
	Port int
	// StoreDir is the JetStream storage directory. Empty means a new temporary
	// directory, removed by Close.
	StoreDir string
	// MaxStore limits JetStream file storage in bytes. Zero lets the server
	// choose, which is a share of the free disk space.
	MaxStore int64
	// MaxMemory limits JetStream memory storage in bytes. Zero lets the server
	// choose.
	MaxMemory int64
	// ServerName names the server in logs and in JetStream metadata. Empty
	// means "riposte".
	ServerName string
	// ReadyTimeout bounds the wait for the server to accept connections. Zero
	// means 10 seconds.
	ReadyTimeout time.Duration
	// Logger receives the server's log lines. Nil discards them.
	Logger *slog.Logger
	// Debug passes the server's debug lines to Logger.
	Debug bool
}

// Server is a running embedded nats-server with JetStream.
type Server struct {
	ns      *server.Server
	tempDir string
	// lock holds the storage directory's lock file open, and so locked,
	// until Close.
	lock *os.File
}

// StartServer starts an embedded nats-server with JetStream and waits until it
// accepts connections.
func StartServer(opts ServerOptions) (*Server, error) {
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := opts.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if port < server.RANDOM_PORT || port > 65535 {
		return nil, fmt.Errorf("start nats-server: invalid port %d: use 0 for a free port or 1-65535", opts.Port)
	}
	name := opts.ServerName
	if name == "" {
		name = "riposte"
	}
	timeout := opts.ReadyTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}

	// nats-server reports a port in use or an unusable directory only in
	// its log, and then never becomes ready, so check both first.
	if port != server.RANDOM_PORT {
		addr := net.JoinHostPort(host, strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("start nats-server: %w: choose another port, or stop the program that listens on %s", err, addr)
		}
		l.Close()
	}
	s := &Server{}
	if opts.StoreDir != "" {
		if err := os.MkdirAll(opts.StoreDir, 0o700); err != nil {
			return nil, fmt.Errorf("start nats-server: create storage directory %s: %w: choose a writable directory", opts.StoreDir, err)
		}
		lock, err := lockStoreDir(opts.StoreDir)
		if err != nil {
			return nil, err
		}
		s.lock = lock
	}

	storeDir := opts.StoreDir
	if storeDir == "" {
		removeStaleTempDirs(opts.Logger)
		dir, err := os.MkdirTemp("", tempDirPattern)
		if err != nil {
			return nil, fmt.Errorf("start nats-server: create storage directory: %w", err)
		}
		storeDir = dir
		s.tempDir = dir
		pid := []byte(strconv.Itoa(os.Getpid()))
		if err := os.WriteFile(filepath.Join(dir, tempDirOwnerFile), pid, 0o600); err != nil {
			s.removeTemp()
			return nil, fmt.Errorf("start nats-server: record the owner of %s: %w", dir, err)
		}
	}

	ns, err := server.NewServer(&server.Options{
		ServerName:         name,
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           storeDir,
		JetStreamMaxStore:  opts.MaxStore,
		JetStreamMaxMemory: opts.MaxMemory,
		NoSigs:             true,
		NoLog:              opts.Logger == nil,
		Debug:              opts.Debug,
	})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("start nats-server: %w", err)
	}
	if opts.Logger != nil {
		ns.SetLoggerV2(&serverLogger{log: opts.Logger.With("component", "nats-server")}, opts.Debug, false, false)
	}
	s.ns = ns

	ns.Start()
	if !ns.ReadyForConnections(timeout) {
		s.Close()
		return nil, fmt.Errorf("start nats-server on %s:%d: not ready after %s", host, opts.Port, timeout)
	}
	if !ns.JetStreamEnabled() {
		s.Close()
		return nil, errors.New("start nats-server: JetStream did not start: check that the storage directory is writable")
	}
	return s, nil
}

// ClientURL returns the URL clients connect to, such as nats://127.0.0.1:4222.
func (s *Server) ClientURL() string {
	return s.ns.ClientURL()
}

// NATSServer returns the underlying server, for in-process connections
// through [ConnectOptions.InProcess].
func (s *Server) NATSServer() *server.Server {
	return s.ns
}

// Close shuts the server down, waits for it to stop, and removes the
// temporary storage directory if StartServer created one.
func (s *Server) Close() {
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	s.removeTemp()
	if s.lock != nil {
		_ = s.lock.Close() // Closing the file releases the lock.
		s.lock = nil
	}
}

// storeLockFile, in a storage directory, is locked by the process whose
// embedded server uses the directory and holds its pid.
const storeLockFile = "riposte.lock"

// lockStoreDir takes an exclusive lock on dir, so that a second embedded
// server never writes to the files of a running one: two servers on one
// directory corrupt each other's streams. The kernel releases the lock when
// the process ends, however it ends, so a crash leaves no stale lock.
func lockStoreDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, storeLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start nats-server: open lock file %s: %w: choose a writable storage directory", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("start nats-server: storage directory %s is in use by another Riposte process (pid %s): give each instance its own storage directory (--nats.store-dir)",
				dir, strings.TrimSpace(string(owner)))
		}
		return nil, fmt.Errorf("start nats-server: lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// tempDirPattern names the temporary storage directories, and
// tempDirOwnerFile, inside each, holds the pid of the process that made it.
const (
	tempDirPattern   = "riposte-nats-*"
	tempDirOwnerFile = "riposte.pid"
)

// removeStaleTempDirs removes the temporary storage directories of processes
// that no longer run, which Close never removed because the process was
// killed. A directory without an owner file, or whose owner runs or cannot
// be checked, stays.
func removeStaleTempDirs(log *slog.Logger) {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), tempDirPattern))
	if err != nil {
		return
	}
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, tempDirOwnerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 0 || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			if log != nil {
				log.Warn("remove the storage directory of an ended process", "dir", dir, "error", err)
			}
			continue
		}
		if log != nil {
			log.Info("removed the storage directory of an ended process", "dir", dir, "pid", pid)
		}
	}
}

func (s *Server) removeTemp() {
	if s.tempDir != "" {
		_ = os.RemoveAll(s.tempDir)
		s.tempDir = ""
	}
}

// serverLogger adapts slog to nats-server's logger interface.
type serverLogger struct {
	log *slog.Logger
}

func (l *serverLogger) Noticef(format string, v ...any) { l.log.Info(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *serverLogger) Tracef(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
