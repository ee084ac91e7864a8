package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/internal/natstest"
	"github.com/riposte-sec/riposte/transport"
)

// natsFlagsViper parses args with the NATS flags into a viper instance, as
// the commands do.
func natsFlagsViper(t *testing.T, args ...string) *viper.Viper {
	t.Helper()
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	addNATSFlags(flags)
	if err := flags.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	v := viper.New()
	if err := v.BindPFlags(flags); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNATSFlagsNKeyAndMutualTLS(t *testing.T) {
	seedFile, publicKey := natstest.NKeyUser(t)
	certs := natstest.NewCertificates(t)
	s := natstest.StartServer(t, server.Options{
		Nkeys:     []*server.NkeyUser{{Nkey: publicKey}},
		TLS:       true,
		TLSVerify: true,
		TLSConfig: certs.ServerTLS(true),
	})

	v := natsFlagsViper(t, "--nats.url", s.ClientURL(), "--nats.nkey", seedFile,
		"--nats.tls.ca", certs.CAFile, "--nats.tls.cert", certs.ClientCert, "--nats.tls.key", certs.ClientKey)
	opts, err := natsConnectOptions(v, "riposte-test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("natsConnectOptions: %v", err)
	}
	if opts.NKeyFile != seedFile {
		t.Errorf("NKeyFile = %q, want %q", opts.NKeyFile, seedFile)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := transport.Connect(ctx, opts)
	if err != nil {
		t.Fatalf("connect with --nats.nkey and client certificate: %v", err)
	}
	defer conn.Close()
	if err := conn.NC.FlushTimeout(10 * time.Second); err != nil {
		t.Errorf("flush: %v", err)
	}

	noKey := natsFlagsViper(t, "--nats.url", s.ClientURL(),
		"--nats.tls.ca", certs.CAFile, "--nats.tls.cert", certs.ClientCert, "--nats.tls.key", certs.ClientKey)
	opts, err = natsConnectOptions(noKey, "riposte-test", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	opts.ConnectTimeout = 2 * time.Second
	if c, err := transport.Connect(ctx, opts); err == nil {
		c.Close()
		t.Error("connect without --nats.nkey succeeded")
	}
}
