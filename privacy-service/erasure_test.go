package privacy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"testing"

	badger "github.com/dgraph-io/badger/v4"
)

// forensic is what an attacker who holds every key we still hold (all KEK
// versions in kr) can read from a data directory: every version of every
// Badger value (the WAL/memtables are replayed on open), tried against every
// data key in the slot file.
func forensic(t *testing.T, dir string, kr *Keyring) (plain []byte, versions int) {
	t.Helper()
	ctx := context.Background()
	_, used, err := openSlotFile(filepath.Join(dir, "keys.slots"))
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		id  recordID
		dek []byte
	}
	var deks []key
	for _, e := range used {
		dek, err := kr.Unwrap(ctx, e.version, e.wrapped[:], dekAAD(e.id))
		if err != nil {
			continue // a retired KEK: unreadable, which is the point
		}
		deks = append(deks, key{e.id, dek})
	}
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "badger")).
		WithLogger(nil).WithNumVersionsToKeep(math.MaxInt32).WithCompactL0OnClose(false))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{AllVersions: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			versions++
			if item.IsDeletedOrExpired() {
				continue
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			plain = append(plain, v...) // raw value too
			var id recordID
			copy(id[:], item.Key()[1:])
			for _, k := range deks {
				// Any DEK, not just the matching one.
				for _, tryID := range []recordID{id, k.id} {
					if rec, err := openRecord(k.dek, tryID, v); err == nil {
						plain = append(plain, rec.marshal()...)
						for _, e := range rec.entries {
							plain = append(plain, e.pseud.String()...)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return plain, versions
}

// forensicBackup decrypts everything in a backup file that kr can open.
func forensicBackup(t *testing.T, path string, kr *Keyring) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, _, err := readBackup(f)
	if err != nil {
		t.Fatal(err)
	}
	var plain []byte
	for _, r := range recs {
		dek, err := kr.Unwrap(context.Background(), r.version, r.wrapped, dekAAD(r.id))
		if err != nil {
			continue
		}
		if rec, err := openRecord(dek, r.id, r.sealed); err == nil {
			plain = append(plain, rec.marshal()...)
			for _, e := range rec.entries {
				plain = append(plain, e.pseud.String()...)
			}
		}
	}
	return plain
}

// grepTree reports which needles occur in any file under dir, as raw bytes.
func grepTree(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				hits = append(hits, fmt.Sprintf("%s in %s", n, filepath.Base(path)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func containsAny(hay []byte, needles ...string) []string {
	var out []string
	for _, n := range needles {
		if bytes.Contains(hay, []byte(n)) {
			out = append(out, n)
		}
	}
	return out
}

func TestErasureLeavesNothingOnDisk(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	kr := testKeyring(t)
	clock := newFakeClock()

	const (
		target   = "ERASE-ME-7f3a9c"     // the file number to be erased
		register = "ERASE-REG-55e1d0"    // second local reference of the same case
		oldRef   = "RECTIFIED-OLD-2b8f4" // replaced by rectification before the erasure
		dubRef   = "ERASE-DUB-91c4"      // the case's reference in the Dublin domain
		keepRef  = "KEEP-0001"
	)
	s := openTestStore(t, dir, kr, clock)
	for i := range 200 {
		if _, _, err := s.Pseudonymize(ctx, "national", fmt.Sprintf("KEEP-%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	pN, _, err := s.Pseudonymize(ctx, "national", oldRef)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Rectify(ctx, "national", pN, oldRef, target); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bind(ctx, "national", pN, register); err != nil {
		t.Fatal(err)
	}
	pD, _, err := s.LinkNew(ctx, "national", pN, "dublin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bind(ctx, "dublin", pD, dubRef); err != nil {
		t.Fatal(err)
	}
	keepP, _ := s.ResolveRef(ctx, "national", keepRef)
	backupBefore := filepath.Join(root, "before.bak")
	if _, err := BackupToFile(ctx, s, backupBefore); err != nil {
		t.Fatal(err)
	}
	s.Close()

	erased := []string{target, register, dubRef, pN, pD}

	// Positive control: the scanner does find a live case with the keys held,
	// and rectification already made the old value unreadable.
	plain, _ := forensic(t, dir, kr)
	if got := containsAny(plain, erased...); len(got) != len(erased) {
		t.Fatalf("scanner is blind: found only %q of the live case", got)
	}
	if got := containsAny(plain, oldRef); len(got) > 0 {
		t.Fatalf("rectified value still readable on disk: %q", got)
	}
	if got := containsAny(forensicBackup(t, backupBefore, kr), target); len(got) == 0 {
		t.Fatal("backup scanner is blind")
	}

	// Erase, restart.
	s = openTestStore(t, dir, kr, clock)
	er, err := s.EraseRef(ctx, "national", target)
	if err != nil || len(er.Pseudonyms) != 2 {
		t.Fatalf("erase: %+v %v", er, err)
	}
	s.Close()
	s = openTestStore(t, dir, kr, clock)
	for _, q := range []struct{ d, ref string }{{"national", target}, {"national", register}, {"dublin", dubRef}} {
		if _, err := s.ResolveRef(ctx, q.d, q.ref); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s after erasure: %v", q.ref, err)
		}
	}
	if p, err := s.ResolveRef(ctx, "national", keepRef); err != nil || p != keepP {
		t.Fatalf("unrelated case damaged: %q %v", p, err)
	}
	s.Close()

	plain, versions := forensic(t, dir, kr)
	if versions == 0 {
		t.Fatal("forensic scan saw no Badger versions")
	}
	if got := containsAny(plain, erased...); len(got) > 0 {
		t.Fatalf("erased case readable with all keys held: %q", got)
	}
	if got := containsAny(plain, keepRef); len(got) == 0 {
		t.Fatal("scanner lost the unrelated case: the scan proves nothing")
	}
	if hits := grepTree(t, dir, target, register, dubRef, oldRef); len(hits) > 0 {
		t.Fatalf("raw files contain the erased reference: %q", hits)
	}

	// Restore the backup taken before the erasure into the live store.
	s = openTestStore(t, dir, kr, clock)
	f, err := os.Open(backupBefore)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Restore(ctx, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.Tombstoned == 0 || st.Restored != 0 || st.AlreadyPresent != 200 {
		t.Fatalf("restore stats %+v", st)
	}
	if _, err := s.ResolveRef(ctx, "national", target); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore resurrected the erased case: %v", err)
	}
	backupAfter := filepath.Join(root, "after.bak")
	if _, err := BackupToFile(ctx, s, backupAfter); err != nil {
		t.Fatal(err)
	}
	s.Close()
	plain, _ = forensic(t, dir, kr)
	if got := containsAny(plain, erased...); len(got) > 0 {
		t.Fatalf("erased case readable after restore: %q", got)
	}
	if got := containsAny(forensicBackup(t, backupAfter, kr), erased...); len(got) > 0 {
		t.Fatalf("backup taken after the erasure holds the case: %q", got)
	}

	// Disaster recovery: the data directory is lost, the tombstone log kept
	// with the KEK survives. Restoring the old backup into a fresh store
	// honours the erasure.
	tombCopy := filepath.Join(root, "tombstones.kept")
	data, err := os.ReadFile(filepath.Join(dir, "tombstones.log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tombCopy, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fresh, err := Open(ctx, Options{Dir: filepath.Join(root, "fresh"), Domains: testDomains, KEK: kr, TombstonePath: tombCopy})
	if err != nil {
		t.Fatal(err)
	}
	f, _ = os.Open(backupBefore)
	st, err = fresh.Restore(ctx, f)
	f.Close()
	if err != nil || st.Restored != 200 || st.Tombstoned == 0 {
		t.Fatalf("disaster restore: %+v %v", st, err)
	}
	if _, err := fresh.ResolveRef(ctx, "national", target); !errors.Is(err, ErrNotFound) {
		t.Fatalf("disaster restore resurrected the erased case: %v", err)
	}
	if p, err := fresh.ResolveRef(ctx, "national", keepRef); err != nil || p != keepP {
		t.Fatalf("disaster restore lost a case: %q %v", p, err)
	}
	fresh.Close()

	// KEK rotation + retirement: the old backup becomes unreadable as a
	// whole, even without any tombstone.
	s = openTestStore(t, dir, kr, clock)
	next, err := kr.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.RotateKEK(ctx, next); err != nil || n != 200 {
		t.Fatalf("rotate: %d %v", n, err)
	}
	inUse, err := s.KEKVersionsInUse(ctx)
	if err != nil || inUse[1] != 0 || inUse[2] != 200 {
		t.Fatalf("versions in use after rotation: %v %v", inUse, err)
	}
	s.Close()
	retired, err := next.Without(1)
	if err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir, retired, clock)
	if p, err := s.ResolveRef(ctx, "national", keepRef); err != nil || p != keepP {
		t.Fatalf("after rotation: %q %v", p, err)
	}
	s.Close()
	if got := containsAny(forensicBackup(t, backupBefore, retired), target, keepRef); len(got) > 0 {
		t.Fatalf("old backup readable after KEK retirement: %q", got)
	}
	fresh2, err := Open(ctx, Options{Dir: filepath.Join(root, "fresh2"), Domains: testDomains, KEK: retired})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh2.Close()
	f, _ = os.Open(backupBefore)
	st, err = fresh2.Restore(ctx, f)
	f.Close()
	if err != nil || st.Restored != 0 || st.Unreadable != 201 {
		t.Fatalf("restore of a pre-rotation backup after retirement: %+v %v", st, err)
	}
}

func TestRestoreRejectsDamagedBackup(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	for i := range 10 {
		if _, _, err := s.Pseudonymize(ctx, "national", fmt.Sprintf("B-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := s.Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	cases := map[string][]byte{
		"truncated":  good[:len(good)-10],
		"bit flip":   append(append([]byte{}, good[:40]...), append([]byte{good[40] ^ 1}, good[41:]...)...),
		"not backup": []byte("hello"),
		"trailing":   append(append([]byte{}, good...), 0),
	}
	sameKEK := func() *Store {
		o := openTestStore(t, t.TempDir(), s.kek, nil)
		t.Cleanup(func() { o.Close() })
		return o
	}
	for name, data := range cases {
		other := sameKEK()
		st, err := other.Restore(ctx, bytes.NewReader(data))
		if !errors.Is(err, ErrInvalidInput) || st.Restored != 0 || other.Stats().Cases != 0 {
			t.Fatalf("%s: restore %+v %v, cases %d", name, st, err, other.Stats().Cases)
		}
	}
	other := sameKEK()
	st, err := other.Restore(ctx, bytes.NewReader(good))
	if err != nil || st.Restored != 10 {
		t.Fatalf("good backup: %+v %v", st, err)
	}
	// A store under another KEK cannot read the backup at all.
	if st, err := newTestStore(t).Restore(ctx, bytes.NewReader(good)); err != nil || st.Unreadable != 10 {
		t.Fatalf("foreign KEK: %+v %v", st, err)
	}
	// A restore is idempotent.
	st, err = other.Restore(ctx, bytes.NewReader(good))
	if err != nil || st.AlreadyPresent != 10 || st.Restored != 0 {
		t.Fatalf("second restore: %+v %v", st, err)
	}
}
