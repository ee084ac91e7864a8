// Package charttest tests the riposte Helm chart in charts/riposte: helm lint
// and helm template over a matrix of values, the RBAC rules the values
// produce, the bundled NATS configuration, the README's list of values, and,
// against a real kube-apiserver with kwok nodes, a server-side dry run of
// every rendered object and a full helm install.
//
// The tests run the helm binary that build/helm.sh builds from the Helm Go
// module into a cache directory, or the one named by RIPOSTE_HELM. When helm
// cannot be built they skip, or fail when CI=true.
package charttest
