package gateway

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// The journal of a prepared transaction survives a restart of the gateway
// while the write is open, and is gone once the write has an outcome; two
// keys, one a prefix of the other, keep their journals apart.
func TestTxJournalLivesAsLongAsTheOpenWrite(t *testing.T) {
	dir := t.TempDir()
	open := func() (*Store, *idempotency) {
		st, err := OpenStore(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := newIdempotency(st, time.Hour, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		return st, id
	}
	st, id := open()
	a, p, err := id.begin("tok", "k", "fp-a")
	if err != nil || p != nil {
		t.Fatal(err, p)
	}
	b, p, err := id.begin("tok", "k2", "fp-b")
	if err != nil || p != nil {
		t.Fatal(err, p)
	}
	envA, envB := bytes.Repeat([]byte{0xA}, 6000), []byte("envelope-b")
	rid := a.RequestID("")
	if err := a.SaveTx(rid, envA); err != nil {
		t.Fatal(err)
	}
	if err := b.SaveTx(b.RequestID(""), envB); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil { // the gateway stops mid-write
		t.Fatal(err)
	}

	st, id = open()
	defer st.Close()
	a2, p, err := id.begin("tok", "k", "fp-a")
	if err != nil || p != nil || a2.replay {
		t.Fatalf("retry after restart: %v %v replay=%v", err, p, a2 != nil && a2.replay)
	}
	if a2.RequestID("") != rid {
		t.Fatalf("requestID changed across the restart")
	}
	if got := a2.LoadTx(rid); !bytes.Equal(got, envA) {
		t.Fatalf("journal after restart: %d bytes, want the %d saved", len(got), len(envA))
	}
	if err := a2.finish(200, "application/json", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got := a2.LoadTx(rid); got != nil {
		t.Fatalf("journal kept after the outcome was stored: %d bytes", len(got))
	}
	if _, err := st.get(a2.journalKey(rid)); !errors.Is(err, badger.ErrKeyNotFound) {
		t.Fatalf("journal key: %v, want not found", err)
	}
	b2, _, _ := id.begin("tok", "k2", "fp-b")
	if got := b2.LoadTx(b2.RequestID("")); !bytes.Equal(got, envB) {
		t.Fatalf("the other key's journal: %q, want %q", got, envB)
	}
	// A finished write is answered from its record.
	a3, p, err := id.begin("tok", "k", "fp-a")
	if err != nil || p != nil || !a3.replay || a3.rec.Status != 200 {
		t.Fatalf("replay: %v %v %+v", err, p, a3)
	}
}

// A retry derives the same requestID even when the record was lost (an OS
// crash before Badger's log reached the disk), so the chaincode still
// recognises it; any other token, key, body or gateway gets another one.
func TestRequestIDSurvivesALostRecord(t *testing.T) {
	newID := func(dir string) *idempotency {
		st, err := OpenStore(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		id, err := newIdempotency(st, time.Hour, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	dir := t.TempDir()
	id := newID(dir)
	first := func(id *idempotency, scope, key, fp string) string {
		c, p, err := id.begin(scope, key, fp)
		if err != nil || p != nil {
			t.Fatal(err, p)
		}
		id.mu.Lock()
		delete(id.inflight, c.dbKey)
		id.mu.Unlock()
		return c.RequestID("national/cases:RecordEvent")
	}
	orig := first(id, "tok", "k", "fp")
	if err := id.store.db.DropAll(); err != nil { // the record is lost
		t.Fatal(err)
	}
	// The secret is not lost: it is synced when created.
	if err := id.store.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(keyHMAC), id.key) }); err != nil {
		t.Fatal(err)
	}
	if again := first(id, "tok", "k", "fp"); again != orig {
		t.Fatalf("requestID after the record was lost: %s, want %s", again, orig)
	}
	seen := map[string]string{orig: "original"}
	for what, got := range map[string]string{
		"another token":   first(id, "tok2", "k", "fp"),
		"another key":     first(id, "tok", "k2", "fp"),
		"another body":    first(id, "tok", "k3", "fp2"),
		"another gateway": first(newID(t.TempDir()), "tok", "k", "fp"),
	} {
		if prev, dup := seen[got]; dup {
			t.Errorf("%s got the requestID of %s", what, prev)
		}
		seen[got] = what
	}
}

// TestJournaledTransactionIsResubmitted: the write's prepared transaction is
// journaled before it is ordered; an attempt that stops right after (the
// save fails: 503, nothing ordered) is retried with the same key by
// resubmitting that very transaction — its id is the answer's, and it is
// the only write.
func TestJournaledTransactionIsResubmitted(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, nil)
	n.failJournal = errors.New("disk gone")
	body := api.RegisterRequest{Channel: "national", LocalRef: "BP-J1", OccurredOn: "2026-11-27"}
	r := a.call(domain.RoleCaseworker, "POST", "/v1/cases", body, "journal-key")
	if r.status != http.StatusServiceUnavailable || n.submitted(api.FnRegisterCase) != 0 {
		t.Fatalf("failed journal: %d %s, %d writes", r.status, r.body, n.submitted(api.FnRegisterCase))
	}
	n.failJournal = nil
	var w api.WriteResponse
	a.must(http.StatusCreated, a.call(domain.RoleCaseworker, "POST", "/v1/cases", body, "journal-key"), &w)
	if n.submitted(api.FnRegisterCase) != 1 {
		t.Fatalf("%d writes", n.submitted(api.FnRegisterCase))
	}
	blocks, err := n.ledger(bp).Blocks(t.Context(), "national", w.BlockNumber)
	if err != nil {
		t.Fatal(err)
	}
	txID := func(raw []byte) string {
		var env common.Envelope
		var pl common.Payload
		var ch common.ChannelHeader
		if proto.Unmarshal(raw, &env) != nil || proto.Unmarshal(env.Payload, &pl) != nil || proto.Unmarshal(pl.Header.ChannelHeader, &ch) != nil {
			t.Fatal("undecodable envelope")
		}
		return ch.TxId
	}
	if len(n.journaled) != 1 {
		t.Fatalf("%d transactions journaled", len(n.journaled))
	}
	want := txID(n.journaled[0])
	if got := txID((<-blocks).Data.Data[0]); got != want || w.TxID != want || w.BlockNumber != 1 {
		t.Fatalf("answer names transaction %s in block %d, block holds %s; journaled %s", w.TxID, w.BlockNumber, got, want)
	}
}
