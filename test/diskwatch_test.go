//go:build integration

package test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every organisation's disk watcher runs next to its Fabric nodes on the live network, answers
// /readyz and exports its folders by label — and the folders it watches are the ones the peers and
// orderers really write to (issue 12 finding 8).
func TestDiskWatchersOnTheNetwork(t *testing.T) {
	d := itNet.Description()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	get := func(url string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	want := map[string][]string{d.OrdererOrg.Name: {"orderer0-ledger", "orderer0-wal", "orderer0-snapshot"}}
	for _, o := range d.Orgs {
		want[o.Name] = []string{"peer0-ledger", "peer0-snapshots"}
	}
	for org, folders := range want {
		base := itNet.DiskWatchURL(org)
		if code, body := get(base + "/readyz"); code != http.StatusOK {
			t.Errorf("%s watcher /readyz: %d %s", org, code, body)
		}
		_, m := get(base + "/metrics")
		for _, f := range folders {
			if !strings.Contains(m, `fabric_disk_available_bytes{folder="`+f+`"}`) {
				t.Errorf("%s watcher exports no %s", org, f)
			}
		}
	}
	// The watched folders hold what Fabric wrote: the peer's ledgersData, each orderer's block
	// ledger and one Raft WAL per channel.
	checked := 0
	for _, u := range itNet.DiskUsage() {
		if u.Err != nil || u.Total == 0 {
			t.Errorf("%s: %d bytes, %v", u.Name, u.Total, u.Err)
		}
		var inside []string
		switch {
		case strings.HasSuffix(u.Name, "/peer0-ledger"):
			inside = []string{"ledgersData"}
		case strings.HasSuffix(u.Name, "-ledger"):
			inside = []string{"chains"}
		case strings.HasSuffix(u.Name, "-wal"):
			for _, ch := range d.Channels {
				inside = append(inside, ch.Name)
			}
		}
		for _, e := range inside {
			if _, err := os.Stat(filepath.Join(u.Path, e)); err != nil {
				t.Errorf("%s (%s) lacks %s: %v", u.Name, u.Path, e, err)
			}
			checked++
		}
	}
	if least := len(d.Orgs) + d.OrdererOrg.Orderers*(1+len(d.Channels)); checked < least {
		t.Errorf("checked %d folder contents, want at least %d", checked, least)
	}
}
