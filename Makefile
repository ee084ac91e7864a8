# Riposte's build. Run `make help` for the list of targets.

GO        ?= go
BIN       ?= bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
PKGS      ?= ./...
# Tests run with a generous timeout because the end-to-end and Kubernetes suites
# start real servers; speed targets live in the benchmarks, not here.
TESTFLAGS ?= -count=1 -timeout 45m
CLANG     ?= clang-16
STRIP     ?= llvm-strip-16

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this list of targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build the static riposte binary into bin/.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/riposte ./cmd/riposte

.PHONY: run
run: build ## Run detection and response on this host with embedded defaults (needs root).
	$(BIN)/riposte run

.PHONY: test
test: k8s-bin helm-bin ## Run every test (as root, so the eBPF and Kubernetes suites run too).
	$(GO) test $(TESTFLAGS) $(PKGS)

.PHONY: k8s-bin
k8s-bin: ## Build etcd, kube-apiserver and kwok for the Kubernetes tests (cached; ~10 min cold).
	./internal/k8stest/build-binaries.sh

.PHONY: helm-bin
helm-bin: ## Build helm from its Go module for the chart tests (cached).
	./build/helm.sh

.PHONY: test-k8s
test-k8s: k8s-bin ## Run only the tests that start a Kubernetes control plane.
	$(GO) test $(TESTFLAGS) ./internal/k8stest/... ./actionners/kubernetes/... ./sensor/k8smeta/... ./internal/charttest/...

.PHONY: image
image: build ## Build the OCI image archive bin/riposte-image.tar without a container engine.
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 0) \
		$(GO) run ./build/image -binary $(BIN)/riposte -out $(BIN)/riposte-image.tar \
		-version $(VERSION) -revision "$$(git rev-parse HEAD 2>/dev/null)"

.PHONY: generate
generate: ## Rebuild the eBPF objects and their Go bindings (needs clang-16 and llvm-16).
	$(GO) generate ./bpf/...

.PHONY: vet
vet: ## Run go vet and staticcheck.
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest $(PKGS)

.PHONY: bench
bench: ## Run the benchmarks once (needs root for the sensor benchmarks).
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m $(PKGS)

.PHONY: clean
clean: ## Remove build output.
	rm -rf $(BIN)
