package k8stest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// maxCommandRuntime bounds every command the kubelet server runs, so that a
// hung command that a test abandons does not keep running.
const maxCommandRuntime = 2 * time.Minute

// ExecRecord is one command that the kubelet server ran.
type ExecRecord struct {
	Namespace, Pod, Container string
	Command                   []string
}

// kubeletServer serves the part of the kubelet API that the apiserver proxies
// pods/exec and pods/log to, for the pods bound to the harness's own node.
// Commands run on the test host, in a scratch directory, with the exit code
// reported the way a kubelet reports it.
type kubeletServer struct {
	workDir  string
	listener net.Listener
	server   *http.Server
	ctx      context.Context
	cancel   context.CancelFunc

	mu       sync.Mutex
	commands []ExecRecord
	logs     map[string]string
}

func newKubeletServer(workDir string, cert tls.Certificate) (*kubeletServer, error) {
	listener, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		return nil, fmt.Errorf("listen for kubelet server: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	k := &kubeletServer{workDir: workDir, listener: listener, ctx: ctx, cancel: cancel, logs: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/", k.serveExec)
	mux.HandleFunc("/containerLogs/", k.serveLogs)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	k.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go k.server.Serve(listener)
	return k, nil
}

func (k *kubeletServer) port() int {
	return k.listener.Addr().(*net.TCPAddr).Port
}

func (k *kubeletServer) close() {
	k.cancel()
	_ = k.server.Close()
}

// podPath splits "/prefix/{ns}/{pod}/{container}" and the kubelet's form with
// the pod UID, "/prefix/{ns}/{pod}/{uid}/{container}".
func podPath(path, prefix string) (ns, pod, container string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(path, prefix), "/")
	switch len(parts) {
	case 3:
		return parts[0], parts[1], parts[2], true
	case 4:
		return parts[0], parts[1], parts[3], true
	default:
		return "", "", "", false
	}
}

func (k *kubeletServer) serveExec(w http.ResponseWriter, r *http.Request) {
	ns, pod, container, ok := podPath(r.URL.Path, "/exec/")
	if !ok {
		http.Error(w, "invalid exec path "+r.URL.Path, http.StatusNotFound)
		return
	}
	opts, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	command := r.URL.Query()["command"]
	k.mu.Lock()
	k.commands = append(k.commands, ExecRecord{Namespace: ns, Pod: pod, Container: container, Command: command})
	k.mu.Unlock()
	remotecommand.ServeExec(w, r, hostExecutor{k}, ns+"/"+pod, "", container, command, opts,
		time.Minute, 30*time.Second, remotecommand.SupportedStreamingProtocols)
}

// hostExecutor runs exec requests as processes on the test host.
type hostExecutor struct{ k *kubeletServer }

func (e hostExecutor) ExecInContainer(ctx context.Context, _, _, _ string, cmd []string, in io.Reader,
	out, errOut io.WriteCloser, _ bool, _ <-chan remotecommand.TerminalSize, _ time.Duration) error {
	if len(cmd) == 0 {
		return errors.New("no command given")
	}
	// The request context of a hijacked connection does not end when the
	// client goes away, so the command is bounded by the server's lifetime
	// and maxCommandRuntime instead.
	runCtx, cancel := context.WithTimeout(e.k.ctx, maxCommandRuntime)
	defer cancel()
	c := exec.CommandContext(runCtx, cmd[0], cmd[1:]...)
	c.Dir = e.k.workDir
	c.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + e.k.workDir}
	if in != nil {
		c.Stdin = in
	}
	if out != nil {
		c.Stdout = out
	}
	if errOut != nil {
		c.Stderr = errOut
	}
	// Without a delay, Wait would block until the client closes stdin, even
	// after the command exited.
	c.WaitDelay = 500 * time.Millisecond
	err := c.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		return nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		return utilexec.CodeExitError{Err: err, Code: exitErr.ExitCode()}
	}
	return err
}

func (k *kubeletServer) serveLogs(w http.ResponseWriter, r *http.Request) {
	ns, pod, container, ok := podPath(r.URL.Path, "/containerLogs/")
	if !ok {
		http.Error(w, "invalid log path "+r.URL.Path, http.StatusNotFound)
		return
	}
	k.mu.Lock()
	text, found := k.logs[ns+"/"+pod+"/"+container]
	k.mu.Unlock()
	if !found {
		http.Error(w, fmt.Sprintf("no logs for container %q of pod %s/%s", container, ns, pod), http.StatusNotFound)
		return
	}
	query := r.URL.Query()
	if v := query.Get("tailLines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, "invalid tailLines "+v, http.StatusBadRequest)
			return
		}
		text = tailLines(text, n)
	}
	if v := query.Get("limitBytes"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			http.Error(w, "invalid limitBytes "+v, http.StatusBadRequest)
			return
		}
		if len(text) > n {
			text = text[:n]
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, text)
}

// tailLines returns the last n lines of text.
func tailLines(text string, n int) string {
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

func (k *kubeletServer) setLogs(ns, pod, container, text string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logs[ns+"/"+pod+"/"+container] = text
}

func (k *kubeletServer) execRecords() []ExecRecord {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]ExecRecord(nil), k.commands...)
}
