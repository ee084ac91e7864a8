package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
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
	return nil
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
	return v.GetStringSlice("protected-namespaces")
}
