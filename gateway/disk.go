package gateway

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	privacy "github.com/caseledger/caseledger/privacy-service"
)

// A full disk does not announce itself: Badger fails its next write
// mid-request — an idempotency record, a journaled transaction, an event the
// log must not lose. So the free space of the gateway's data folder is
// exported, and readiness goes false below a threshold while there is still
// room to finish the writes in flight: the load balancer stops sending, an
// operator acts (docs/gateway.md, "Disk space") before anything fails.

// DefaultMinFreeBytes leaves room for Badger's memtable flushes, a value log
// file and compactions: 1 GiB.
const DefaultMinFreeBytes = 1 << 30

// diskWatch probes the data folder.
type diskWatch struct {
	dir     string
	minFree uint64
	statfs  privacy.StatFS
}

// check reports why the folder is below the threshold (nil: fine, or no
// threshold, or no folder configured).
func (d *diskWatch) check() error {
	if d.dir == "" || d.minFree == 0 {
		return nil
	}
	avail, _, err := d.statfs(d.dir)
	if err != nil {
		return fmt.Errorf("free space of the data folder unknown: %w", err)
	}
	if avail < d.minFree {
		return fmt.Errorf("the data folder has %d bytes available, below the %d-byte threshold", avail, d.minFree)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (d *diskWatch) Describe(ch chan<- *prometheus.Desc) {
	ch <- diskAvailDesc
	ch <- diskTotalDesc
	ch <- diskMinDesc
}

// Collect implements prometheus.Collector: one statfs per scrape.
func (d *diskWatch) Collect(ch chan<- prometheus.Metric) {
	if d.dir == "" {
		return
	}
	if avail, total, err := d.statfs(d.dir); err == nil { // absent series on error: the absent-metric alert fires
		ch <- prometheus.MustNewConstMetric(diskAvailDesc, prometheus.GaugeValue, float64(avail))
		ch <- prometheus.MustNewConstMetric(diskTotalDesc, prometheus.GaugeValue, float64(total))
	}
	ch <- prometheus.MustNewConstMetric(diskMinDesc, prometheus.GaugeValue, float64(d.minFree))
}

var (
	diskAvailDesc = prometheus.NewDesc("gateway_disk_available_bytes",
		"Bytes available on the file system of the gateway's data folder.", nil, nil)
	diskTotalDesc = prometheus.NewDesc("gateway_disk_size_bytes",
		"Size of the file system of the gateway's data folder.", nil, nil)
	diskMinDesc = prometheus.NewDesc("gateway_disk_min_available_bytes",
		"Readiness threshold: below it /readyz answers 503 STORAGE_LOW.", nil, nil)
)
