package main

import (
	"os"
	"testing"

	"github.com/riposte-sec/riposte/internal/k8stest"
)

// TestMain stops the Kubernetes control plane if a test started it.
func TestMain(m *testing.M) { os.Exit(k8stest.Main(m)) }
