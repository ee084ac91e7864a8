package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
)

func init() {
	subcommands = append(subcommands, newRulesCommand)
}

func newRulesCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Check and list rules written in the Falco rules language",
	}
	cmd.AddCommand(newRulesCheckCommand(v), newRulesListCommand(v))
	return cmd
}

func newRulesCheckCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check [FILE...]",
		Short: "Load rules files in order and report counts, warnings and errors",
		Long: `Load rules files in the order given, as the sensor does, and print the
number of lists, macros and rules, then every warning and error with its file,
line and column. Without FILE, the files of rules.files are checked, from
--rules.files, RIPOSTE_RULES_FILES or the configuration file. Riposte's
default rules load first unless --rules.defaults=false, so files may append
to or override them. A file that fails to load is reported and skipped, and
the files after it are checked on top of the ones that loaded. The exit
status is 1 when any file has an error.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			warnUnknownEnv(stderrLogger(cmd), cmd.Root())
			paths, err := rulePaths(v, args)
			if err != nil {
				return err
			}
			ruleOpts, err := ruleOptionsFrom(v)
			if err != nil {
				return err
			}
			var base []rules.File
			if v.GetBool("rules.defaults") {
				base = defaultRuleFiles()
			}
			failed, err := checkRules(cmd.OutOrStdout(), base, paths, ruleOpts)
			if err != nil {
				return err
			}
			if failed {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().Bool("rules.defaults", true, "load Riposte's default rules before the files")
	cmd.Flags().StringSlice("rules.files", nil, "rules files to check, in order, when no FILE is given")
	addRuleOptionFlags(cmd.Flags())
	return cmd
}

// stderrLogger returns a logger that writes to the standard error of cmd,
// for the warnings of commands whose report goes to standard output.
func stderrLogger(cmd *cobra.Command) *slog.Logger {
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
}

// rulePaths returns args, or the rules.files key when args is empty.
func rulePaths(v *viper.Viper, args []string) ([]string, error) {
	if len(args) > 0 {
		return args, nil
	}
	paths := stringList(v, "rules.files")
	if len(paths) == 0 {
		return nil, errors.New("missing rules file: give one or more files, such as riposte rules check falco_rules.yaml my_rules.yaml, or set rules.files")
	}
	return paths, nil
}

// checkRules loads paths in order, on top of base, with ruleOpts, and
// prints a report to w that ends with the number of enabled rules. It
// returns true when a file had an error.
func checkRules(w io.Writer, base []rules.File, args []string, ruleOpts ruleOptions) (failed bool, err error) {
	opts := ruleOpts.engineOptions()
	loaded := append([]rules.File(nil), base...)
	var last *rules.Engine
	paths, err := expandRulePaths(args)
	if err != nil {
		return false, err
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(w, "%s: error: %v\n", path, err)
			failed = true
			continue
		}
		file := rules.File{Name: path, Content: data}
		eng, res, err := rules.Load(opts, append(loaded, file)...)
		for _, m := range res.Warnings {
			if m.File == path {
				fmt.Fprintf(w, "warning: %s\n", m.String())
			}
		}
		if err != nil {
			var loadErr *rules.LoadError
			if !errors.As(err, &loadErr) {
				return failed, fmt.Errorf("check %s: %w", path, err)
			}
			fmt.Fprintf(w, "error: %s\n", loadErr.Message.String())
			failed = true
			continue
		}
		loaded = append(loaded, file)
		last = eng
		fmt.Fprintf(w, "%s: ok (%d lists, %d macros, %d rules in total)\n", path, res.Lists, res.Macros, res.Rules)
	}
	if last != nil {
		enabled := countEnabled(last.Rules())
		fmt.Fprintf(w, "enabled rules: %d of %d\n", enabled, len(last.Rules()))
		if enabled == 0 {
			fmt.Fprintf(w, "warning: no rule is enabled, so no event would raise an alert. Likely cause: %s\n", noEnabledRuleCause(last.Rules(), ruleOpts))
		}
	}
	return failed, nil
}

// countEnabled returns the number of rules in list that run.
func countEnabled(list []*rules.Rule) int {
	n := 0
	for _, r := range list {
		if r.Enabled {
			n++
		}
	}
	return n
}

// noEnabledRuleCause names the setting that most likely leaves none of list
// enabled, with its value, for a message that ends in "Likely cause: ...".
func noEnabledRuleCause(list []*rules.Rule, opts ruleOptions) string {
	if len(list) == 0 {
		return "the rules files define no rule"
	}
	if len(opts.EnabledTags) > 0 && !anyRuleHasTag(list, opts.EnabledTags) {
		return fmt.Sprintf("rules.enabled-tags %s: no loaded rule has any of these tags", strings.Join(opts.EnabledTags, ","))
	}
	if opts.MinPriority != nil && !anyRuleAtLeast(list, *opts.MinPriority) {
		return fmt.Sprintf("rules.min-priority %s: every loaded rule is less severe", strings.ToLower(opts.MinPriority.String()))
	}
	var set []string
	if opts.MinPriority != nil {
		set = append(set, "rules.min-priority "+strings.ToLower(opts.MinPriority.String()))
	}
	if len(opts.EnabledTags) > 0 {
		set = append(set, "rules.enabled-tags "+strings.Join(opts.EnabledTags, ","))
	}
	if len(opts.DisabledTags) > 0 {
		set = append(set, "rules.disabled-tags "+strings.Join(opts.DisabledTags, ","))
	}
	if len(opts.DisabledRules) > 0 {
		set = append(set, "rules.disabled-rules "+strings.Join(opts.DisabledRules, ","))
	}
	if len(opts.Selection) > 0 {
		set = append(set, fmt.Sprintf("rules.selection (%d entries)", len(opts.Selection)))
	}
	if len(set) > 0 {
		return "the rule settings " + strings.Join(set, "; ")
	}
	return "the rules files disable every rule (enabled: false), or no rule has the syscall source"
}

func anyRuleHasTag(list []*rules.Rule, tags []string) bool {
	for _, r := range list {
		for _, tag := range r.Tags {
			if slices.Contains(tags, tag) {
				return true
			}
		}
	}
	return false
}

// anyRuleAtLeast reports whether a rule of list is at least as severe as
// threshold. Lower priorities are more severe, emergency being 0.
func anyRuleAtLeast(list []*rules.Rule, threshold alert.Priority) bool {
	for _, r := range list {
		if r.Priority <= threshold {
			return true
		}
	}
	return false
}

func newRulesListCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list [FILE...]",
		Short: "List the rules loaded from the given files, or the default rules",
		Long: `List the rules that the sensor would load, with their priority, source,
