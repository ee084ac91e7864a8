package charttest

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPodSecurityLevels creates each workload's pod, as a server-side dry
// run, in namespaces that enforce a Pod Security Standard: the responder and
// NATS pods must pass "restricted", and the sensor must need "privileged".
func TestPodSecurityLevels(t *testing.T) {
	c := newCluster(t)
	objs := render(t, nil)
	sts := convert[appsv1.StatefulSet](t, find(t, objs, "StatefulSet", "riposte-nats"))
	natsTemplate := sts.Spec.Template
	// The StatefulSet controller adds a volume per claim template.
	for _, claim := range sts.Spec.VolumeClaimTemplates {
		natsTemplate.Spec.Volumes = append(natsTemplate.Spec.Volumes, corev1.Volume{
			Name:         claim.Name,
			VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name + "-riposte-nats-0"}},
		})
	}
	templates := map[string]corev1.PodTemplateSpec{
		"responder": convert[appsv1.Deployment](t, find(t, objs, "Deployment", "riposte-responder")).Spec.Template,
		"nats":      natsTemplate,
		"sensor":    convert[appsv1.DaemonSet](t, find(t, objs, "DaemonSet", "riposte-sensor")).Spec.Template,
	}
	tests := []struct {
		workload string
		level    string
		admitted bool
	}{
		{"responder", "restricted", true},
		{"nats", "restricted", true},
		{"sensor", "baseline", false},
		{"sensor", "privileged", true},
	}
	for _, tt := range tests {
		t.Run(tt.workload+" "+tt.level, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
			defer cancel()
			ns := c.env.Namespace(t)
			client := c.env.Client()
			namespace, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if namespace.Labels == nil {
				namespace.Labels = map[string]string{}
			}
			namespace.Labels["pod-security.kubernetes.io/enforce"] = tt.level
			if _, err := client.CoreV1().Namespaces().Update(ctx, namespace, metav1.UpdateOptions{}); err != nil {
				t.Fatalf("label namespace %s: %v", ns, err)
			}

			tmpl := templates[tt.workload]
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: tt.workload, Namespace: ns, Labels: tmpl.Labels},
				Spec:       *tmpl.Spec.DeepCopy(),
			}
			_, err = client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			switch {
			case tt.admitted && err != nil:
				t.Errorf("%s pod rejected under %s: %v", tt.workload, tt.level, err)
			case !tt.admitted && err == nil:
				t.Errorf("%s pod admitted under %s", tt.workload, tt.level)
			case !tt.admitted && !strings.Contains(err.Error(), "violates PodSecurity"):
				t.Errorf("%s pod rejected under %s for another reason: %v", tt.workload, tt.level, err)
			}
		})
	}
}
