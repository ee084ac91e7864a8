package rules_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/riposte-sec/riposte/rules"
)

// corpusDir returns the directory of the upstream Falco rule files, from
// RIPOSTE_TEST_CORPUS. Without it the test skips, except under CI=true,
// where it fails.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("RIPOSTE_TEST_CORPUS")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIPOSTE_TEST_CORPUS is not set; CI must point it at the falco-rules corpus")
		}
		t.Skip("RIPOSTE_TEST_CORPUS is not set")
	}
	return dir
}

func corpusFiles(t testing.TB, names ...string) []rules.File {
	t.Helper()
	dir := corpusDir(t)
	var files []rules.File
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatalf("read corpus file: %v", err)
		}
		files = append(files, rules.File{Name: n, Content: data})
	}
	return files
}

func TestCorpusLoads(t *testing.T) {
	tests := []struct {
		name                 string
		files                []string
		lists, macros, rules int
	}{
		{"stable", []string{"falco_rules.yaml"}, 49, 87, 25},
		{"stable+incubating", []string{"falco_rules.yaml", "falco-incubating_rules.yaml"}, 83, 157, 56},
		{"stable+incubating+sandbox", []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"}, 118, 315, 93},
		{"deprecated", []string{"falco-deprecated_rules.yaml"}, 9, 6, 4},
		{"k8s audit", []string{"k8s_audit_rules.yaml"}, 18, 45, 48},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng, res, err := rules.Load(rules.Options{}, corpusFiles(t, tt.files...)...)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if res.Lists != tt.lists || res.Macros != tt.macros || res.Rules != tt.rules {
				t.Errorf("counts = %d lists, %d macros, %d rules; want %d, %d, %d", res.Lists, res.Macros, res.Rules, tt.lists, tt.macros, tt.rules)
			}
			if len(eng.Rules()) != tt.rules {
				t.Errorf("engine has %d rules, want %d", len(eng.Rules()), tt.rules)
			}
			for _, w := range res.Warnings {
				t.Logf("warning: %s", w)
			}
		})
	}
}
