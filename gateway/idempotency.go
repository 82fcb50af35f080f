package gateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/caseledger/caseledger/api"
	badger "github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"
)

// Exactly-once writes. Every write carries an Idempotency-Key. The first
// request with a key stores a record holding a UUID from which every
// chaincode requestID of the write is derived; a retry with the same key and
// the same body reuses it, so the chaincode — which executes a requestID
// once per agency — never records the write twice, and a finished write is
// answered from the stored outcome without touching the ledger. Keys are
// scoped to the calling token.
//
// The UUID is not drawn at random but derived (keyed with the gateway's
// secret) from token, key and body fingerprint: a retry computes the same one
// even if the record itself was lost, e.g. to an OS crash before Badger's
// memory-mapped log reached the disk. So no fsync is needed before a write's
// first submission; only memoised values that cannot be recomputed (an
// erasure plan) are stored and synced apart, before the first submission
// (erasure_plan.go).

// idemRecord is the stored state of one Idempotency-Key.
type idemRecord struct {
	// Fingerprint is an HMAC (gateway-local key) of method, route and body:
	// bodies hold local references, so not even an unkeyed hash is stored.
	Fingerprint string            `json:"fp"`
	RequestID   string            `json:"requestId"`
	Done        bool              `json:"done"`
	Status      int               `json:"status,omitempty"`
	ContentType string            `json:"contentType,omitempty"`
	Body        []byte            `json:"body,omitempty"`
	Memo        map[string]string `json:"memo,omitempty"`
	Created     time.Time         `json:"created"`
}

// maxIdemKeyLen bounds an Idempotency-Key.
const maxIdemKeyLen = 128

