//go:build integration

package test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/network"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// Disaster recovery of a privacy service on the real network (issue 12 finding 7), with the
// configuration network/ generates: the tombstone log under <root>/secrets, the privacy-admin
// identity for backups over the API. An agency takes a backup with `privacyd backup --server`,
// erases a case (confirmed on the ledger), then loses the privacy service's data folder:
//
//   - restored into a fresh folder next to the surviving tombstone log, the backup never brings
//     the erased mapping back;
//   - restored with the tombstone log lost too, the mapping comes back, and the agency's gateway
//     erases it again by itself (its reconciliation follows the store's generation) — no manual
//     step — while the live case stays resolvable.
func TestRestorePrivacyFromPreErasureBackup(t *testing.T) {
	const org = "border-police"
	gw := gatewayOf(t, org)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	var erased, live gwWrite
	erasedRef, liveRef := gwRef("BPOL-DR"), gwRef("BPOL-DR")
	gw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": erasedRef, "occurredOn": today()}, &erased)
	gw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": liveRef, "occurredOn": today()}, &live)

	privacyd := func(args ...string) []byte {
		t.Helper()
		admin := itNet.PrivacyAdminTLS(org)
		args = append(args, "--server", itNet.PrivacyURL(org), "--tls-cert", admin.CertFile, "--tls-key", admin.KeyFile, "--server-ca", admin.CAFile)
		cmd := exec.CommandContext(ctx, filepath.Join(itNet.Root(), "bin", "privacyd"), args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")} // nothing from PRIVACYD_* of the caller
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("privacyd %v: %v: %s", args[0], err, stderr)
		}
		return out
	}
	backup := filepath.Join(t.TempDir(), "privacy.backup")
	privacyd("backup", "--out", backup) // the generated admin identity, out of the box
	if st, err := os.Stat(backup); err != nil || st.Mode().Perm() != 0o600 || st.Size() == 0 {
		t.Fatalf("backup file: %v %v", st, err)
	}

	gw.ok(http.StatusOK, "caseworker", "POST", "/v1/erasures", map[string]any{"channel": "national", "localRef": erasedRef, "occurredOn": today()}, nil)
	eventually(t, 90*time.Second, "erasure confirmed on the ledger", func(context.Context) error {
		var st struct {
			Complete bool `json:"complete"`
		}
		gw.ok(http.StatusOK, "caseworker", "POST", "/v1/erasures/status", map[string]any{"channel": "national", "pseudonym": erased.Pseudonym}, &st)
		if !st.Complete {
			return errors.New("not yet")
		}
		return nil
	})
	resolves := func(ref string) bool {
		t.Helper()
		r := gw.do("caseworker", "POST", "/v1/cases/state", map[string]any{"channel": "national", "localRef": ref}, "")
		switch r.status {
		case http.StatusOK:
			return true
		case http.StatusNotFound:
			return false
		}
		t.Fatalf("case state: %d %s", r.status, r.body)
		return false
	}
	eventually(t, 60*time.Second, "mapping erased by the executor", func(context.Context) error {
		if resolves(erasedRef) {
			return errors.New("not yet")
		}
		return nil
	})

	sup := itNet.Supervisor()
	loseDataFolder := func(alsoTombstones bool) {
		t.Helper()
		if err := sup.Stop(network.PrivacyNode(org), 20*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(itNet.PrivacyDataDir(org)); err != nil {
			t.Fatal(err)
		}
		if alsoTombstones {
			if err := os.Remove(itNet.PrivacyTombstones(org)); err != nil {
				t.Fatal(err)
			}
		}
		if err := itNet.StartPrivacy(ctx, org); err != nil {
			t.Fatal(err)
		}
	}
	type restoreStats struct {
		Restored, Tombstoned int
	}
	restore := func() restoreStats {
		t.Helper()
		var st restoreStats
		if err := json.Unmarshal(privacyd("restore", "--in", backup), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}

	// The generated configuration keeps the tombstone log apart: the restore drops the erased case.
	if st, err := os.Stat(itNet.PrivacyTombstones(org)); err != nil || st.Mode().Perm() != 0o600 || st.Size() == 0 {
		t.Fatalf("tombstone log outside the data folder: %v %v", st, err)
	}
	loseDataFolder(false)
	if st := restore(); st.Restored < 1 || st.Tombstoned < 1 {
		t.Fatalf("restore next to the tombstone log: %+v", st)
	}
	if resolves(erasedRef) {
		t.Fatal("the restore brought an erased mapping back despite the tombstone log")
	}
	if !resolves(liveRef) {
		t.Fatal("the live mapping was not restored")
	}

	// Tombstones lost too: the mapping comes back, and the gateway erases it again by itself.
	loseDataFolder(true)
	if st := restore(); st.Restored < 2 {
		t.Fatalf("restore without tombstones: %+v", st)
	}
	restored := time.Now()
	eventually(t, 120*time.Second, "the gateway erases the mapping the restore brought back", func(context.Context) error {
		if resolves(erasedRef) {
			return errors.New("not yet")
		}
		return nil
	})
	t.Logf("mapping erased again %s after the restore (generation polled every 5 s)", time.Since(restored).Round(time.Second))
	if !resolves(liveRef) {
		t.Fatal("reconciliation erased a live mapping")
	}
	var st struct {
		Complete bool `json:"complete"`
	}
	gw.ok(http.StatusOK, "caseworker", "POST", "/v1/erasures/status", map[string]any{"channel": "national", "pseudonym": erased.Pseudonym}, &st)
	if !st.Complete {
		t.Fatal("erasure no longer complete")
	}
	// On demand too: nothing left to erase.
	var rep struct {
		Checked, Erased int
	}
	start := time.Now()
	gw.ok(http.StatusOK, "admin", "POST", "/v1/erasures/reconcile", nil, &rep)
	if rep.Erased != 0 || rep.Checked < 1 {
		t.Fatalf("reconcile on demand: %+v", rep)
	}
	t.Logf("reconcile on demand: %d mappings checked in %s", rep.Checked, time.Since(start).Round(time.Millisecond))

	// What a larger store costs: mappings the ledger has never seen (made directly in the privacy
	// service with the gateway's own client identity) are each read on the ledger and left alone.
	conn, err := api.LoadConnection(itNet.ConnectionPath(org))
	if err != nil {
		t.Fatal(err)
	}
	id := conn.Services["privacy-client"]
	tlsCfg, err := privacy.ClientTLSConfig(id.CertFile, id.KeyFile, id.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := privacy.NewClient(itNet.PrivacyURL(org), tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	const extra = 2000
	for i := range extra {
		if _, _, err := pc.Pseudonymize(ctx, "national", fmt.Sprintf("DR-UNUSED-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var big struct {
		Checked, Erased, NotOnLedger int
	}
	start = time.Now()
	gw.ok(http.StatusOK, "admin", "POST", "/v1/erasures/reconcile", nil, &big)
	took := time.Since(start)
	if big.Checked != rep.Checked+extra || big.NotOnLedger < extra || big.Erased != 0 {
		t.Fatalf("reconcile of %d more mappings: %+v", extra, big)
	}
	t.Logf("reconcile on demand: %d mappings in %s (%.0f/s)", big.Checked, took.Round(time.Millisecond), float64(big.Checked)/took.Seconds())
}
