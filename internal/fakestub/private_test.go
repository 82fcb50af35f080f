package fakestub

import (
	"bytes"
	"crypto/sha256"
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
	h := sha256.Sum256([]byte("v"))
	if got, _ := after.GetPrivateDataHash("c", "k"); !bytes.Equal(got, h[:]) {
		t.Fatal("the hash does not survive the purge")
	}
}
