// Package fakestub is an in-memory ledger and transaction stub for chaincode
// tests and the in-process ledger (internal/inproc): fabric-chaincode-go v2
// ships no shimtest. It models what the
// chaincode can observe of a real peer:
//
//   - reads see committed state only, never the transaction's own writes;
//   - writes are applied at commit, and only if the transaction succeeded;
//   - paginated queries are refused in a transaction that writes, and writes
//     in a transaction that ran a paginated query (as the peer does);
//   - pagination bookmarks are the next key, "" when the range is exhausted
//     (LevelDB state database semantics);
//   - history is returned newest first (Fabric v2);
//   - one chaincode event per transaction (SetEvent overwrites);
//   - every committed key has a version, and a transaction records the
//     versions it read (RWSet), so a committer can validate it as a peer
//     does (Ledger.CommitRWSet: MVCC_READ_CONFLICT, PHANTOM_READ_CONFLICT);
//   - the signed proposal is the one fabric-gateway would build (SetProposal
//     replaces it, for tests of what the chaincode refuses in it).
//
// The creator is a serialized identity with a real X.509 certificate carrying
// Fabric CA attributes, so the code under test parses identities exactly as
// it does on a peer (cid.New).
package fakestub

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Ledger is the committed world state of one channel plus its history.
type Ledger struct {
	mu      sync.Mutex
	channel string
	state   map[string][]byte
	history map[string][]*queryresult.KeyModification // oldest first
	// versions of the committed keys: the (block, transaction) that last
	// wrote them.
	versions map[string]*kvrwset.Version
	// commits counts Tx.Commit calls; each is a block of its own.
	commits uint64
	events  []Event
	txSeq   int
	// private: committed private data per collection (purged keys removed); privateHashes the
	// SHA-256 of each value, which every member peer keeps in its state until a purge deletes it
	// too (Fabric 2.5: a purge is a delete of the hashed key; the blocks keep the hashes).
	private       map[string]map[string][]byte
	privateHashes map[string]map[string][]byte
	// policies: the key-level endorsement policies (validation parameters) of committed keys.
	policies map[string][]byte
}

// Event is a committed chaincode event.
type Event struct {
	TxID    string
	Name    string
	Payload []byte
}

// NewLedger returns an empty ledger for a channel.
func NewLedger(channel string) *Ledger {
	return &Ledger{
		channel:  channel,
		state:    map[string][]byte{},
		history:  map[string][]*queryresult.KeyModification{},
		versions: map[string]*kvrwset.Version{},
	}
}

// Events returns the committed chaincode events, oldest first.
func (l *Ledger) Events() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// Get returns a committed value.
func (l *Ledger) Get(key string) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.state[key]
	return slices.Clone(v), ok
}

// Keys returns all committed keys, sorted.
func (l *Ledger) Keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.state))
	for k := range l.state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Put writes a committed value directly (test set-up).
func (l *Ledger) Put(key string, value []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.state[key] = slices.Clone(value)
}

// Tx is one transaction being simulated against the ledger.
type Tx struct {
	ledger    *Ledger
	txID      string
	timestamp time.Time
	creator   []byte
	args      [][]byte
	proposal  *peer.SignedProposal

	mu        sync.Mutex
	writes    map[string][]byte // nil value = delete
	order     []string
	event     *Event
	paginated bool
	// reads: the version of each key when it was first read (nil: absent);
	// ranges: the range queries, with what they returned.
	reads  map[string]*kvrwset.Version
	rorder []string
	ranges []*kvrwset.RangeQueryInfo
	// transient is the proposal's transient map; pvt the private writes per collection (nil
	// value: purge).
	transient map[string][]byte
	pvt       map[string]map[string][]byte
	// policies: the key-level endorsement policies this transaction sets (metadata writes).
	policies map[string][]byte
}

// NewTx starts a transaction with the given creator (see Identity.Creator),
// timestamp and arguments (function first).
func (l *Ledger) NewTx(creator []byte, ts time.Time, args ...string) *Tx {
	l.mu.Lock()
	l.txSeq++
	id := fmt.Sprintf("%064x", l.txSeq)
	l.mu.Unlock()
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	return &Tx{ledger: l, txID: id, timestamp: ts, creator: creator, args: bargs, writes: map[string][]byte{},
		reads: map[string]*kvrwset.Version{}, proposal: Proposal(l.channel, id, creator, ts, bargs)}
}

