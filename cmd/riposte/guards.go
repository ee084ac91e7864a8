package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/responder"
)

// protectedNamespacesHelp is the help of --protected-namespaces, shared by
// every command that applies the guards.
const protectedNamespacesHelp = "Kubernetes namespaces where no action runs (default: kube-system and Riposte's own namespace); a list replaces the default instead of adding to it, so name kube-system again, and an empty list protects no namespace"

// addGuardFlags adds the cooldown, rate limit and protected label flags of
// `riposte run` and `riposte responder`. The defaults are those of
// responder.GuardOptions.
func addGuardFlags(flags *pflag.FlagSet) {
	flags.Duration("guards.cooldown", time.Minute, "time after an action during which the same action on the same target is blocked; a negative value such as -1s turns the cooldown off, and 0 is invalid")
	flags.Float64("guards.rate-limit", 10, "actions per second across all targets; above it, and after the burst, every action is a dry run for five minutes; a negative value turns the limit off, and 0 is invalid")
	flags.Int("guards.burst", 50, "actions allowed at once above guards.rate-limit (1 or more)")
	flags.Duration("guards.max-alert-age", 10*time.Minute, "block the actions of alerts older than this when the responder decides on them, as after an outage, because the pod or process they name may be gone and its name reused; 0 turns the guard off")
	flags.StringSlice("protected-labels", nil, "pod labels, as key=value, that block every action on the pod; key=* matches any value (default: riposte.io/protected=true); a list replaces the default, and an empty list protects no label")
}

// guardTuning returns the cooldown, rate limit and protected labels that the
// guard flags set, in the form of responder.GuardOptions.
func guardTuning(v *viper.Viper) (responder.GuardOptions, error) {
	labels, err := protectedLabels(v)
	if err != nil {
		return responder.GuardOptions{}, err
	}
	return responder.GuardOptions{
		Cooldown:        v.GetDuration("guards.cooldown"),
		RateLimit:       v.GetFloat64("guards.rate-limit"),
		RateBurst:       v.GetInt("guards.burst"),
		MaxAlertAge:     v.GetDuration("guards.max-alert-age"),
		ProtectedLabels: labels,
	}, nil
}

// checkGuardFlags rejects the guard values that responder.GuardOptions would
// read as "use the default", because a user who writes 0 expects the guard
// off rather than the default.
func checkGuardFlags(v *viper.Viper) error {
	if v.GetDuration("guards.cooldown") == 0 {
		return errors.New("invalid guards.cooldown 0s: use a positive duration such as 1m, or a negative one such as -1s to turn the cooldown off")
	}
	if limit := v.GetFloat64("guards.rate-limit"); limit == 0 || math.IsNaN(limit) {
		return fmt.Errorf("invalid guards.rate-limit %g: use a positive number of actions per second such as 10, or -1 to turn the limit off", limit)
	}
	if age := v.GetDuration("guards.max-alert-age"); age < 0 {
		return fmt.Errorf("invalid guards.max-alert-age %s: use a positive duration such as 10m, or 0 to turn the guard off", age)
	}
	if burst := v.GetInt("guards.burst"); burst < 1 {
		return fmt.Errorf("invalid guards.burst %d: use 1 or more actions", burst)
	}
	_, err := protectedLabels(v)
	return err
}

// protectedLabels parses the protected-labels key. It returns nil when the key
// is not set, which lets the responder protect pods labelled
// riposte.io/protected=true, and an empty map for an empty list. Items may be
// separated by commas as well, as in RIPOSTE_PROTECTED_LABELS=a=b,c=d.
func protectedLabels(v *viper.Viper) (map[string]string, error) {
	if !v.IsSet("protected-labels") {
		return nil, nil
	}
	labels := map[string]string{}
	for _, item := range stringList(v, "protected-labels") {
		for entry := range strings.SplitSeq(item, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			key, value, ok := strings.Cut(entry, "=")
			key, value = strings.TrimSpace(key), strings.TrimSpace(value)
			if !ok || key == "" {
				return nil, fmt.Errorf("invalid protected-labels entry %q: use key=value, such as riposte.io/protected=true, or key=* for any value", entry)
			}
			labels[key] = value
		}
	}
	return labels, nil
}

// warnUnprotectedKubeSystem logs a warning when an explicit protected
// namespace list leaves out kube-system, so that actions may reach the
// cluster's own components. A nil list means the default, which protects it.
func warnUnprotectedKubeSystem(logger *slog.Logger, namespaces []string) {
	if namespaces == nil || slices.Contains(namespaces, "kube-system") {
		return
	}
	logger.Warn("kube-system is not a protected namespace: actions may run on cluster components; add kube-system to protected-namespaces to protect it",
		"protected_namespaces", strings.Join(namespaces, ","))
}
