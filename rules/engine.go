package rules

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules/evttype"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/rules/filter"
	"github.com/riposte-sec/riposte/rules/loader"
)

// EngineVersion is the Falco engine version this engine implements, checked
// against the required_engine_version items of rules files.
const EngineVersion = loader.EngineVersion

// Event is one syscall event; see package fields for the extractor contract.
type Event = fields.Event

// File is one rules file: its name (used in messages) and its YAML content.
type File = loader.File

// Result is the outcome of a load: every error and warning, in order.
type Result = loader.Result

// Message is one error or warning of a load, with Falco's code and the
// file, line, column and item it is about.
type Message = loader.Message

// LoadError is the error Load returns when a file does not load.
type LoadError = loader.LoadError

// Details lists the fields, macros, operators and lists a condition uses.
type Details = loader.Details

// AppendOutput is one entry of Options.AppendOutput.
type AppendOutput = loader.AppendOutput

// PluginRequirement is one required_plugin_versions entry of the files.
type PluginRequirement = loader.PluginRequirement

// CheckPluginRequirements checks the plugin requirements of a load
// (Result.PluginRequirements) against loaded plugin versions, with Falco's
// rules. Load checks them against BuiltinPlugins instead.
func CheckPluginRequirements(reqs []PluginRequirement, loaded map[string]string) error {
	return loader.CheckPluginRequirements(reqs, loaded)
}

// WarnPluginMissing is the code of the warning for a plugin requirement
// that no plugin of BuiltinPlugins meets.
const WarnPluginMissing = loader.WarnPluginMissing

// BuiltinPlugins are the Falco plugins whose fields the engine implements
// itself: the container plugin, which gives newer Falco versions their
// container.* and k8s.* fields. A required_plugin_versions entry naming one
// of them is met whatever version it requires. A field that the engine lacks
// still fails the load as an unknown field.
var BuiltinPlugins = []string{"container"}

// pluginWarnings returns a LOAD_PLUGIN_MISSING warning for each plugin
// requirement in reqs that no plugin of BuiltinPlugins meets.
func pluginWarnings(reqs []PluginRequirement) []Message {
	var out []Message
	for _, req := range reqs {
		met := false
		alternatives := make([]string, len(req.Alternatives))
		for i, alt := range req.Alternatives {
			met = met || slices.Contains(BuiltinPlugins, alt.Name)
			alternatives[i] = alt.Name + " (>= " + alt.Version + ")"
		}
		if met {
			continue
		}
		out = append(out, Message{
			Code: WarnPluginMissing,
			Text: "Plugin requirement not satisfied: Riposte does not load plugins and has none of " +
				strings.Join(alternatives, ", ") + " built in, so rules that need its fields or event source never match",
			File:     req.File,
			Line:     req.Line,
			Column:   req.Column,
			ItemType: "required_plugin_versions",
		})
	}
	return out
}

// Matching selects which matching rules Match reports.
type Matching uint8

// Rule matching modes, as Falco's rule_matching setting.
const (
	// MatchFirst reports only the first matching rule, in rule order: Falco's
	// default.
	MatchFirst Matching = iota
	// MatchAll reports every matching rule, in rule order.
	MatchAll
)

// Selection is one entry of the rules list of falco.yaml. It enables, or
// disables, the rules whose name matches Rule, a pattern in which * matches
// any text, and the rules that have the tag Tag. An empty Rule or Tag
// selects no rule.
type Selection struct {
	Enable bool
	Rule   string
	Tag    string
}

// Options configure a load. The zero value loads every rule with Falco's
// defaults.
type Options struct {
	// Logger receives load warnings at debug level; nil discards them.
	Logger *slog.Logger
	// MinPriority, when set, is the least severe priority a rule may have
	// to be enabled, as Falco's priority setting. Rules less severe load but
	// stay disabled. Nil enables every priority. It is a pointer because the
	// zero Priority is PriorityEmergency, which is a valid setting.
	MinPriority *alert.Priority
	// Matching selects first-match (the default) or all-matches reporting.
	Matching Matching
	// MatchLast names files whose rules match after the rules of every
	// other file, in their own order, although they load first. Rules that
	// ship with a product go there, so that with first-match reporting they
	// never take an event from a rule of the user's files.
	MatchLast []string
	// DisabledTags disables every rule that has any of these tags.
	DisabledTags []string
	// EnabledTags, when not empty, enables only the rules that have one of
	// these tags, including rules the files disable.
	EnabledTags []string
	// DisabledRules disables every rule whose name contains one of these
	// substrings.
	DisabledRules []string
	// Selection enables and disables rules in order, after the tag and name
	// settings above, as the rules list of falco.yaml does.
	Selection []Selection
	// SuggestedOutput appends the container and Kubernetes fields Falco
	// suggests (" container_id=%container.id container_name=%container.name
	// container_image_repository=... k8s_pod_name=... k8s_ns_name=...") to
	// the output of every syscall rule, skipping fields it already prints, as
	// Falco's default suggested_output setting does.
	SuggestedOutput bool
	// AppendOutput adds text and output fields to the outputs of the rules
	// each entry selects, as Falco's append_output setting does.
	AppendOutput []AppendOutput
	// TimeFormatISO8601 prints alert times as UTC ISO 8601
	// (2016-08-04T16:17:57.882054739+0000) instead of local HH:MM:SS.nnnnnnnnn.
	TimeFormatISO8601 bool
}

