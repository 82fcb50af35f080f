package privacy

import (
	"fmt"
	"path/filepath"

	"github.com/caseledger/caseledger/internal/diskspace"
)

// A full disk does not announce itself: Badger, the key slots and the
// tombstone log fail on their next write, mid-commit, and the store turns
// "broken". So the free space of each folder the service writes to (or must
// be able to rewrite, like the keyring on rotation) is exported, and
// readiness goes false below a threshold while there is still room to finish
// the writes in flight and to erase — an operator (or the orchestrator,
// through /readyz) acts before anything fails. docs/privacy-service.md §5
// "Disk space" is the recovery. The probe itself is internal/diskspace,
// shared with the gateway and the Fabric nodes' watcher.

// StatFS reports the bytes available to this (unprivileged) process and
// the total size of the file system holding path.
type StatFS = diskspace.StatFS

// DiskFolder is one watched folder: a fixed label for metrics and messages
// ("data", "tombstones", "kek") and its path.
type DiskFolder = diskspace.Folder

// DiskConfig configures the free-space watch.
type DiskConfig struct {
	Folders []DiskFolder
	// MinFreeBytes: readiness is false while any folder's file system has
	// less available (0: never).
	MinFreeBytes uint64
	// StatFS is the probe (default diskspace.SysStatFS; a fake in tests).
	StatFS StatFS
}

// diskWatch is the probe over the configured folders.
type diskWatch struct {
	*diskspace.Collector
	w diskspace.Watch
}

func newDiskWatch(cfg DiskConfig) *diskWatch {
	w := diskspace.Watch{Folders: cfg.Folders, MinFree: cfg.MinFreeBytes, StatFS: cfg.StatFS}
	return &diskWatch{w: w, Collector: diskspace.NewCollector(w, diskspace.Metrics{
		Namespace: "privacy", Of: "each folder the service writes (data, tombstones, kek)"})}
}

// check returns an ErrUnavailable error naming the first folder below the
// threshold (also diskspace.ErrLow), or whose file system cannot be read.
func (d *diskWatch) check() error {
	if err := d.w.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
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
