package privacy

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// A full disk does not announce itself: Badger, the key slots and the
// tombstone log fail on their next write, mid-commit, and the store turns
// "broken". So the free space of each folder the service writes to (or must
// be able to rewrite, like the keyring on rotation) is exported, and
// readiness goes false below a threshold while there is still room to finish
// the writes in flight and to erase — an operator (or the orchestrator,
// through /readyz) acts before anything fails. docs/privacy-service.md §5
// "Disk space" is the recovery.

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

// DiskFolder is one watched folder: a fixed label for metrics and messages
// ("data", "tombstones", "kek") and its path.
type DiskFolder struct {
	Name string
	Path string
}

// DiskConfig configures the free-space watch.
type DiskConfig struct {
	Folders []DiskFolder
	// MinFreeBytes: readiness is false while any folder's file system has
	// less available (0: never).
	MinFreeBytes uint64
	// StatFS is the probe (default SysStatFS; a fake in tests).
	StatFS StatFS
}

// DefaultMinFreeBytes leaves room for Badger's next memtable flush and value
// log file (16 MiB + 1 GiB files are preallocated lazily, but a compaction
// rewrites tables) and for erasures: 1 GiB.
const DefaultMinFreeBytes = 1 << 30

var errDiskLow = errors.New("disk space low")

// diskWatch is the probe over the configured folders.
type diskWatch struct {
	cfg DiskConfig
}

func newDiskWatch(cfg DiskConfig) *diskWatch {
	if cfg.StatFS == nil {
		cfg.StatFS = SysStatFS
	}
	return &diskWatch{cfg: cfg}
}

// check returns an ErrUnavailable error naming the first folder below the
// threshold, or whose file system cannot be read.
func (d *diskWatch) check() error {
	if d.cfg.MinFreeBytes == 0 {
		return nil
	}
	for _, f := range d.cfg.Folders {
		avail, _, err := d.cfg.StatFS(f.Path)
		if err != nil {
			return fmt.Errorf("%w: free space of the %s folder unknown: %w", ErrUnavailable, f.Name, err)
		}
		if avail < d.cfg.MinFreeBytes {
			return fmt.Errorf("%w: %w: %s folder has %d bytes available, below the %d-byte threshold",
				ErrUnavailable, errDiskLow, f.Name, avail, d.cfg.MinFreeBytes)
		}
	}
	return nil
}

// Describe implements prometheus.Collector.
func (d *diskWatch) Describe(ch chan<- *prometheus.Desc) {
	ch <- diskAvailDesc
	ch <- diskTotalDesc
	ch <- diskMinDesc
}

// Collect implements prometheus.Collector: one statfs per folder per scrape.
func (d *diskWatch) Collect(ch chan<- prometheus.Metric) {
	for _, f := range d.cfg.Folders {
		avail, total, err := d.cfg.StatFS(f.Path)
		if err != nil {
			continue // absent series: the alert on a missing metric fires
		}
		ch <- prometheus.MustNewConstMetric(diskAvailDesc, prometheus.GaugeValue, float64(avail), f.Name)
		ch <- prometheus.MustNewConstMetric(diskTotalDesc, prometheus.GaugeValue, float64(total), f.Name)
	}
	ch <- prometheus.MustNewConstMetric(diskMinDesc, prometheus.GaugeValue, float64(d.cfg.MinFreeBytes))
}

var (
	diskAvailDesc = prometheus.NewDesc("privacy_disk_available_bytes",
		"Bytes available on the file system of each folder the service writes (data, tombstones, kek).", []string{"folder"}, nil)
	diskTotalDesc = prometheus.NewDesc("privacy_disk_size_bytes",
		"Size of the file system of each folder the service writes.", []string{"folder"}, nil)
	diskMinDesc = prometheus.NewDesc("privacy_disk_min_available_bytes",
		"Readiness threshold: below it /readyz answers 503.", nil, nil)
)

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
		return 0, fmt.Errorf("%w: size %q: a number of bytes, optionally with KiB, MiB, GiB or TiB", ErrInvalidInput, s)
	}
	return n * mult, nil
}

// Folders lists the folders the store writes to, for the free-space watch:
// the data directory, the tombstone log's folder and, if given, the
// keyring file's folder.
func (s *Store) Folders(kekFile string) []DiskFolder {
	out := []DiskFolder{{Name: "data", Path: s.opts.Dir}, {Name: "tombstones", Path: filepath.Dir(s.opts.TombstonePath)}}
	if kekFile != "" {
		out = append(out, DiskFolder{Name: "kek", Path: filepath.Dir(kekFile)})
	}
	return out
}
