// Package charttest tests the riposte Helm chart in charts/riposte. It runs
// helm lint and helm template over a matrix of values and checks the RBAC
// rules, the bundled NATS configuration and the README's list of values.
// Against a real kube-apiserver with kwok nodes, it dry-runs every rendered
// object on the server and does a full helm install.
//
// The tests run the helm binary that build/helm.sh builds from the Helm Go
// module into a cache directory, or the one named by RIPOSTE_HELM. When helm
// cannot be built they skip, or fail when CI=true.
package charttest
