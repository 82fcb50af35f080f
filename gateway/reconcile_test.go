package gateway

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// restorableVault swaps the agency's privacy store for one whose keyring and
// tombstone log the test holds, so it can play a disaster recovery.
type restorableVault struct {
	t     *testing.T
	kek   *privacy.Keyring
	root  string
	n     int
	tombs string // the live store's tombstone log
}

func (rv *restorableVault) open(tombs string) *privacy.Store {
	rv.t.Helper()
	rv.n++
	dir := filepath.Join(rv.root, "data-"+string(rune('a'+rv.n)))
	if tombs == "" {
		tombs = filepath.Join(dir, "tombstones.log") // lost with the folder
	}
	s, err := privacy.Open(context.Background(), privacy.Options{Dir: dir, Domains: []string{"national", "dublin"}, KEK: rv.kek, TombstonePath: tombs})
	if err != nil {
		rv.t.Fatal(err)
	}
	rv.t.Cleanup(func() { s.Close() })
	return s
}

// TestReconcileErasesMappingsARestoreBroughtBack: issue 12 finding 7. A
// privacy service restored from a backup taken before an erasure, into a
// fresh folder without its tombstones, holds the erased mapping again; the
// gateway's start-up reconciliation (the store's generation changed) erases
// it with no manual step, leaves live cases alone, and the on-demand route
// does the same for a restore into a running service. With the tombstone
// log kept apart, the restore itself never brings it back.
func TestReconcileErasesMappingsARestoreBroughtBack(t *testing.T) {
	ctx := context.Background()
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	// A real channel always has blocks (its genesis at least): the executor
	// may ask the peer for its height.
	b := newChainBuilder(t)
	b.add(b.tx())
	n.mu.Lock()
	n.blockChains = map[string][]*common.Block{"national": b.blocks, "dublin": b.blocks}
	n.mu.Unlock()
	a := newAgency(t, n, clock, ao, nil)
	kek, err := privacy.NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	rv := &restorableVault{t: t, kek: kek, root: t.TempDir()}
	rv.tombs = filepath.Join(rv.root, "secrets", "tombstones.log")
	a.stop()
	a.vault.Close()
	a.vault = rv.open(rv.tombs)
	a.start()

	erased := a.register(domain.RoleCaseworker, "national", "AO-R1", "2026-11-27")
	live := a.register(domain.RoleCaseworker, "national", "AO-R2", "2026-11-27")
	var backup bytes.Buffer
	if _, err := a.vault.Backup(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	a.must(200, a.call(domain.RoleCaseworker, "POST", "/v1/erasures", api.ErasureRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: "AO-R1"}, OccurredOn: "2026-11-27"}, ""), nil)
	waitFor(t, "erasure confirmed", func() bool {
		s := n.state("national", erased.Pseudonym)
		return s.Erasure != nil && len(s.Erasure.Pending) == 0
	})
	waitFor(t, "mapping erased by the executor", func() bool {
		_, err := a.vault.ResolveRef(ctx, "national", "AO-R1")
		return errors.Is(err, privacy.ErrNotFound)
	})
	resolvesAgain := func(s *privacy.Store) bool {
		_, err := s.ResolveRef(ctx, "national", "AO-R1")
		return err == nil
	}
	liveKept := func(s *privacy.Store) {
		t.Helper()
		if p, err := s.ResolveRef(ctx, "national", "AO-R2"); err != nil || p != live.Pseudonym {
			t.Fatalf("live mapping lost: %q %v", p, err)
		}
	}

	t.Run("tombstones kept apart: the restore never resurrects", func(t *testing.T) {
		s := rv.open(rv.tombs) // a fresh folder, the surviving tombstone log
		st, err := s.Restore(ctx, bytes.NewReader(backup.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if resolvesAgain(s) || st.Tombstoned != 1 {
			t.Fatalf("restored the erased mapping: %+v", st)
		}
		liveKept(s)
	})

	t.Run("fresh folder without tombstones: start-up reconciliation erases", func(t *testing.T) {
		a.stop()
		a.vault.Close()
		s := rv.open("")
		if _, err := s.Restore(ctx, bytes.NewReader(backup.Bytes())); err != nil {
			t.Fatal(err)
		}
		if !resolvesAgain(s) {
			t.Fatal("precondition: the restore without tombstones should bring the mapping back")
		}
		evals := n.evaluated(api.FnGetErasureStatus)
		a.vault = s
		a.start() // nothing else: no manual step
		waitFor(t, "reconciliation erased the mapping that came back", func() bool { return !resolvesAgain(s) })
		liveKept(s)
		if n.evaluated(api.FnGetErasureStatus) <= evals {
			t.Fatal("the ledger was not consulted")
		}
		// The generation it reconciled is remembered: a restart with the
		// same store does not read every mapping again.
		waitFor(t, "generation recorded", func() bool {
			g, _ := s.Generation(ctx)
			var last string
			found, _ := a.store.getJSON(keyReconciled, &last)
			return found && last == g
		})
	})

	t.Run("on demand", func(t *testing.T) {
		a.stop()
		a.vault.Close()
		s := rv.open("")
		if _, err := s.Restore(ctx, bytes.NewReader(backup.Bytes())); err != nil {
			t.Fatal(err)
		}
		a.vault = s
		a.start()
		// The start-up run may be under way too; when this call returns,
		// it has checked every mapping itself.
		var rep api.ReconcileReport
		a.must(200, a.call(domain.RoleAdmin, "POST", "/v1/erasures/reconcile", nil, ""), &rep)
		if resolvesAgain(s) {
			t.Fatal("reconcile left the mapping")
		}
		if g, _ := s.Generation(ctx); rep.Checked < 1 || rep.Generation != g {
			t.Fatalf("report %+v", rep)
		}
		liveKept(s)
		// Idempotent: nothing left to erase.
		a.must(200, a.call(domain.RoleAdmin, "POST", "/v1/erasures/reconcile", nil, ""), &rep)
		if rep.Erased != 0 || rep.Checked != 1 {
			t.Fatalf("second run %+v", rep)
		}
		// Admin only.
		if r := a.call(domain.RoleCaseworker, "POST", "/v1/erasures/reconcile", nil, ""); r.status != 403 {
			t.Fatalf("caseworker: %d", r.status)
		}
	})
}
