package fakestub

import (
	"testing"
	"time"
)

func TestValidationParameterAtCommit(t *testing.T) {
	l := NewLedger("national")
	tx := l.NewTx(nil, time.Now(), "f")
	if err := tx.SetStateValidationParameter("k", []byte("ep")); err != nil {
		t.Fatal(err)
	}
	if got, _ := tx.GetStateValidationParameter("k"); got != nil {
		t.Fatal("a transaction reads its own policy")
	}
	if rw := tx.RWSet(); len(rw.MetadataWrites) != 1 || rw.MetadataWrites[0].Key != "k" {
		t.Fatalf("metadata writes %v", rw.MetadataWrites)
	}
	tx.Commit()
	if got := l.ValidationParameter("k"); string(got) != "ep" {
		t.Fatalf("committed policy %q", got)
	}
	// Through a committer, as internal/inproc commits.
	l2 := NewLedger("national")
	tx2 := l2.NewTx(nil, time.Now(), "f")
	if err := tx2.SetStateValidationParameter("k", []byte("ep2")); err != nil {
		t.Fatal(err)
	}
	l2.CommitRWSet(tx2.GetTxID(), time.Now(), tx2.RWSet(), 1, 0)
	if got := l2.ValidationParameter("k"); string(got) != "ep2" {
		t.Fatalf("policy committed by CommitRWSet %q", got)
	}
}
