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

	err := newRootCommand().ExecuteContext(ctx)
	if err == nil {
		return
	}
	var exit *exitError
	if errors.As(err, &exit) {
		os.Exit(exit.code)
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
