package target

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/alert"
)

// FuzzPod checks that any output field values give either a target with
// valid Kubernetes names or ErrNoTarget, never a panic or a target built from
// an invalid name.
func FuzzPod(f *testing.F) {
	f.Add("shop", "web-7d9c", "nginx", "node-1")
	f.Add("<NA>", "", "host", "")
	f.Add("kube-system", "../../etc/passwd", "app", "a b")
	f.Add("UPPER", "pod", "c", "node.example.com")
	f.Fuzz(func(t *testing.T, ns, pod, container, host string) {
		a := &alert.Alert{Rule: "r", Hostname: host, OutputFields: map[string]any{
			FieldNamespace: ns, FieldPod: pod, FieldContainerName: container,
		}}
		got, err := Pod(a)
		if err != nil {
			if !errors.Is(err, actionners.ErrNoTarget) {
				t.Fatalf("error = %v, want ErrNoTarget", err)
			}
			return
		}
		if len(validation.IsDNS1123Label(got.Namespace)) > 0 {
			t.Errorf("invalid namespace %q accepted", got.Namespace)
		}
		if len(validation.IsDNS1123Subdomain(got.Name)) > 0 {
			t.Errorf("invalid pod name %q accepted", got.Name)
		}
		if got.Container != "" && len(validation.IsDNS1123Label(got.Container)) > 0 {
			t.Errorf("invalid container name %q accepted", got.Container)
		}
	})
}