event types and whether they run. Without FILE, the files of rules.files are
loaded, from --rules.files, RIPOSTE_RULES_FILES or the configuration file.
The rules.min-priority, rules.enabled-tags, rules.disabled-tags,
rules.disabled-rules and rules.selection settings decide which rules run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			warnUnknownEnv(stderrLogger(cmd), cmd.Root())
			paths := args
			if len(paths) == 0 {
				paths = stringList(v, "rules.files")
			}
			ruleOpts, err := ruleOptionsFrom(v)
			if err != nil {
				return err
			}
			eng, err := loadRuleFiles(v.GetBool("rules.defaults"), paths, ruleOpts, nil)
			if err != nil {
				return err
			}
			return printRules(cmd.OutOrStdout(), eng.Rules(), v.GetString("output"))
		},
	}
	cmd.Flags().Bool("rules.defaults", true, "load Riposte's default rules before the files")
	cmd.Flags().StringSlice("rules.files", nil, "rules files to load, in order, after the default rules, when no FILE is given")
	addRuleOptionFlags(cmd.Flags())
	cmd.Flags().StringP("output", "o", "text", "output format: text or json")
	return cmd
}

// ruleSummary is one line of `riposte rules list`.
type ruleSummary struct {
	Name     string `json:"name"`
	Priority string `json:"priority"`
	Source   string `json:"source"`
	Enabled  bool   `json:"enabled"`
	// Supported is false for a rule of a source that Riposte does not
	// have, such as k8s_audit. Such a rule never runs, even when its files
	// enable it.
	Supported  bool     `json:"supported"`
	Tags       []string `json:"tags"`
	EventTypes []string `json:"event_types"`
}