// NewTxFromProposal starts the transaction a peer would simulate for a
// signed proposal: transaction id, timestamp, creator and arguments are
// taken from it, as the peer takes them.
func (l *Ledger) NewTxFromProposal(sp *peer.SignedProposal) (*Tx, error) {
	var prop peer.Proposal
	var hdr common.Header
	var chdr common.ChannelHeader
	var shdr common.SignatureHeader
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	if proto.Unmarshal(sp.GetProposalBytes(), &prop) != nil || proto.Unmarshal(prop.Header, &hdr) != nil || proto.Unmarshal(hdr.ChannelHeader, &chdr) != nil ||
		proto.Unmarshal(hdr.SignatureHeader, &shdr) != nil || proto.Unmarshal(prop.Payload, &cpp) != nil ||
		proto.Unmarshal(cpp.Input, &cis) != nil {
		return nil, errors.New("fakestub: undecodable proposal")
	}
	if chdr.ChannelId != l.channel {
		return nil, fmt.Errorf("fakestub: proposal for channel %q on %q", chdr.ChannelId, l.channel)
	}
	return &Tx{ledger: l, txID: chdr.TxId, timestamp: chdr.GetTimestamp().AsTime(), creator: shdr.Creator,
		args: cis.GetChaincodeSpec().GetInput().GetArgs(), writes: map[string][]byte{},
		reads: map[string]*kvrwset.Version{}, proposal: sp, transient: cpp.TransientMap}, nil
}

// Proposal builds the signed proposal fabric-gateway sends for a chaincode
// "caseledger" call (the signature is not checked by chaincode, so it is empty).
func Proposal(channel, txID string, creator []byte, ts time.Time, args [][]byte) *peer.SignedProposal {
	m := func(v proto.Message) []byte {
		b, err := proto.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("fakestub: %v", err))
		}
		return b
	}
	id := &peer.ChaincodeID{Name: "caseledger"}
	hdr := &common.Header{
		ChannelHeader: m(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), Timestamp: timestamppb.New(ts),
			ChannelId: channel, TxId: txID, Extension: m(&peer.ChaincodeHeaderExtension{ChaincodeId: id})}),
		SignatureHeader: m(&common.SignatureHeader{Creator: creator, Nonce: make([]byte, 24)}),
	}
	cis := &peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{ChaincodeId: id, Input: &peer.ChaincodeInput{Args: args}}}
	return &peer.SignedProposal{ProposalBytes: m(&peer.Proposal{Header: m(hdr), Payload: m(&peer.ChaincodeProposalPayload{Input: m(cis)})})}
}

// SetProposal replaces the transaction's signed proposal.
func (t *Tx) SetProposal(sp *peer.SignedProposal) { t.proposal = sp }

// Commit applies the transaction's writes and event to the ledger.
func (t *Tx) Commit() {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	l.commits++
	l.apply(t.txID, t.timestamp, t.rwWrites(), &kvrwset.Version{BlockNum: l.commits})
	l.applyPolicies(t.policies)
	if t.event != nil {
		l.events = append(l.events, *t.event)
	}
	l.applyPrivate(t.pvt)
}

// SetTransient sets the transaction's transient map (what a client sends beside the proposal).
func (t *Tx) SetTransient(m map[string][]byte) { t.transient = m }

// PrivateWrites returns the transaction's private writes per collection (nil value: purge).
func (t *Tx) PrivateWrites() map[string]map[string][]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]map[string][]byte{}
	for c, kv := range t.pvt {
		out[c] = map[string][]byte{}
		for k, v := range kv {
			out[c][k] = slices.Clone(v)
		}
	}
	return out
}

// CommitPrivate applies private writes of a transaction committed with CommitRWSet.
func (l *Ledger) CommitPrivate(w map[string]map[string][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.applyPrivate(w)
}

func (l *Ledger) applyPrivate(w map[string]map[string][]byte) {
	if l.private == nil {
		l.private, l.privateHashes = map[string]map[string][]byte{}, map[string]map[string][]byte{}
	}
	for c, kv := range w {
		if l.private[c] == nil {
			l.private[c], l.privateHashes[c] = map[string][]byte{}, map[string][]byte{}
		}
		for k, v := range kv {
			if v == nil {
				delete(l.private[c], k) // purged: the value and its hash leave the state
				delete(l.privateHashes[c], k)
				continue
			}
			l.private[c][k] = slices.Clone(v)
			h := sha256.Sum256(v)
			l.privateHashes[c][k] = h[:]
		}
	}
}

// PrivateData returns a committed private value (test inspection).
func (l *Ledger) PrivateData(collection, key string) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.private[collection][key]
	return slices.Clone(v), ok
}

