package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/riposte-sec/riposte/transport"
)

func TestNotificationsMapRejected(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		got  string
	}{
		{"map by name", "notifications:\n  slack:\n    type: slack\n    url: https://hooks.example.com/services/T0/B0/SECRET\n", "got a map with the keys slack,"},
		{"one entry as a map", "notifications:\n  type: slack\n  url: https://hooks.example.com/services/T0/B0/SECRET\n", "got a map with the keys type, url,"},
		{"empty map", "notifications: {}\n", "got an empty map,"},
		{"string", "notifications: slack\n", "got a string,"},
	}
	for _, tt := range tests {
		for _, command := range []string{"responder", "run"} {
			t.Run(tt.name+"/"+command, func(t *testing.T) {
				file := filepath.Join(t.TempDir(), "riposte.yaml")
				if err := os.WriteFile(file, []byte(tt.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				// An invalid output format stops riposte run right after the
				// notifications, should they be accepted.
				args := []string{command, "--config", file}
				if command == "run" {
					args = append(args, "--output", "invalid")
				}
				if command == "responder" {
					args = append(args, "--webhook.no-auth", "--nats.url", "nats://127.0.0.1:1", "--nats.wait", "1s", "--metrics.addr", "")
				}
				out, err := runCommand(t, args...)
				if err == nil {
					t.Fatalf("no error for notifications as %s\n%s", tt.name, out)
				}
				for _, want := range []string{"invalid notifications in the configuration file", tt.got, "expected a list", "\n  - type: slack\n", "\n  - type: nats\n"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q:\n%v", want, err)
					}
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("error shows the URL:\n%v", err)
				}
			})
		}
	}
}

func TestNotificationsEnvRejected(t *testing.T) {
	t.Setenv(notificationsEnv, "slack")
	for _, command := range []string{"responder", "run"} {
		t.Run(command, func(t *testing.T) {
			args := []string{command}
			if command == "run" {
				args = append(args, "--output", "invalid")
			}
			if command == "responder" {
				args = append(args, "--webhook.no-auth", "--nats.url", "nats://127.0.0.1:1", "--nats.wait", "1s", "--metrics.addr", "")
			}
			out, err := runCommand(t, args...)
			if err == nil {
				t.Fatalf("no error with %s set\n%s", notificationsEnv, out)
			}
			for _, want := range []string{"environment variable RIPOSTE_NOTIFICATIONS is not supported", "configuration file given with --config", "\n  - type: slack\n"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			if strings.Contains(out, "RIPOSTE_NOTIFICATIONS") {
				t.Errorf("logged a warning about RIPOSTE_NOTIFICATIONS before the error:\n%s", out)
			}
		})
	}
}

func TestNotificationsLoggedWithoutSecrets(t *testing.T) {
	server, err := transport.StartServer(transport.ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Close) // after the responder's cleanup stops it
	v := viper.New()
	v.Set("notifications", []map[string]any{
		{"type": "slack", "url": "https://hooks.example.com/services/T0/B0/SECRET", "outcomes": []string{"acted", "failed"}},
		{"type": "webhook", "url": "https://user:SECRET@alerts.example.com:8443?token=SECRET", "headers": map[string]string{"Authorization": "Bearer SECRET"}, "policies": []string{"shell_in_container"}},
		{"type": "nats", "subject": "riposte.notifications"},
	})
	logs := startResponder(t, server, v).String()
	for _, want := range []string{
		`msg="notification configured" index=0 type=slack target=https://hooks.example.com/... policies=all outcomes=acted,failed`,
		`msg="notification configured" index=1 type=webhook target=https://alerts.example.com:8443/... policies=shell_in_container outcomes=all`,
		`msg="notification configured" index=2 type=nats target=riposte.notifications policies=all outcomes=all`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "SECRET") {
		t.Errorf("log shows a secret:\n%s", logs)
	}
}
