package transport

import (
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
)

// defaultReconnectBufSize is the default reconnect buffer of nats.go v1.56.0,
// 8 MiB, which holds about 8,000 alerts of 1 KiB.
const defaultReconnectBufSize = 8 << 20

// clusterOptions returns the nats.go options for NKey authentication and the
// reconnect buffer.
func clusterOptions(opts ConnectOptions) ([]nats.Option, error) {
	var out []nats.Option
	if opts.NKeyFile != "" {
		if opts.CredentialsFile != "" {
			return nil, fmt.Errorf("connect to NATS: both an NKey seed file (%s) and a credentials file (%s) are set: use one", opts.NKeyFile, opts.CredentialsFile)
		}
		if _, err := os.Stat(opts.NKeyFile); err != nil {
			return nil, fmt.Errorf("connect to NATS: NKey seed file: %w", err)
		}
		o, err := nats.NkeyOptionFromSeed(opts.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("connect to NATS: read NKey seed file %s: %w: the file must contain a user seed starting with SU", opts.NKeyFile, err)
		}
		out = append(out, o)
	}
	size := opts.ReconnectBufSize
	switch {
	case size == 0:
		size = defaultReconnectBufSize
	case size < 0:
		size = -1 // nats.go: no buffer, publishes fail at once while disconnected.
	}
	out = append(out, nats.ReconnectBufSize(size))
	return out, nil
}