// PrivateKeys lists the keys a collection holds values for, sorted.
func (l *Ledger) PrivateKeys(collection string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	for k := range l.private[collection] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// apply writes a transaction's writes at version ver (l.mu held).
func (l *Ledger) apply(txID string, ts time.Time, writes []*kvrwset.KVWrite, ver *kvrwset.Version) {
	for _, w := range writes {
		mod := &queryresult.KeyModification{TxId: txID, Timestamp: timestamppb.New(ts)}
		if w.IsDelete {
			delete(l.state, w.Key)
			delete(l.versions, w.Key)
			mod.IsDelete = true
		} else {
			l.state[w.Key] = slices.Clone(w.Value)
			l.versions[w.Key] = ver
			mod.Value = slices.Clone(w.Value)
		}
		l.history[w.Key] = append(l.history[w.Key], mod)
	}
}

// rwWrites lists the writes in key order, as Fabric's read-write set holds
// them (t.mu held).
func (t *Tx) rwWrites() []*kvrwset.KVWrite {
	keys := slices.Clone(t.order)
	sort.Strings(keys)
	out := make([]*kvrwset.KVWrite, 0, len(keys))
	for _, k := range keys {
		v := t.writes[k]
		out = append(out, &kvrwset.KVWrite{Key: k, IsDelete: v == nil, Value: slices.Clone(v)})
	}
	return out
}

// RWSet is the transaction's read-write set as the endorsing peer reports
// it: the versions read, the range queries with what they returned, the
// writes in key order.
func (t *Tx) RWSet() *kvrwset.KVRWSet {
	t.mu.Lock()
	defer t.mu.Unlock()
	rw := &kvrwset.KVRWSet{Writes: t.rwWrites()}
	keys := slices.Clone(t.rorder)
	sort.Strings(keys)
	for _, k := range keys {
		rw.Reads = append(rw.Reads, &kvrwset.KVRead{Key: k, Version: t.reads[k]})
	}
	rw.RangeQueriesInfo = slices.Clone(t.ranges)
	for _, k := range slices.Sorted(maps.Keys(t.policies)) {
		rw.MetadataWrites = append(rw.MetadataWrites, &kvrwset.KVMetadataWrite{Key: k,
			Entries: []*kvrwset.KVMetadataEntry{{Name: validationParameter, Value: slices.Clone(t.policies[k])}}})
	}
	return rw
}

// validationParameter names a key's endorsement policy among its metadata (as Fabric's ledger does).
const validationParameter = "VALIDATION_PARAMETER"

// CommitRWSet validates a transaction's read-write set against the committed
// state as a committing peer does and, when it is valid, applies its writes
// at version (block, txNum). A key read at another version than the
// committed one invalidates it (MVCC_READ_CONFLICT), so does a range query
// that would now return other keys or versions (PHANTOM_READ_CONFLICT).
func (l *Ledger) CommitRWSet(txID string, ts time.Time, rw *kvrwset.KVRWSet, block, txNum uint64) peer.TxValidationCode {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range rw.GetReads() {
		if !sameVersion(r.Version, l.versions[r.Key]) {
			return peer.TxValidationCode_MVCC_READ_CONFLICT
		}
	}
	for _, q := range rw.GetRangeQueriesInfo() {
		now := l.rangeReads(q.StartKey, q.EndKey)
		was := q.GetRawReads().GetKvReads()
		if len(now) != len(was) {
			return peer.TxValidationCode_PHANTOM_READ_CONFLICT
		}
		for i := range now {
			if now[i].Key != was[i].Key || !sameVersion(now[i].Version, was[i].Version) {
				return peer.TxValidationCode_PHANTOM_READ_CONFLICT
			}
		}
	}
	l.apply(txID, ts, rw.GetWrites(), &kvrwset.Version{BlockNum: block, TxNum: txNum})
	for _, mw := range rw.GetMetadataWrites() {
		for _, e := range mw.GetEntries() {
			if e.GetName() == validationParameter {
				l.applyPolicies(map[string][]byte{mw.GetKey(): e.GetValue()})
			}
		}
	}
	return peer.TxValidationCode_VALID
}

func sameVersion(a, b *kvrwset.Version) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.BlockNum == b.BlockNum && a.TxNum == b.TxNum
}

