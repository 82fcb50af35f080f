// Package diskspace watches the free space of the folders a daemon writes to.
//
// A full disk does not announce itself: Badger, a Fabric ledger or a Raft
// WAL fails on its next write, mid-commit, and the process stops or panics.
// So the free space of each folder is exported as metrics, and readiness
// goes false below a threshold while there is still room to finish the
// writes in flight: the load balancer or orchestrator stops sending, an
// operator acts (docs/operations.md) before anything fails.
package diskspace

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMinFreeBytes leaves room for a Badger memtable flush, a value log
// file and a compaction, or a Fabric block file (64 MiB) and a Raft WAL
// segment (64 MiB) several times over: 1 GiB.
const DefaultMinFreeBytes = 1 << 30

// ErrLow marks a folder below the threshold.
var ErrLow = errors.New("disk space low")

// ErrBadSize is returned by ParseBytes.
var ErrBadSize = errors.New("invalid size")

// StatFS reports the bytes available to this (unprivileged) process and
// the total size of the file system holding path.
type StatFS func(path string) (avail, total uint64, err error)

// SysStatFS is StatFS over statfs(2).
func SysStatFS(path string) (uint64, uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs: %w", err)
	}
	bs := uint64(st.Bsize)
	return st.Bavail * bs, st.Blocks * bs, nil
}

// Folder is one watched folder: a fixed label for metrics and messages
// ("data", "ledger", "orderer0-wal") and its path. The label names a role,
// never anything a case or person could be recognised by.
type Folder struct {
	Name string
	Path string
}

// Watch is the probe over a set of folders. The zero MinFree never makes
// Check fail; a nil StatFS is SysStatFS.
type Watch struct {
	Folders []Folder
	MinFree uint64
	StatFS  StatFS
}

func (w Watch) statfs(path string) (uint64, uint64, error) {
	if w.StatFS == nil {
		return SysStatFS(path)
	}
	return w.StatFS(path)
}

// Check is the readiness check: nil, or an error naming the first folder
// below the threshold (wrapping ErrLow) or whose file system cannot be read.
func (w Watch) Check() error {
	if w.MinFree == 0 {
		return nil
	}
	for _, f := range w.Folders {
		avail, _, err := w.statfs(f.Path)
		if err != nil {
			return fmt.Errorf("free space of the %s folder unknown: %w", f.Name, err)
		}
		if avail < w.MinFree {
			return fmt.Errorf("%w: %s folder has %d bytes available, below the %d-byte threshold",
				ErrLow, f.Name, avail, w.MinFree)
		}
	}
	return nil
}

// Usage is one folder's file system as last probed.
type Usage struct {
	Folder
	Avail, Total uint64
	Err          error
}

// Usage probes every folder (for status displays).
func (w Watch) Usage() []Usage {
	out := make([]Usage, 0, len(w.Folders))
	for _, f := range w.Folders {
		u := Usage{Folder: f}
		u.Avail, u.Total, u.Err = w.statfs(f.Path)
		out = append(out, u)
	}
	return out
}

// Metrics names the exported series: <Namespace>_disk_available_bytes,
// <Namespace>_disk_size_bytes (both per folder) and
// <Namespace>_disk_min_available_bytes (the threshold).
type Metrics struct {
	Namespace string
	// Of says what the folders are, for the help text.
	Of string
	// Unlabelled exports the first folder's series without the folder
	// label: the gateway watches one folder and its series predate the label.
	Unlabelled bool
}

// Collector is a prometheus.Collector over a Watch: one statfs per folder
// per scrape, so the figures are never stale.
type Collector struct {
	w                 Watch
	unlabelled        bool
	avail, total, min *prometheus.Desc
}

// NewCollector returns the collector of w's folders.
func NewCollector(w Watch, m Metrics) *Collector {
	var labels []string
	if !m.Unlabelled {
		labels = []string{"folder"}
	}
	return &Collector{
		w: w, unlabelled: m.Unlabelled,
		avail: prometheus.NewDesc(m.Namespace+"_disk_available_bytes",
			"Bytes available on the file system of "+m.Of+".", labels, nil),
		total: prometheus.NewDesc(m.Namespace+"_disk_size_bytes",
			"Size of the file system of "+m.Of+".", labels, nil),
		min: prometheus.NewDesc(m.Namespace+"_disk_min_available_bytes",
			"Readiness threshold: below it /readyz answers 503.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.avail
	ch <- c.total
	ch <- c.min
}

// Collect implements prometheus.Collector. A folder whose file system
// cannot be read has no series: the alert on an absent metric fires.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	folders := c.w.Folders
	if len(folders) == 0 {
		return
	}
	if c.unlabelled {
		folders = folders[:1]
	}
	for _, f := range folders {
		avail, total, err := c.w.statfs(f.Path)
		if err != nil {
			continue
		}
		var lv []string
		if !c.unlabelled {
			lv = []string{f.Name}
		}
		ch <- prometheus.MustNewConstMetric(c.avail, prometheus.GaugeValue, float64(avail), lv...)
		ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(total), lv...)
	}
	ch <- prometheus.MustNewConstMetric(c.min, prometheus.GaugeValue, float64(c.w.MinFree))
}

// ParseBytes reads a size: a plain number of bytes or one with a binary
// suffix (KiB, MiB, GiB, TiB; K, M, G, T mean the same).
func ParseBytes(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	mult := uint64(1)
	for _, u := range []struct {
		suffixes []string
		mult     uint64
	}{{[]string{"TiB", "T"}, 1 << 40}, {[]string{"GiB", "G"}, 1 << 30}, {[]string{"MiB", "M"}, 1 << 20}, {[]string{"KiB", "K"}, 1 << 10}} {
		done := false
		for _, suf := range u.suffixes {
			if rest, ok := strings.CutSuffix(s, suf); ok {
				s, mult, done = strings.TrimSpace(rest), u.mult, true
				break
			}
		}
		if done {
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || (n > 0 && n*mult/mult != n) {
		return 0, fmt.Errorf("%w: %q: a number of bytes, optionally with KiB, MiB, GiB or TiB", ErrBadSize, s)
	}
	return n * mult, nil
}
