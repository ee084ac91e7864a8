package bpf

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// generateArgs returns the bpf2go arguments of the go:generate line in
// gen.go, so the test builds exactly as `go generate` does.
func generateArgs(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("gen.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "//go:generate go tool bpf2go "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatal("gen.go has no go:generate line running bpf2go")
	return nil
}

// TestObjectsReproducible rebuilds the BPF objects from the C sources and
// fails when they differ from the committed ones, which means the sources
// changed without `go generate ./bpf`.
func TestObjectsReproducible(t *testing.T) {
	args := generateArgs(t)
	for i := 0; i+1 < len(args); i++ {
		if args[i] != "-cc" && args[i] != "-strip" {
			continue
		}
		if _, err := exec.LookPath(args[i+1]); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found; install clang-16 and llvm-16", args[i+1])
			}
			t.Skipf("%s not found; install clang-16 and llvm-16 to run this test", args[i+1])
		}
	}

	out := t.TempDir()
	goArgs := append([]string{"tool", "bpf2go", "-output-dir", out}, args...)
	cmd := exec.Command("go", goArgs...)
	cmd.Env = append(os.Environ(), "GOPACKAGE=bpf", "GOFILE=gen.go")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(goArgs, " "), err, msg)
	}

	built, err := filepath.Glob(filepath.Join(out, "*"))
	if err != nil || len(built) == 0 {
		t.Fatalf("bpf2go wrote no files to %s (err %v)", out, err)
	}
	for _, path := range built {
		name := filepath.Base(path)
		fresh, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s is generated but not committed: %v", name, err)
			continue
		}
		if !bytes.Equal(fresh, committed) {
			t.Errorf("%s differs from a fresh build; run `go generate ./bpf` and commit the result", name)
		}
	}
}
