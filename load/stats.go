package load

import (
	"math"
	"slices"
	"time"
)

// Latencies collects operation durations; percentiles come from sorting (a bounded run keeps
// every sample, which is exact and small: 100k samples are 800 kB).
type Latencies struct {
	samples []time.Duration
	sorted  bool
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.samples = append(l.samples, d)
	l.sorted = false
}

// Merge adds every sample of o.
func (l *Latencies) Merge(o *Latencies) {
	l.samples = append(l.samples, o.samples...)
	l.sorted = false
}

// Count is the number of samples.
func (l *Latencies) Count() int { return len(l.samples) }

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100): the smallest sample such
// that at least p% of the samples are at or below it. 0 with no samples.
func (l *Latencies) Percentile(p float64) time.Duration {
	if len(l.samples) == 0 {
		return 0
	}
	if !l.sorted {
		slices.Sort(l.samples)
		l.sorted = true
	}
	rank := int(math.Ceil(p / 100 * float64(len(l.samples))))
	rank = max(1, min(rank, len(l.samples)))
	return l.samples[rank-1]
}

// Mean is the arithmetic mean (0 with no samples).
func (l *Latencies) Mean() time.Duration {
	if len(l.samples) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range l.samples {
		sum += d
	}
	return sum / time.Duration(len(l.samples))
}

// Summary is the usual percentiles of a set of latencies.
type Summary struct {
	Count                    int
	Mean, P50, P95, P99, Max time.Duration
}

// Summary computes the summary.
func (l *Latencies) Summary() Summary {
	return Summary{Count: l.Count(), Mean: l.Mean(), P50: l.Percentile(50), P95: l.Percentile(95),
		P99: l.Percentile(99), Max: l.Percentile(100)}
}