// validIdemKey: 1..128 visible ASCII characters (UUIDs, ULIDs, hashes ...).
func validIdemKey(k string) bool {
	if len(k) == 0 || len(k) > maxIdemKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// idempotency keeps the records and knows which keys are being executed
// right now in this process.
type idempotency struct {
	store *Store
	key   []byte // HMAC key for fingerprints
	ttl   time.Duration
	now   func() time.Time

	mu       sync.Mutex
	inflight map[string]bool
}

func newIdempotency(store *Store, ttl time.Duration, now func() time.Time) (*idempotency, error) {
	k, err := store.secret(keyHMAC, 32)
	if err != nil {
		return nil, err
	}
	return &idempotency{store: store, key: k, ttl: ttl, now: now, inflight: map[string]bool{}}, nil
}

func (id *idempotency) fingerprint(parts ...[]byte) string {
	m := hmac.New(sha256.New, id.key)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:", len(p))
		m.Write(p)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// requestID derives a write's base UUID from who sent it, its key and its
// fingerprint (which covers method, route and body). Keyed, so nobody can
// predict another write's requestID.
func (id *idempotency) requestID(scope, key, fp string) string {
	m := hmac.New(sha256.New, id.key)
	for _, p := range []string{"requestID", scope, key, fp} {
		fmt.Fprintf(m, "%d:%s", len(p), p)
	}
	return uuid.NewSHA1(uuid.Nil, m.Sum(nil)).String()
}

// idemCall is one write in execution.
type idemCall struct {
	id     *idempotency
	dbKey  string
	rec    *idemRecord
	replay bool
	// dirty: the record (new, or with new memos) is not stored yet.
	dirty bool
}

// persist stores the record if it changed since it was last stored. A
// record is first stored with the write's first prepared transaction (or
// sync): until something may reach the ledger there is nothing a retry must
// find, and the requestID is derived, not stored, so it needs no record.
func (c *idemCall) persist() error {
	if !c.dirty {
		return nil
	}
	if err := c.id.store.putJSON(c.dbKey, c.rec, c.id.ttl); err != nil {
		return fmt.Errorf("persist idempotency record: %w", err)
	}
	c.dirty = false
	return nil
}

// RequestID derives the chaincode requestID of one transaction of this write
// from the record's UUID (name distinguishes the transactions of a write
// that needs several, e.g. one per channel).
func (c *idemCall) RequestID(name string) string {
	base := uuid.MustParse(c.rec.RequestID)
	if name == "" {
		return base.String()
	}
	return uuid.NewSHA1(base, []byte(name)).String()
}

// Memo returns the value recorded under name for this write, computing it
// on first use: a retry sees what the first attempt resolved (pseudonyms that
// may since have been erased, a date), not a new value. A memo becomes
// durable with the record when the write's next transaction is journaled —
// the write passes its idemCall to Ledger.Submit as the TxJournal, and
// Submit calls SaveTx before the transaction can reach the ledger — or, at
// the latest, when the attempt ends (finish).
func (c *idemCall) Memo(name string, compute func() (string, error)) (string, error) {
	if v, ok := c.rec.Memo[name]; ok {
		return v, nil
	}
	v, err := compute()
	if err != nil {
		return "", err
	}
	if c.rec.Memo == nil {
		c.rec.Memo = map[string]string{}
	}
	c.rec.Memo[name] = v
	c.dirty = true
	return v, nil
}

// LoadTx implements TxJournal: the prepared transaction of requestID stored
// with this write, if any.
func (c *idemCall) LoadTx(requestID string) []byte {
	b, err := c.id.store.get(c.journalKey(requestID))
	if err != nil {
		return nil
	}
	return b
}

// SaveTx implements TxJournal: it stores the prepared transaction and, in
// the same Badger transaction, the record with its memos when they changed
// since it was last stored — what a retry must find once the transaction may
// be on the ledger (TxJournal's contract). The signed transaction is kept
// under a key of its own, next to the record rather than inside it, so that
// the record (and its JSON) is not rewritten with kilobytes of envelope on
// every write. Not synced: Badger's log survives a killed process, and a
// journal lost to an OS crash only costs a new endorsement (the requestID
// and the memos that matter are derived or synced apart, see above).
func (c *idemCall) SaveTx(requestID string, prepared []byte) error {
	var rec []byte
	if c.dirty {
		b, err := json.Marshal(c.rec)
		if err != nil {
			return err
		}
		rec = b
	}
	err := c.id.store.db.Update(func(txn *badger.Txn) error {
		if rec != nil {
			if err := txn.SetEntry(entry(c.dbKey, rec, c.id.ttl)); err != nil {
				return err
			}
		}
		return txn.SetEntry(entry(c.journalKey(requestID), prepared, c.id.ttl))
	})
	if err == nil {
		c.dirty = false
	}
	return err
}

// journalKey: idempotency keys are visible ASCII, so the NUL separates the
// record's key from the requestID unambiguously.
func (c *idemCall) journalKey(requestID string) string {
	return c.journalPrefix() + requestID
}

func (c *idemCall) journalPrefix() string {
	return pfxJournal + strings.TrimPrefix(c.dbKey, pfxIdem) + "\x00"
}

// begin starts or replays the write of (scope, key) with the given
// fingerprint. It returns the stored response for a finished write, a
// problem for a conflicting one, or a call to execute.
func (id *idempotency) begin(scope, key, fp string) (*idemCall, *api.Problem, error) {
	dbKey := pfxIdem + scope + "/" + key
	id.mu.Lock()
	if id.inflight[dbKey] {
		id.mu.Unlock()
		return nil, newProblem(api.CodeRequestInProgress, ""), nil
	}
	id.inflight[dbKey] = true
	id.mu.Unlock()
	release := func() {
		id.mu.Lock()
		delete(id.inflight, dbKey)
		id.mu.Unlock()
	}
	var rec idemRecord
	found, err := id.store.getJSON(dbKey, &rec)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("read idempotency record: %w", err)
	}
	switch {
	case found && !hmac.Equal([]byte(rec.Fingerprint), []byte(fp)):
		release()
		return nil, newProblem(api.CodeIdempotencyKeyReused, "the key was first used with another method, route or body"), nil
	case found && rec.Done:
		release()
		return &idemCall{id: id, dbKey: dbKey, rec: &rec, replay: true}, nil, nil
	case !found:
		rec = idemRecord{Fingerprint: fp, RequestID: id.requestID(scope, key, fp), Created: id.now().UTC()}
	}
	// found && !Done: an earlier attempt ended without a final outcome (or
	// the gateway crashed during it): run again with the same requestID.
	return &idemCall{id: id, dbKey: dbKey, rec: &rec, dirty: !found}, nil, nil
}

// finish stores a final outcome (or leaves the record open for a retry) and
// releases the key.
func (c *idemCall) finish(status int, contentType string, body []byte) error {
	defer c.release()
	if !finalStatus(status) {
		return c.persist() // memos for the retry
	}
	c.rec.Done, c.rec.Status, c.rec.ContentType, c.rec.Body = true, status, contentType, body
	// Decided: the journal has served. Dropped in the same transaction that
	// stores the outcome, so a crash leaves either both or the open record
	// with its journal.
	return c.id.store.putJSONDropping(c.dbKey, c.rec, c.id.ttl, c.journalPrefix())
}

// release frees the key for the next attempt.
func (c *idemCall) release() {
	c.id.mu.Lock()
	delete(c.id.inflight, c.dbKey)
	c.id.mu.Unlock()
}

// finalStatus: which outcomes a retry must see again. Server-side failures
// (5xx: ledger or privacy service unavailable, outcome unknown) are not
// final — the retry runs again with the same requestIDs, which is safe.
func finalStatus(status int) bool {
	return status < 500 && status != http.StatusTooManyRequests && status != http.StatusRequestTimeout
}

// recorder tees a handler's response so it can be stored.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}
