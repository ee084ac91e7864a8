// Package extract lets the rules engine read Falco fields from sensor
// events: [Event] wraps an [event.Event] and implements the engine's
// fields.Event interface.
//
// A field the sensor does not know for an event (a Kubernetes field without
// a cluster, user.name when the process's /etc/passwd is gone) yields no
// value, which outputs print as <NA> and conditions treat as Falco treats a
// missing value.
package extract
