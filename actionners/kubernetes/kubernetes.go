package kubernetes

import (
	"fmt"
	"sort"

	"github.com/riposte-sec/riposte/actionners"
)

// Registered names of the actionners.
const (
	NameTerminate = "kubernetes:terminate"
	NameLabel     = "kubernetes:label"
	NameAnnotate  = "kubernetes:annotate"
	NameIsolate   = "kubernetes:isolate"
	NameExec      = "kubernetes:exec"
	NameLogs      = "kubernetes:logs"
	NameCordon    = "kubernetes:cordon"
	NameDrain     = "kubernetes:drain"
	NameDelete    = "kubernetes:delete"
)

// Aliases maps Falco Talon's actionner names to the names here.
// kubernetes:script runs a script the way Talon's does, through the exec
// actionner's script parameter.
var Aliases = map[string]string{
	"kubernetes:networkpolicy": NameIsolate,
	"kubernetes:log":           NameLogs,
	"kubernetes:annotation":    NameAnnotate,
	"kubernetes:labelize":      NameLabel,
	"kubernetes:script":        NameExec,
}

// New returns every Kubernetes actionner, acting through client. A nil
// client gives actionners that can validate, describe and list their
// permissions but fail to run.
func New(client *Client) []actionners.Actionner {
	return []actionners.Actionner{
		&Terminate{base{NameTerminate, client}},
		&Metadata{base{NameLabel, client}, "labels"},
		&Metadata{base{NameAnnotate, client}, "annotations"},
		&Isolate{base{NameIsolate, client}},
		&Exec{base{NameExec, client}},
		&Logs{base{NameLogs, client}},
		&Cordon{base{NameCordon, client}},
		&Drain{base{NameDrain, client}},
		&Delete{base{NameDelete, client}},
	}
}

// Register adds every Kubernetes actionner and the Falco Talon aliases to
// reg.
func Register(reg *actionners.Registry, client *Client) error {
	for _, a := range New(client) {
		if err := reg.Register(a); err != nil {
			return err
		}
	}
	aliases := make([]string, 0, len(Aliases))
	for alias := range Aliases {
		aliases = append(aliases, alias)
	}
	sort.Strings(aliases)
	for _, alias := range aliases {
		if err := reg.Alias(alias, Aliases[alias]); err != nil {
			return fmt.Errorf("register Kubernetes actionners: %w", err)
		}
	}
	return nil
}

// Info describes one actionner for `riposte actionners list`.
type Info struct {
	Name        string                  `json:"name"`
	Aliases     []string                `json:"aliases,omitempty"`
	Summary     string                  `json:"summary"`
	Parameters  map[string]string       `json:"parameters"`
	Permissions []actionners.Permission `json:"permissions"`
}

// Catalog describes every Kubernetes actionner, sorted by name.
func Catalog() []Info {
	list := New(nil)
	infos := make([]Info, 0, len(list))
	for _, a := range list {
		info := Info{Name: a.Name(), Permissions: a.Permissions()}
		if d, ok := a.(actionners.Describer); ok {
			info.Summary, info.Parameters = d.Describe()
		}
		for alias, name := range Aliases {
			if name == a.Name() {
				info.Aliases = append(info.Aliases, alias)
			}
		}
		sort.Strings(info.Aliases)
		infos = append(infos, info)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos
}
