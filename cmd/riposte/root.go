package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// envPrefix is the prefix of environment variables that set configuration keys:
// RIPOSTE_NATS_PORT sets nats.port.
const envPrefix = "RIPOSTE"

// newRootCommand builds the command tree. Configuration comes, in order of
// precedence, from flags, RIPOSTE_* environment variables and a YAML file.
func newRootCommand() *cobra.Command {
	v := viper.New()
	root := &cobra.Command{
		Use:           "riposte",
		Short:         "Detect attacks with eBPF and Falco rules, and answer them with Rego policies",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := loadConfig(v, cmd); err != nil {
				return err
			}
			return validateConfig(v, cmd)
		},
	}
	flags := root.PersistentFlags()
	flags.String("config", "", "YAML configuration file (default: none; RIPOSTE_CONFIG also sets it)")
	flags.String("log-level", "info", "log level: debug, info, warn or error")
	flags.String("log-format", "text", "log format: text or json")

	root.AddCommand(newVersionCommand())
	for _, add := range subcommands {
		root.AddCommand(add(v))
	}
	return root
}

// subcommands lists the constructors of commands that need the configuration.
// Each file of this package that defines such a command adds itself here.
var subcommands []func(*viper.Viper) *cobra.Command

// loadConfig binds the flags of cmd and its parents to v, then reads the
// environment and the configuration file.
func loadConfig(v *viper.Viper, cmd *cobra.Command) error {
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return fmt.Errorf("bind flags: %w", err)
	}
	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()

	file := v.GetString("config")
	if file == "" {
		return nil
	}
	v.SetConfigFile(file)
	if err := v.ReadInConfig(); err != nil {
		var notFound viper.ConfigFileNotFoundError
		if errors.As(err, &notFound) || errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("configuration file %s not found: pass an existing file to --config", file)
		}
		return fmt.Errorf("read configuration file %s: %w", file, err)
	}
	return checkConfigKeys(file, cmd.Root())
}

// configOnlyKeys are the configuration file keys that have no flag, with
// the keys nested under them.
var configOnlyKeys = []string{"notifications", "rules.selection"}

// checkConfigKeys rejects a key of the configuration file that no command
// of root has a flag for, such as a misspelt one, which would otherwise be
// ignored. One file may serve several commands, so a key of another command
// is accepted.
func checkConfigKeys(file string, root *cobra.Command) error {
	fileOnly := viper.New()
	fileOnly.SetConfigFile(file)
	if err := fileOnly.ReadInConfig(); err != nil {
		return fmt.Errorf("read configuration file %s: %w", file, err)
	}
	known := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) { known[f.Name] = true }
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)

	var unknown []string
	for _, key := range fileOnly.AllKeys() {
		if !known[key] && !isConfigOnlyKey(key) {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	msgs := make([]string, len(unknown))
	for i, key := range unknown {
		msgs[i] = fmt.Sprintf("unknown key %q", key)
		if riposteKey, ok := falcoConfigKeys[key]; ok {
			msgs[i] += fmt.Sprintf(" (did you mean %q? It is Falco's %s)", riposteKey, key)
		} else if near := nearestKey(key, known); near != "" {
			msgs[i] += fmt.Sprintf(" (did you mean %q?)", near)
		}
	}
	return fmt.Errorf("configuration file %s: %s: remove the key or fix its name to a long flag name from the command's --help", file, strings.Join(msgs, ", "))
}

// falcoConfigKeys maps the falco.yaml keys of rule settings to the
// Riposte keys that take their values, for the hint of an unknown key.
var falcoConfigKeys = map[string]string{
	"priority":             "rules.min-priority",
	"rules":                "rules.selection",
	"rules_files":          "rules.files",
	"rule_matching":        "rules.matching",
	"time_format_iso_8601": "time-format-iso-8601",
}

// isConfigOnlyKey reports whether key is one of configOnlyKeys or nested
// under one.
func isConfigOnlyKey(key string) bool {
	for _, k := range configOnlyKeys {
		if key == k || strings.HasPrefix(key, k+".") {
			return true
		}
	}
	return false
}

// warnUnknownEnv logs a warning for each RIPOSTE_ environment variable that
// names no flag of any command, such as a misspelt one, which viper would
// ignore. It does not stop the command: the environment of a process often
// carries variables meant for others.
func warnUnknownEnv(logger *slog.Logger, root *cobra.Command) {
	replacer := strings.NewReplacer(".", "_", "-", "_")
	known := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		add := func(f *pflag.Flag) { known[envPrefix+"_"+strings.ToUpper(replacer.Replace(f.Name))] = true }
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	// The commands that read a key of the configuration file alone reject
	// its variable with an error of their own.
	for _, key := range configOnlyKeys {
		known[envPrefix+"_"+strings.ToUpper(replacer.Replace(key))] = true
	}
	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		// RIPOSTE_TEST_* variables configure the test suite, not a command.
		if !strings.HasPrefix(name, envPrefix+"_") || known[name] || strings.HasPrefix(name, envPrefix+"_TEST_") {
			continue
		}
		if near := nearestKey(name, known); near != "" {
			logger.Warn("environment variable matches no setting and is ignored", "name", name, "did_you_mean", near)
		} else {
			logger.Warn("environment variable matches no setting and is ignored", "name", name)
		}
	}
}

// nearestKey returns the known key closest to key in edit distance, or ""
// when none is within a third of its length.
func nearestKey(key string, known map[string]bool) string {
	best, bestDist := "", len(key)/3+1
	for k := range known {
		if d := editDistance(key, k); d < bestDist || (d == bestDist && best != "" && k < best) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance returns the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// newLogger builds the process logger from the log-level and log-format keys.
func newLogger(v *viper.Viper, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(v.GetString("log-level"))); err != nil {
		return nil, fmt.Errorf("invalid log level %q: use debug, info, warn or error", v.GetString("log-level"))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format := v.GetString("log-format"); format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("invalid log format %q: use text or json", format)
	}
}

// protectedNamespaces returns the protected-namespaces key, or nil when it is
// not set, which lets the responder protect kube-system and its own namespace.
// An empty list set on purpose protects no namespace.
func protectedNamespaces(v *viper.Viper) []string {
	if !v.IsSet("protected-namespaces") {
		return nil
	}
	return stringList(v, "protected-namespaces")
}
