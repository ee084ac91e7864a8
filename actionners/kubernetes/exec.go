package kubernetes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/riposte-sec/riposte/actionners"
)

// Limits of kubernetes:exec.
const (
	defaultExecTimeout   = 30 * time.Second
	maxExecTimeout       = 10 * time.Minute
	defaultExecMaxOutput = 64 << 10
	maxExecMaxOutput     = 16 << 20
	maxScriptFileBytes   = 1 << 20
)

// Exec is kubernetes:exec: it runs a command or a script in a container of
// the pod through pods/exec and stores the output in the result.
type Exec struct{ base }

type execConfig struct {
	argv      []string
	stdin     string
	container string
	timeout   time.Duration
	maxOutput int64
}

func (a *Exec) parse(values map[string]any) (execConfig, error) {
	p := newParams(a.name, values)
	shell := p.string("/bin/sh", "shell")
	var cfg execConfig
	name, command, hasCommand := p.lookup("command")
	script := p.string("", "script")
	if file := p.string("", "file"); file != "" {
		if script != "" {
			p.fail("file", "set together with script: give one of them")
		}
		script = p.readScript("file", file)
	}
	switch {
	case hasCommand && script != "":
		p.fail("script", "set together with command: give one of them")
	case hasCommand:
		switch c := command.(type) {
		case string:
			if strings.TrimSpace(c) == "" {
				p.fail(name, "empty command")
			}
			cfg.argv = []string{shell, "-c", c}
		default:
			cfg.argv = p.strings("command")
			if len(cfg.argv) == 0 {
				p.fail(name, "expected a shell command string or a non-empty list of arguments, got %T %v", command, command)
			}
		}
	case script != "":
		// The script goes through stdin, so that its size is not bound by
		// the URL and argument length limits that a command has.
		cfg.argv = []string{shell, "-s"}
		cfg.stdin = script
	default:
		p.fail("command", "missing: give command (a shell command or a list of arguments) or script")
	}
	cfg.container = p.string("", "container")
	cfg.timeout = p.duration(defaultExecTimeout, "timeout")
	if cfg.timeout <= 0 || cfg.timeout > maxExecTimeout {
		p.fail("timeout", "must be more than 0 and at most %s, got %s", maxExecTimeout, cfg.timeout)
	}
	cfg.maxOutput = p.int(defaultExecMaxOutput, "max_output_bytes")
	if cfg.maxOutput <= 0 || cfg.maxOutput > maxExecMaxOutput {
		p.fail("max_output_bytes", "must be more than 0 and at most %d, got %d", maxExecMaxOutput, cfg.maxOutput)
	}
	return cfg, p.err()
}

// Validate checks the parameters.
func (a *Exec) Validate(values map[string]any) error {
	_, err := a.parse(values)
	return err
}

// Describe documents the parameters.
func (a *Exec) Describe() (string, map[string]string) {
	return "Run a forensic command or script in a container of the pod through pods/exec and record its output and exit code.", map[string]string{
		"command":          "shell command run with shell -c, or a list of arguments run without a shell",
		"script":           "script sent to shell -s on stdin; give command or script",
		"file":             fmt.Sprintf("path of a script on the responder's host, read when policies load and on each run, used as script (at most %d bytes)", maxScriptFileBytes),
		"shell":            "shell for command and script (default /bin/sh)",
		"container":        "container to run in (default: the alert's container, else the pod's default or only container)",
		"timeout":          fmt.Sprintf("time limit, a duration such as 30s or a number of seconds (default %s, at most %s)", defaultExecTimeout, maxExecTimeout),
		"max_output_bytes": fmt.Sprintf("bytes kept of stdout and of stderr each; the rest is counted and dropped (default %d)", defaultExecMaxOutput),
	}
}

// Permissions lists the RBAC rules the actionner needs. The WebSocket stream
// opens with a GET, which kube-apiserver v1.37 authorizes as get on
// pods/exec, and the SPDY stream with a POST, authorized as create.
func (a *Exec) Permissions() []actionners.Permission {
	return []actionners.Permission{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods/exec"}, Verbs: []string{"get", "create"}},
		eventPermission,
	}
}

// Run executes the command and waits for it to end or for the timeout.
func (a *Exec) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	r := a.begin(req)
	cfg, err := a.parse(req.Action.Parameters)
	if err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	t, err := podTarget(req)
	if err != nil {
		return r.finish(ctx, noTarget(err), nil)
	}
	if a.client != nil && a.client.Config == nil {
		return r.finish(ctx, actionners.Result{}, errors.New("exec needs a client made from a rest.Config: use NewClient"))
	}
	pod, skip, err := a.getPod(ctx, t)
	if err != nil || skip != nil {
		return r.finish(ctx, deref(skip), err)
	}
	r.object = podRef(pod)
	container, res := pickContainer(pod, cfg.container, t.Container)
	if res != nil {
		return r.finish(ctx, *res, nil)
	}
	if pod.Status.Phase != corev1.PodRunning {
		return r.finish(ctx, skipped("pod %s/%s is %s, not Running: there is no process to run the command in", pod.Namespace, pod.Name, pod.Status.Phase), nil)
	}

	out := a.exec(ctx, pod, container, cfg)
	return r.finish(ctx, out.result(pod, container, cfg), out.err)
}