// rangeReads lists the committed keys in [start, end) with their versions
// (l.mu held).
func (l *Ledger) rangeReads(start, end string) []*kvrwset.KVRead {
	var keys []string
	for k := range l.state {
		if k >= start && (end == "" || k < end) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]*kvrwset.KVRead, 0, len(keys))
	for _, k := range keys {
		out = append(out, &kvrwset.KVRead{Key: k, Version: l.versions[k]})
	}
	return out
}

// Writes returns the keys written (or deleted) by the transaction, sorted.
func (t *Tx) Writes() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.order)
	sort.Strings(out)
	return out
}

// Event returns the event set by the transaction, if any.
func (t *Tx) Event() (Event, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.event == nil {
		return Event{}, false
	}
	return *t.event, true
}

var _ shim.ChaincodeStubInterface = (*Tx)(nil)

var errUnsupported = errors.New("fakestub: not supported")

// Arguments and transaction data.

func (t *Tx) GetArgs() [][]byte { return t.args }
func (t *Tx) GetStringArgs() []string {
	out := make([]string, len(t.args))
	for i, a := range t.args {
		out[i] = string(a)
	}
	return out
}
func (t *Tx) GetFunctionAndParameters() (string, []string) {
	a := t.GetStringArgs()
	if len(a) == 0 {
		return "", nil
	}
	return a[0], a[1:]
}
func (t *Tx) GetArgsSlice() ([]byte, error) {
	var out []byte
	for _, a := range t.args {
		out = append(out, a...)
	}
	return out, nil
}
func (t *Tx) GetTxID() string             { return t.txID }
func (t *Tx) GetChannelID() string        { return t.ledger.channel }
func (t *Tx) GetCreator() ([]byte, error) { return t.creator, nil }
func (t *Tx) GetTransient() (map[string][]byte, error) {
	out := map[string][]byte{}
	for k, v := range t.transient {
		out[k] = slices.Clone(v)
	}
	return out, nil
}
func (t *Tx) GetBinding() ([]byte, error)       { return nil, errUnsupported }
func (t *Tx) GetDecorations() map[string][]byte { return nil }
func (t *Tx) GetSignedProposal() (*peer.SignedProposal, error) {
	return t.proposal, nil
}
func (t *Tx) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	return timestamppb.New(t.timestamp), nil
}
func (t *Tx) InvokeChaincode(string, [][]byte, string) *peer.Response {
	return shim.Error("fakestub: InvokeChaincode not supported")
}

// State.

func (t *Tx) GetState(key string) ([]byte, error) {
	l := t.ledger
	l.mu.Lock()
	v, ok := l.state[key]
	ver := l.versions[key]
	l.mu.Unlock()
	t.mu.Lock()
	if _, seen := t.reads[key]; !seen {
		t.reads[key] = ver
		t.rorder = append(t.rorder, key)
	}
	t.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return slices.Clone(v), nil
}

func (t *Tx) put(key string, value []byte) error {
	if key == "" {
		return errors.New("fakestub: empty key")
	}
	if !utf8.ValidString(key) {
		return errors.New("fakestub: key is not valid UTF-8")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.paginated {
		return errors.New("fakestub: writes are not allowed after a paginated query")
	}
	if _, seen := t.writes[key]; !seen {
		t.order = append(t.order, key)
	}
	t.writes[key] = value
	return nil
}

func (t *Tx) PutState(key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	return t.put(key, slices.Clone(value))
}

func (t *Tx) DelState(key string) error { return t.put(key, nil) }

// SetStateValidationParameter sets a key's key-level endorsement policy; it takes effect at commit
// (the committer's check of it against later writes is not modelled).
func (t *Tx) SetStateValidationParameter(key string, ep []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.policies == nil {
		t.policies = map[string][]byte{}
	}
	t.policies[key] = slices.Clone(ep)
	return nil
}

// GetStateValidationParameter returns a key's committed key-level endorsement policy (nil: none).
func (t *Tx) GetStateValidationParameter(key string) ([]byte, error) {
	return t.ledger.ValidationParameter(key), nil
}

// ValidationParameter returns a committed key's key-level endorsement policy (nil: none).
func (l *Ledger) ValidationParameter(key string) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.policies[key])
}

