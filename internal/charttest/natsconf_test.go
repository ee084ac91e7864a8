package charttest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	corev1 "k8s.io/api/core/v1"
)

// renderedNATS is the bundled NATS configuration of one render, written to
// files that nats-server can read.
type renderedNATS struct {
	// file is nats.conf, its certificate paths pointing at the files next to it.
	file string
	// auth is the Secret with the passwords and nats.conf.
	auth *corev1.Secret
	// tls is the Secret with the CA and the server certificate, if any.
	tls *corev1.Secret
}

// renderNATS renders the chart with values and writes the bundled NATS
// configuration, and its certificates when TLS is on, to a temporary
// directory.
func renderNATS(t *testing.T, values map[string]any) renderedNATS {
	t.Helper()
	objs := render(t, values)
	dir := t.TempDir()
	r := renderedNATS{
		file: filepath.Join(dir, "nats.conf"),
		auth: convert[corev1.Secret](t, find(t, objs, "Secret", "riposte-nats-auth")),
	}
	conf, ok := r.auth.Data["nats.conf"]
	if !ok {
		t.Fatal("Secret riposte-nats-auth has no nats.conf")
	}
	if u := lookup(objs, "Secret", "riposte-nats-tls"); u != nil {
		r.tls = convert[corev1.Secret](t, u)
		for _, key := range []string{"ca.crt", "tls.crt", "tls.key"} {
			if err := os.WriteFile(filepath.Join(dir, key), r.tls.Data[key], 0o600); err != nil {
				t.Fatal(err)
			}
		}
		conf = bytes.ReplaceAll(conf, []byte("/etc/nats/tls/"), []byte(dir+"/"))
	}
	if err := os.WriteFile(r.file, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

// parse parses the configuration with the nats-server configuration parser,
// as the server named podName would.
func (r renderedNATS) parse(t *testing.T, podName string) *server.Options {
	t.Helper()
	t.Setenv("POD_NAME", podName)
	opts, err := server.ProcessConfigFile(r.file)
	if err != nil {
		conf, _ := os.ReadFile(r.file)
		t.Fatalf("nats-server rejects the rendered configuration: %v\n%s", err, conf)
	}
	return opts
}

// bundledNATSConfig renders the chart with values and parses the bundled NATS
// configuration as the server named podName would.
func bundledNATSConfig(t *testing.T, values map[string]any, podName string) (*server.Options, *corev1.Secret) {
	t.Helper()
	r := renderNATS(t, values)
	return r.parse(t, podName), r.auth
}

func TestBundledNATSConfigParses(t *testing.T) {
	opts, secret := bundledNATSConfig(t, nil, "riposte-nats-1")
	if opts.ServerName != "riposte-nats-1" {
		t.Errorf("server_name = %q, want the pod name", opts.ServerName)
	}
	if !opts.JetStream || opts.StoreDir != "/data" {
		t.Errorf("JetStream = %v, store_dir = %q, want enabled in /data", opts.JetStream, opts.StoreDir)
	}
	if opts.JetStreamMaxStore != 9<<30 {
		t.Errorf("max_file_store = %d, want 9 GiB", opts.JetStreamMaxStore)
	}
	if opts.JetStreamMaxMemory != 256<<20 {
		t.Errorf("max_memory_store = %d, want 256 MiB", opts.JetStreamMaxMemory)
	}
	if opts.TLSConfig == nil || opts.Cluster.TLSConfig == nil {
		t.Error("client or route connections are not encrypted with TLS")
	}
	if opts.Cluster.Name != "riposte-nats" || opts.Cluster.Port != 6222 {
		t.Errorf("cluster = %s on %d, want riposte-nats on 6222", opts.Cluster.Name, opts.Cluster.Port)
	}

	routePassword := string(secret.Data["route-password"])
	if opts.Cluster.Username != "route" || opts.Cluster.Password != routePassword {
		t.Error("cluster routes do not require the route user and password from the Secret")
	}
	var routes []string
	for _, u := range opts.Routes {
		password, _ := u.User.Password()
		if u.User.Username() != "route" || password != routePassword {
			t.Errorf("route %s does not carry the route credentials", u.Host)
		}
		routes = append(routes, u.Host)
	}
	var want []string
	for i := range 3 {
		want = append(want, fmt.Sprintf("riposte-nats-%d.riposte-nats-headless.%s.svc.cluster.local:6222", i, testRelease.namespace))
	}
	if !slices.Equal(routes, want) {
		t.Errorf("routes = %v, want %v", routes, want)
	}

	users := map[string]*server.User{}
	for _, u := range opts.Users {
		users[u.Username] = u
	}
	for _, name := range []string{"sensor", "responder"} {
		u, ok := users[name]
		if !ok {
			t.Errorf("no NATS user %s", name)
			continue
		}
		if u.Password != string(secret.Data[name+"-password"]) || len(u.Password) != 32 {
			t.Errorf("NATS user %s has a password that is not the Secret's 32-character %s-password", name, name)
		}
	}
	sensor := users["sensor"]
	if sensor == nil || sensor.Permissions == nil || sensor.Permissions.Publish == nil {
		t.Fatal("NATS user sensor has no publish permissions")
	}
	if want := []string{"riposte.alerts.>", "$JS.API.>"}; !slices.Equal(sensor.Permissions.Publish.Allow, want) {
		t.Errorf("sensor may publish to %v, want %v", sensor.Permissions.Publish.Allow, want)
	}
	if sensor.Permissions.Subscribe == nil || !slices.Contains(sensor.Permissions.Subscribe.Allow, "riposte.node.*.actions") {
		t.Errorf("sensor may not subscribe to the host actions of its node: %+v", sensor.Permissions.Subscribe)
	}
	if sensor.Permissions.Subscribe == nil || !slices.Contains(sensor.Permissions.Subscribe.Allow, "riposte.node.*.checks") {
		t.Errorf("sensor may not subscribe to the dry-run checks of its node: %+v", sensor.Permissions.Subscribe)
	}
	if sensor.Permissions.Response == nil {
		t.Error("sensor may not answer the host actions it receives")
	}
	if r := users["responder"]; r != nil && r.Permissions != nil {
		t.Errorf("responder permissions = %+v, want none by default", r.Permissions)
	}
}

func TestBundledNATSReplicasSetRoutes(t *testing.T) {
	values := map[string]any{"nats": map[string]any{"bundled": map[string]any{"replicas": 5}}}
	opts, _ := bundledNATSConfig(t, values, "riposte-nats-0")
	if len(opts.Routes) != 5 {
		t.Errorf("%d routes for 5 replicas, want 5", len(opts.Routes))
	}
}

func TestBundledNATSWithoutTLS(t *testing.T) {
	values := map[string]any{"nats": map[string]any{"bundled": map[string]any{"tls": map[string]any{"enabled": false}}}}
	r := renderNATS(t, values)
	if r.tls != nil {
		t.Error("tls.enabled=false still renders the NATS certificate Secret")
	}
	opts := r.parse(t, "riposte-nats-0")
	if opts.TLSConfig != nil || opts.Cluster.TLSConfig != nil {
		t.Error("tls.enabled=false still configures TLS")
	}
}

func TestBundledNATSCertificate(t *testing.T) {
	r := renderNATS(t, nil)
	if r.tls == nil {
		t.Fatal("no NATS certificate Secret rendered")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(r.tls.Data["ca.crt"]) {
		t.Fatal("ca.crt holds no PEM certificate")
	}
	pair, err := tls.X509KeyPair(r.tls.Data["tls.crt"], r.tls.Data["tls.key"])
	if err != nil {
		t.Fatalf("tls.crt and tls.key do not form a key pair: %v", err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	ns := testRelease.namespace
	for _, host := range []string{
		"riposte-nats." + ns + ".svc.cluster.local",
		"riposte-nats-2.riposte-nats-headless." + ns + ".svc.cluster.local",
	} {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
		if err != nil {
			t.Errorf("certificate does not verify for %s: %v", host, err)
		}
	}
}
