package kubernetes

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"

	"github.com/riposte-sec/riposte/actionners"
)

// Limits of kubernetes:logs.
const (
	defaultLogTailLines = 100
	maxLogTailLines     = 100000
	defaultLogMaxBytes  = 1 << 20
	maxLogMaxBytes      = 16 << 20
)

// Logs is kubernetes:logs: it collects recent logs of a container of the pod
// into the result.
type Logs struct{ base }

type logsConfig struct {
	tailLines    int64
	maxBytes     int64
	container    string
	previous     bool
	sinceSeconds int64
}

func (a *Logs) parse(values map[string]any) (logsConfig, error) {
	p := newParams(a.name, values)
	cfg := logsConfig{
		tailLines:    p.int(defaultLogTailLines, "tail_lines"),
		maxBytes:     p.int(defaultLogMaxBytes, "max_bytes", "limit_bytes"),
		container:    p.string("", "container"),
		previous:     p.bool(false, "previous"),
		sinceSeconds: p.int(0, "since_seconds"),
	}
	if cfg.tailLines <= 0 || cfg.tailLines > maxLogTailLines {
		p.fail("tail_lines", "must be more than 0 and at most %d, got %d", maxLogTailLines, cfg.tailLines)
	}
	if cfg.maxBytes <= 0 || cfg.maxBytes > maxLogMaxBytes {
		p.fail("max_bytes", "must be more than 0 and at most %d, got %d", maxLogMaxBytes, cfg.maxBytes)
	}
	p.atLeast("since_seconds", cfg.sinceSeconds, 0)
	return cfg, p.err()
}

// Validate checks the parameters.
func (a *Logs) Validate(values map[string]any) error {
	_, err := a.parse(values)
	return err
}

// Describe documents the parameters.
func (a *Logs) Describe() (string, map[string]string) {
	return "Collect the recent logs of a container of the pod into the decision record.", map[string]string{
		"tail_lines":    fmt.Sprintf("number of lines from the end of the log (default %d)", defaultLogTailLines),
		"max_bytes":     fmt.Sprintf("bytes kept at most (default %d); limit_bytes is accepted too", defaultLogMaxBytes),
		"container":     "container to read (default: the alert's container, else the pod's default or only container)",
		"previous":      "read the log of the previous, crashed instance of the container (default false)",
		"since_seconds": "only lines newer than this many seconds (default: no limit)",
	}
}

// Permissions lists the RBAC rules the actionner needs.
func (a *Logs) Permissions() []actionners.Permission {
	return []actionners.Permission{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
		eventPermission,
	}
}

// Run reads the logs.
func (a *Logs) Run(ctx context.Context, req actionners.Request) (actionners.Result, error) {
	r := a.begin(req)
	cfg, err := a.parse(req.Action.Parameters)
	if err != nil {
		return r.finish(ctx, actionners.Result{}, err)
	}
	t, err := podTarget(req)
	if err != nil {
		return r.finish(ctx, noTarget(err), nil)
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

	// Requesting one byte over the limit shows whether the log was cut.
	limit := cfg.maxBytes + 1
	opts := &corev1.PodLogOptions{Container: container, TailLines: &cfg.tailLines, LimitBytes: &limit, Previous: cfg.previous}
	if cfg.sinceSeconds > 0 {
		opts.SinceSeconds = &cfg.sinceSeconds
	}
	var data []byte
	err = a.client.retry(ctx, "get logs", func(ctx context.Context) error {
		stream, err := a.client.Kubernetes.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).Stream(ctx)
		if err != nil {
			return err
		}
		defer stream.Close()
		data, err = io.ReadAll(io.LimitReader(stream, limit))
		return err
	})
	if err != nil {
		return r.finish(ctx, actionners.Result{}, fmt.Errorf("get logs of pod %s/%s container %s: %w", pod.Namespace, pod.Name, container, err))
	}
	truncated := int64(len(data)) > cfg.maxBytes
	if truncated {
		data = data[:cfg.maxBytes]
	}
	collected := succeeded("collected %d bytes of logs of pod %s/%s container %s", len(data), pod.Namespace, pod.Name, container)
	collected.Output = map[string]any{"container": container, "logs": string(data), "tail_lines": cfg.tailLines, "truncated": truncated}
	return r.finish(ctx, collected, nil)
}
