package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
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
			return // a flag's own value, or a typed YAML value
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
			errs = append(errs, fmt.Sprintf("invalid %s value %q for %s: use a valid %s", f.Value.Type(), s, f.Name, f.Value.Type()))
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
	if cmd.Flags().Lookup("guards.cooldown") != nil {
		if err := checkGuardFlags(v); err != nil {
			return err
		}
	}
	if cmd.Flags().Lookup("since") != nil && v.GetDuration("since") < 0 {
		return fmt.Errorf("invalid since %s: use a positive duration such as 24h", v.GetDuration("since"))
	}
	return nil
}
