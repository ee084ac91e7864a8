package kubernetes

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/riposte-sec/riposte/actionners"
)

// EventComponent is the source component of the Events the actionners
// record, so that `kubectl get events --field-selector source=riposte` finds
// them.
const EventComponent = "riposte"

// maxEventMessage is the length at which Event messages are cut, the same
// limit client-go's event recorder applies.
const maxEventMessage = 1024

// eventTimeout bounds recording an Event. It is separate from the action's
// context, so that an action that timed out still records its outcome.
const eventTimeout = 5 * time.Second

// recordEvent creates a core/v1 Event on the object describing the action
// and its outcome. Events of cluster-scoped objects, such as nodes, go to the
// default namespace, as the kubelet's do.
func (c *Client) recordEvent(ctx context.Context, ref *corev1.ObjectReference, actionner string, req actionners.Request, res actionners.Result) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eventTimeout)
	defer cancel()

	eventType := corev1.EventTypeNormal
	if res.Outcome == actionners.OutcomeFailed || res.Outcome == actionners.OutcomeRejected {
		eventType = corev1.EventTypeWarning
	}
	message := fmt.Sprintf("%s %s: %s", actionner, res.Outcome, res.Message)
	if req.Alert != nil {
		message += fmt.Sprintf(" (rule %q, alert %s)", req.Alert.Rule, req.Alert.UUID)
	}
	if req.Action.Reason != "" {
		message += ": " + req.Action.Reason
	}
	if len(message) > maxEventMessage {
		message = message[:maxEventMessage-3] + "..."
	}
	namespace := ref.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	now := metav1.Now()
	prefix := ref.Name
	if len(prefix) > 200 {
		prefix = prefix[:200]
	}
	event := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", prefix, now.UnixNano()),
			Namespace: namespace,
		},
		InvolvedObject:      *ref,
		Reason:              eventReason(actionner),
		Message:             message,
		Type:                eventType,
		Source:              corev1.EventSource{Component: EventComponent, Host: c.Instance},
		FirstTimestamp:      now,
		LastTimestamp:       now,
		Count:               1,
		Action:              actionner,
		ReportingController: EventComponent,
		ReportingInstance:   c.Instance,
	}
	err := c.retry(ctx, "create event", func(ctx context.Context) error {
		_, err := c.Kubernetes.CoreV1().Events(namespace).Create(ctx, event, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		c.Logger.Warn("record Kubernetes event failed", "actionner", actionner,
			"object", ref.Kind+" "+ref.Namespace+"/"+ref.Name, "error", err)
		return fmt.Errorf("record event on %s %s/%s: %w", ref.Kind, ref.Namespace, ref.Name, err)
	}
	return nil
}
