package gateway

import "github.com/caseledger/caseledger/internal/diskspace"

// A full disk does not announce itself: Badger fails its next write
// mid-request — an idempotency record, a journaled transaction, an event the
// log must not lose. So the free space of the gateway's data folder is
// exported, and readiness goes false below a threshold while there is still
// room to finish the writes in flight: the load balancer stops sending, an
// operator acts (docs/gateway.md, "Disk space") before anything fails.

// DefaultMinFreeBytes leaves room for Badger's memtable flushes, a value log
// file and compactions: 1 GiB.
const DefaultMinFreeBytes = diskspace.DefaultMinFreeBytes

// diskWatch probes the data folder ("" : not watched).
type diskWatch struct {
	*diskspace.Collector
	w diskspace.Watch
}

func newDiskWatch(dir string, minFree uint64, statfs diskspace.StatFS) *diskWatch {
	w := diskspace.Watch{MinFree: minFree, StatFS: statfs}
	if dir != "" {
		w.Folders = []diskspace.Folder{{Name: "data", Path: dir}}
	}
	// Unlabelled: the gateway's series (gateway_disk_available_bytes, …)
	// predate the folder label and dashboards use them as they are.
	return &diskWatch{w: w, Collector: diskspace.NewCollector(w, diskspace.Metrics{
		Namespace: "gateway", Of: "the gateway's data folder", Unlabelled: true})}
}

// check reports why the folder is below the threshold (nil: fine, or no
// threshold, or no folder configured).
func (d *diskWatch) check() error { return d.w.Check() }
