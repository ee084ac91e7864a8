package loader

import (
	"strings"
	"testing"
)

func TestCheckPluginRequirements(t *testing.T) {
	req := func(alts ...PluginVersion) PluginRequirement { return PluginRequirement{Alternatives: alts} }
	k := func(v string) PluginVersion { return PluginVersion{Name: "k8saudit", Version: v} }
	tests := []struct {
		name   string
		reqs   []PluginRequirement
		loaded map[string]string
		ok     bool
	}{
		{"same version", []PluginRequirement{req(k("0.1.0"))}, map[string]string{"k8saudit": "0.1.0"}, true},
		{"newer loaded", []PluginRequirement{req(k("0.1.0"))}, map[string]string{"k8saudit": "0.2.0"}, true},
		{"older loaded", []PluginRequirement{req(k("0.2.0"))}, map[string]string{"k8saudit": "0.1.0"}, false},
		{"two entries", []PluginRequirement{req(k("0.1.0")), req(k("0.2.0"))}, map[string]string{"k8saudit": "0.1.0"}, false},
		{"alternative", []PluginRequirement{req(k("0.1.0"), PluginVersion{Name: "k8saudit-eks", Version: "0.1.0"})}, map[string]string{"k8saudit-eks": "0.3.0"}, true},
		{"other major", []PluginRequirement{req(k("0.1.0"))}, map[string]string{"k8saudit": "1.0.0"}, false},
		{"nothing loaded", []PluginRequirement{req(k("0.1.0"))}, nil, false},
	}
	for _, tt := range tests {
		err := CheckPluginRequirements(tt.reqs, tt.loaded)
		if (err == nil) != tt.ok {
			t.Errorf("%s: error = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "Plugin requirement not satisfied, must load one of: k8saudit (>= ") {
			t.Errorf("%s: message %q", tt.name, err)
		}
	}
}

func TestSubstituteList(t *testing.T) {
	li := func(name string, items ...string) *listDef {
		return &listDef{name: name, items: items, compiled: items}
	}
	tests := []struct {
		cond string
		list *listDef
		want string
	}{
		{"proc.name in (shell_binaries)", li("shell_binaries", "ash", "bash"), "proc.name in ( ash, bash )"},
		{"proc.name=cat_binaries", li("cat_binaries", "cat"), "proc.name= cat "},
		{"fd.name in (file_my_list)", li("my_list", "x"), "fd.name in (file_my_list)"},
		{"proc.name in (a, empty)", li("empty"), "proc.name in (a  )"},
		{"proc.name in (empty, a)", li("empty"), "proc.name in (   a)"},
		{"proc.cmdline in (cmds)", li("cmds", "cat /dev/null", `"quoted x"`), `proc.cmdline in ( "cat /dev/null", "quoted x" )`},
		{`proc.args contains " x "`, li("x", "y"), `proc.args contains " y "`},
		{`proc.args contains " x"`, li("x", "y"), `proc.args contains " x"`},
	}
	for _, tt := range tests {
		if got := substituteList(tt.cond, tt.list); got != tt.want {
			t.Errorf("substituteList(%q) = %q, want %q", tt.cond, got, tt.want)
		}
	}
}

func TestConditionDetails(t *testing.T) {
	d := ConditionDetails("(spawned_process or evt.type = open) and (proc.name icontains cat or proc.name in (known_procs, ps))",
		func(s string) bool { return s == "spawned_process" },
		func(s string) bool { return s == "known_procs" })
	check := func(name string, got []string, want string) {
		if strings.Join(got, ",") != want {
			t.Errorf("%s = %v, want %s", name, got, want)
		}
	}
	check("fields", d.Fields, "evt.type,proc.name")
	check("macros", d.Macros, "spawned_process")
	check("operators", d.Operators, "=,icontains,in")
	check("lists", d.Lists, "known_procs")
}
