package gateway

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/caseledger/caseledger/internal/badgerlog"
)

// Store is the gateway's durable state in Badger (data dir): idempotency
// records, event checkpoints and the event log, webhook subscriptions and
// cursors, automation cursors, audit reports. It never holds a local
// reference: only pseudonyms, request ids and keyed fingerprints.
type Store struct {
	db   *badger.DB
	log  *slog.Logger
	sync groupSync
}

// Key prefixes.
const (
	pfxIdem     = "idem/"
	pfxJournal  = "idemtx/"
	pfxCP       = "cp/"
	pfxLog      = "log/"
	pfxWebhook  = "wh/"
	pfxWHCursor = "whc/"
	pfxWHDead   = "whdead/"
	pfxCursor   = "cursor/"
	pfxAudit    = "audit/"
	keyEpoch    = "meta/epoch"
	keyHMAC     = "meta/hmackey"
	keyLogFirst = "meta/logfirst"
)

// OpenStore opens (creating) the Badger database under dir.
func OpenStore(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := badger.DefaultOptions(filepath.Join(dir, "badger")).
		// Badger's write-ahead log and value log are memory-mapped: a killed
		// gateway loses no write. Only an OS crash can lose the last ones, so
		// the gateway syncs explicitly where a lost write could cost more than
		// a retry does: an erasure plan before its first ledger submission
		// (erasure_plan.go). A lost checkpoint re-reads
		// events into the same log positions; a lost webhook cursor repeats
		// a delivery that receivers deduplicate by Webhook-Event-Id.
		WithSyncWrites(false).
		WithNumVersionsToKeep(1).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithBlockCacheSize(8 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).
		WithLogger(badgerlog.New(log))
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open gateway store: %w", err)
	}
	st := &Store{db: db, log: log}
	st.sync.flush = db.Sync
	return st, nil
}

// Close flushes and closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Sync forces everything written before the call to disk. Concurrent
// callers share one flush (group commit): under load many writes wait on
// the same fsync instead of queueing one each.
func (s *Store) Sync() error { return s.sync.do() }

// groupSync runs flush for every caller that arrives while none is running
// and lets callers that arrive during a flush share the next one. A failed
// flush fails every later call too: after a failed fsync the kernel may have
// dropped the dirty pages, so nothing written since can be called durable.
type groupSync struct {
	flush func() error

	mu      sync.Mutex
	cond    *sync.Cond
	issued  uint64 // tickets handed out
	synced  uint64 // every ticket up to this one is on disk
	running bool
	err     error
}

func (g *groupSync) do() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	g.issued++
	ticket := g.issued
	for g.synced < ticket && g.err == nil {
		if g.running {
			g.cond.Wait()
			continue
		}
		// Every ticket issued so far belongs to a write that finished
		// before its owner called do, so this flush covers them all.
		upto := g.issued
		g.running = true
		g.mu.Unlock()
		err := g.flush()
		g.mu.Lock()
		g.running = false
		if err != nil {
			g.err = fmt.Errorf("sync gateway store: %w", err)
		} else {
			g.synced = upto
		}
		g.cond.Broadcast()
	}
	return g.err
}

func (s *Store) getJSON(key string, v any) (bool, error) {
	var found bool
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return it.Value(func(b []byte) error { return json.Unmarshal(b, v) })
	})
	return found, err
}

func (s *Store) putJSON(key string, v any, ttl time.Duration) error {
	return s.putJSONDropping(key, v, ttl, "")
}

// putJSONDropping stores v under key and, in the same transaction, deletes
// every key that starts with drop (none if drop is empty).
func (s *Store) putJSONDropping(key string, v any, ttl time.Duration, drop string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		if drop != "" {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(drop)})
			var dead [][]byte
			for it.Rewind(); it.Valid(); it.Next() {
				dead = append(dead, it.Item().KeyCopy(nil))
			}
			it.Close()
			for _, k := range dead {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
		}
		return txn.SetEntry(entry(key, b, ttl))
	})
}

func entry(key string, b []byte, ttl time.Duration) *badger.Entry {
	e := badger.NewEntry([]byte(key), b)
	if ttl > 0 {
		e = e.WithTTL(ttl)
	}
	return e
}

// get returns the raw bytes under key (badger.ErrKeyNotFound if none).
func (s *Store) get(key string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	return out, err
}

// secret returns a random value stored under key, creating it once. A new
// secret is synced at once: request ids and fingerprints derive from it.
func (s *Store) secret(key string, n int) ([]byte, error) {
	var out []byte
	created := false
	err := s.db.Update(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(key))
		if err == nil {
			out, err = it.ValueCopy(nil)
			return err
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		out = make([]byte, n)
		if _, err := rand.Read(out); err != nil {
			return err
		}
		created = true
		return txn.Set([]byte(key), out)
	})
	if err == nil && created {
		err = s.Sync()
	}
	return out, err
}

// Epoch identifies this data directory's event log: positions of another
// log (a wiped data dir) are recognised as foreign.
func (s *Store) Epoch() (string, error) {
	b, err := s.secret(keyEpoch, 6)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func seqKey(prefix string, seq uint64) []byte {
	k := make([]byte, len(prefix)+8)
	copy(k, prefix)
	binary.BigEndian.PutUint64(k[len(prefix):], seq)
	return k
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func putU64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// cursor reads a consumer's last processed log sequence number.
func (s *Store) cursor(key string) (uint64, error) {
	var v uint64
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(b []byte) error { v = u64(b); return nil })
	})
	return v, err
}

func (s *Store) setCursor(key string, v uint64) error {
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(key), putU64(v)) })
}
