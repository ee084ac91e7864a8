package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/policies"
	"github.com/riposte-sec/riposte/responder"
	"github.com/riposte-sec/riposte/transport"
)

func init() {
	subcommands = append(subcommands, newPolicyCommand, newReplayCommand)
}

func newPolicyCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Evaluate and test Rego policies",
	}

	eval := &cobra.Command{
		Use:   "eval --alert FILE",
		Short: "Print the decision the policies and guards make for one alert, without acting",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			file := v.GetString("alert")
			if file == "" {
				return errors.New("missing alert: pass --alert with a file holding one alert in Falco's JSON format")
			}
			var data []byte
			var err error
			if file == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("read alert: %w", err)
			}
			a, err := alert.Decode(data)
			if err != nil {
				return fmt.Errorf("alert %s: %w", file, err)
			}
			if a.UUID == "" {
				a.UUID = alert.ContentUUID(data)
			}
			evaluator, err := newEvaluator(cmd, v)
			if err != nil {
				return err
			}
			d := evaluator.Evaluate(cmd.Context(), a)
			if err := printDecision(cmd.OutOrStdout(), d, v.GetString("output")); err != nil {
				return err
			}
			if d.Error != "" {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	eval.Flags().String("alert", "", "file holding one alert in Falco's JSON alert format, or - for standard input")
	addEvaluatorFlags(eval)

	test := &cobra.Command{
		Use:   "test [DIR]",
		Short: "Run the Rego tests (test_* rules in _test.rego files) of a policy directory",
		Long: `Run the Rego tests of a policy directory, or of the default policies when no
directory is given, as opa test does. The exit status is 1 when a test fails.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := policies.Options{}
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			results, err := policies.Test(cmd.Context(), opts)
			if err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				fmt.Fprintln(cmd.OutOrStdout(), r.String())
				if !r.Pass && !r.Skip {
					failed++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d passed, %d failed\n", len(results)-failed, failed)
			if len(results) == 0 {
				return errors.New("no Rego tests found: name test rules test_* in files ending in _test.rego")
			}
			if failed > 0 {
				return &exitError{code: 1}
			}
			// Rego tests do not check actionner names and parameters, which
			// loading does, so a policy that passes its tests must load too.
			registry, err := runRegistry(nil)
			if err != nil {
				return err
			}
			opts.Registry = registry
			if _, err := policies.Load(cmd.Context(), opts); err != nil {
				return fmt.Errorf("the tests pass, but the policies do not load: %w", err)
			}
			return nil
		},
	}
	cmd.AddCommand(eval, test)
	return cmd
}

func newReplayCommand(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Decide, without acting, on stored alerts with the current policies",
		Long: `Feed stored alerts through the current policies and guards in dry run, to see
what a policy change would do. Alerts come from a JSON-lines file (--file, one
Falco alert per line) or from the JetStream alerts stream of a NATS deployment
(--nats.url). Nothing is acted on and nothing is recorded on NATS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			evaluator, err := newEvaluator(cmd, v)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			format := v.GetString("output")
			onDecision := func(d responder.Decision) {
				if err := printDecision(out, d, format); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "riposte:", err)
				}
			}
			var stats responder.ReplayStats
			if v.GetString("file") != "" && (v.GetDuration("since") != 0 || v.GetString("subject") != "") {
				return errors.New("--since and --subject select alerts of the stream: drop them when replaying a --file")
			}
			if file := v.GetString("file"); file != "" {
				f, err := os.Open(file)
				if err != nil {
					return fmt.Errorf("open alerts: %w", err)
				}
				defer f.Close()
				stats, err = evaluator.ReplayFile(cmd.Context(), f, onDecision)
				if err != nil {
					return fmt.Errorf("replay %s: %w", file, err)
				}
			} else {
				logger, err := newLogger(v, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				connOpts, err := natsConnectOptions(v, "riposte-replay", logger)
				if err != nil {
					return err
				}
				conn, err := transport.Connect(cmd.Context(), connOpts)
				if err != nil {
					return fmt.Errorf("connect to NATS: %w", err)
				}
				defer conn.Close()
				opts := responder.StreamReplayOptions{FilterSubject: v.GetString("subject")}
				if since := v.GetDuration("since"); since > 0 {
					opts.Since = time.Now().Add(-since)
				}
				stats, err = evaluator.ReplayStream(cmd.Context(), conn.JS, opts, onDecision)
				if err != nil {
					return fmt.Errorf("replay the alerts stream: %w", err)
				}
			}
			for _, invalid := range stats.Invalid {
				fmt.Fprintln(cmd.ErrOrStderr(), "skipped:", invalid)
			}
			if stats.Outcomes == nil {
				stats.Outcomes = map[string]int{}
			}
			summary, _ := json.Marshal(stats.Outcomes)
			noun := "alerts"
			if stats.Alerts == 1 {
				noun = "alert"
			}
			skipped := ""
			switch n := len(stats.Invalid); {
			case n == 1:
				skipped = " (1 invalid input skipped)"
			case n > 1:
				skipped = fmt.Sprintf(" (%d invalid inputs skipped)", n)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "replayed %d %s%s: %s\n", stats.Alerts, noun, skipped, summary)
			if subject := v.GetString("subject"); stats.Alerts == 0 && subject != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "no stored alert matched subject %s: alert subjects are %s.<priority in lower case>.<rule>, such as %s.warning.>\n",
					subject, transport.AlertsSubjectPrefix, transport.AlertsSubjectPrefix)
			}
			switch {
			case stats.Alerts == 0 && len(stats.Invalid) > 0:
				return fmt.Errorf("no alert replayed: every input was invalid; give a file of Falco JSON alerts, one per line")
			case stats.Alerts > 0 && stats.Outcomes[responder.OutcomeError] == stats.Alerts:
				return fmt.Errorf("the policies failed on every alert: see the error of each decision")
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.String("file", "", "JSON-lines file of alerts to replay instead of the alerts stream")
	flags.String("subject", "", "subject filter of the alerts to replay, such as riposte.alerts.critical.>")
	flags.Duration("since", 0, "replay only alerts stored within this duration, such as 24h (default: every stored alert)")
	addNATSFlags(flags)
	addEvaluatorFlags(cmd)
	return cmd
}

