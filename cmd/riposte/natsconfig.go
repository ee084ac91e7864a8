package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/transport"
)

// addNATSFlags adds the flags that select an external NATS deployment.
func addNATSFlags(flags *pflag.FlagSet) {
	flags.String("nats.url", "nats://127.0.0.1:4222", "NATS URL, or a comma-separated list of the cluster's URLs")
	flags.String("nats.creds", "", "NATS credentials file (user JWT and NKey seed)")
	flags.String("nats.nkey", "", "NATS user NKey seed file, for servers that list the user's public NKey (not together with --nats.creds)")
	flags.String("nats.tls.ca", "", "CA certificate file that verifies the NATS servers")
	flags.String("nats.tls.cert", "", "client certificate file, for mutual TLS with NATS")
	flags.String("nats.tls.key", "", "client private key file, for mutual TLS with NATS")
	flags.Int("nats.replicas", 1, "copies of each JetStream stream in the NATS cluster (1, 3 or 5)")
}

// natsConnectOptions builds the connection options from the nats.* keys.
func natsConnectOptions(v *viper.Viper, name string, logger *slog.Logger) (transport.ConnectOptions, error) {
	opts := transport.ConnectOptions{
		URL:             v.GetString("nats.url"),
		Name:            name,
		CredentialsFile: v.GetString("nats.creds"),
		NKeyFile:        v.GetString("nats.nkey"),
		Logger:          logger.With("component", "nats"),
	}
	if opts.CredentialsFile != "" {
		if _, err := os.Stat(opts.CredentialsFile); err != nil {
			return opts, fmt.Errorf("NATS credentials file: %w", err)
		}
	}
	tlsConfig, err := natsTLSConfig(v.GetString("nats.tls.ca"), v.GetString("nats.tls.cert"), v.GetString("nats.tls.key"))
	if err != nil {
		return opts, err
	}
	opts.TLS = tlsConfig
	return opts, nil
}

// natsTLSConfig returns nil when no TLS file is given.
func natsTLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read NATS CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("NATS CA certificate %s: no PEM certificate found", caFile)
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("NATS client certificate: set both --nats.tls.cert and --nats.tls.key, or neither")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load NATS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
