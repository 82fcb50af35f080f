package privacy

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"

	"github.com/caseledger/caseledger/internal/badgerlog"
)

// Options configures a Store.
type Options struct {
	// Dir is the data directory (created 0700): Badger in Dir/badger, the
	// key-slot file Dir/keys.slots.
	Dir string
	// Domains are the pseudonymisation domains, one per channel.
	Domains []string
	// KEK wraps the per-record data keys; it must live outside Dir.
	KEK KeyWrapper
	// TombstonePath is the tombstone log (default Dir/tombstones.log). Keep
	// it with the KEK on separate storage to honour erasures when a backup is
	// restored after the data directory was lost.
	TombstonePath string
	// Logger receives operational logs; they never carry local references.
	Logger *slog.Logger
	// Now is the clock (fake in tests).
	Now func() time.Time
	// CacheBytes is Badger's block cache (default 16 MiB): records are read
	// rarely, lookups are served by the in-memory index.
	CacheBytes int64
	// MaxBatch bounds the operations committed together (default 256).
	MaxBatch int
}

// Store is the in-process vault. It implements Vault.
type Store struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	kek     KeyWrapper
	db      *badger.DB
	slots   *slotFile
	tombs   *tombLog
	domains map[string]uint8
	names   []string

	hmacs sync.Pool // blind-index HMACs under an ephemeral key

	mu       sync.RWMutex // guards the index, slot mutation and isClosed
	isClosed bool
	refs     map[refKey]*caseMeta
	pseuds   map[pseudKey]*caseMeta
	nCases   atomic.Int64

	// Writer-owned state.
	free     []uint32
	deferred *writeOp

	ops    chan *writeOp
	quit   chan struct{}
	done   chan struct{}
	closed sync.Once
	broken atomic.Pointer[error]
	m      *storeMetrics

	generation atomic.Pointer[string] // see generation.go
}

type refKey [sha256.Size]byte

type pseudKey struct {
	domain uint8
	id     uuid.UUID
}

// caseMeta is what the index keeps per case: where its sealed record and its
// data key are, and its pseudonyms. Never a local reference.
type caseMeta struct {
	id     recordID
	slot   uint32
	pseuds []pseudKey
}

func (m *caseMeta) pseudIn(d uint8) (uuid.UUID, bool) {
	for _, p := range m.pseuds {
		if p.domain == d {
			return p.id, true
		}
	}
	return uuid.Nil, false
}

const recPrefix = 'r'

func recKey(id recordID) []byte { return append([]byte{recPrefix}, id[:]...) }

// Open opens (creating) the store, reconciles the key slots with the records
// (finishing any shredding a crash interrupted) and rebuilds the index.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("%w: data directory is required", ErrInvalidInput)
	}
	if opts.KEK == nil {
		return nil, fmt.Errorf("%w: a key-encryption key is required", ErrInvalidInput)
	}
	if len(opts.Domains) == 0 || len(opts.Domains) > MaxDomains {
		return nil, fmt.Errorf("%w: between 1 and %d domains are required", ErrInvalidInput, MaxDomains)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 16 << 20
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.TombstonePath == "" {
		opts.TombstonePath = filepath.Join(opts.Dir, "tombstones.log")
	}
	s := &Store{
		opts: opts, log: opts.Logger, now: opts.Now, kek: opts.KEK,
		domains: map[string]uint8{},
		refs:    map[refKey]*caseMeta{},
		pseuds:  map[pseudKey]*caseMeta{},
		ops:     make(chan *writeOp, 1024),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		m:       newStoreMetrics(),
	}
	for i, d := range opts.Domains {
		if err := ValidateDomainName(d); err != nil {
			return nil, err
		}
		if _, dup := s.domains[d]; dup {
			return nil, fmt.Errorf("%w: domain %s listed twice", ErrInvalidInput, d)
		}
		s.domains[d] = uint8(i)
		s.names = append(s.names, d)
	}
	// The blind-index key is drawn per process and never written anywhere:
	// the index is rebuilt from sealed records on open, so nothing on disk is
	// a function of a local reference.
	idxKey := make([]byte, 32)
	if _, err := rand.Read(idxKey); err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	s.hmacs.New = func() any { return hmac.New(sha256.New, idxKey) }

	// The tombstone log's folder too: it is kept apart (with the KEK).
	for _, d := range []string{opts.Dir, filepath.Dir(opts.TombstonePath)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("open: %w", err)
		}
	}
	var err error
	var used map[uint32]slotEntry
	if s.slots, used, err = openSlotFile(filepath.Join(opts.Dir, "keys.slots")); err != nil {
		return nil, err
	}
	if s.tombs, err = openTombLog(opts.TombstonePath); err != nil {
		s.slots.close()
		return nil, err
	}
	if err := s.adoptLegacyTombstones(); err != nil {
		s.slots.close()
		s.tombs.close()
		return nil, err
	}
	// The two files may have just been created: make their names durable.
	if err := errors.Join(syncDir(opts.Dir), syncDir(filepath.Dir(opts.TombstonePath))); err != nil {
		s.slots.close()
		s.tombs.close()
		return nil, err
	}
	bopts := badger.DefaultOptions(filepath.Join(opts.Dir, "badger")).
		WithSyncWrites(true).
		WithDetectConflicts(false). // one writer goroutine
		WithNumVersionsToKeep(1).
		WithBlockCacheSize(opts.CacheBytes).
		WithMemTableSize(16 << 20).
		WithCompactL0OnClose(true).
		WithLogger(badgerlog.New(opts.Logger))
	if s.db, err = badger.Open(bopts); err != nil {
		s.slots.close()
		s.tombs.close()
		return nil, fmt.Errorf("open badger: %w", err)
	}
	resurrected, err := s.load(ctx, used)
	if err == nil {
		err = s.loadGeneration()
	}
	if err == nil && resurrected > 0 {
		err = s.newGeneration()
	}
	if err != nil {
		s.db.Close()
		s.slots.close()
		s.tombs.close()
		return nil, err
	}
	go s.run(context.WithoutCancel(ctx))
	return s, nil
}

