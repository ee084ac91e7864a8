package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/responder/webhook"
)

// validateConfig checks the values that environment variables and the
// configuration file give to the command's flags. viper converts a value it
// cannot parse into the zero value, so without this check
// RIPOSTE_DRY_RUN=maybe would turn dry run off.
func validateConfig(v *viper.Viper, cmd *cobra.Command) error {
	var errs []string
	check := func(f *pflag.Flag) {
		raw := v.Get(f.Name)
		s, isString := raw.(string)
		if !isString {
			// A flag's own value, or a typed value of the configuration file.
			if msg := checkTypedValue(f, raw); msg != "" {
				errs = append(errs, msg)
			}
			return
		}
		var err error
		switch f.Value.Type() {
		case "bool":
			_, err = strconv.ParseBool(s)
		case "int", "int64":
			_, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		case "duration":
			_, err = time.ParseDuration(s)
		case "float64":
			_, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
		}
		if err != nil {
			kind := typeName[f.Value.Type()]
			errs = append(errs, fmt.Sprintf("invalid %s %q for %s: use a %s%s", kind, s, f.Name, kind, typeExample[f.Value.Type()]))
		}
	}
	cmd.Flags().VisitAll(check)
	cmd.InheritedFlags().VisitAll(check)
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}

	if _, err := newLogger(v, nil); err != nil {
		return err
	}
	if cmd.Flags().Lookup("nats.replicas") != nil {
		switch n := v.GetInt("nats.replicas"); n {
		case 1, 3, 5:
		default:
			return fmt.Errorf("invalid nats.replicas %d: use 1, 3 or 5 (3 or 5 need a NATS cluster)", n)
		}
	}
	if cmd.Flags().Lookup("webhook.max-body-bytes") != nil && v.GetInt64("webhook.max-body-bytes") < 0 {
		return fmt.Errorf("invalid webhook.max-body-bytes %d: use a positive size in bytes, or 0 for 1 MiB", v.GetInt64("webhook.max-body-bytes"))
	}
	if cmd.Flags().Lookup("webhook.rate-limit") != nil {
		if err := checkWebhookRate(v); err != nil {
			return err
		}
	}
	if cmd.Flags().Lookup("guards.cooldown") != nil {
		if err := checkGuardFlags(v); err != nil {
			return err
		}
	}
	if cmd.Flags().Lookup("rules.min-priority") != nil {
		if _, err := ruleOptionsFrom(v); err != nil {
			return err
		}
	}
	if cmd.Flags().Lookup("since") != nil && v.GetDuration("since") < 0 {
		return fmt.Errorf("invalid since %s: use a positive duration such as 24h", v.GetDuration("since"))
	}
	return nil
}

// checkWebhookRate rejects a webhook rate limit of 0, which could mean no
// requests or no limit, or NaN, and a burst below 1.
func checkWebhookRate(v *viper.Viper) error {
	if limit := v.GetFloat64("webhook.rate-limit"); limit == 0 || math.IsNaN(limit) {
		return fmt.Errorf("invalid webhook.rate-limit %v: use a positive number of requests per second such as %d, or -1 to turn the limit off", limit, webhook.DefaultRateLimit)
	}
	if burst := v.GetInt("webhook.rate-burst"); burst < 1 {
		return fmt.Errorf("invalid webhook.rate-burst %d: use 1 or more requests", burst)
	}
	return nil
}

// typeName names each flag type in error messages in words, not Go types.
var typeName = map[string]string{
	"bool":     "boolean",
	"duration": "duration",
	"int":      "whole number",
	"int64":    "whole number",
	"float64":  "number",
}

// typeExample shows a valid value of each flag type in error messages.
var typeExample = map[string]string{
	"bool":     " such as true or false",
	"duration": " such as 30s or 5m",
	"int":      " such as 10",
	"int64":    " such as 10",
	"float64":  " such as 2.5",
}

// checkTypedValue checks a value that the configuration file gave with a
// YAML type, which viper would otherwise convert silently: 300 as a duration
// is 300 ns, and 2.5 as an int is 2. It returns an error message, or "" when
// the value fits the flag.
func checkTypedValue(f *pflag.Flag, raw any) string {
	switch f.Value.Type() {
	case "duration":
		switch raw.(type) {
		case int, int64, uint64, float64:
			return fmt.Sprintf("invalid duration value %v for %s: write a duration with a unit, such as %vs or 5m", raw, f.Name, raw)
		}
	case "int", "int64":
		if x, ok := raw.(float64); ok && x != float64(int64(x)) {
			return fmt.Sprintf("invalid int value %v for %s: use a whole number", raw, f.Name)
		}
	case "stringSlice":
		items, ok := raw.([]any)
		if !ok {
			return ""
		}
		for i, item := range items {
			if _, ok := item.(string); !ok {
				return fmt.Sprintf("invalid %s: item %d, %v, is not a string: write the list as strings, such as [a, b]", f.Name, i+1, item)
			}
		}
	}
	return ""
}

// stringList returns the list that key holds. A single string, as an
// environment variable or the configuration file gives it, is split at
// commas and white space. The items of a list, from the flag, which splits
// at commas, or from a YAML list, are kept whole, so a rules file path may
// contain spaces. validateConfig has rejected items that are not strings.
func stringList(v *viper.Viper, key string) []string {
	list := []string{}
	switch raw := v.Get(key).(type) {
	case string:
		list = strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	case []string:
		list = append(list, nonEmpty(raw)...)
	case []any:
		for _, item := range raw {
			if s, ok := item.(string); ok {
				list = append(list, nonEmpty([]string{s})...)
			}
		}
	}
	return list
}

// nonEmpty returns the items with surrounding white space removed, without
// the empty ones.
func nonEmpty(items []string) []string {
	var out []string
	for _, item := range items {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
