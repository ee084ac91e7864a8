// Package responder turns alerts into decisions and actions.
//
// A [Responder] consumes alerts from the JetStream stream RIPOSTE_ALERTS
// through a durable pull consumer that every replica shares, so all replicas
// work and none leads. For each alert it:
//
//  1. evaluates the policies (package policies) on the alert, its Kubernetes
//     context and the node;
//  2. applies the guards to each chosen action: protected namespaces and
//     labels, a cooldown per target and action, a global rate limit with a
//     circuit breaker, and dry run (global, per policy, per actionner). No
//     policy can lift a guard, and every guard that applied is recorded;
//  3. runs the actions that remain, each after claiming its idempotency key
//     (alert uuid and action) in the riposte_actions bucket, so that an alert
//     redelivered after a crash does not run a destructive action twice;
//  4. records the [Decision] as a log line and as a JSON message on
//     riposte.decisions.<outcome>, with the alert uuid as message id;
//  5. acknowledges the alert, only now.
//
// Errors of NATS or of the idempotency store leave the alert for redelivery
// with a growing delay. An alert that still fails at its last delivery, or
// that cannot be decoded, goes to riposte.deadletter.alerts with the error.
package responder