// Close stops the writer after the batch in flight and closes the files.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.quit)
		<-s.done
		s.mu.Lock() // wait for readers on disk
		defer s.mu.Unlock()
		s.isClosed = true
		err = errors.Join(s.db.Close(), s.slots.close(), s.tombs.close())
	})
	return err
}

// Ready reports whether the store accepts writes.
func (s *Store) Ready() error {
	select {
	case <-s.quit:
		return ErrUnavailable
	default:
	}
	if p := s.broken.Load(); p != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, *p)
	}
	return nil
}

// Domains returns the configured domains in order.
func (s *Store) Domains() []string { return slices.Clone(s.names) }

func (s *Store) domain(name string) (uint8, error) {
	d, ok := s.domains[name]
	if !ok {
		return 0, fmt.Errorf("%w: %q is not configured", ErrUnknownDomain, truncate(name, maxDomainNameLen))
	}
	return d, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Store) refKey(d uint8, ref string) refKey {
	h := s.hmacs.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte{d})
	h.Write([]byte(ref))
	var k refKey
	h.Sum(k[:0])
	s.hmacs.Put(h)
	return k
}

// loadRecord reads and opens the sealed record of m. Callers hold s.mu (read)
// or are the writer: slots are only reused under the write lock.
func (s *Store) loadRecord(ctx context.Context, m *caseMeta) (*caseRecord, error) {
	e, ok, err := s.slots.read(m.slot)
	if err != nil {
		return nil, err
	}
	if !ok || e.id != m.id {
		return nil, fmt.Errorf("%w: key slot does not match record", ErrCorrupt)
	}
	dek, err := s.kek.Unwrap(ctx, e.version, e.wrapped[:], dekAAD(m.id))
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	var sealed []byte
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(recKey(m.id))
		if err != nil {
			return err
		}
		sealed, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read record: %w", err)
	}
	return openRecord(dek, m.id, sealed)
}

