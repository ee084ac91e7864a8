package charttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// chartDir is the chart under test, relative to this package.
const chartDir = "../../charts/riposte"

// envHelm names the environment variable that points the tests at a helm
// binary instead of building one.
const envHelm = "RIPOSTE_HELM"

// helmBuildTimeout bounds build/helm.sh. A cold build compiles a large part of
// the Kubernetes client libraries and takes minutes on two cores.
const helmBuildTimeout = 20 * time.Minute

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helmBinary returns the path of the helm binary, building it on first use.
// It skips the test when helm cannot be had, or fails it when CI=true.
func helmBinary(t testing.TB) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv(envHelm); p != "" {
			if _, err := exec.LookPath(p); err != nil {
				helmErr = fmt.Errorf("%s=%s is not an executable: %w", envHelm, p, err)
			}
			helmPath = p
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), helmBuildTimeout)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "../../build/helm.sh")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			helmErr = fmt.Errorf("build helm with build/helm.sh: %w\n%s", err, stderr.String())
			return
		}
		helmPath = strings.TrimSpace(stdout.String())
	})
	if helmErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but helm is not available: %v", helmErr)
		}
		t.Skipf("skipping: helm is not available: %v", helmErr)
	}
	return helmPath
}

// helm runs the helm binary and returns its output. Its configuration, cache
// and data directories are under the system temporary directory, so the tests
// never read or change the user's helm repositories and plugins.
func helm(t testing.TB, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	bin := helmBinary(t)
	home := filepath.Join(os.TempDir(), "riposte-charttest-helm-home")
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"),
	)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// writeValues writes values as a YAML file in a temporary directory.
func writeValues(t testing.TB, values map[string]any) string {
	t.Helper()
	data, err := yaml.Marshal(values)
	if err != nil {
		t.Fatalf("encode values: %v", err)
	}
	// Not under t.TempDir: helm splits --values on commas, which test names
	// may contain.
	dir, err := os.MkdirTemp("", "riposte-chart-values-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	file := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// release names the release and namespace the tests render into.
type release struct {
	name      string
	namespace string
}

var testRelease = release{name: "riposte", namespace: "riposte-system"}

// renderErr runs helm template and returns the rendered objects, or helm's
// error output.
func renderErr(t testing.TB, rel release, values map[string]any) ([]*unstructured.Unstructured, error) {
	t.Helper()
	stdout, stderr, err := helm(t, "template", rel.name, chartDir, "--namespace", rel.namespace, "--values", writeValues(t, values))
	if err != nil {
		return nil, fmt.Errorf("helm template: %w\n%s", err, stderr)
	}
	objs, err := decodeManifests(stdout)
	if err != nil {
		return nil, fmt.Errorf("decode helm template output: %w\n%s", err, stdout)
	}
	return objs, nil
}

// render runs helm template and fails the test on any error.
func render(t testing.TB, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	objs, err := renderErr(t, testRelease, values)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// decodeManifests splits a multi-document YAML stream into objects, skipping
// empty documents.
func decodeManifests(text string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" || u.GetName() == "" {
			return nil, fmt.Errorf("rendered document without kind or name: %v", m)
		}
		objs = append(objs, u)
	}
}

// find returns the object of the given kind and name, failing the test when
// it was not rendered.
func find(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	if u := lookup(objs, kind, name); u != nil {
		return u
	}
	t.Fatalf("no %s %q rendered; rendered: %s", kind, name, listObjects(objs))
	return nil
}

// lookup returns the object of the given kind and name, or nil.
func lookup(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, u := range objs {
		if u.GetKind() == kind && u.GetName() == name {
			return u
		}
	}
	return nil
}

// listObjects formats objects as "Kind/name" for messages.
func listObjects(objs []*unstructured.Unstructured) string {
	names := make([]string, len(objs))
	for i, u := range objs {
		names[i] = u.GetKind() + "/" + u.GetName()
	}
	return strings.Join(names, ", ")
}

// convert decodes an unstructured object into a typed one.
func convert[T any](t testing.TB, u *unstructured.Unstructured) *T {
	t.Helper()
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, &out, true); err != nil {
		t.Fatalf("decode %s %s: %v", u.GetKind(), u.GetName(), err)
	}
	return &out
}
