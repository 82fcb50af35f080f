package network

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/journal"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/table"
	"github.com/syndtr/goleveldb/leveldb/util"
	"google.golang.org/protobuf/proto"
)

// Compaction of a peer's LevelDB stores (issue 15, docs/visibility.md "Purged values leave the
// files"). PurgePrivateData deletes a record from the private state, the private data store and
// the transient store, but LevelDB only appends the deletion: the old bytes stay in the journal
// (*.log) and in older tables until a compaction happens to rewrite them, and Fabric offers no way
// to force one. An erasure promises that the values are gone, so the operator runs CompactPeer
// after erasures complete: the peer stops, every LevelDB store under its filesystem path is
// compacted with the same LevelDB implementation and version Fabric 2.5.0 uses
// (github.com/syndtr/goleveldb, pinned in tools/fabric/go.mod), and the peer starts again.

// ErrStaleEntries: a store still holds a deleted or overwritten entry after compaction.
var ErrStaleEntries = errors.New("stale entries remain")

// StoreCompaction is what compacting one LevelDB store did.
type StoreCompaction struct {
	Dir         string // relative to the peer's filesystem path
	BytesBefore int64
	BytesAfter  int64
	// Rewritten counts keys written again because a full CompactRange left an older version (or a
	// tombstone) of them in a bottom-level table: goleveldb never rewrites the level it compacts
	// into unless newer data overlaps it.
	Rewritten int
	Took      time.Duration
}

// PeerCompaction reports one CompactPeer run.
type PeerCompaction struct {
	Org    string
	Stores []StoreCompaction
	// Down: from the stop signal until the peer answered /healthz again; CaughtUp: until it held
	// every block the ordering service had and knew the other member peers through gossip again.
	Down, CaughtUp time.Duration
	Restarted      bool
}

// LevelDBStores lists the LevelDB stores under root (folders with a CURRENT file), sorted.
func LevelDBStores(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() && d.Name() == "CURRENT" {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	slices.Sort(dirs)
	return dirs, err
}

// CompactLevelDB compacts a closed LevelDB store in place so that its files hold only the live
// entries: on open goleveldb replays the journal into a level-0 table and starts an empty journal;
// CompactRange over the whole key range then merges every level down to the deepest one, dropping
// each overwritten value and each tombstone with what it deleted (nothing holds a snapshot). A
// deepest-level table that nothing overlaps is not rewritten, so the store is inspected after the
// compaction and each key with a stale entry left is written again as it is now (its live value,
// or a deletion) and compacted once more; that pulls its table into the merge. Writing a key's
// current state again changes nothing a reader sees, so an interruption at any point leaves a
// consistent store.
func CompactLevelDB(dir string) (StoreCompaction, error) {
	start := time.Now()
	rep := StoreCompaction{Dir: dir, BytesBefore: DirBytes(dir)}
	// Fabric opens its stores with goleveldb's defaults (common/ledger/util/leveldbhelper).
	o := &opt.Options{ErrorIfMissing: true}
	compact := func(rewrite [][]byte) error {
		db, err := leveldb.OpenFile(dir, o)
		if err != nil {
			return fmt.Errorf("open %s: %w", dir, err)
		}
		if len(rewrite) > 0 {
			b := new(leveldb.Batch)
			for _, k := range rewrite {
				v, err := db.Get(k, nil)
				switch {
				case errors.Is(err, leveldb.ErrNotFound):
					b.Delete(k)
				case err != nil:
					_ = db.Close()
					return fmt.Errorf("read %s: %w", dir, err)
				default:
					b.Put(k, v)
				}
			}
			if err := db.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
				_ = db.Close()
				return fmt.Errorf("rewrite in %s: %w", dir, err)
			}
		}
		if err := db.CompactRange(util.Range{}); err != nil {
			_ = db.Close()
			return fmt.Errorf("compact %s: %w", dir, err)
		}
		if err := db.Close(); err != nil {
			return err
		}
		// goleveldb deletes the tables a compaction made obsolete only when it next opens the
		// store (measured: 41 of 43 table files were such leftovers after a Close), so open once
		// more before the files are inspected or handed back to the peer.
		if db, err = leveldb.OpenFile(dir, o); err != nil {
			return fmt.Errorf("reopen %s: %w", dir, err)
		}
		return db.Close()
	}
	if err := compact(nil); err != nil {
		return rep, err
	}
	for round := 0; ; round++ {
		st, err := InspectLevelDB(dir)
		if err != nil {
			return rep, err
		}
		if st.Clean() {
			break
		}
		if round == 3 {
			return rep, fmt.Errorf("%s: %w after %d rewrites: %s", dir, ErrStaleEntries, round, st)
		}
		rep.Rewritten += len(st.StaleKeys)
		if err := compact(st.StaleKeys); err != nil {
			return rep, err
		}
	}
	rep.BytesAfter, rep.Took = DirBytes(dir), time.Since(start)
	return rep, nil
}

