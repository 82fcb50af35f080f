package network

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/internal/diskspace"
)

// envValue returns the value of KEY= in a node environment.
func envValue(t *testing.T, env []string, key string) string {
	t.Helper()
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s in the environment", key)
	return ""
}

// The generated plan starts one watcher per org, on the org's own port, watching exactly the
// folders the generated node configuration makes the peer and the orderers write to.
func TestDiskWatchersWatchTheFoldersTheNodesWrite(t *testing.T) {
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	d.OrdererOrg.Orderers = 5 // the most orderers: the watcher's port must still be free
	n, err := New(d, Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	plan := n.diskWatchPlan()
	if len(plan) != len(d.Orgs)+1 {
		t.Fatalf("%d watchers for %d orgs and the orderer org", len(plan), len(d.Orgs))
	}
	want := map[string][]diskspace.Folder{}
	for i := 0; i < d.OrdererOrg.Orderers; i++ {
		env, name := n.ordererEnv(i), n.OrdererNode(i)
		want[d.OrdererOrg.Name] = append(want[d.OrdererOrg.Name],
			diskspace.Folder{Name: name + "-ledger", Path: envValue(t, env, "ORDERER_FILELEDGER_LOCATION")},
			diskspace.Folder{Name: name + "-wal", Path: envValue(t, env, "ORDERER_CONSENSUS_WALDIR")},
			diskspace.Folder{Name: name + "-snapshot", Path: envValue(t, env, "ORDERER_CONSENSUS_SNAPDIR")})
	}
	for _, o := range d.Orgs {
		env := n.peerEnv(o)
		want[o.Name] = []diskspace.Folder{
			{Name: "peer0-ledger", Path: envValue(t, env, "CORE_PEER_FILESYSTEMPATH")},
			{Name: "peer0-snapshots", Path: envValue(t, env, "CORE_LEDGER_SNAPSHOTS_ROOTDIR")},
		}
	}
	for bi, w := range plan {
		// The watcher's port lies in its org's block.
		if lo := d.BasePort + portsPerOrg*bi; w.Port < lo || w.Port >= lo+portsPerOrg {
			t.Errorf("%s watcher on %d, outside its block %d..%d", w.Org, w.Port, lo, lo+portsPerOrg-1)
		}
		// Read the argv back the way cmd/diskwatch does.
		args := w.args()
		var got []diskspace.Folder
		listen := ""
		for i := 0; i+1 < len(args); i += 2 {
			switch args[i] {
			case "--folder":
				f, err := diskspace.ParseFolder(args[i+1])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, f)
			case "--listen":
				listen = args[i+1]
			case "--min-free":
				if b, err := diskspace.ParseBytes(args[i+1]); err != nil || b != DiskWatchMinFree {
					t.Errorf("--min-free %s: %d %v", args[i+1], b, err)
				}
			default:
				t.Errorf("unexpected argument %s", args[i])
			}
		}
		if !slices.Equal(got, want[w.Org]) {
			t.Errorf("%s watches %v, want %v", w.Org, got, want[w.Org])
		}
		if listen != n.addr(w.Port) || n.DiskWatchURL(w.Org) != "http://"+listen {
			t.Errorf("%s listens on %s, URL %s", w.Org, listen, n.DiskWatchURL(w.Org))
		}
	}
	// The port check knows every watcher, and no port is planned twice.
	seen := map[int]portUse{}
	watchers := 0
	for _, u := range n.portPlan() {
		if prev, dup := seen[u.port]; dup {
			t.Errorf("port %d planned for %s %s and %s %s", u.port, prev.node, prev.what, u.node, u.what)
		}
		seen[u.port] = u
		if strings.HasPrefix(u.node, "diskwatch.") {
			watchers++
		}
	}
	if watchers != len(plan) {
		t.Errorf("port plan has %d watchers, want %d", watchers, len(plan))
	}
}

// startDiskWatchers builds cmd/diskwatch and runs one per org on the real file system: each
// answers /readyz and exports its folders' free space by folder label.
func TestDiskWatchersStartAndAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/diskwatch")
	}
	mod, err := FindModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	d.BasePort = 23900
	n, err := New(d, Options{Root: t.TempDir(), ModuleDir: mod, TieToParent: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.sup.StopAll(5 * time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := n.startDiskWatchers(ctx); err != nil {
		t.Fatal(err)
	}
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, w := range n.diskWatchPlan() {
		base := n.DiskWatchURL(w.Org)
		// This machine's disk may really be short of 1 GiB: then 503 must name a folder.
		if code, body := get(base + "/readyz"); code != 200 && (code != 503 || !strings.Contains(body, "folder has")) {
			t.Errorf("%s /readyz: %d %s", w.Org, code, body)
		}
		_, m := get(base + "/metrics")
		for _, f := range w.Folders {
			if !strings.Contains(m, `fabric_disk_available_bytes{folder="`+f.Name+`"}`) {
				t.Errorf("%s metrics lack %s", w.Org, f.Name)
			}
		}
	}
	if u := n.DiskUsage(); len(u) != 2*len(d.Orgs)+3*d.OrdererOrg.Orderers || u[0].Err != nil || u[0].Total == 0 {
		t.Errorf("disk usage %+v", u)
	}
	// Up again with the watchers running: left alone, same processes.
	pids := map[string]int{}
	for _, w := range n.diskWatchPlan() {
		pids[w.Org], _ = n.sup.Running(DiskWatchNode(w.Org))
	}
	if err := n.startDiskWatchers(ctx); err != nil {
		t.Fatal(err)
	}
	for org, pid := range pids {
		if now, ok := n.sup.Running(DiskWatchNode(org)); !ok || now != pid {
			t.Errorf("%s watcher: pid %d, then %d (running %v)", org, pid, now, ok)
		}
	}
}
