package kubernetes_test

import (
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/riposte-sec/riposte/actionners"
	"github.com/riposte-sec/riposte/actionners/kubernetes"
)

// ExampleClusterRole prints the ClusterRole that `riposte rbac` would print
// for policies that label pods and collect their logs, with Talon's alias
// for the latter.
func ExampleClusterRole() {
	reg, _ := actionners.NewRegistry()
	if err := kubernetes.Register(reg, nil); err != nil {
		panic(err)
	}
	role, err := kubernetes.ClusterRole("riposte-responder", reg, []string{"kubernetes:label", "kubernetes:log"})
	if err != nil {
		panic(err)
	}
	out, _ := yaml.Marshal(role)
	fmt.Print(string(out))
	// Output:
	// apiVersion: rbac.authorization.k8s.io/v1
	// kind: ClusterRole
	// metadata:
	//   labels:
	//     app.kubernetes.io/component: responder
	//     app.kubernetes.io/name: riposte
	//   name: riposte-responder
	// rules:
	// - apiGroups:
	//   - ""
	//   resources:
	//   - events
	//   verbs:
	//   - create
	// - apiGroups:
	//   - ""
	//   resources:
	//   - nodes
	//   verbs:
	//   - get
	//   - patch
	// - apiGroups:
	//   - ""
	//   resources:
	//   - pods
	//   verbs:
	//   - get
	//   - patch
	// - apiGroups:
	//   - ""
	//   resources:
	//   - pods/log
	//   verbs:
	//   - get
}