// LevelDBState is what a closed store's files hold beyond its live entries, read from the files
// themselves (tables and journals), not through a database handle.
type LevelDBState struct {
	Tables, Entries int
	Tombstones      int      // deletion markers in tables
	Shadowed        int      // entries in tables that a newer entry of the same key overrides
	JournalRecords  int      // batches in journals (not yet in a table)
	StaleKeys       [][]byte // the keys of tombstones and shadowed entries
}

// Clean: every entry in the files is a key's live value.
func (s LevelDBState) Clean() bool {
	return s.Tombstones == 0 && s.Shadowed == 0 && s.JournalRecords == 0
}

func (s LevelDBState) String() string {
	return fmt.Sprintf("%d tables, %d entries, %d tombstones, %d shadowed, %d journal records",
		s.Tables, s.Entries, s.Tombstones, s.Shadowed, s.JournalRecords)
}

// InspectLevelDB reads every table and journal of a closed store.
func InspectLevelDB(dir string) (LevelDBState, error) {
	var st LevelDBState
	newest := map[string]uint64{} // user key -> highest sequence seen
	seen := map[string]int{}
	tomb := map[string]bool{}
	err := eachLevelDBFile(dir, func(kind storage.FileType, ikey, _ []byte) {
		if kind == storage.TypeJournal {
			return
		}
		st.Entries++
		if len(ikey) < 8 {
			return
		}
		uk := string(ikey[:len(ikey)-8])
		num := binary.LittleEndian.Uint64(ikey[len(ikey)-8:])
		seen[uk]++
		if num&0xff == 0 { // keyTypeDel
			st.Tombstones++
			tomb[uk] = true
		}
		if seq := num >> 8; seq > newest[uk] {
			newest[uk] = seq
		}
	}, func(kind storage.FileType) {
		switch kind {
		case storage.TypeTable:
			st.Tables++
		case storage.TypeJournal:
			st.JournalRecords++
		}
	})
	for uk, n := range seen {
		if n > 1 {
			st.Shadowed += n - 1
		}
		if n > 1 || tomb[uk] {
			st.StaleKeys = append(st.StaleKeys, []byte(uk))
		}
	}
	slices.SortFunc(st.StaleKeys, bytes.Compare)
	return st, err
}

