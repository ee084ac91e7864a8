// Package kubernetes implements the actionners that act through the
// Kubernetes API: kubernetes:terminate, kubernetes:label,
// kubernetes:annotate, kubernetes:isolate, kubernetes:exec, kubernetes:logs,
// kubernetes:cordon, kubernetes:drain and kubernetes:delete. Falco Talon's
// names are registered as aliases, and its parameter names are accepted where
// their meaning is the same.
//
// Every actionner validates its parameters with Validate, declares the RBAC
// rules it needs with Permissions, and records a Kubernetes Event on its
// target that describes the action and its outcome. [ClusterRole] builds the
// minimal ClusterRole for a set of actionners, and [LoadConfig] loads client
// configuration the way kubectl does.
//
// A typical setup:
//
//	cfg, err := kubernetes.LoadConfig(kubernetes.ConfigOptions{Kubeconfig: path})
//	client, err := kubernetes.NewClient(cfg, logger)
//	err = kubernetes.Register(registry, client)
package kubernetes
