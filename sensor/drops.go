package sensor

import (
	"context"
	"time"
)

// DropReport describes the records the kernel lost during one check
// interval, for [Config.OnDrops].
type DropReport struct {
	// Interval is the time the report covers.
	Interval time.Duration
	// Dropped and Read count records lost in the kernel and records read
	// during the interval.
	Dropped, Read uint64
	// ByCause counts the dropped records per cause name, such as
	// "ringbuf_full".
	ByCause map[string]uint64
}

// Share returns the fraction of records lost during the interval.
func (r DropReport) Share() float64 {
	total := r.Dropped + r.Read
	if total == 0 {
		return 0
	}
	return float64(r.Dropped) / float64(total)
}

// Defaults of the drop check.
const (
	DefaultDropCheckInterval = 10 * time.Second
	DefaultDropThreshold     = 0.001
)

// totalDrops returns the kernel drop counters summed over CPUs, by cause.
func (s *Sensor) totalDrops() (uint64, map[string]uint64, error) {
	drops, err := s.objs.Drops()
	if err != nil {
		return 0, nil, err
	}
	var total uint64
	byCause := make(map[string]uint64)
	for _, d := range drops {
		total += d.Count
		byCause[d.Cause.String()] += d.Count
	}
	return total, byCause, nil
}

// watchDrops compares the kernel drop counters with the records read every
// DropCheckInterval, logs a warning and calls OnDrops when the share of
// lost records exceeds DropThreshold. It returns when ctx ends.
func (s *Sensor) watchDrops(ctx context.Context) {
	interval := s.cfg.DropCheckInterval
	if interval <= 0 {
		interval = DefaultDropCheckInterval
	}
	threshold := s.cfg.DropThreshold
	if threshold <= 0 {
		threshold = DefaultDropThreshold
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()

	// The counters start at zero when the programs load, so drops that
	// happened before this goroutine started, as while the process table
	// was seeded, count in the first interval.
	var lastDropped, lastRead uint64
	lastByCause := map[string]uint64{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		dropped, byCause, err := s.totalDrops()
		if err != nil {
			s.logger.Warn("read kernel drop counters", "error", err)
			continue
		}
		read := s.recordsRead.Load()
		report := DropReport{Interval: interval, Dropped: dropped - lastDropped, Read: read - lastRead, ByCause: map[string]uint64{}}
		for cause, n := range byCause {
			if d := n - lastByCause[cause]; d > 0 {
				report.ByCause[cause] = d
			}
		}
		lastDropped, lastByCause, lastRead = dropped, byCause, read
		if report.Dropped == 0 || report.Share() <= threshold {
			continue
		}
		s.logger.Warn("kernel dropped records", "dropped", report.Dropped, "read", report.Read,
			"share", report.Share(), "by_cause", report.ByCause, "interval", interval)
		if s.cfg.OnDrops != nil {
			s.cfg.OnDrops(report)
		}
	}
}
