package inproc

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/gateway/ledger"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newNet(t *testing.T) *Network {
	t.Helper()
	n, err := New(Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWriteReadRetry: a write commits in a block of its own with its event;
// the same requestID again is answered with the original transaction and
// block and writes nothing; the chaincode's refusals arrive as domain errors.
func TestWriteReadRetry(t *testing.T) {
	n := newNet(t)
	bp := n.Ledger("BorderPoliceMSP")
	ctx := context.Background()
	events, err := bp.ChaincodeEvents(ctx, "national", ledger.Checkpoint{})
	if err != nil {
		t.Fatal(err)
	}
	p, req := uuid.NewString(), uuid.NewString()
	rec, err := bp.Submit(ctx, nil, domain.RoleCaseworker, "national", api.FnRegisterCase, req, p, "2026-03-02")
	if err != nil {
		t.Fatal(err)
	}
	if rec.BlockNumber != 1 || rec.Attempts != 1 || len(rec.TxID) != 64 {
		t.Fatalf("receipt %+v", rec)
	}
	ev := <-events
	if ev.Block != 1 || ev.TxID != rec.TxID || ev.Name == "" {
		t.Fatalf("event %+v", ev)
	}
	again, err := bp.Submit(ctx, nil, domain.RoleCaseworker, "national", api.FnRegisterCase, req, p, "2026-03-02")
	if err != nil || again.TxID != rec.TxID || again.BlockNumber != 1 || string(again.Result) != string(rec.Result) {
		t.Fatalf("retry %+v %v, want %+v", again, err, rec)
	}
	if got := n.Writes(api.FnRegisterCase); got != 1 {
		t.Fatalf("writes %d", got)
	}
	if h, _, _ := bp.ChainInfo(ctx, "national"); h != 3 {
		t.Fatalf("height %d: genesis, the write, the retry", h)
	}
	if s := n.Case("national", p); s == nil || s.Status != domain.StRegistered {
		t.Fatalf("case %+v", s)
	}
	_, err = n.Ledger("AuditorMSP").Submit(ctx, nil, domain.RoleAuditor, "national", api.FnRegisterCase, uuid.NewString(), uuid.NewString(), "2026-03-02")
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != domain.KindForbidden {
		t.Fatalf("auditor write: %v", err)
	}
	if _, err := bp.Evaluate(ctx, domain.RoleDublinOfficer, "national", api.FnGetCase, p); !errors.Is(err, ledger.ErrNoIdentity) {
		t.Fatalf("role without identity: %v", err)
	}
	if _, err := bp.Evaluate(ctx, domain.RoleCaseworker, "dublin", api.FnGetCase, p); !errors.As(err, &de) || de.Kind != domain.KindForbidden {
		t.Fatalf("channel not joined: %v", err)
	}
}

// TestConcurrentWritesConflictAndRetry: writes on one case at once read the
// same version; those ordered after the first are invalidated and tried
// again as new transactions, so all commit, in some order, each once.
func TestConcurrentWritesConflictAndRetry(t *testing.T) {
	n := newNet(t)
	ao := n.Ledger("AsylumOfficeMSP")
	ctx := context.Background()
	p := uuid.NewString()
	if _, err := ao.Submit(ctx, nil, domain.RoleCaseworker, "national", api.FnRegisterCase, uuid.NewString(), p, "2026-03-02"); err != nil {
		t.Fatal(err)
	}
	anchor := func(i int) error {
		_, err := ao.Submit(ctx, nil, domain.RoleCaseworker, "national", api.FnAnchorDocument, uuid.NewString(), p, hashHex(i), "", "2026-03-02")
		return err
	}
	const k = 6
	var wg sync.WaitGroup
	errs := make([]error, k)
	for i := range k {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = anchor(i) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var s domain.CaseState
	raw, _ := n.Read("national", api.FnGetCase, p)
	if err := json.Unmarshal(raw, &s); err != nil || s.Seq != 1+k {
		t.Fatalf("seq %d, %v", s.Seq, err)
	}
	if n.Writes(api.FnAnchorDocument) != k {
		t.Fatalf("writes %d", n.Writes(api.FnAnchorDocument))
	}
}

// TestReadConflictInvalidates: of two transactions endorsed on the same
// version of a case, the one ordered second is invalidated and its block
// records it so; the case holds the first one's write only.
func TestReadConflictInvalidates(t *testing.T) {
	n := newNet(t)
	ao := n.Ledger("AsylumOfficeMSP")
	ctx := context.Background()
	p := uuid.NewString()
	if _, err := ao.Submit(ctx, nil, domain.RoleCaseworker, "national", api.FnRegisterCase, uuid.NewString(), p, "2026-03-02"); err != nil {
		t.Fatal(err)
	}
	s, ch, err := ao.caller(domain.RoleCaseworker, "national")
	if err != nil {
		t.Fatal(err)
	}
	var raws [][]byte
	var reqs []string
	for i := range 2 {
		req := uuid.NewString()
		prop, sim, err := n.endorse(s, ch, []string{api.FnAnchorDocument, req, p, hashHex(i), "", "2026-03-02"})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := envelope(prop, sim, n.chaincode, s, n.endorsersFor(ch, ao.msp))
		if err != nil {
			t.Fatal(err)
		}
		raws, reqs = append(raws, raw), append(reqs, req)
	}
	if _, err := ao.commit(ctx, s, ch, reqs[0], raws[0]); err != nil {
		t.Fatal(err)
	}
	_, err = ao.commit(ctx, s, ch, reqs[1], raws[1])
	var cf *ledger.CommitFailure
	if !errors.As(err, &cf) || cf.Code != "MVCC_READ_CONFLICT" {
		t.Fatalf("second: %v", err)
	}
	if st := n.Case("national", p); st.Seq != 2 {
		t.Fatalf("seq %d", st.Seq)
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, _ := ao.Blocks(bctx, "national", 3)
	if b := <-blocks; b.Metadata.Metadata[2][0] != 11 { // TRANSACTIONS_FILTER: MVCC_READ_CONFLICT
		t.Fatalf("block 3 filter %v", b.Metadata.Metadata[2])
	}
	// The invalidated transaction submitted again keeps its verdict.
	if _, err := ao.commit(ctx, s, ch, reqs[1], raws[1]); !errors.As(err, &cf) {
		t.Fatalf("again: %v", err)
	}
}

func hashHex(i int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 64)
	for j := range b {
		b[j] = digits[(i+j)%16]
	}
	return string(b)
}

// journal is an in-memory ledger.TxJournal; fail, while set, refuses to
// save (after keeping the transaction, as a crash right after saving would
// leave it); saved counts the saves; check runs inside SaveTx.
type journal struct {
	txs   map[string][]byte
	fail  error
	saved int
	check func()
}

func (j *journal) LoadTx(id string) []byte { return j.txs[id] }
func (j *journal) SaveTx(id string, b []byte) error {
	j.txs[id] = b
	j.saved++
	if j.check != nil {
		j.check()
	}
	return j.fail
}

// TestJournalContract: Submit saves a new transaction in the journal before
// it is ordered and orders nothing when the save fails; a journaled
// transaction is resubmitted, not endorsed anew; one already committed is
// answered from the chaincode's record (same transaction, same block, no
// block added).
func TestJournalContract(t *testing.T) {
	n := newNet(t)
	bp := n.Ledger("BorderPoliceMSP")
	ctx := context.Background()
	height := func() uint64 { h, _, _ := bp.ChainInfo(ctx, "national"); return h }
	j := &journal{txs: map[string][]byte{}, fail: errors.New("disk full")}
	h0 := height()
	j.check = func() {
		if height() != h0 {
			t.Error("the transaction was ordered before it was journaled")
		}
	}
	req, p := uuid.NewString(), uuid.NewString()
	submit := func() (ledger.Receipt, error) {
		return bp.Submit(ctx, j, domain.RoleCaseworker, "national", api.FnRegisterCase, req, p, "2026-03-02")
	}
	if _, err := submit(); !errors.Is(err, ledger.ErrLedgerUnavailable) {
		t.Fatalf("failed save: %v", err)
	}
	if height() != h0 || n.Case("national", p) != nil || j.txs[req] == nil {
		t.Fatalf("after a failed save: height %d (was %d), journal %d bytes", height(), h0, len(j.txs[req]))
	}
	prepared, err := parseEnvelope(j.txs[req])
	if err != nil {
		t.Fatal(err)
	}
	j.fail, j.check = nil, nil
	rec, err := submit()
	if err != nil || rec.TxID != prepared.txID || rec.Attempts != 1 || j.saved != 1 {
		t.Fatalf("resubmission: %+v %v, %d saves; want transaction %s, no new one", rec, err, j.saved, prepared.txID)
	}
	again, err := submit()
	if err != nil || again.TxID != rec.TxID || again.BlockNumber != rec.BlockNumber || height() != h0+1 || j.saved != 1 {
		t.Fatalf("committed transaction resubmitted: %+v %v, height %d", again, err, height())
	}
	if n.Writes(api.FnRegisterCase) != 1 {
		t.Fatalf("writes %d", n.Writes(api.FnRegisterCase))
	}
}
