package sensor

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric descriptions of the sensor's collector.
var (
	recordsReadDesc = prometheus.NewDesc("riposte_sensor_records_read_total",
		"Ring-buffer records read by the sensor.", nil, nil)
	eventsDeliveredDesc = prometheus.NewDesc("riposte_sensor_events_delivered_total",
		"Events passed to the sensor's handler.", nil, nil)
	decodeErrorsDesc = prometheus.NewDesc("riposte_sensor_decode_errors_total",
		"Ring-buffer records that could not be decoded.", nil, nil)
	kernelDropsDesc = prometheus.NewDesc("riposte_sensor_kernel_drops_total",
		"Records lost in the kernel before reaching userspace, by cause and record kind.",
		[]string{"cause", "kind"}, nil)
	processesDesc = prometheus.NewDesc("riposte_sensor_processes",
		"Entries in the sensor's process table.", nil, nil)
	processesEvictedDesc = prometheus.NewDesc("riposte_sensor_processes_evicted_total",
		"Process table entries removed to stay within the size limit.", nil, nil)
	statsErrorsDesc = prometheus.NewDesc("riposte_sensor_stats_errors_total",
		"Failed reads of the kernel drop counters.", nil, nil)
)

// collector exports a sensor's Stats as Prometheus metrics.
type collector struct {
	s *Sensor
}

// Collector returns a Prometheus collector of the sensor's counters. It
// reads the kernel drop counters at every scrape.
func (s *Sensor) Collector() prometheus.Collector {
	return collector{s: s}
}

// Describe sends the metric descriptions.
func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{recordsReadDesc, eventsDeliveredDesc, decodeErrorsDesc,
		kernelDropsDesc, processesDesc, processesEvictedDesc, statsErrorsDesc} {
		ch <- d
	}
}

// Collect sends the current values.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.s.Stats()
	if err != nil {
		c.s.statsErrors.Add(1)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(recordsReadDesc, st.RecordsRead)
	counter(eventsDeliveredDesc, st.EventsDelivered)
	counter(decodeErrorsDesc, st.DecodeErrors)
	counter(processesEvictedDesc, st.ProcessesEvicted)
	counter(statsErrorsDesc, c.s.statsErrors.Load())
	ch <- prometheus.MustNewConstMetric(processesDesc, prometheus.GaugeValue, float64(st.Processes))
	// The counts are summed over CPUs: every CPU writes to the same ring
	// buffer, so the CPU where a reservation failed does not show which
	// buffer ran out, and a label per CPU would multiply the series.
	for _, d := range st.Drops {
		counter(kernelDropsDesc, d.Count, d.Cause.String(), d.Kind.String())
	}
}
