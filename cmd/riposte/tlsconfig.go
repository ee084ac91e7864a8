package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// tlsCheckInterval is the minimum time between two checks of the webhook's
// certificate files for a change.
var tlsCheckInterval = 10 * time.Second

// serverTLSConfig returns nil when no certificate is given. With a client CA,
// clients must present a certificate that it verifies. The files are read
// again when they change, as when cert-manager renews the certificate, so a
// renewal needs no restart. A change that does not load leaves the previous
// certificate in use, with a warning.
func serverTLSConfig(certFile, keyFile, clientCAFile string, logger *slog.Logger) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		if clientCAFile != "" {
			return nil, fmt.Errorf("a client CA needs a server certificate: set --webhook.tls.cert and --webhook.tls.key")
		}
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("webhook TLS: set both --webhook.tls.cert and --webhook.tls.key")
	}
	files := &tlsFiles{cert: certFile, key: keyFile, clientCA: clientCAFile, logger: logger}
	files.stamp = files.fileStamp()
	cfg, err := files.load()
	if err != nil {
		return nil, err
	}
	files.config, files.checked = cfg, time.Now()
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return files.current(), nil },
		// Handshakes use the configuration that GetConfigForClient returns.
		// These two tell the webhook receiver that clients must present a
		// verified certificate.
		ClientAuth: cfg.ClientAuth,
		ClientCAs:  cfg.ClientCAs,
	}, nil
}

// tlsFiles holds the webhook's TLS configuration as last loaded from its
// files.
type tlsFiles struct {
	cert, key, clientCA string
	logger              *slog.Logger

	mu      sync.Mutex
	stamp   string
	checked time.Time
	config  *tls.Config
}

// load reads the files into a new configuration.
func (f *tlsFiles) load() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("load webhook certificate: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if f.clientCA != "" {
		pem, err := os.ReadFile(f.clientCA)
		if err != nil {
			return nil, fmt.Errorf("read webhook client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("webhook client CA %s: no PEM certificate found", f.clientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// fileStamp summarizes the modification times and sizes of the files,
// following symbolic links, as a Kubernetes Secret volume swaps them.
func (f *tlsFiles) fileStamp() string {
	stamp := ""
	for _, path := range []string{f.cert, f.key, f.clientCA} {
		if path == "" {
			continue
		}
		if info, err := os.Stat(path); err == nil {
			stamp += fmt.Sprintf("%s:%d:%d;", path, info.ModTime().UnixNano(), info.Size())
		}
	}
	return stamp
}

// current returns the configuration for a new connection, loading the
// files again when they changed since the last check.
func (f *tlsFiles) current() *tls.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Since(f.checked) < tlsCheckInterval {
		return f.config
	}
	f.checked = time.Now()
	stamp := f.fileStamp()
	if stamp == f.stamp {
		return f.config
	}
	// A change that fails to load is not retried until the files change
	// again, so that every connection does not log the same warning.
	f.stamp = stamp
	cfg, err := f.load()
	if err != nil {
		f.logger.Warn("reload webhook certificate: the previous certificate stays in use", "error", err)
		return f.config
	}
	f.config = cfg
	f.logger.Info("webhook certificate reloaded", "cert", f.cert)
	return cfg
}
