package fakestub

import (
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

func TestReadsSeeCommittedStateOnly(t *testing.T) {
	l := NewLedger("ch")
	tx := l.NewTx(nil, time.Now(), "f")
	if err := tx.PutState("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, _ := tx.GetState("k"); v != nil {
		t.Fatal("a transaction read its own write")
	}
	tx.Commit()
	if v, _ := l.NewTx(nil, time.Now()).GetState("k"); string(v) != "v" {
		t.Fatalf("committed value %q", v)
	}
	del := l.NewTx(nil, time.Now())
	if err := del.DelState("k"); err != nil {
		t.Fatal(err)
	}
	del.Commit()
	if _, ok := l.Get("k"); ok {
		t.Fatal("delete not applied")
	}
	h, _ := l.NewTx(nil, time.Now()).GetHistoryForKey("k")
	var mods []bool
	for h.HasNext() {
		m, _ := h.Next()
		mods = append(mods, m.IsDelete)
	}
	if len(mods) != 2 || !mods[0] || mods[1] {
		t.Fatalf("history (newest first) %v", mods)
	}
}

func TestPagination(t *testing.T) {
	l := NewLedger("ch")
	setup := l.NewTx(nil, time.Now())
	for _, a := range []string{"a", "b", "c", "d", "e"} {
		k, _ := setup.CreateCompositeKey("obj", []string{"x", a})
		_ = setup.PutState(k, []byte{0})
	}
	other, _ := setup.CreateCompositeKey("obj", []string{"y", "z"})
	_ = setup.PutState(other, []byte{0})
	setup.Commit()

	var got []string
	bookmark := ""
	for pages := 1; ; pages++ {
		tx := l.NewTx(nil, time.Now())
		it, meta, err := tx.GetStateByPartialCompositeKeyWithPagination("obj", []string{"x"}, 2, bookmark)
		if err != nil {
			t.Fatal(err)
		}
		for it.HasNext() {
			kv, _ := it.Next()
			_, attrs, _ := tx.SplitCompositeKey(kv.Key)
			got = append(got, attrs[1])
		}
		if meta.Bookmark == "" {
			if pages != 3 {
				t.Fatalf("%d pages", pages)
			}
			break
		}
		bookmark = meta.Bookmark
		if err := tx.PutState("w", []byte{1}); err == nil {
			t.Fatal("write allowed after a paginated query")
		}
	}
	if len(got) != 5 || got[0] != "a" || got[4] != "e" {
		t.Fatalf("got %v", got)
	}
	w := l.NewTx(nil, time.Now())
	_ = w.PutState("w", []byte{1})
	if _, _, err := w.GetStateByRangeWithPagination("a", "z", 1, ""); err == nil {
		t.Fatal("paginated query allowed after a write")
	}
	if _, _, err := w.GetStateByRangeWithPagination(other, "", 1, ""); err == nil {
		t.Fatal("range query with a composite key allowed")
	}
}

func TestIdentityParsesLikeOnAPeer(t *testing.T) {
	creator, err := Identity{MSPID: "OrgMSP", Name: "u", Attrs: map[string]string{"role": "auditor"}}.Creator()
	if err != nil {
		t.Fatal(err)
	}
	ci, err := cid.New(NewLedger("ch").NewTx(creator, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	msp, _ := ci.GetMSPID()
	role, found, _ := ci.GetAttributeValue("role")
	if msp != "OrgMSP" || !found || role != "auditor" {
		t.Fatalf("msp %q role %q found %v", msp, role, found)
	}
}

// TestCommitRWSetValidatesReads: of two transactions that read the same key
// and write it, the second to commit is invalidated (MVCC_READ_CONFLICT) and
// leaves nothing; a range query that would now return other keys
// invalidates its transaction (PHANTOM_READ_CONFLICT).
func TestCommitRWSetValidatesReads(t *testing.T) {
	l := NewLedger("ch")
	ts := time.Now()
	a, b := l.NewTx(nil, ts, "f"), l.NewTx(nil, ts, "f")
	for i, tx := range []*Tx{a, b} {
		if _, err := tx.GetState("k"); err != nil {
			t.Fatal(err)
		}
		if err := tx.PutState("k", []byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	if c := l.CommitRWSet(a.GetTxID(), ts, a.RWSet(), 1, 0); c != peer.TxValidationCode_VALID {
		t.Fatalf("first: %s", c)
	}
	if c := l.CommitRWSet(b.GetTxID(), ts, b.RWSet(), 2, 0); c != peer.TxValidationCode_MVCC_READ_CONFLICT {
		t.Fatalf("second: %s", c)
	}
	if v, _ := l.Get("k"); string(v) != "a" {
		t.Fatalf("value %q", v)
	}
	r := l.NewTx(nil, ts, "f")
	it, err := r.GetStateByRange("a", "z")
	if err != nil {
		t.Fatal(err)
	}
	it.Close()
	_ = r.PutState("x", []byte("1"))
	w := l.NewTx(nil, ts, "f")
	_ = w.PutState("m", []byte("1"))
	if c := l.CommitRWSet(w.GetTxID(), ts, w.RWSet(), 3, 0); c != peer.TxValidationCode_VALID {
		t.Fatalf("writer: %s", c)
	}
	if c := l.CommitRWSet(r.GetTxID(), ts, r.RWSet(), 4, 0); c != peer.TxValidationCode_PHANTOM_READ_CONFLICT {
		t.Fatalf("range reader: %s", c)
	}
}