// pickContainer chooses the container: the parameter, then the alert's
// container, then kubectl's default-container annotation, then the first.
func pickContainer(pod *corev1.Pod, param, fromAlert string) (string, *actionners.Result) {
	name := param
	if name == "" {
		name = fromAlert
	}
	if name == "" {
		name = pod.Annotations["kubectl.kubernetes.io/default-container"]
	}
	if name == "" {
		name = pod.Spec.Containers[0].Name
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return name, nil
		}
	}
	res := rejected("pod %s/%s has no container %q", pod.Namespace, pod.Name, name)
	return "", &res
}

// execOutput is the captured output and exit status of one exec stream.
type execOutput struct {
	stdout, stderr limitedBuffer
	exitCode       int
	timedOut       bool
	err            error
}

func (a *Exec) exec(ctx context.Context, pod *corev1.Pod, container string, cfg execConfig) *execOutput {
	out := &execOutput{stdout: limitedBuffer{max: cfg.maxOutput}, stderr: limitedBuffer{max: cfg.maxOutput}, exitCode: -1}
	opts := &corev1.PodExecOptions{
		Container: container, Command: cfg.argv, Stdin: cfg.stdin != "", Stdout: true, Stderr: true,
	}
	request := a.client.Kubernetes.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("exec").
		VersionedParams(opts, scheme.ParameterCodec)
	executor, err := newExecutor(a.client.Config, request.URL())
	if err != nil {
		out.err = fmt.Errorf("exec in pod %s/%s: %w", pod.Namespace, pod.Name, err)
		return out
	}
	streamCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	stream := remotecommand.StreamOptions{Stdout: &out.stdout, Stderr: &out.stderr}
	if cfg.stdin != "" {
		stream.Stdin = strings.NewReader(cfg.stdin)
	}
	err = executor.StreamWithContext(streamCtx, stream)

	var exitErr utilexec.CodeExitError
	switch {
	case err == nil:
		out.exitCode = 0
	case errors.As(err, &exitErr):
		out.exitCode = exitErr.Code
		out.err = fmt.Errorf("command in pod %s/%s container %s exited with code %d%s",
			pod.Namespace, pod.Name, container, exitErr.Code, exitHint(exitErr.Code))
	case streamCtx.Err() != nil && ctx.Err() == nil:
		out.timedOut = true
		out.err = fmt.Errorf("command in pod %s/%s container %s timed out after %s; it may still run in the container",
			pod.Namespace, pod.Name, container, cfg.timeout)
	default:
		out.err = fmt.Errorf("exec in pod %s/%s container %s: %w", pod.Namespace, pod.Name, container, err)
	}
	return out
}

// newExecutor opens exec streams over WebSocket, as kubectl does since 1.31,
// and falls back to SPDY when the server or a proxy cannot upgrade.
func newExecutor(cfg *rest.Config, url *url.URL) (remotecommand.Executor, error) {
	ws, err := remotecommand.NewWebSocketExecutor(cfg, http.MethodGet, url.String())
	if err != nil {
		return nil, fmt.Errorf("create WebSocket executor: %w", err)
	}
	spdy, err := remotecommand.NewSPDYExecutor(cfg, http.MethodPost, url)
	if err != nil {
		return nil, fmt.Errorf("create SPDY executor: %w", err)
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// exitHint explains the exit codes that shells use for commands they could
// not start.
func exitHint(code int) string {
	switch code {
	case 126:
		return " (command found but not executable)"
	case 127:
		return " (command not found in the container)"
	default:
		return ""
	}
}

func (o *execOutput) result(pod *corev1.Pod, container string, cfg execConfig) actionners.Result {
	res := actionners.Result{Output: map[string]any{
		"container":        container,
		"command":          cfg.argv,
		"exit_code":        o.exitCode,
		"stdout":           o.stdout.String(),
		"stderr":           o.stderr.String(),
		"stdout_truncated": o.stdout.dropped,
		"stderr_truncated": o.stderr.dropped,
		"timed_out":        o.timedOut,
	}}
	if o.err != nil {
		res.Outcome = actionners.OutcomeFailed
		res.Message = o.err.Error()
		return res
	}
	res.Outcome = actionners.OutcomeSucceeded
	res.Message = fmt.Sprintf("ran %q in pod %s/%s container %s: exit code 0, %d bytes of stdout, %d of stderr",
		strings.Join(cfg.argv, " "), pod.Namespace, pod.Name, container,
		o.stdout.total, o.stderr.total)
	return res
}

// limitedBuffer keeps the first max bytes written to it and counts the rest.
type limitedBuffer struct {
	buf     bytes.Buffer
	max     int64
	total   int64
	dropped int64
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.total += int64(len(p))
	room := b.max - int64(b.buf.Len())
	if room <= 0 {
		b.dropped += int64(len(p))
		return len(p), nil
	}
	keep := p
	if int64(len(keep)) > room {
		keep = keep[:room]
		b.dropped += int64(len(p)) - room
	}
	b.buf.Write(keep)
	return len(p), nil
}

func (b *limitedBuffer) String() string { return b.buf.String() }

// readScript reads a script file for the file parameter.
func (p *params) readScript(name, path string) string {
	f, err := os.Open(path)
	if err != nil {
		p.fail(name, "cannot read script: %v", err)
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxScriptFileBytes+1))
	if err != nil {
		p.fail(name, "cannot read script %s: %v", path, err)
		return ""
	}
	if len(data) > maxScriptFileBytes {
		p.fail(name, "script %s is larger than %d bytes", path, maxScriptFileBytes)
		return ""
	}
	if len(bytes.TrimSpace(data)) == 0 {
		p.fail(name, "script %s is empty", path)
		return ""
	}
	return string(data)
}