// Engine contains compiled rules and matches events against them. It is
// immutable and safe for concurrent use.
type Engine struct {
	rules   []*Rule
	byName  map[string]*Rule
	byType  [evttype.Count + 1][]*Rule
	types   evttype.Set
	opts    Options
	macros  map[string]bool
	lists   map[string]bool
	scratch sync.Pool
}

// Load loads files in order into one engine. The returned Result lists every
// warning, and the error as a Message too. The error, a *LoadError, is
// non-nil when a file failed to load; the Engine is then nil.
func Load(opts Options, files ...File) (*Engine, *Result, error) {
	set, res := loader.Load(loader.Options{SuggestedOutput: opts.SuggestedOutput, AppendOutput: opts.AppendOutput}, files...)
	if err := res.Err(); err != nil {
		return nil, res, err
	}
	res.Warnings = append(res.Warnings, pluginWarnings(res.PluginRequirements)...)
	if opts.Logger != nil {
		for _, w := range res.Warnings {
			opts.Logger.Debug("rules load warning", "warning", w.String())
		}
	}
	return newEngine(opts, set), res, nil
}

// LoadFiles reads the files at paths and loads them in order, as Load does.
// A directory stands for its .yaml and .yml files in name order, as in
// Falco's rules_files setting. A file that cannot be read fails the load
// with LOAD_ERR_FILE_READ.
func LoadFiles(opts Options, paths ...string) (*Engine, *Result, error) {
	var files []File
	for _, p := range paths {
		names, err := expandPath(p)
		if err != nil {
			res, err := readFailure(p, err)
			return nil, res, err
		}
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				res, err := readFailure(name, err)
				return nil, res, err
			}
			files = append(files, File{Name: name, Content: data})
		}
	}
	return Load(opts, files...)
}

// expandPath returns path, or the rules files of the directory path in name
// order.
func expandPath(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			out = append(out, filepath.Join(path, e.Name()))
		}
	}
	return out, nil
}

func readFailure(path string, err error) (*Result, error) {
	res := &Result{}
	res.Errors = append(res.Errors, Message{
		Code: loader.ErrFileRead, Text: fmt.Sprintf("read rules file: %v", err), File: path,
	})
	return res, res.Err()
}

func newEngine(opts Options, set *loader.Ruleset) *Engine {
	e := &Engine{opts: opts, byName: make(map[string]*Rule, len(set.Rules)), macros: map[string]bool{}, lists: map[string]bool{}}
	for _, m := range set.Macros {
		e.macros[m] = true
	}
	for _, l := range set.Lists {
		e.lists[l] = true
	}
	e.scratch.New = func() any { return filter.NewScratch() }
	for _, lr := range set.Rules {
		r := &Rule{
			Name:            lr.Name,
			Desc:            lr.Desc,
			Condition:       lr.Condition,
			Output:          lr.Output,
			Priority:        lr.Priority,
			Source:          lr.Source,
			Tags:            lr.Tags,
			EventTypes:      lr.EventTypes,
			Capture:         lr.Capture,
			CaptureDuration: lr.CaptureDuration,
			Compiled:        lr.Compiled(),
			rule:            lr,
			filter:          lr.Filter,
			iso:             opts.TimeFormatISO8601,
		}
		r.Enabled = e.enabled(lr)
		e.rules = append(e.rules, r)
		e.byName[r.Name] = r
	}
	for _, last := range []bool{false, true} {
		for _, r := range e.rules {
			if !r.Enabled || slices.Contains(opts.MatchLast, r.rule.File) != last {
				continue
			}
			// Like Falco, a rule that applies to every event type is indexed
			// under each of them, so that it keeps its place in rule order.
			for _, t := range r.EventTypes.Types() {
				e.byType[t] = append(e.byType[t], r)
			}
			e.types = e.types.Union(r.EventTypes)
		}
	}
	return e
}

