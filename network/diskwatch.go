package network

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caseledger/caseledger/internal/diskspace"
)

// A Fabric peer or orderer panics on a full disk, and its operations
// endpoint takes no custom health check without changing Fabric. So each
// organisation runs a disk watcher (cmd/diskwatch, supervisor name
// diskwatch.<org>) next to its Fabric nodes: a peer org's watches its peer's
// ledger and snapshot folders, the orderer org's every orderer's file
// ledger, Raft WAL and Raft snapshot folders. It serves /metrics
// (fabric_disk_available_bytes{folder=…}), /readyz (503 naming the folder
// below the threshold) and /healthz on the org's DiskWatchOps port, plain
// HTTP on loopback like the services' operations ports. The gateway and
// the privacy service watch their own folders themselves.

// DiskWatchNode is the supervisor name of an org's disk watcher.
func DiskWatchNode(org string) string { return "diskwatch." + org }

// DiskWatchMinFree is the watchers' readiness threshold: a Fabric block file
// is 64 MiB, a Raft WAL segment 64 MiB, a peer snapshot as large as the
// state; 1 GiB leaves room for all of them while an operator acts.
const DiskWatchMinFree = diskspace.DefaultMinFreeBytes

// peerDataDir is an org's peer ledger folder (CORE_PEER_FILESYSTEMPATH).
func (n *Network) peerDataDir(org string) string {
	return filepath.Join(n.orgDir(org), "peer0", "data")
}

// peerSnapshotsDir is where the peer writes ledger snapshots (CORE_LEDGER_SNAPSHOTS_ROOTDIR).
func (n *Network) peerSnapshotsDir(org string) string {
	return filepath.Join(n.peerDataDir(org), "snapshots")
}

// ordererData are the folders orderer i writes to.
type ordererData struct{ Ledger, WAL, Snapshot string }

func (n *Network) ordererData(i int) ordererData {
	data := filepath.Join(n.ordererDir(i), "data")
	return ordererData{
		Ledger:   filepath.Join(data, "ledger"),
		WAL:      filepath.Join(data, "etcdraft", "wal"),
		Snapshot: filepath.Join(data, "etcdraft", "snapshot"),
	}
}

// diskWatcher is one watcher process of the plan.
type diskWatcher struct {
	Org     string
	Port    int
	Listen  string // host:port, at the org's host
	Folders []diskspace.Folder
}

// diskWatchPlan lists the watchers: the orderer org's first, then one per
// peer org, each with the folders of its own Fabric nodes.
func (n *Network) diskWatchPlan() []diskWatcher {
	oo := diskWatcher{Org: n.desc.OrdererOrg.Name, Port: n.desc.OrdererOrgPorts().DiskWatchOps, Listen: n.addr(n.desc.OrdererOrgPorts().DiskWatchOps)}
	for i := 0; i < n.desc.OrdererOrg.Orderers; i++ {
		d, name := n.ordererData(i), n.OrdererNode(i)
		oo.Folders = append(oo.Folders,
			diskspace.Folder{Name: name + "-ledger", Path: d.Ledger},
			diskspace.Folder{Name: name + "-wal", Path: d.WAL},
			diskspace.Folder{Name: name + "-snapshot", Path: d.Snapshot})
	}
	var out []diskWatcher
	if n.Local(oo.Org) {
		out = append(out, oo)
	}
	for _, o := range n.localOrgs() {
		out = append(out, diskWatcher{Org: o.Name, Port: n.desc.PortsOf(o.Name).DiskWatchOps, Listen: n.addr(n.desc.PortsOf(o.Name).DiskWatchOps), Folders: []diskspace.Folder{
			{Name: "peer0-ledger", Path: n.peerDataDir(o.Name)},
			{Name: "peer0-snapshots", Path: n.peerSnapshotsDir(o.Name)},
		}})
	}
	return out
}

func (w diskWatcher) args() []string {
	args := []string{"--listen", w.Listen, "--min-free", fmt.Sprint(DiskWatchMinFree)}
	for _, f := range w.Folders {
		args = append(args, "--folder", f.Name+"="+f.Path)
	}
	return args
}

// DiskWatchURL is the base URL of an org's disk watcher (the orderer org's too).
func (n *Network) DiskWatchURL(org string) string {
	for _, w := range n.diskWatchPlan() {
		if w.Org == org {
			return "http://" + w.Listen
		}
	}
	return ""
}

// DiskUsage probes every watched folder of the Fabric nodes from this process (same host), for
// `netctl status`.
func (n *Network) DiskUsage() []diskspace.Usage {
	var out []diskspace.Usage
	for _, w := range n.diskWatchPlan() {
		for _, u := range (diskspace.Watch{Folders: w.Folders}).Usage() {
			u.Name = w.Org + "/" + u.Name
			out = append(out, u)
		}
	}
	return out
}

// startDiskWatchers starts every org's watcher and waits until each answers. A folder below the
// threshold does not fail `up` (the node may still run for a while): it is logged as a warning.
func (n *Network) startDiskWatchers(ctx context.Context) error {
	plan := n.diskWatchPlan()
	running := false
	for _, w := range plan {
		if _, ok := n.sup.Running(DiskWatchNode(w.Org)); ok {
			running = true
		}
	}
	bin := n.serviceBin("diskwatch")
	switch _, statErr := os.Stat(bin); {
	case n.moduleDir != "" && !running:
		// Rebuilt only while none runs: replacing the binary of a running watcher would make its
		// pid file's executable look recycled.
		if err := n.buildService(ctx, "diskwatch"); err != nil {
			return err
		}
	case statErr != nil:
		n.log.Warn("disk watchers not started: no module directory to build cmd/diskwatch from and no binary", "bin", bin)
		return nil
	}
	return parallel(plan, func(w diskWatcher) error {
		for _, f := range w.Folders {
			// Created before the nodes so statfs has something to read; Fabric creates the same
			// folders with MkdirAll and keeps what exists.
			if err := os.MkdirAll(f.Path, 0o700); err != nil {
				return err
			}
		}
		name := DiskWatchNode(w.Org)
		err := n.sup.Start(name, bin, w.args(), nil, n.orgDir(w.Org))
		if err != nil && !errors.Is(err, ErrAlreadyRunning) {
			return err
		}
		cl := &http.Client{Timeout: 3 * time.Second}
		defer cl.CloseIdleConnections()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		base := "http://" + w.Listen
		if err := n.sup.WaitReady(wctx, name, func(ctx context.Context) error { return getOK(ctx, cl, base+"/healthz") }); err != nil {
			return err
		}
		if msg, low := notReady(ctx, cl, base+"/readyz"); low {
			n.log.Warn("disk space low next to the Fabric nodes: see docs/operations.md", "node", name, "problem", msg)
		}
		return nil
	})
}

// notReady reads a watcher's /readyz: the reason and true when it is not 200.
func notReady(ctx context.Context, cl *http.Client, url string) (string, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error(), true
	}
	res, err := cl.Do(req)
	if err != nil {
		return err.Error(), true
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode == http.StatusOK {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}
