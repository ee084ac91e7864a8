// Command riposte detects attacks on Linux and Kubernetes hosts with eBPF and
// Falco rules, and responds to them with actions chosen by Rego policies.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// With SIGPIPE caught, a write to a closed standard output, as in
	// `riposte run -o json | head`, fails with EPIPE instead of killing the
	// process, so the command stops through its printer and cleans up.
	// Nothing reads the channel: the signal itself needs no handling.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	// SIGHUP reloads rules or policies where a command watches them; it
	// must never stop a command that does not.
	signal.Ignore(syscall.SIGHUP)

	err := newRootCommand().ExecuteContext(ctx)
	if err == nil {
		return
	}
	var exit *exitError
	if errors.As(err, &exit) {
		os.Exit(exit.code)
	}
	if errors.Is(err, syscall.EPIPE) {
		// The reader of the output went away, as `head` does. End quietly,
		// with the status that a shell shows for a program that SIGPIPE
		// killed.
		os.Exit(128 + int(syscall.SIGPIPE))
	}
	fmt.Fprintln(os.Stderr, "riposte:", err)
	os.Exit(1)
}

// exitError ends the program with a given status after the command has already
// printed what went wrong.
type exitError struct {
	code int
}

func (e *exitError) Error() string {
	return fmt.Sprintf("exit status %d", e.code)
}
