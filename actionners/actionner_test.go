package actionners

import (
	"context"
	"errors"
	"slices"
	"testing"
)

type fakeActionner struct{ name string }

func (f fakeActionner) Name() string                  { return f.name }
func (f fakeActionner) Validate(map[string]any) error { return nil }
func (f fakeActionner) Permissions() []Permission     { return nil }
func (f fakeActionner) Run(context.Context, Request) (Result, error) {
	return Result{Outcome: OutcomeSucceeded}, nil
}

func TestRegistryResolvesNamesAndAliases(t *testing.T) {
	reg, err := NewRegistry(fakeActionner{"kubernetes:isolate"}, fakeActionner{"process:kill"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Alias("kubernetes:networkpolicy", "kubernetes:isolate"); err != nil {
		t.Fatal(err)
	}
	a, err := reg.Get("kubernetes:networkpolicy")
	if err != nil || a.Name() != "kubernetes:isolate" {
		t.Errorf("Get(alias) = %v, %v; want kubernetes:isolate", a, err)
	}
	if got := reg.Names(); !slices.Equal(got, []string{"kubernetes:isolate", "process:kill"}) {
		t.Errorf("Names() = %v, want the registered names without aliases", got)
	}
	if _, err := reg.Get("kubernetes:explode"); !errors.Is(err, ErrUnknownActionner) {
		t.Errorf("Get(unknown) error = %v, want ErrUnknownActionner", err)
	}
}

func TestRegistryRejectsDuplicates(t *testing.T) {
	reg, err := NewRegistry(fakeActionner{"process:kill"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(fakeActionner{"process:kill"}); err == nil {
		t.Error("registering a name twice succeeded")
	}
	if err := reg.Alias("process:kill", "process:kill"); err == nil {
		t.Error("an alias equal to a registered name succeeded")
	}
	if err := reg.Alias("kill", "process:stop"); !errors.Is(err, ErrUnknownActionner) {
		t.Errorf("alias of an unknown name: err = %v, want ErrUnknownActionner", err)
	}
	if err := reg.Alias("kill", "process:kill"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(fakeActionner{"kill"}); err == nil {
		t.Error("registering a name already used as an alias succeeded")
	}
}

func TestTargetString(t *testing.T) {
	tests := []struct {
		target Target
		want   string
	}{
		{Target{Kind: "process", PID: 42}, "process 42"},
		{Target{Kind: "pod", Namespace: "shop", Name: "web-0"}, "pod shop/web-0"},
		{Target{Kind: "node", Node: "worker-1"}, "node worker-1"},
		{Target{}, "none"},
	}
	for _, tt := range tests {
		if got := tt.target.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.target, got, tt.want)
		}
	}
}
