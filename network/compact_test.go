package network

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

func saltHex(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func openStore(t *testing.T, dir string, o *opt.Options) *leveldb.DB {
	t.Helper()
	db, err := leveldb.OpenFile(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func filesWith(t *testing.T, root, s string) []string {
	t.Helper()
	f, err := FilesHolding(root, []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The life of a purged value in a store written the way Fabric writes (goleveldb defaults): in
// the journal first, in a Snappy-compressed level-0 table once the store is reopened, and in no
// file after CompactLevelDB, while the live values stay readable.
func TestCompactLevelDBJournalAndTables(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "ledgersData", "pvtdataStore")
	overwritten, deleted, live := saltHex(t), saltHex(t), saltHex(t)
	db := openStore(t, dir, &opt.Options{})
	for _, kv := range [][2]string{{"a/record", `{"salt":"` + overwritten + `"}`}, {"b/record", `{"salt":"` + deleted + `"}`}} {
		if err := db.Put([]byte(kv[0]), []byte(kv[1]), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Put([]byte("a/record"), []byte(`{"salt":"`+live+`"}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete([]byte("b/record"), nil); err != nil {
		t.Fatal(err)
	}
	// A stopped peer leaves its last writes in the journal (goleveldb's Close does not flush it).
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{overwritten, deleted, live} {
		if f := filesWith(t, root, s); len(f) != 1 || !strings.HasSuffix(f[0], ".log") {
			t.Fatalf("after the writes: %s… in %v, want one journal", s[:8], f)
		}
	}
	// Opening replays the journal into a level-0 table, with every version and the tombstone.
	openStore(t, dir, &opt.Options{}).Close()
	st, err := InspectLevelDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.JournalRecords != 0 || st.Tombstones != 1 || st.Shadowed != 2 {
		t.Fatalf("after reopening: %s", st)
	}
	for _, s := range []string{overwritten, deleted} {
		if f := filesWith(t, root, s); len(f) != 1 || !strings.HasSuffix(f[0], ".ldb") {
			t.Fatalf("after reopening: %s… in %v, want one table", s[:8], f)
		}
	}

	rep, err := CompactLevelDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", rep)
	for _, s := range []string{overwritten, deleted} {
		if f := filesWith(t, root, s); len(f) != 0 {
			t.Errorf("after compaction: %s… still in %v", s[:8], f)
		}
	}
	if f := filesWith(t, root, live); len(f) != 1 {
		t.Errorf("after compaction: the live value in %v", f)
	}
	if st, err := InspectLevelDB(dir); err != nil || !st.Clean() || st.Entries != 1 {
		t.Errorf("after compaction: %s %v", st, err)
	}
	db = openStore(t, dir, &opt.Options{})
	defer db.Close()
	if v, err := db.Get([]byte("a/record"), nil); err != nil || !strings.Contains(string(v), live) {
		t.Errorf("live value: %q %v", v, err)
	}
	if _, err := db.Get([]byte("b/record"), nil); !errors.Is(err, leveldb.ErrNotFound) {
		t.Errorf("deleted key: %v", err)
	}
}

// A store with history in several tables and levels (small write buffer, background compactions,
// deletions next to their writes as the transient store has them): a full CompactRange can leave
// an old version in a deepest-level table that nothing overlaps; CompactLevelDB leaves none, and
// every live value as it was.
func TestCompactLevelDBDeepTables(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, dir, &opt.Options{WriteBuffer: 32 << 10})
	want := map[string]string{}
	var dead []string
	for i := range 2000 {
		k := fmt.Sprintf("k%08d", i)
		v := saltHex(t) + strings.Repeat(".", 900)
		if err := db.Put([]byte(k), []byte(v), nil); err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			dead = append(dead, v[:64])
			if err := db.Delete([]byte(k), nil); err != nil {
				t.Fatal(err)
			}
		case 1:
			dead = append(dead, v[:64])
			v = saltHex(t)
			if err := db.Put([]byte(k), []byte(v), nil); err != nil {
				t.Fatal(err)
			}
			want[k] = v
		default:
			want[k] = v
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// What CompactRange alone leaves (logged: background compactions make it vary).
	plain := t.TempDir()
	copyDir(t, dir, plain)
	db = openStore(t, plain, &opt.Options{})
	if err := db.CompactRange(util.Range{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	openStore(t, plain, &opt.Options{}).Close()
	st, _ := InspectLevelDB(plain)
	t.Logf("CompactRange alone: %s", st)

	rep, err := CompactLevelDB(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CompactLevelDB: %+v", rep)
	if st, err := InspectLevelDB(dir); err != nil || !st.Clean() || st.Entries != len(want) {
		t.Fatalf("after compaction: %s %v, want %d live entries", st, err, len(want))
	}
	for _, v := range dead[:50] {
		if f := filesWith(t, dir, v); len(f) != 0 {
			t.Fatalf("dead value %s… in %v", v[:8], f)
		}
	}
	db = openStore(t, dir, &opt.Options{})
	defer db.Close()
	it := db.NewIterator(nil, nil)
	defer it.Release()
	n := 0
	for it.Next() {
		if want[string(it.Key())] != string(it.Value()) {
			t.Fatalf("%s = %.20q", it.Key(), it.Value())
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("%d live keys, want %d", n, len(want))
	}
}

func TestLevelDBStores(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"ledgersData/stateLeveldb", "transientstore", "ledgersData/chains/index"} {
		openStore(t, filepath.Join(root, d), nil).Close()
	}
	got, err := LevelDBStores(root)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, g := range got {
		r, _ := filepath.Rel(root, g)
		rel = append(rel, r)
	}
	if want := []string{"ledgersData/chains/index", "ledgersData/stateLeveldb", "transientstore"}; !slices.Equal(rel, want) {
		t.Fatalf("%v, want %v", rel, want)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}
