# Kubernetes integration tests. Include from the Makefile:
#   include k8stest.mk
#
# k8s-bin builds etcd, kube-apiserver and kwok from pinned Go modules into a
# cache directory (about 10 minutes cold on 2 cores, seconds when cached).
# test-k8s runs the packages whose tests start a control plane from them.

K8S_TEST_PACKAGES ?= ./internal/k8stest/... ./actionners/kubernetes/...

.PHONY: k8s-bin test-k8s

k8s-bin:
	./internal/k8stest/build-binaries.sh

test-k8s: k8s-bin
	RIPOSTE_K8S_BIN="$$(./internal/k8stest/build-binaries.sh)" go test -count=1 -timeout 20m $(K8S_TEST_PACKAGES)
