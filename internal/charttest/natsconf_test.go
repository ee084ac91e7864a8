package charttest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	corev1 "k8s.io/api/core/v1"
)

// bundledNATSConfig renders the chart with values and parses the bundled NATS
// server configuration with the nats-server configuration parser, as the
// server named podName would.
func bundledNATSConfig(t *testing.T, values map[string]any, podName string) (*server.Options, *corev1.Secret) {
	t.Helper()
	objs := render(t, values)
	secret := convert[corev1.Secret](t, find(t, objs, "Secret", "riposte-nats-auth"))
	conf, ok := secret.Data["nats.conf"]
	if !ok {
		t.Fatal("Secret riposte-nats-auth has no nats.conf")
	}
	file := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(file, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("POD_NAME", podName)
	opts, err := server.ProcessConfigFile(file)
	if err != nil {
		t.Fatalf("nats-server rejects the rendered configuration: %v\n%s", err, conf)
	}
	return opts, secret
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