// applyPolicies commits key-level endorsement policies (l.mu held).
func (l *Ledger) applyPolicies(p map[string][]byte) {
	for k, v := range p {
		if l.policies == nil {
			l.policies = map[string][]byte{}
		}
		l.policies[k] = slices.Clone(v)
	}
}

// Range and composite-key queries.

const (
	minRune = "\x00"
	maxRune = string(rune(0x10FFFF))
)

func (t *Tx) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	return shim.CreateCompositeKey(objectType, attributes)
}

func (t *Tx) SplitCompositeKey(key string) (string, []string, error) {
	if !strings.HasPrefix(key, minRune) {
		return "", nil, errors.New("fakestub: not a composite key")
	}
	parts := strings.Split(key[1:], minRune)
	if len(parts) < 2 || parts[len(parts)-1] != "" {
		return "", nil, errors.New("fakestub: malformed composite key")
	}
	return parts[0], parts[1 : len(parts)-1], nil
}

// scan returns committed keys in [start, end) in lexical order.
func (t *Tx) scan(start, end string) []string {
	l := t.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	for k := range l.state {
		if k >= start && (end == "" || k < end) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func (t *Tx) iter(keys []string) *Iterator {
	l := t.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	kvs := make([]*queryresult.KV, 0, len(keys))
	for _, k := range keys {
		kvs = append(kvs, &queryresult.KV{Namespace: "caseledger", Key: k, Value: slices.Clone(l.state[k])})
	}
	return &Iterator{kvs: kvs}
}

func checkSimpleKeys(keys ...string) error {
	for _, k := range keys {
		if strings.HasPrefix(k, minRune) {
			return errors.New("fakestub: range queries take simple keys only")
		}
	}
	return nil
}

func (t *Tx) GetStateByRange(startKey, endKey string) (shim.StateQueryIteratorInterface, error) {
	if err := checkSimpleKeys(startKey, endKey); err != nil {
		return nil, err
	}
	return t.rangeIter(startKey, endKey), nil
}

// rangeIter runs an unpaginated range query and records it for validation.
func (t *Tx) rangeIter(start, end string) *Iterator {
	l := t.ledger
	l.mu.Lock()
	reads := l.rangeReads(start, end)
	l.mu.Unlock()
	keys := make([]string, len(reads))
	for i, r := range reads {
		keys[i] = r.Key
	}
	t.mu.Lock()
	t.ranges = append(t.ranges, &kvrwset.RangeQueryInfo{StartKey: start, EndKey: end, ItrExhausted: true,
		ReadsInfo: &kvrwset.RangeQueryInfo_RawReads{RawReads: &kvrwset.QueryReads{KvReads: reads}}})
	t.mu.Unlock()
	return t.iter(keys)
}

func (t *Tx) paginate(start, end string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if pageSize <= 0 {
		return nil, nil, errors.New("fakestub: pageSize must be positive")
	}
	t.mu.Lock()
	if len(t.order) > 0 {
		t.mu.Unlock()
		return nil, nil, errors.New("fakestub: paginated queries are not allowed in a transaction that writes")
	}
	t.paginated = true
	t.mu.Unlock()
	if bookmark != "" {
		if bookmark < start || (end != "" && bookmark >= end) {
			return nil, nil, errors.New("fakestub: bookmark outside the queried range")
		}
		start = bookmark
	}
	keys := t.scan(start, end)
	next := ""
	if len(keys) > int(pageSize) {
		next = keys[pageSize]
		keys = keys[:pageSize]
	}
	return t.iter(keys), &peer.QueryResponseMetadata{FetchedRecordsCount: int32(len(keys)), Bookmark: next}, nil
}

func (t *Tx) GetStateByRangeWithPagination(startKey, endKey string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	if err := checkSimpleKeys(startKey, endKey); err != nil {
		return nil, nil, err
	}
	return t.paginate(startKey, endKey, pageSize, bookmark)
}

func (t *Tx) GetStateByPartialCompositeKey(objectType string, keys []string) (shim.StateQueryIteratorInterface, error) {
	prefix, err := shim.CreateCompositeKey(objectType, keys)
	if err != nil {
		return nil, err
	}
	return t.rangeIter(prefix, prefix+maxRune), nil
}

func (t *Tx) GetStateByPartialCompositeKeyWithPagination(objectType string, keys []string, pageSize int32, bookmark string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	prefix, err := shim.CreateCompositeKey(objectType, keys)
	if err != nil {
		return nil, nil, err
	}
	return t.paginate(prefix, prefix+maxRune, pageSize, bookmark)
}

func (t *Tx) GetQueryResult(string) (shim.StateQueryIteratorInterface, error) {
	return nil, errors.New("fakestub: rich queries need CouchDB; LevelDB is used")
}

func (t *Tx) GetQueryResultWithPagination(string, int32, string) (shim.StateQueryIteratorInterface, *peer.QueryResponseMetadata, error) {
	return nil, nil, errors.New("fakestub: rich queries need CouchDB; LevelDB is used")
}

func (t *Tx) GetHistoryForKey(key string) (shim.HistoryQueryIteratorInterface, error) {
	l := t.ledger
	l.mu.Lock()
	defer l.mu.Unlock()
	h := slices.Clone(l.history[key])
	slices.Reverse(h) // newest first, as Fabric v2 returns it
	return &HistoryIterator{mods: h}, nil
}

// Private data is not used by this chaincode.

// Private data: one store for the channel (which peer holds what is the real network's to show);
// reads see committed values only, writes and purges apply at commit.
func (t *Tx) GetPrivateData(collection, key string) ([]byte, error) {
	v, _ := t.ledger.PrivateData(collection, key)
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

func (t *Tx) GetPrivateDataHash(collection, key string) ([]byte, error) {
	t.ledger.mu.Lock()
	defer t.ledger.mu.Unlock()
	return slices.Clone(t.ledger.privateHashes[collection][key]), nil
}

func (t *Tx) PutPrivateData(collection, key string, value []byte) error {
	if collection == "" || key == "" || len(value) == 0 {
		return errors.New("fakestub: collection, key and a non-empty value required")
	}
	t.pvtPut(collection, key, slices.Clone(value))
	return nil
}

func (t *Tx) DelPrivateData(collection, key string) error { t.pvtPut(collection, key, nil); return nil }

func (t *Tx) PurgePrivateData(collection, key string) error {
	t.pvtPut(collection, key, nil)
	return nil
}

func (t *Tx) pvtPut(collection, key string, v []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pvt == nil {
		t.pvt = map[string]map[string][]byte{}
	}
	if t.pvt[collection] == nil {
		t.pvt[collection] = map[string][]byte{}
	}
	t.pvt[collection][key] = v
}
func (t *Tx) SetPrivateDataValidationParameter(string, string, []byte) error {
	return errUnsupported
}
func (t *Tx) GetPrivateDataValidationParameter(string, string) ([]byte, error) {
	return nil, errUnsupported
}
func (t *Tx) GetPrivateDataByRange(string, string, string) (shim.StateQueryIteratorInterface, error) {
	return nil, errUnsupported
}
func (t *Tx) GetPrivateDataByPartialCompositeKey(string, string, []string) (shim.StateQueryIteratorInterface, error) {
	return nil, errUnsupported
}
func (t *Tx) GetPrivateDataQueryResult(string, string) (shim.StateQueryIteratorInterface, error) {
	return nil, errUnsupported
}

// SetEvent records the transaction's event; a later call replaces it.
func (t *Tx) SetEvent(name string, payload []byte) error {
	if name == "" {
		return errors.New("fakestub: event name must not be empty")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.event = &Event{TxID: t.txID, Name: name, Payload: slices.Clone(payload)}
	return nil
}

// Iterator iterates over a fixed result set.
type Iterator struct {
	kvs    []*queryresult.KV
	i      int
	closed bool
}

func (it *Iterator) HasNext() bool { return !it.closed && it.i < len(it.kvs) }
func (it *Iterator) Close() error  { it.closed = true; return nil }
func (it *Iterator) Next() (*queryresult.KV, error) {
	if !it.HasNext() {
		return nil, errors.New("fakestub: iterator exhausted")
	}
	kv := it.kvs[it.i]
	it.i++
	return kv, nil
}

// HistoryIterator iterates over a key's modifications.
type HistoryIterator struct {
	mods   []*queryresult.KeyModification
	i      int
	closed bool
}

func (it *HistoryIterator) HasNext() bool { return !it.closed && it.i < len(it.mods) }
func (it *HistoryIterator) Close() error  { it.closed = true; return nil }
func (it *HistoryIterator) Next() (*queryresult.KeyModification, error) {
	if !it.HasNext() {
		return nil, errors.New("fakestub: iterator exhausted")
	}
	m := it.mods[it.i]
	it.i++
	return m, nil
}
