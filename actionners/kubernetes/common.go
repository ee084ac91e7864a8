package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes/target"
)

// errNoClient is returned by Run of an actionner made without a client, as
// for listing actionners and their permissions.
var errNoClient = errors.New("no Kubernetes client configured")

// base holds what every actionner of this package shares.
type base struct {
	name   string
	client *Client
}

// Name returns the registered name.
func (b base) Name() string { return b.name }

// podTarget returns the pod an action applies to: the action's target when
// the policy set one, otherwise the pod that the alert names.
func podTarget(req actionners.Request) (actionners.Target, error) {
	t := req.Action.Target
	switch t.Kind {
	case target.KindPod:
		if t.Namespace == "" || t.Name == "" {
			return t, fmt.Errorf("%w: %s needs both a namespace and a name", actionners.ErrNoTarget, t)
		}
		return t, nil
	case "":
		return target.Pod(req.Alert)
	default:
		return t, fmt.Errorf("%w: %s acts on pods, not on %s", actionners.ErrNoTarget, req.Action.Actionner, t)
	}
}

// run is one execution of an actionner. It times the action and, once the
// action names the object it acted on, records an Event there.
type run struct {
	client    *Client
	actionner string
	req       actionners.Request
	start     time.Time
	object    *corev1.ObjectReference
}

func (b base) begin(req actionners.Request) *run {
	return &run{client: b.client, actionner: b.name, req: req, start: time.Now()}
}

// finish sets the result's duration, records the Event on the object the run
// acted on, if any, and returns the result with err. A failed outcome without
// a message takes err's text.
func (r *run) finish(ctx context.Context, res actionners.Result, err error) (actionners.Result, error) {
	if err != nil && res.Outcome == "" {
		res.Outcome = actionners.OutcomeFailed
	}
	if err != nil && res.Message == "" {
		res.Message = err.Error()
	}
	if r.object != nil && r.client != nil && res.Outcome != actionners.OutcomeNoTarget {
		if eventErr := r.client.recordEvent(ctx, r.object, r.actionner, r.req, res); eventErr != nil {
			if res.Output == nil {
				res.Output = map[string]any{}
			}
			res.Output["event_error"] = eventErr.Error()
		}
	}
	res.Duration = time.Since(r.start)
	return res, err
}

func noTarget(err error) actionners.Result {
	return actionners.Result{Outcome: actionners.OutcomeNoTarget, Message: err.Error()}
}

func skipped(format string, args ...any) actionners.Result {
	return actionners.Result{Outcome: actionners.OutcomeSkipped, Message: fmt.Sprintf(format, args...)}
}

func rejected(format string, args ...any) actionners.Result {
	return actionners.Result{Outcome: actionners.OutcomeRejected, Message: fmt.Sprintf(format, args...)}
}

func succeeded(format string, args ...any) actionners.Result {
	return actionners.Result{Outcome: actionners.OutcomeSucceeded, Message: fmt.Sprintf(format, args...)}
}

// getPod reads the pod of t. A pod that does not exist gives a skipped result
// and a nil pod, because there is nothing left to act on.
func (b base) getPod(ctx context.Context, t actionners.Target) (*corev1.Pod, *actionners.Result, error) {
	if b.client == nil || b.client.Kubernetes == nil {
		return nil, nil, errNoClient
	}
	var pod *corev1.Pod
	err := b.client.retry(ctx, "get pod", func(ctx context.Context) error {
		var err error
		pod, err = b.client.Kubernetes.CoreV1().Pods(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		res := skipped("pod %s/%s not found: it may already be deleted", t.Namespace, t.Name)
		return nil, &res, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get pod %s/%s: %w", t.Namespace, t.Name, err)
	}
	return pod, nil, nil
}

func podRef(pod *corev1.Pod) *corev1.ObjectReference {
	return &corev1.ObjectReference{
		APIVersion: "v1", Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name,
		UID: pod.UID, ResourceVersion: pod.ResourceVersion,
	}
}

func nodeRef(node *corev1.Node) *corev1.ObjectReference {
	return &corev1.ObjectReference{
		APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID, ResourceVersion: node.ResourceVersion,
	}
}

// controllerOf returns the pod's controlling owner, or nil for a standalone
// pod.
func controllerOf(pod *corev1.Pod) *metav1.OwnerReference {
	return metav1.GetControllerOf(pod)
}

// isMirrorPod reports whether the pod is the API server's copy of a static
// pod. Deleting it does not stop the pod, which the kubelet runs from a file.
func isMirrorPod(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]
	return ok
}

// eventReason turns "kubernetes:terminate" into "RiposteTerminate".
func eventReason(actionner string) string {
	name := actionner
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	b.WriteString("Riposte")
	upper := true
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
