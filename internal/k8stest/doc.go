// Package k8stest runs a real Kubernetes control plane for integration tests:
// etcd, kube-apiserver, kwok for nodes whose pods reach Running, and a small
// kubelet-compatible server that serves pods/exec and pods/log for pods bound
// to its own node. Everything listens on 127.0.0.1 only.
//
// The binaries come from build-binaries.sh, which builds them from pinned Go
// modules into a cache directory. A test package starts the control plane once
// from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(k8stest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		env := k8stest.Get(t) // skips, or fails when CI=true, without binaries
//		ns := env.Namespace(t)
//		...
//	}
//
// The control plane starts on the first call to [Get], so a test run that
// selects only unit tests starts nothing.
//
// Environment variables:
//
//   - RIPOSTE_K8S_BIN: directory of the binaries, by default the one that
//     build-binaries.sh fills (see [BinDir]).
//   - CI: when "true", a test that calls [Get] fails instead of skipping if
//     the binaries are missing.
//   - RIPOSTE_K8S_KEEP: when "1", the work directory with the logs of etcd,
//     kube-apiserver and kwok is kept after the tests.
package k8stest
