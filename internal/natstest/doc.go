// Package natstest starts real nats-servers for tests. It starts a single
// server with authentication or TLS, or a JetStream cluster of several
// servers whose nodes can be stopped and restarted with their storage. It
// also writes the certificates, NKeys and credentials files that clients
// need.
//
// Every server listens on 127.0.0.1 only.
package natstest
