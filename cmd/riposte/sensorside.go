package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/riposte-sec/riposte/alert"
	"github.com/riposte-sec/riposte/rules"
	"github.com/riposte-sec/riposte/rules/fields"
	"github.com/riposte-sec/riposte/sensor"
	"github.com/riposte-sec/riposte/sensor/detector"
	"github.com/riposte-sec/riposte/sensor/event"
	"github.com/riposte-sec/riposte/sensor/extract"
	"github.com/riposte-sec/riposte/sensor/k8smeta"
)

// sensorSide is the eBPF sensor with the detector that matches its events
// against the rules and hands alerts to a sink.
type sensorSide struct {
	sensor   *sensor.Sensor
	detector *detector.Detector
	// adapter is reused for every event; only the sensor's reading
	// goroutine touches it.
	adapter *extract.Event
	// pods, when set, gives alerts their pod metadata.
	pods *k8smeta.Watcher
	// hostname is the host name that alerts carry.
	hostname string
	// names resolves the host names that the rules compare fd.sip.name
	// with.
	names *extract.Names
	// ruleLoads records the reloads of the rules.
	ruleLoads ruleLoads
}

// alertHostname returns the hostname that alerts carry: $FALCO_HOSTNAME, as
// in Falco, else the node name, so that responders route host actions to
// the node's sensor.
func alertHostname(node string) string {
	if h := os.Getenv("FALCO_HOSTNAME"); h != "" {
		return h
	}
	if node != "" {
		return node
	}
	return rules.Hostname()
}

// newSensorSide returns the sensor's parts around the detector, which
// passes its alerts to onAlert, unless it is nil, and queues them for sink.
func newSensorSide(engine *rules.Engine, sink detector.Sink, onAlert func(*alert.Alert), hostname string, logger *slog.Logger) (*sensorSide, error) {
	det, err := detector.New(detector.Options{
		Engine:   engine,
		Hostname: hostname,
		Sink:     sink,
		OnAlert:  onAlert,
		Logger:   logger.With("component", "detector"),
	})
	if err != nil {
		return nil, err
	}
	s := &sensorSide{
		hostname: hostname,
		detector: det,
		adapter:  extract.New(hostname, extract.NewUsers("/proc")),
		names: extract.NewNames(engine.Values(fields.FdSIPName), extract.NamesOptions{
			Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			},
			Logger: logger.With("component", "names"),
		}),
	}
	s.adapter.SetNames(s.names)
	s.ruleLoads.started(time.Now())
	s.sensor, err = sensor.New(sensor.Config{
		Handler:  s.handle,
		Syscalls: extract.SensorTypes(engine.EventTypes()),
		OnDrops: func(r sensor.DropReport) {
			det.Raise(dropAlert(r, time.Now()))
		},
	}, logger.With("component", "sensor"))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// handle is the sensor's event handler.
func (s *sensorSide) handle(e *event.Event) {
	s.adapter.Reset(e)
	s.detector.Handle(s.adapter, e.Time)
}

// usePods makes alerts carry the pod metadata of w, which start runs.
func (s *sensorSide) usePods(w *k8smeta.Watcher) {
	s.pods = w
	s.adapter.SetContainerMetadata(w)
}

// start runs the pod watcher, the detector and the sensor under sup.
func (s *sensorSide) start(sup *supervisor) {
	if s.pods != nil {
		sup.Go("pod watcher", s.pods.Run)
	}
	sup.Go("host names", s.names.Run)
	sup.Go("detector", s.detector.Run)
	sup.Go("sensor", func(ctx context.Context) error { return s.sensor.Run(ctx) })
}

// useRules makes the sensor match engine from now on: the detector's rules,
// the syscalls that cross into userspace and the host names to resolve all
// follow it, without reloading the eBPF programs.
func (s *sensorSide) useRules(engine *rules.Engine) error {
	if err := s.sensor.SetSyscalls(extract.SensorTypes(engine.EventTypes())); err != nil {
		return fmt.Errorf("select the syscalls of the new rules: %w", err)
	}
	s.names.SetHosts(engine.Values(fields.FdSIPName))
	s.detector.SetEngine(engine)
	return nil
}

// watchRules reloads the rules under sup when their files change or on
// SIGHUP.
func (s *sensorSide) watchRules(sup *supervisor, withDefaults bool, paths []string, ruleOpts ruleOptions, logger *slog.Logger) {
	w := &ruleWatcher{withDefaults: withDefaults, paths: paths, ruleOpts: ruleOpts, logger: logger.With("component", "rules"),
		onReload: s.useRules, loads: &s.ruleLoads}
	sup.Go("rules watcher", w.Run)
}