// load rebuilds the index from Badger and the key slots, and finishes
// interrupted work: a slot whose record is gone is an unfinished shred (zero
// it, tombstone it); a record without its key is already unreadable (delete).
//
// A record whose id is in the tombstone log was shredded after this data
// directory was copied (a folder restored from a file-system snapshot while
// the tombstone log, kept apart, survived): it is deleted like a record
// without a key and never indexed. load returns how many it deleted.
func (s *Store) load(ctx context.Context, used map[uint32]slotEntry) (int, error) {
	byID := make(map[recordID]uint32, len(used))
	for slot, e := range used {
		if prev, dup := byID[e.id]; dup {
			// Cannot happen by construction; keep the lower slot, shred the other.
			s.log.Warn("duplicate key slot for one record", "slot", slot, "kept", min(prev, slot))
			drop := max(prev, slot)
			byID[e.id] = min(prev, slot)
			delete(used, drop)
			if err := s.slots.zero(drop); err != nil {
				return 0, err
			}
			continue
		}
		byID[e.id] = slot
	}
	// Tombstoned ids among those with a key: memory in the live records, not
	// in the log's length. (A record without a key is deleted anyway.)
	dead := map[recordID]struct{}{}
	err := scanTombstones(io.NewSectionReader(s.tombs.f, 0, 1<<62), func(t tombstone) {
		if _, ok := byID[t.id]; ok {
			dead[t.id] = struct{}{}
		}
	})
	if err != nil {
		return 0, err
	}

	// Pipeline: one goroutine scans Badger, the workers unwrap, decrypt and
	// compute the blind-index keys, this goroutine fills the maps. Work moves
	// in batches to keep channel overhead off a million-record open.
	type job struct {
		id     recordID
		sealed []byte
		slot   uint32
		key    slotEntry
	}
	type result struct {
		meta *caseMeta
		rec  *caseRecord
		keys []refKey
		err  error
	}
	const batch = 256
	jobs := make(chan []job, 8)
	results := make(chan []result, 8)
	workers := max(1, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for js := range jobs {
				out := make([]result, len(js))
				for i, j := range js {
					dek, err := s.kek.Unwrap(ctx, j.key.version, j.key.wrapped[:], dekAAD(j.id))
					if err != nil {
						out[i].err = fmt.Errorf("record key: %w", err)
						continue
					}
					rec, err := openRecord(dek, j.id, j.sealed)
					clear(dek)
					if err != nil {
						out[i].err = err
						continue
					}
					out[i] = result{meta: &caseMeta{id: j.id, slot: j.slot}, rec: rec, keys: s.refKeysOf(rec)}
				}
				results <- out
			}
		}()
	}
	var keyless []recordID
	resurrected := 0
	seen := make([]bool, s.slots.n)
	var scanErr error
	go func() {
		defer close(jobs)
		scanErr = s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256, Prefix: []byte{recPrefix}})
			defer it.Close()
			js := make([]job, 0, batch)
			for it.Rewind(); it.Valid(); it.Next() {
				item := it.Item()
				k := item.Key()
				if len(k) != 1+len(recordID{}) {
					continue
				}
				var id recordID
				copy(id[:], k[1:])
				slot, ok := byID[id]
				if _, tombstoned := dead[id]; tombstoned {
					// Shredded after this directory was copied: never serve it.
					keyless = append(keyless, id)
					resurrected++
					continue
				}
				if !ok {
					keyless = append(keyless, id)
					continue
				}
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				js = append(js, job{id: id, sealed: v, slot: slot, key: used[slot]})
				if len(js) == batch {
					jobs <- js
					js = make([]job, 0, batch)
				}
			}
			if len(js) > 0 {
				jobs <- js
			}
			return nil
		})
	}()
	go func() { wg.Wait(); close(results) }()

	var firstErr error
	for rs := range results {
		for _, r := range rs {
			if r.err != nil {
				if firstErr == nil {
					firstErr = r.err
				}
				continue
			}
			if firstErr != nil {
				continue
			}
			seen[r.meta.slot] = true
			if err := s.indexRecordKeys(r.meta, r.rec, r.keys); err != nil {
				firstErr = err
			}
		}
	}
	if scanErr != nil {
		return 0, fmt.Errorf("load: %w", scanErr)
	}
	if firstErr != nil {
		return 0, fmt.Errorf("load: %w", firstErr)
	}

	// Finish interrupted shredding.
	now := s.now().UnixNano()
	var tombs []tombstone
	if len(keyless) > 0 {
		err := s.db.Update(func(txn *badger.Txn) error {
			for _, id := range keyless {
				if err := txn.Delete(recKey(id)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("load: %w", err)
		}
		for _, id := range keyless {
			if _, ok := dead[id]; !ok {
				tombs = append(tombs, tombstone{id: id, at: now, reason: tombOrphan})
			}
		}
	}
	zeroed := 0
	for slot := uint32(0); slot < s.slots.n; slot++ {
		if seen[slot] {
			continue
		}
		if e, ok := used[slot]; ok {
			if _, already := dead[e.id]; !e.restoring && !already {
				tombs = append(tombs, tombstone{id: e.id, at: now, reason: tombOrphan})
			}
			if err := s.slots.zero(slot); err != nil {
				return 0, err
			}
			zeroed++
		}
		s.free = append(s.free, slot)
	}
	if len(tombs) > 0 || zeroed > 0 {
		s.log.Info("finished interrupted shredding", "key_slots", zeroed, "records", len(tombs))
		if err := errors.Join(s.tombs.append(tombs), s.tombs.sync(), s.slots.sync()); err != nil {
			return 0, err
		}
	}
	if resurrected > 0 {
		s.log.Warn("deleted records the tombstone log had shredded: the data directory is older than its tombstone log", "records", resurrected)
		s.m.shredded.WithLabelValues("tombstoned-on-open").Add(float64(resurrected))
	}
	// Allocate low slots first.
	slices.Reverse(s.free)
	return resurrected, nil
}

// indexRecord adds a record to the index (writer or load only; caller holds
// the write lock when readers may run).
func (s *Store) indexRecord(m *caseMeta, rec *caseRecord) error {
	return s.indexRecordKeys(m, rec, s.refKeysOf(rec))
}

// refKeysOf computes the blind-index keys of every reference of rec, in
// entry and reference order.
func (s *Store) refKeysOf(rec *caseRecord) []refKey {
	var keys []refKey
	for _, e := range rec.entries {
		d := s.domains[e.domain] // unknown domains are refused by indexRecordKeys
		for _, ref := range e.refs {
			keys = append(keys, s.refKey(d, ref))
		}
	}
	return keys
}

func (s *Store) indexRecordKeys(m *caseMeta, rec *caseRecord, keys []refKey) error {
	for _, e := range rec.entries {
		d, ok := s.domains[e.domain]
		if !ok {
			return fmt.Errorf("%w: the store holds domain %q which is not configured", ErrInvalidInput, e.domain)
		}
		pk := pseudKey{d, e.pseud}
		if _, dup := s.pseuds[pk]; dup {
			return fmt.Errorf("%w: pseudonym indexed twice", ErrCorrupt)
		}
		s.pseuds[pk] = m
		m.pseuds = append(m.pseuds, pk)
		for range e.refs {
			rk := keys[0]
			keys = keys[1:]
			if _, dup := s.refs[rk]; dup {
				return fmt.Errorf("%w: local reference indexed twice", ErrCorrupt)
			}
			s.refs[rk] = m
		}
	}
	s.nCases.Add(1)
	return nil
}

func (s *Store) unindexRecord(m *caseMeta, rec *caseRecord) {
	for _, e := range rec.entries {
		d := s.domains[e.domain]
		delete(s.pseuds, pseudKey{d, e.pseud})
		for _, ref := range e.refs {
			delete(s.refs, s.refKey(d, ref))
		}
	}
	s.nCases.Add(-1)
}

// ---- reads ----

// ResolveRef implements Vault. It is served from memory (no disk access).
func (s *Store) ResolveRef(ctx context.Context, domain, localRef string) (string, error) {
	p, err := s.resolveRef(domain, localRef)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

func (s *Store) resolveRef(domain, localRef string) (uuid.UUID, error) {
	d, err := s.domain(domain)
	if err != nil {
		return uuid.Nil, err
	}
	if err := ValidateLocalRef(localRef); err != nil {
		return uuid.Nil, err
	}
	k := s.refKey(d, localRef)
	s.mu.RLock()
	m := s.refs[k]
	var p uuid.UUID
	var ok bool
	if m != nil {
		p, ok = m.pseudIn(d)
	}
	s.mu.RUnlock()
	if !ok {
		return uuid.Nil, fmt.Errorf("%w: no pseudonym for this local reference in domain %s", ErrNotFound, domain)
	}
	return p, nil
}

// withCase runs fn on the opened record of the case holding pseudonym.
func (s *Store) withCase(ctx context.Context, domain, pseudonym string, fn func(d uint8, rec *caseRecord) error) error {
	d, err := s.domain(domain)
	if err != nil {
		return err
	}
	id, err := ParsePseudonym(pseudonym)
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.isClosed {
		return ErrUnavailable
	}
	m := s.pseuds[pseudKey{d, id}]
	if m == nil {
		return fmt.Errorf("%w: unknown pseudonym in domain %s", ErrNotFound, domain)
	}
	rec, err := s.loadRecord(ctx, m)
	if err != nil {
		return err
	}
	return fn(d, rec)
}

// ResolvePseudonym implements Vault.
func (s *Store) ResolvePseudonym(ctx context.Context, domain, pseudonym string) ([]string, error) {
	var refs []string
	err := s.withCase(ctx, domain, pseudonym, func(_ uint8, rec *caseRecord) error {
		refs = slices.Clone(rec.entry(domain).refs)
		return nil
	})
	if refs == nil && err == nil {
		refs = []string{}
	}
	return refs, err
}

// Linked implements Vault.
func (s *Store) Linked(ctx context.Context, fromDomain, fromPseudonym, toDomain string) (string, error) {
	if _, err := s.domain(toDomain); err != nil {
		return "", err
	}
	var out string
	err := s.withCase(ctx, fromDomain, fromPseudonym, func(_ uint8, rec *caseRecord) error {
		e := rec.entry(toDomain)
		if e == nil || toDomain == fromDomain {
			return fmt.Errorf("%w: no linked pseudonym in domain %s", ErrNotFound, toDomain)
		}
		out = e.pseud.String()
		return nil
	})
	return out, err
}

// AnchorKey implements Vault.
func (s *Store) AnchorKey(ctx context.Context, domain, pseudonym string) ([]byte, error) {
	var key []byte
	err := s.withCase(ctx, domain, pseudonym, func(_ uint8, rec *caseRecord) error {
		e := rec.entry(domain)
		key = slices.Clone(e.anchorKey[:])
		return nil
	})
	return key, err
}

// Export implements Vault.
func (s *Store) Export(ctx context.Context, domain, localRef string) (SubjectExport, error) {
	p, err := s.resolveRef(domain, localRef)
	if err != nil {
		return SubjectExport{}, err
	}
	var out SubjectExport
	err = s.withCase(ctx, domain, p.String(), func(_ uint8, rec *caseRecord) error {
		out = exportOf(rec)
		return nil
	})
	return out, err
}

func exportOf(rec *caseRecord) SubjectExport {
	out := SubjectExport{CreatedAt: time.Unix(0, rec.created).UTC(), Entries: []ExportEntry{}, History: []HistoryItem{}}
	for _, e := range rec.entries {
		out.Entries = append(out.Entries, ExportEntry{
			Domain: e.domain, Pseudonym: e.pseud.String(), LocalRefs: append([]string{}, e.refs...),
			CreatedAt: time.Unix(0, e.created).UTC(), AnchorKeyHeld: true,
		})
	}
	for _, h := range rec.history {
		out.History = append(out.History, HistoryItem{At: time.Unix(0, h.at).UTC(), Action: actionNames[h.action], Domain: h.domain})
	}
	return out
}

// MaxListLimit bounds one page of List.
const MaxListLimit = 1000

// List implements Vault.
func (s *Store) List(_ context.Context, domain, after string, limit int) ([]string, string, error) {
	d, err := s.domain(domain)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > MaxListLimit {
		return nil, "", fmt.Errorf("%w: limit must be between 1 and %d", ErrInvalidInput, MaxListLimit)
	}
	var from uuid.UUID
	if after != "" {
		if from, err = ParsePseudonym(after); err != nil {
			return nil, "", err
		}
	}
	// The canonical text form sorts like the bytes, so byte order is the
	// documented order. O(n) per page: an administrative call, not a hot path.
	page := make([]uuid.UUID, 0, limit+1)
	s.mu.RLock()
	for k := range s.pseuds {
		if k.domain != d || (after != "" && bytes.Compare(k.id[:], from[:]) <= 0) {
			continue
		}
		page = append(page, k.id)
		if len(page) > 4*limit {
			slices.SortFunc(page, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
			page = page[:limit+1]
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(page, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	next := ""
	if len(page) > limit {
		page = page[:limit]
		next = page[limit-1].String()
	}
	out := make([]string, len(page))
	for i, p := range page {
		out[i] = p.String()
	}
	return out, next, nil
}

// Stats is a snapshot of the store's size, for metrics.
type Stats struct {
	Cases int64
}

// Stats returns the current counts (no identifiers).
func (s *Store) Stats() Stats {
	return Stats{Cases: s.nCases.Load()}
}
