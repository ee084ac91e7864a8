// Package transport carries alerts and decisions over NATS JetStream.
//
// On a single host, [StartServer] runs an embedded nats-server with JetStream
// that listens on 127.0.0.1 only. In a cluster, [Connect] reaches an existing
// NATS deployment instead. Either way, [EnsureStreams] creates or updates the
// streams below, and [Publisher] publishes alerts with a JetStream
// acknowledgement.
//
// # Subjects
//
//	riposte.alerts.<priority>.<rule>   one alert, Falco's JSON alert format
//	riposte.decisions.<outcome>        one decision, JSON
//	riposte.deadletter.alerts          an alert the responder gave up on, with
//	                                   the error in the Riposte-Error header and
//	                                   its subject in Riposte-Subject
//
// <priority> is the lower-case priority name, such as "warning" or
// "critical". <rule> is the rule name made into one subject token by
// [RuleToken]: lower case, each run of characters other than a-z and 0-9
// replaced by one underscore, at most 64 bytes, so "Shell spawned in a
// container" becomes "shell_spawned_in_a_container". Different rule names can
// map to the same token, so consumers that need the exact rule read it from
// the message body. <outcome> is one of the decision outcomes, such as
// "dry-run" or "acted".
//
// Subscribe to riposte.alerts.critical.> for critical alerts of every rule,
// or to riposte.alerts.*.shell_spawned_in_a_container for one rule.
//
// # Streams
//
//	RIPOSTE_ALERTS       riposte.alerts.>       alerts awaiting a decision
//	RIPOSTE_DECISIONS    riposte.decisions.>    the audit trail of decisions
//	RIPOSTE_DEADLETTER   riposte.deadletter.>   alerts that kept failing
//
// Each alert is published with its uuid as the Nats-Msg-Id header and each
// decision with the uuid of its alert, so JetStream drops a duplicate that
// arrives within the stream's duplicate window.
//
// The key-value bucket riposte_actions stores one record per alert and action,
// so that a redelivered alert does not run a destructive action twice. The
// bucket riposte_cooldowns, created by responders that share cooldowns, holds
// one entry per recent action and target.
package transport