func printRules(w io.Writer, list []*rules.Rule, format string) error {
	summaries := make([]ruleSummary, 0, len(list))
	for _, r := range list {
		s := ruleSummary{
			Name:      r.Name,
			Priority:  r.Priority.String(),
			Source:    r.Source,
			Enabled:   r.Enabled,
			Supported: r.Compiled != "",
			Tags:      r.Tags,
		}
		if r.EventTypes.IsFull() {
			s.EventTypes = []string{"all"}
		} else {
			s.EventTypes = r.EventTypes.Names()
		}
		summaries = append(summaries, s)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, s := range summaries {
			if err := enc.Encode(s); err != nil {
				return fmt.Errorf("write rule %q: %w", s.Name, err)
			}
		}
		return nil
	case "text":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tPRIORITY\tSOURCE\tENABLED\tEVENT TYPES")
		for _, s := range summaries {
			source := s.Source
			if !s.Supported {
				source += " (unsupported)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", s.Name, s.Priority, source, s.Enabled, strings.Join(s.EventTypes, ","))
		}
		return tw.Flush()
	default:
		return fmt.Errorf("invalid output format %q: use text or json", format)
	}
}

// responseFields are added, with their typed values, to the output fields
// of every syscall alert that does not print them, as Falco's append_output
// extra_fields would add them. The policies and actionners find their target
// in them, and Falco's own rules print few of them: none prints proc.pid.
var responseFields = []string{"proc.pid", "proc.name", "proc.exepath", "container.id", "container.name", "k8s.ns.name", "k8s.pod.name"}

// loadRuleFiles loads the default rules, when withDefaults is set, followed
// by the files at paths in order, and applies ruleOpts.
func loadRuleFiles(withDefaults bool, paths []string, ruleOpts ruleOptions, logger *slog.Logger) (*rules.Engine, error) {
	var files []rules.File
	if withDefaults {
		files = append(files, defaultRuleFiles()...)
	}
	paths, err := expandRulePaths(paths)
	if err != nil {
		return nil, err
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read rules: %w", err)
		}
		files = append(files, rules.File{Name: path, Content: data})
	}
	if len(files) == 0 {
		return nil, errors.New("no rules to load: give rules files or enable the default rules")
	}
	// Riposte's default rules load first, so that rules files may append to
	// them, but match last, so that Falco's rules keep the events they take
	// in Falco.
	var matchLast []string
	if withDefaults {
		for _, f := range defaultRuleFiles() {
			matchLast = append(matchLast, f.Name)
		}
	}
	opts := ruleOpts.engineOptions()
	opts.MatchLast = matchLast
	opts.Logger = logger
	opts.AppendOutput = []rules.AppendOutput{{Source: "syscall", FieldNames: responseFields}}
	eng, res, err := rules.Load(opts, files...)
	if err != nil {
		return nil, err
	}
	if logger != nil {
		for _, w := range res.Warnings {
			if w.Code == rules.WarnPluginMissing {
				logger.Warn("a rules file requires a plugin that Riposte does not provide", "warning", w.String())
			}
		}
		enabled, skipped := 0, 0
		for _, r := range eng.Rules() {
			switch {
			case r.Enabled:
				enabled++
			case r.Compiled == "":
				skipped++
			}
		}
		logger.Info("rules loaded", "enabled", enabled, "rules", len(eng.Rules()), "of_other_sources", skipped, "warnings", len(res.Warnings))
		if enabled == 0 {
			logger.Warn("no rule is enabled, so no event raises an alert: run riposte rules list with the same settings to see why",
				"rules", len(eng.Rules()), "likely_cause", noEnabledRuleCause(eng.Rules(), ruleOpts))
		}
		if len(res.Warnings) > 0 {
			logger.Warn("the rules files have warnings: run riposte rules check with the same files to read them, or --log-level debug", "warnings", len(res.Warnings))
		}
	}
	return eng, nil
}

// expandRulePaths replaces each directory among paths by its .yaml and .yml
// files in name order, as Falco reads a rules directory.
func expandRulePaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil || !info.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("read rules directory: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if !e.IsDir() && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
				out = append(out, filepath.Join(p, name))
			}
		}
	}
	return out, nil
}
