// Package natstest starts real nats-servers for tests: a single server with
// authentication or TLS, a JetStream cluster of several servers on loopback
// whose nodes can be stopped and restarted with their storage, and the
// certificates, NKeys and credentials files that clients need.
//
// Every server listens on 127.0.0.1 only.
package natstest
