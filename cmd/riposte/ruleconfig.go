package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
)

// ruleOptions are the settings that choose which loaded rules run and how
// their alerts print, apart from the rules files themselves. Each has a Falco
// equivalent, named in addRuleOptionFlags.
type ruleOptions struct {
	// MinPriority is nil when every priority runs.
	MinPriority       *alert.Priority
	Matching          rules.Matching
	DisabledTags      []string
	EnabledTags       []string
	DisabledRules     []string
	Selection         []rules.Selection
	TimeFormatISO8601 bool
}

// addRuleOptionFlags adds the flags of ruleOptions. The rules.selection
// key has no flag, because its entries are YAML mappings.
func addRuleOptionFlags(flags *pflag.FlagSet) {
	flags.String("rules.min-priority", "debug", "least severe priority of the rules that run: emergency, alert, critical, error, warning, notice, informational or debug (falco.yaml priority)")
	flags.String("rules.matching", "first", "report only the first rule that matches an event, or every rule: first or all (falco.yaml rule_matching)")
	flags.StringSlice("rules.disabled-tags", nil, "disable the rules that have any of these tags (Falco's -T)")
	flags.StringSlice("rules.enabled-tags", nil, "run only the rules that have one of these tags, including rules the files disable (Falco's -t)")
	flags.StringSlice("rules.disabled-rules", nil, "disable the rules whose name contains one of these texts; an environment variable separates them with commas only (Falco's -D)")
	flags.Bool("time-format-iso-8601", false, "print alert times in output lines as UTC ISO 8601 instead of local time (falco.yaml time_format_iso_8601)")
}

// ruleOptionsFrom reads the settings of ruleOptions from v. An invalid value
// is an error that names the key, the value and the valid values.
func ruleOptionsFrom(v *viper.Viper) (ruleOptions, error) {
	opts := ruleOptions{
		DisabledTags:      stringList(v, "rules.disabled-tags"),
		EnabledTags:       stringList(v, "rules.enabled-tags"),
		DisabledRules:     commaList(v, "rules.disabled-rules"),
		TimeFormatISO8601: v.GetBool("time-format-iso-8601"),
	}
	level := v.GetString("rules.min-priority")
	if level != "" {
		p, err := alert.ParsePriority(level)
		if err != nil {
			return opts, fmt.Errorf("invalid rules.min-priority %q: use emergency, alert, critical, error, warning, notice, informational or debug", level)
		}
		if p != alert.PriorityDebug {
			opts.MinPriority = &p
		}
	}
	switch matching := v.GetString("rules.matching"); matching {
	case "first", "":
		opts.Matching = rules.MatchFirst
	case "all":
		opts.Matching = rules.MatchAll
	default:
		return opts, fmt.Errorf("invalid rules.matching %q: use first or all", matching)
	}
	if _, ok := os.LookupEnv(ruleSelectionEnv); ok {
		return opts, fmt.Errorf("environment variable %s is not supported: unset it and set rules.selection in the configuration file given with --config, as a list such as:\nrules:\n  selection:\n    - disable: {rule: \"*\"}\n    - enable: {tag: network}", ruleSelectionEnv)
	}
	var err error
	if opts.Selection, err = ruleSelection(v.Get("rules.selection")); err != nil {
		return opts, err
	}
	return opts, nil
}

// ruleSelectionEnv is the environment variable that viper would read for
// the rules.selection key, a list of mappings that a variable cannot carry.
const ruleSelectionEnv = envPrefix + "_RULES_SELECTION"

// ruleSelection decodes the rules.selection key, which has the form of the
// rules list of falco.yaml:
//
//   - disable: {rule: "*"}
//   - enable: {tag: network}
//   - enable: {rule: "Terminal shell in container"}
func ruleSelection(raw any) ([]rules.Selection, error) {
	if raw == nil {
		return nil, nil
	}
	const example = `write each entry as "- disable: {rule: NAME}" or "- enable: {tag: TAG}"`
	items, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("invalid rules.selection %v: expected a list; %s", raw, example)
	}
	var out []rules.Selection
	for i, item := range items {
		entry, ok := item.(map[string]any)
		if !ok || len(entry) != 1 {
			return nil, fmt.Errorf("invalid rules.selection entry %d, %v: expected one enable or disable key; %s", i+1, item, example)
		}
		for op, target := range entry {
			if op != "enable" && op != "disable" {
				return nil, fmt.Errorf("invalid rules.selection entry %d: unknown key %q, expected enable or disable; %s", i+1, op, example)
			}
			fields, ok := target.(map[string]any)
			if !ok || len(fields) == 0 {
				return nil, fmt.Errorf("invalid rules.selection entry %d: %s needs a rule or a tag; %s", i+1, op, example)
			}
			sel := rules.Selection{Enable: op == "enable"}
			for key, value := range fields {
				text, isString := value.(string)
				if !isString || text == "" {
					return nil, fmt.Errorf("invalid rules.selection entry %d: %s.%s is %v, expected a non-empty string", i+1, op, key, value)
				}
				switch key {
				case "rule":
					sel.Rule = text
				case "tag":
					sel.Tag = text
				default:
					return nil, fmt.Errorf("invalid rules.selection entry %d: unknown key %s.%s, expected rule or tag; %s", i+1, op, key, example)
				}
			}
			out = append(out, sel)
		}
	}
	return out, nil
}

// engineOptions returns the rules.Options that carry o.
func (o ruleOptions) engineOptions() rules.Options {
	return rules.Options{
		MinPriority:       o.MinPriority,
		Matching:          o.Matching,
		DisabledTags:      o.DisabledTags,
		EnabledTags:       o.EnabledTags,
		DisabledRules:     o.DisabledRules,
		Selection:         o.Selection,
		TimeFormatISO8601: o.TimeFormatISO8601,
	}
}

// commaList returns the list that key contains, as stringList does, except
// that a single string is split at commas only, so that items such as rule
// names may contain spaces.
func commaList(v *viper.Viper, key string) []string {
	if raw, ok := v.Get(key).(string); ok {
		return nonEmpty(strings.Split(raw, ","))
	}
	return stringList(v, key)
}
