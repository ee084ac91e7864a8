package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/sensor"
)

// dropRule is the rule name of the alert raised when the kernel drops events,
// named like Falco's "Falco internal: syscall event drop".
const dropRule = "Riposte internal: syscall event drop"

// dropAlert describes a drop report as an alert, so that lost events reach
// the same outputs and audit trail as detections.
func dropAlert(r sensor.DropReport, now time.Time) *alert.Alert {
	causes := make([]string, 0, len(r.ByCause))
	fields := map[string]any{
		"n_evts":        r.Read + r.Dropped,
		"n_drops":       r.Dropped,
		"drop_share":    r.Share(),
		"interval_secs": r.Interval.Seconds(),
	}
	for cause, n := range r.ByCause {
		causes = append(causes, fmt.Sprintf("%s=%d", cause, n))
		fields["n_drops_"+cause] = n
	}
	sort.Strings(causes)
	message := fmt.Sprintf("%s: %d of %d events dropped in the last %s (%.3f%%; %s)",
		dropRule, r.Dropped, r.Read+r.Dropped, r.Interval, 100*r.Share(), strings.Join(causes, ", "))
	return &alert.Alert{
		Time:         now.UTC(),
		Rule:         dropRule,
		Priority:     alert.PriorityCritical,
		Source:       "internal",
		Output:       now.UTC().Format("15:04:05.000000000") + ": Critical " + message,
		OutputFields: fields,
		Tags:         []string{"riposte_internal"},
	}
}