// addEvaluatorFlags adds the flags that select the policies and guards of an
// evaluation.
func addEvaluatorFlags(cmd *cobra.Command) {
	flags := cmd.Flags()
	flags.String("policies.dir", "", "directory of Rego policies (default: the embedded policies)")
	flags.StringSlice("protected-namespaces", nil, protectedNamespacesHelp)
	flags.String("node-name", "", "node name given to policies (default: $NODE_NAME, then the host name)")
	flags.StringP("output", "o", "text", "output format: text or json")
	flags.Bool("dry-run", false, "evaluate the guards as a responder in dry-run mode would; nothing runs either way")
	flags.StringSlice("dry-run-policies", nil, "policies whose actions a responder would only record")
	flags.StringSlice("dry-run-actionners", nil, "actionners whose actions a responder would only record; an alias such as kubernetes:networkpolicy names the actionner it resolves to")
	addGuardFlags(flags)
	// An evaluation judges an alert as of its own time, so no alert is
	// ever too old for it.
	flags.Lookup("guards.max-alert-age").Usage = "accepted for a configuration file shared with the responder, and ignored: an evaluation judges each alert as of its own time"
}

// newEvaluator loads the policies for commands that decide without acting.
// Every actionner is registered, so policies may name any of them, but none
// can run.
func newEvaluator(cmd *cobra.Command, v *viper.Viper) (*responder.Evaluator, error) {
	format := v.GetString("output")
	if format != "text" && format != "json" {
		return nil, fmt.Errorf("invalid output format %q: use text or json", format)
	}
	registry, err := allRegistry()
	if err != nil {
		return nil, err
	}
	set, err := policies.Load(cmd.Context(), policies.Options{Dir: v.GetString("policies.dir"), Registry: registry})
	if err != nil {
		return nil, fmt.Errorf("load policies: %w", err)
	}
	guards, err := guardTuning(v)
	if err != nil {
		return nil, err
	}
	guards.Act = !v.GetBool("dry-run")
	guards.ProtectedNamespaces = protectedNamespaces(v)
	guards.DryRunPolicies = stringList(v, "dry-run-policies")
	guards.DryRunActionners = stringList(v, "dry-run-actionners")
	return responder.NewEvaluator(responder.EvalOptions{
		Policies: set,
		Registry: registry,
		Guards:   guards,
		Node:     nodeName(v.GetString("node-name")),
		Logger:   slog.New(slog.DiscardHandler),
	})
}

func printDecision(w io.Writer, d responder.Decision, format string) error {
	if format == "json" {
		return json.NewEncoder(w).Encode(d)
	}
	_, err := fmt.Fprintln(w, d.String())
	return err
}
