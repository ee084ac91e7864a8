package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/riposte-sec/riposte/actionners/kubernetes"
	"github.com/riposte-sec/riposte/internal/k8stest"
	"github.com/riposte-sec/riposte/responder"
)

// execTimes reads the JSON lines of `riposte run -o json` and keeps, per
// container id, the kernel time of the exec that the "Shell spawned in a
// container" alert reports and the time the alert was printed, just before
// its publication to NATS.
type execTimes struct {
	mu      sync.Mutex
	partial []byte
	times   map[string]alertTimes
	changed chan struct{}
}

type alertTimes struct {
	exec, printed time.Time
}

func newExecTimes() *execTimes {
	return &execTimes{times: map[string]alertTimes{}, changed: make(chan struct{}, 1)}
}

func (r *execTimes) Write(p []byte) (int, error) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	for {
		i := slices.Index(r.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		var doc struct {
			Rule         string         `json:"rule"`
			Time         time.Time      `json:"time"`
			OutputFields map[string]any `json:"output_fields"`
		}
		if json.Unmarshal(r.partial[:i], &doc) == nil && doc.Rule == "Shell spawned in a container" {
			if id, ok := doc.OutputFields["container.id"].(string); ok {
				r.times[id] = alertTimes{exec: doc.Time, printed: now}
				select {
				case r.changed <- struct{}{}:
				default:
				}
			}
		}
		r.partial = r.partial[i+1:]
	}
}

// wait returns the times of the alert about the container with the short id.
func (r *execTimes) wait(shortID string, timeout time.Duration) (alertTimes, bool) {
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		t, ok := r.times[shortID]
		r.mu.Unlock()
		if ok {
			return t, true
		}
		select {
		case <-r.changed:
		case <-deadline:
			return alertTimes{}, false
		}
	}
}

// pauseBetweenIncidents lets the actionners' client-side rate limiter
// refill between iterations. One iteration sends about eight requests: two
// gets, a patch and an Event for the label, and a get, a create, a patch and
// an Event for the isolation. Once the burst of kubernetes.DefaultBurst is
// spent, eight requests take 400 ms at kubernetes.DefaultQPS (20 per second).
const pauseBetweenIncidents = 500 * time.Millisecond

// BenchmarkExecToNetworkPolicy runs the pipeline of `riposte run`, acting,
// against a real kube-apiserver. Each iteration runs a new pod on the kwok
// node, execs a shell in the cgroup of its container and waits until a
// watch on NetworkPolicies reports the pod's isolation policy. Pod set-up
// is not timed. It reports p50 and p99 in milliseconds of three spans. The
// first runs from the exec (the kernel's event time in the alert) to the
// watch event, and the second from just before the shell is started to the
// watch event. The third runs from the exec to the alert's publication.
//
// The paced case leaves the client-side rate limiter time to refill, as
// between separate incidents. The back-to-back case starts the next shell
// as soon as the next pod is set up, about 100 ms after the previous
// isolation here, and so measures the rate limiter.
func BenchmarkExecToNetworkPolicy(b *testing.B) {
	b.Run("paced", func(b *testing.B) { benchmarkExecToNetworkPolicy(b, pauseBetweenIncidents) })
	b.Run("back-to-back", func(b *testing.B) { benchmarkExecToNetworkPolicy(b, 0) })
}

func benchmarkExecToNetworkPolicy(b *testing.B, pause time.Duration) {
	requireRoot(b)
	env := k8stest.Get(b)
	ns := env.Namespace(b)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watcher, err := env.Client().NetworkingV1().NetworkPolicies(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatalf("watch NetworkPolicies: %v", err)
	}
	defer watcher.Stop()
	created := make(chan string, 1024)
	go func() {
		for ev := range watcher.ResultChan() {
			if policy, ok := ev.Object.(*networkingv1.NetworkPolicy); ok && ev.Type == watch.Added {
				created <- policy.Name
			}
		}
	}()

	execs := newExecTimes()
	cfg := hostConfig{
		DefaultRules: true,
		Output:       "json",
		Kubeconfig:   env.KubeconfigPath(),
		NodeName:     k8stest.KwokNode,
		// The pipeline acts on this host too: keep process:kill from
		// killing other programs that the default policies match, such as
		// test binaries run from /tmp.
		DryRunActionners: []string{"process:kill"},
		// Every iteration acts on a new pod; the rate limit would otherwise
		// trip the circuit breaker and turn actions into dry runs.
		tuneGuards: func(g *responder.GuardOptions) { g.RateLimit = -1 },
	}
	p, err := startHost(ctx, cfg, execs, testLogger())
	if err != nil {
		b.Fatalf("start pipeline: %v", err)
	}
	defer p.Close()

	var fromExec, fromStart, toAlert []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		pod, containerID := runKwokPod(b, env, ns, fmt.Sprintf("web-%d", i), map[string]string{"app": "web"})
		waitPodMetadata(b, p, containerID)
		cmd := exec.Command("/bin/sh", "-c", shellInPodScript(b, string(pod.UID), containerID))
		want := kubernetes.IsolationPolicyName(pod.Name)
		time.Sleep(pause)
		b.StartTimer()

		start := time.Now()
		if output, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("run shell in container cgroup: %v: %s", err, output)
		}
		var seen time.Time
		for seen.IsZero() {
			select {
			case name := <-created:
				if name == want {
					seen = time.Now()
				}
			case <-time.After(e2eTimeout):
				b.Fatalf("NetworkPolicy %s/%s not created within %v", ns, want, e2eTimeout)
			}
		}

		b.StopTimer()
		times, ok := execs.wait(containerID[:12], e2eTimeout)
		if !ok {
			b.Fatalf("no alert for the shell in pod %s/%s", ns, pod.Name)
		}
		fromExec = append(fromExec, seen.Sub(times.exec))
		toAlert = append(toAlert, times.printed.Sub(times.exec))
		fromStart = append(fromStart, seen.Sub(start))
		b.StartTimer()
	}
	b.StopTimer()

	b.ReportMetric(percentile(fromExec, 0.50), "exec-to-netpol-p50-ms")
	b.ReportMetric(percentile(fromExec, 0.99), "exec-to-netpol-p99-ms")
	b.ReportMetric(percentile(fromStart, 0.50), "start-to-netpol-p50-ms")
	b.ReportMetric(percentile(fromStart, 0.99), "start-to-netpol-p99-ms")
	b.ReportMetric(percentile(toAlert, 0.50), "exec-to-alert-p50-ms")
	b.ReportMetric(percentile(toAlert, 0.99), "exec-to-alert-p99-ms")
}
