package privacy

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// storeMetrics are the store's own Prometheus collectors. No label carries an
// identifier: labels are fixed operation names only.
type storeMetrics struct {
	commitSeconds prometheus.Histogram
	batchOps      prometheus.Histogram
	shredded      *prometheus.CounterVec
}

func newStoreMetrics() *storeMetrics {
	return &storeMetrics{
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "privacy_store_commit_seconds",
			Help:    "Time to commit one write batch, fsyncs included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		batchOps: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "privacy_store_batch_operations",
			Help:    "Operations committed per write batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 9),
		}),
		shredded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privacy_store_shredded_records_total",
			Help: "Records whose data key was destroyed, by reason (erased, superseded).",
		}, []string{"reason"}),
	}
}

func (m *storeMetrics) observeCommit(batch []*plan, d time.Duration) {
	m.commitSeconds.Observe(d.Seconds())
	m.batchOps.Observe(float64(len(batch)))
	for _, p := range batch {
		if len(p.drop) == 0 {
			continue
		}
		reason := "superseded"
		if p.erase {
			reason = "erased"
		}
		m.shredded.WithLabelValues(reason).Add(float64(len(p.drop)))
	}
}

// Collectors returns the store's metrics for registration by the server.
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		s.m.commitSeconds, s.m.batchOps, s.m.shredded,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "privacy_store_cases",
			Help: "Cases held in the vault.",
		}, func() float64 { return float64(s.nCases.Load()) }),
	}
}
