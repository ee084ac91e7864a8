package policies

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/format"
)

func TestWatchReloadsAndKeepsPreviousOnError(t *testing.T) {
	dir := writePolicies(t, map[string]string{"a.rego": "package riposte.policies.a\n\nx := 1\n"})
	first, err := Load(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	reloads := make(chan *Set, 10)
	errs := make(chan error, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, WatchOptions{Dir: dir, Interval: 20 * time.Millisecond, Current: first.Revision(),
			OnReload: func(s *Set) { reloads <- s }, OnError: func(err error) { errs <- err }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	}()

	write := func(text string) {
		// A different size guarantees a new stamp even when the file system's
		// timestamps are coarse.
		if err := os.WriteFile(filepath.Join(dir, "a.rego"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package riposte.policies.a\n\nx := 22\n")
	select {
	case s := <-reloads:
		if s.Revision() == first.Revision() {
			t.Error("reload kept the old revision")
		}
	case err := <-errs:
		t.Fatalf("valid change reported: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no reload after a change")
	}

	write("package riposte.policies.a\n\nx := \n")
	select {
	case s := <-reloads:
		t.Fatalf("broken policy reloaded as %s", s.Revision())
	case err := <-errs:
		if !strings.Contains(err.Error(), "a.rego:") {
			t.Errorf("error does not name the file: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no error after a broken change")
	}
}

func TestWatchReloadLoadsUnchangedPolicies(t *testing.T) {
	dir := writePolicies(t, map[string]string{"a.rego": "package riposte.policies.a\n\nx := 1\n"})
	first, err := Load(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	reloads := make(chan *Set, 10)
	reload := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// An interval of an hour leaves the reload channel as the only cause.
		done <- Watch(ctx, WatchOptions{Dir: dir, Interval: time.Hour, Current: first.Revision(), Reload: reload,
			OnReload: func(s *Set) { reloads <- s }, OnError: func(err error) { t.Errorf("reload: %v", err) }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	}()

	for i := range 2 {
		reload <- struct{}{}
		select {
		case s := <-reloads:
			if s.Revision() != first.Revision() {
				t.Errorf("reload %d: revision %s, want the unchanged %s", i+1, s.Revision(), first.Revision())
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("reload %d: policies not loaded again", i+1)
		}
	}
}

func TestLoadSkipsConfigMapDirectories(t *testing.T) {
	dir := writePolicies(t, map[string]string{"..2024_05_01_12_00_00.1/a.rego": "package riposte.policies.a\n\nx := 1\n"})
	if err := os.Symlink("..2024_05_01_12_00_00.1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/a.rego", filepath.Join(dir, "a.rego")); err != nil {
		t.Fatal(err)
	}
	s, err := Load(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatalf("Load of a ConfigMap layout: %v", err)
	}
	if files := s.Files(); len(files) != 1 || filepath.Base(files[0]) != "a.rego" || strings.Contains(files[0], "..") {
		t.Errorf("Files = %v, want the top-level link alone", files)
	}
}

func TestDefaultPoliciesFormatted(t *testing.T) {
	err := fs.WalkDir(Default(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(Default(), p)
		if err != nil {
			return err
		}
		formatted, err := format.Source(p, src)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		if string(formatted) != string(src) {
			t.Errorf("%s is not formatted as opa fmt would write it:\n%s", p, formatted)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