// eachLevelDBFile decodes the tables (every internal key and value, decompressed) and journals
// (every batch record) of a store. onFile is called once per table and once per journal record.
func eachLevelDBFile(dir string, entry func(kind storage.FileType, key, value []byte), onFile func(storage.FileType)) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range des {
		path := filepath.Join(dir, de.Name())
		switch ext := filepath.Ext(de.Name()); ext {
		case ".ldb", ".sst":
			if err := eachTableEntry(path, func(k, v []byte) { entry(storage.TypeTable, k, v) }); err != nil {
				return err
			}
			onFile(storage.TypeTable)
		case ".log":
			if _, err := strconv.ParseUint(strings.TrimSuffix(de.Name(), ext), 10, 64); err != nil {
				continue // not a journal (goleveldb's own info log is LOG)
			}
			err := eachJournalRecord(path, func(rec []byte) {
				onFile(storage.TypeJournal)
				entry(storage.TypeJournal, nil, rec)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func eachTableEntry(path string, f func(ikey, value []byte)) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	r, err := table.NewReader(fh, fi.Size(), storage.FileDesc{Type: storage.TypeTable}, nil, util.NewBufferPool(opt.DefaultBlockSize), &opt.Options{})
	if err != nil {
		return fmt.Errorf("table %s: %w", path, err)
	}
	defer r.Release()
	it := r.NewIterator(nil, nil)
	defer it.Release()
	for it.Next() {
		f(it.Key(), it.Value())
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("table %s: %w", path, err)
	}
	return nil
}

func eachJournalRecord(path string, f func(rec []byte)) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	jr := journal.NewReader(fh, nil, false, true)
	for {
		r, err := jr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// A torn tail after a crash: LevelDB drops it on recovery too.
			return nil
		}
		rec, err := io.ReadAll(r)
		if err != nil {
			return nil
		}
		f(rec)
	}
}

// FilesHolding lists the files under root (relative paths) that hold needle: in their raw bytes,
// or — for LevelDB tables, whose blocks are Snappy-compressed, and journals, whose records are
// split into 32 KiB blocks — in any decoded key or value. A raw byte search alone would miss a
// value in a compressed table.
func FilesHolding(root string, needle []byte) ([]string, error) {
	var found []string
	add := func(path string) {
		rel, _ := filepath.Rel(root, path)
		if !slices.Contains(found, rel) {
			found = append(found, rel)
		}
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // removed meanwhile (a running peer)
		}
		if bytes.Contains(b, needle) {
			add(path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	stores, err := LevelDBStores(root)
	if err != nil {
		return nil, err
	}
	for _, s := range stores {
		des, err := os.ReadDir(s)
		if err != nil {
			return nil, err
		}
		for _, de := range des {
			path := filepath.Join(s, de.Name())
			hit := false
			check := func(k, v []byte) { hit = hit || bytes.Contains(k, needle) || bytes.Contains(v, needle) }
			switch filepath.Ext(de.Name()) {
			case ".ldb", ".sst":
				// A running peer may have compacted the table away meanwhile.
				if err := eachTableEntry(path, check); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return nil, err
				}
			case ".log":
				_ = eachJournalRecord(path, func(rec []byte) { check(nil, rec) })
			}
			if hit {
				add(path)
			}
		}
	}
	slices.Sort(found)
	return found, nil
}

// DirBytes is the bytes of the regular files under dir (what cannot be read counts 0).
func DirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// PeerDataDir is org's peer filesystem path (CORE_PEER_FILESYSTEMPATH): its ledgers, private data
// store, state databases and transient store.
func (n *Network) PeerDataDir(org string) string { return n.peerDataDir(org) }

// CompactPeer is the maintenance step after erasures (docs/operations.md): it stops org's peer
// gracefully, compacts every LevelDB store under its filesystem path (CompactLevelDB), starts the
// peer again if it was running and waits until it is healthy, holds every block the ordering
// service has on each of its channels and knows the other member peers through gossip again.
// The org's gateway keeps running: while its peer is down, submissions wait in its journal.
func (n *Network) CompactPeer(ctx context.Context, org string) (PeerCompaction, error) {
	rep := PeerCompaction{Org: org}
	if _, ok := n.desc.Org(org); !ok || !n.Local(org) {
		return rep, fmt.Errorf("compact: %q is not an organisation run from %s", org, n.root)
	}
	node := PeerNode(org)
	_, running := n.sup.Running(node)
	start := time.Now()
	if running {
		if err := n.sup.Stop(node, 30*time.Second); err != nil {
			return rep, fmt.Errorf("compact: %w", err)
		}
	}
	dir := n.peerDataDir(org)
	stores, err := LevelDBStores(dir)
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, s := range stores {
		sc, err := CompactLevelDB(s)
		sc.Dir, _ = filepath.Rel(dir, s)
		rep.Stores = append(rep.Stores, sc)
		errs = append(errs, err)
	}
	// Restart even when a store failed: the peer opens what is there; the error is reported.
	if !running {
		return rep, errors.Join(errs...)
	}
	if err := n.StartPeer(ctx, org); err != nil {
		return rep, errors.Join(append(errs, err)...)
	}
	rep.Restarted, rep.Down = true, time.Since(start)
	if err := n.waitCaughtUp(ctx, org, 2*time.Minute); err != nil {
		return rep, errors.Join(append(errs, err)...)
	}
	rep.CaughtUp = time.Since(start)
	return rep, errors.Join(errs...)
}

// waitCaughtUp waits until org's peer holds, on each of its channels, every block the ordering
// service had when asked, and knows the channel's other member peers through gossip.
func (n *Network) waitCaughtUp(ctx context.Context, org string, within time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for _, ch := range n.desc.ChannelsOf(org) {
		want, err := n.ordererNewest(wctx, org, ch.Name)
		if err != nil {
			return err
		}
		err = n.sup.WaitReady(wctx, PeerNode(org), func(ctx context.Context) error {
			h, err := n.PeerHeight(ctx, org, ch.Name)
			if err != nil {
				return err
			}
			if h <= want {
				return fmt.Errorf("height %d on %s, the ordering service has block %d", h, ch.Name, want)
			}
			return n.knowsOtherPeers(ctx, org, ch)
		})
		if err != nil {
			return fmt.Errorf("compact: %s's peer not caught up: %w", org, err)
		}
	}
	return nil
}

// ordererNewest is the number of the newest block of ch at the ordering service, fetched as org's
// admin (any member may read its channel's blocks).
func (n *Network) ordererNewest(ctx context.Context, org, ch string) (uint64, error) {
	f, err := os.CreateTemp("", "newest-*.block")
	if err != nil {
		return 0, err
	}
	f.Close()
	defer os.Remove(f.Name())
	var lastErr error
	for i := range n.desc.OrdererOrg.Orderers {
		_, err := n.peerCLI(ctx, org, "admin", "channel", "fetch", "newest", f.Name(), "-c", ch,
			"-o", n.OrdererAddress(i), "--tls", "--cafile", n.OrdererTLSCA())
		if err != nil {
			lastErr = err
			continue
		}
		b, err := os.ReadFile(f.Name())
		if err != nil {
			return 0, err
		}
		var blk common.Block
		if err := proto.Unmarshal(b, &blk); err != nil || blk.Header == nil {
			return 0, fmt.Errorf("newest block of %s: %v", ch, err)
		}
		return blk.Header.Number, nil
	}
	return 0, lastErr
}
