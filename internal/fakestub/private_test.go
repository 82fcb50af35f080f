package fakestub

import (
	"testing"
	"time"
)

func TestPrivateDataCommitAndPurge(t *testing.T) {
	l := NewLedger("national")
	tx := l.NewTx(nil, time.Now(), "f")
	tx.SetTransient(map[string][]byte{"details": []byte("x")})
	if m, _ := tx.GetTransient(); string(m["details"]) != "x" {
		t.Fatalf("transient = %v", m)
	}
	if err := tx.PutPrivateData("c", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, _ := tx.GetPrivateData("c", "k"); v != nil {
		t.Fatal("a transaction reads its own private write")
	}
	tx.Commit()
	if v, _ := l.NewTx(nil, time.Now(), "f").GetPrivateData("c", "k"); string(v) != "v" {
		t.Fatalf("committed value = %q", v)
	}
	purge := l.NewTx(nil, time.Now(), "f")
	if err := purge.PurgePrivateData("c", "k"); err != nil {
		t.Fatal(err)
	}
	purge.Commit()
	after := l.NewTx(nil, time.Now(), "f")
	if v, _ := after.GetPrivateData("c", "k"); v != nil || len(l.PrivateKeys("c")) != 0 {
		t.Fatalf("purged value still there: %q", v)
	}
	// As Fabric 2.5 applies a purge: the hashed key is deleted from the state too (the blocks
	// keep the hash).
	if got, _ := after.GetPrivateDataHash("c", "k"); got != nil {
		t.Fatalf("the hash survives the purge in the state: %x", got)
	}
}