func (e *Engine) enabled(lr *loader.Rule) bool {
	if lr.Filter == nil || (e.opts.MinPriority != nil && lr.Priority > *e.opts.MinPriority) {
		return false
	}
	on := lr.Enabled
	if len(e.opts.EnabledTags) > 0 {
		on = hasAnyTag(lr.Tags, e.opts.EnabledTags)
	}
	if hasAnyTag(lr.Tags, e.opts.DisabledTags) {
		on = false
	}
	for _, s := range e.opts.DisabledRules {
		if strings.Contains(lr.Name, s) {
			on = false
		}
	}
	for _, sel := range e.opts.Selection {
		if (sel.Rule != "" && matchWildcard(sel.Rule, lr.Name)) || (sel.Tag != "" && slices.Contains(lr.Tags, sel.Tag)) {
			on = sel.Enable
		}
	}
	return on
}

// matchWildcard reports whether name matches pattern, in which * matches
// any text, including none, and every other character matches itself.
func matchWildcard(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(name, part)
		if i < 0 {
			return false
		}
		name = name[i+len(part):]
	}
	return strings.HasSuffix(name, last)
}

func hasAnyTag(tags, want []string) bool {
	for _, t := range tags {
		for _, w := range want {
			if t == w {
				return true
			}
		}
	}
	return false
}

// Rules returns every loaded rule in Falco's rule order (order of first
// definition), including disabled rules and rules of sources this engine
// does not have. The caller must not modify them.
func (e *Engine) Rules() []*Rule { return e.rules }

// Details returns the fields, macros, operators and lists that the rule's
// condition uses, as written in the rules files.
func (e *Engine) Details(r *Rule) Details {
	isMacro := func(s string) bool { return e.macros[s] }
	isList := func(s string) bool { return e.lists[s] }
	return loader.ConditionDetails(r.Condition, isMacro, isList)
}

// Rule returns the rule named name, or nil.
func (e *Engine) Rule(name string) *Rule { return e.byName[name] }

// Fields returns the field references that the conditions and outputs of
// the enabled rules read, each once, sorted by text. A sensor may skip
// computing fields that no rule reads.
func (e *Engine) Fields() []*fields.Ref {
	seen := map[string]*fields.Ref{}
	for _, r := range e.rules {
		if !r.Enabled {
			continue
		}
		for _, ref := range r.rule.Filter.Fields() {
			seen[ref.Text] = ref
		}
		for _, ref := range r.rule.Format.Fields() {
			seen[ref.Text] = ref
		}
		for _, f := range r.rule.Extra {
			for _, ref := range f.Fields() {
				seen[ref.Text] = ref
			}
		}
		if r.rule.ExtraFields != nil {
			for _, ref := range r.rule.ExtraFields.Fields() {
				seen[ref.Text] = ref
			}
		}
	}
	out := make([]*fields.Ref, 0, len(seen))
	for _, ref := range seen {
		out = append(out, ref)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Text < out[j].Text })
	return out
}

// Values returns the values that the conditions of the enabled rules
// compare the field id with, each once, sorted; see filter.Filter.Values.
func (e *Engine) Values(id fields.ID) []string {
	var out []string
	for _, r := range e.rules {
		if r.Enabled {
			out = append(out, r.rule.Filter.Values(id)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// EventTypes returns the union of the event types of the enabled rules: the
// syscalls a sensor must capture.
func (e *Engine) EventTypes() evttype.Set { return e.types }

// Match evaluates ev against the enabled rules whose event types include
// the event's type, in rule order, and appends the matching rules to dst.
// With MatchFirst (the default) it appends at most one rule. Match is safe
// for concurrent use because it takes its scratch state from a pool.
func (e *Engine) Match(ev Event, dst []*Rule) []*Rule {
	s := e.scratch.Get().(*filter.Scratch)
	dst = e.match(ev, dst, s)
	e.scratch.Put(s)
	return dst
}

// Matcher matches events with scratch state of its own, which saves the pool
// round trip of Engine.Match. It is not safe for concurrent use: give each
// goroutine that reads events its own Matcher.
type Matcher struct {
	e *Engine
	s *filter.Scratch
}

// NewMatcher returns a Matcher for the engine's rules.
func (e *Engine) NewMatcher() *Matcher {
	return &Matcher{e: e, s: filter.NewScratch()}
}

// Match does what Engine.Match does.
func (m *Matcher) Match(ev Event, dst []*Rule) []*Rule {
	return m.e.match(ev, dst, m.s)
}

func (e *Engine) match(ev Event, dst []*Rule, s *filter.Scratch) []*Rule {
	t := ev.Type()
	if !t.Valid() || len(e.byType[t]) == 0 {
		return dst
	}
	s.NextEvent(t)
	for _, r := range e.byType[t] {
		if r.filter.MatchCurrent(ev, s) {
			dst = append(dst, r)
			if e.opts.Matching == MatchFirst {
				return dst
			}
		}
	}
	return dst
}
