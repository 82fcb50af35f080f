package privacy

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"
)

// All writes go through one goroutine that commits them in batches (group
// commit: one set of fsyncs for many operations). Each operation is planned
// against the committed state; one that touches a key another operation of
// the batch touched waits for the next batch, so a batch never holds two
// plans of the same case and the outcome is that of a serial execution.
//
// Commit order, chosen so that a crash at any point loses nothing
// acknowledged and leaves nothing readable that was shredded:
//
//  1. write the wrapped data keys of new records into free slots; fsync
//  2. one Badger transaction: put new records, delete replaced ones (synced)
//  3. swap the index, zero the replaced records' slots (under the write lock)
//  4. append tombstones; fsync slots and tombstones; acknowledge
//
// A crash after 1 leaves orphan slots; after 2, replaced slots not yet
// zeroed. Open finds both (a slot without a record) and shreds them.

type opKind uint8

const (
	opPseudonymize opKind = iota + 1
	opBind
	opLink
	opLinkNew
	opRectify
	opErasePseud
	opEraseRef
	opEraseEntry
)

type writeOp struct {
	kind       opKind
	d1, d2     uint8
	ref, ref2  string
	p1, p2     uuid.UUID
	special    func(ctx context.Context) error // exclusive maintenance work
	resultChan chan opResult
}

type opResult struct {
	pseud   uuid.UUID
	created bool
	erasure Erasure
	err     error
}

type plan struct {
	op       *writeOp
	drop     []*caseMeta
	dropRecs []*caseRecord
	put      *caseRecord
	erase    bool
	result   opResult
	refsT    []refKey
	pseudsT  []pseudKey
	// filled at commit
	newMeta *caseMeta
}

func (p *plan) touchRef(k refKey)     { p.refsT = append(p.refsT, k) }
func (p *plan) touchPseud(k pseudKey) { p.pseudsT = append(p.pseudsT, k) }

// touchRecord marks every key of rec as touched.
func (s *Store) touchRecord(p *plan, rec *caseRecord) {
	for _, e := range rec.entries {
		d := s.domains[e.domain]
		p.touchPseud(pseudKey{d, e.pseud})
		for _, r := range e.refs {
			p.touchRef(s.refKey(d, r))
		}
	}
}

// submit hands an operation to the writer and waits for its outcome.
func (s *Store) submit(ctx context.Context, op *writeOp) opResult {
	if err := s.Ready(); err != nil {
		return opResult{err: err}
	}
	op.resultChan = make(chan opResult, 1)
	select {
	case s.ops <- op:
	case <-s.quit:
		return opResult{err: ErrUnavailable}
	case <-ctx.Done():
		return opResult{err: ctx.Err()}
	}
	select {
	case r := <-op.resultChan:
		return r
	case <-ctx.Done():
		// The operation may still be committed, like any remote call whose
		// answer was lost; retrying it is safe (all operations are idempotent
		// or detect their own completion).
		return opResult{err: ctx.Err()}
	}
}

func (s *Store) run(ctx context.Context) {
	defer close(s.done)
	for {
		var first *writeOp
		if s.deferred != nil {
			first, s.deferred = s.deferred, nil
		} else {
			select {
			case first = <-s.ops:
			case <-s.quit:
				s.drain()
				return
			}
		}
		if first.special != nil {
			first.resultChan <- opResult{err: first.special(ctx)}
			continue
		}
		var batch []*plan
		refsT := map[refKey]struct{}{}
		pseudsT := map[pseudKey]struct{}{}
		add := func(op *writeOp) bool {
			p := s.plan(ctx, op)
			for _, k := range p.refsT {
				if _, hit := refsT[k]; hit {
					return false
				}
			}
			for _, k := range p.pseudsT {
				if _, hit := pseudsT[k]; hit {
					return false
				}
			}
			if p.result.err != nil || (p.put == nil && len(p.drop) == 0) {
				op.resultChan <- p.result // nothing to write
				return true
			}
			for _, k := range p.refsT {
				refsT[k] = struct{}{}
			}
			for _, k := range p.pseudsT {
				pseudsT[k] = struct{}{}
			}
			batch = append(batch, p)
			return true
		}
		add(first)
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case op := <-s.ops:
				if op.special != nil || !add(op) {
					s.deferred = op
					break fill
				}
			default:
				break fill
			}
		}
		if len(batch) > 0 {
			s.commit(ctx, batch)
		}
	}
}

func (s *Store) drain() {
	if s.deferred != nil {
		s.deferred.resultChan <- opResult{err: ErrUnavailable}
	}
	for {
		select {
		case op := <-s.ops:
			op.resultChan <- opResult{err: ErrUnavailable}
		default:
			return
		}
	}
}

func (s *Store) newPseudonym(d uint8) uuid.UUID {
	for {
		id := uuid.New() // random (v4), never derived from the reference
		if _, taken := s.pseuds[pseudKey{d, id}]; !taken {
			return id
		}
	}
}

func (s *Store) newEntry(domain string, id uuid.UUID, refs []string, now int64) entryRec {
	e := entryRec{domain: domain, pseud: id, refs: refs, created: now}
	if _, err := rand.Read(e.anchorKey[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the runtime cannot continue safely
	}
	return e
}

func addHistory(rec *caseRecord, at int64, a historyAction, domain string) error {
	if len(rec.history) >= maxHistory {
		return fmt.Errorf("%w: the case history is full", ErrConflict)
	}
	rec.history = append(rec.history, historyRec{at: at, action: a, domain: domain})
	return nil
}

// planner decides one operation against the committed state: what it
// touches (the batch admits no two plans of one key), what it drops and puts.
type planner struct {
	s   *Store
	ctx context.Context
	p   *plan
	now int64 // the operation's time, Unix nanoseconds
}

// load reads a committed record and marks its keys as touched.
func (pl *planner) load(m *caseMeta) (*caseRecord, error) {
	rec, err := pl.s.loadRecord(pl.ctx, m)
	if err != nil {
		return nil, err
	}
	pl.s.touchRecord(pl.p, rec)
	return rec, nil
}

func (pl *planner) domain(d uint8) string { return pl.s.names[d] }

// plan decides an operation against the committed state, one method per
// kind of operation. Only the writer calls it, so it may read the index
// without the lock. A refused operation's plan carries the error.
func (s *Store) plan(ctx context.Context, op *writeOp) *plan {
	pl := &planner{s: s, ctx: ctx, p: &plan{op: op}, now: s.now().UnixNano()}
	var err error
	switch op.kind {
	case opPseudonymize:
		err = pl.pseudonymize(op)
	case opBind:
		err = pl.bind(op)
	case opLink, opLinkNew:
		err = pl.link(op)
	case opRectify:
		err = pl.rectify(op)
	case opErasePseud, opEraseRef:
		err = pl.erase(op)
	case opEraseEntry:
		err = pl.eraseEntry(op)
	default:
		err = fmt.Errorf("%w: unknown operation", ErrInvalidInput)
	}
	if err != nil {
		pl.p.result.err = err
	}
	return pl.p
}

// pseudonymize: a local reference's pseudonym in a domain, created on first use.
func (pl *planner) pseudonymize(op *writeOp) error {
	s, p := pl.s, pl.p
	k := s.refKey(op.d1, op.ref)
	p.touchRef(k)
	if m := s.refs[k]; m != nil {
		p.result.pseud, _ = m.pseudIn(op.d1)
		return nil
	}
	id := s.newPseudonym(op.d1)
	p.touchPseud(pseudKey{op.d1, id})
	rec := &caseRecord{created: pl.now, entries: []entryRec{s.newEntry(pl.domain(op.d1), id, []string{op.ref}, pl.now)}}
	_ = addHistory(rec, pl.now, actCreated, pl.domain(op.d1))
	p.put = rec
	p.result = opResult{pseud: id, created: true}
	return nil
}

// bind: attach a local reference to a given pseudonym (a case another agency
// registered).
func (pl *planner) bind(op *writeOp) error {
	s, p := pl.s, pl.p
	k, pk := s.refKey(op.d1, op.ref), pseudKey{op.d1, op.p1}
	p.touchRef(k)
	p.touchPseud(pk)
	mr, mp := s.refs[k], s.pseuds[pk]
	switch {
	case mr != nil && mr == mp:
		p.result.pseud = op.p1
	case mr != nil:
		return fmt.Errorf("%w: the local reference is bound to another pseudonym in domain %s", ErrConflict, pl.domain(op.d1))
	case mp == nil:
		rec := &caseRecord{created: pl.now, entries: []entryRec{s.newEntry(pl.domain(op.d1), op.p1, []string{op.ref}, pl.now)}}
		_ = addHistory(rec, pl.now, actCreated, pl.domain(op.d1))
		p.put = rec
		p.result = opResult{pseud: op.p1, created: true}
	default:
		old, err := pl.load(mp)
		if err != nil {
			return err
		}
		rec := old.clone()
		e := rec.entry(pl.domain(op.d1))
		if len(e.refs) >= MaxRefsPerEntry {
			return fmt.Errorf("%w: a pseudonym holds at most %d local references", ErrConflict, MaxRefsPerEntry)
		}
		e.refs = append(e.refs, op.ref)
		if err := addHistory(rec, pl.now, actBound, pl.domain(op.d1)); err != nil {
			return err
		}
		p.drop, p.dropRecs, p.put = []*caseMeta{mp}, []*caseRecord{old}, rec
		p.result = opResult{pseud: op.p1, created: true}
	}
	return nil
}

// link: link a case to its pseudonym in another domain (given, or fresh with
// opLinkNew), merging the two records if the target pseudonym has one.
func (pl *planner) link(op *writeOp) error {
	s, p := pl.s, pl.p
	if op.d1 == op.d2 {
		return fmt.Errorf("%w: cannot link a domain to itself", ErrInvalidInput)
	}
	pk1 := pseudKey{op.d1, op.p1}
	p.touchPseud(pk1)
	m1 := s.pseuds[pk1]
	if m1 == nil {
		return fmt.Errorf("%w: unknown pseudonym in domain %s", ErrNotFound, pl.domain(op.d1))
	}
	rec1, err := pl.load(m1)
	if err != nil {
		return err
	}
	to := pl.domain(op.d2)
	if e2 := rec1.entry(to); e2 != nil {
		if op.kind == opLinkNew || e2.pseud == op.p2 {
			p.result.pseud = e2.pseud
			return nil
		}
		return fmt.Errorf("%w: the case is already linked to another pseudonym in domain %s", ErrConflict, to)
	}
	target := op.p2
	if op.kind == opLinkNew {
		target = s.newPseudonym(op.d2)
	}
	pk2 := pseudKey{op.d2, target}
	p.touchPseud(pk2)
	rec := rec1.clone()
	p.drop, p.dropRecs = []*caseMeta{m1}, []*caseRecord{rec1}
	if m2 := s.pseuds[pk2]; m2 != nil {
		rec2, err := pl.load(m2)
		if err != nil {
			return err
		}
		for _, e := range rec2.entries {
			if rec.entry(e.domain) != nil {
				return fmt.Errorf("%w: both cases have an entry in domain %s", ErrConflict, e.domain)
			}
		}
		rec2c := rec2.clone()
		rec.entries = append(rec.entries, rec2c.entries...)
		rec.history = append(rec.history, rec2c.history...)
		slices.SortStableFunc(rec.history, func(a, b historyRec) int { return cmp.Compare(a.at, b.at) })
		rec.created = min(rec.created, rec2.created)
		p.drop, p.dropRecs = append(p.drop, m2), append(p.dropRecs, rec2)
	} else {
		rec.entries = append(rec.entries, s.newEntry(to, target, nil, pl.now))
	}
	if err := addHistory(rec, pl.now, actLinked, to); err != nil {
		return err
	}
	p.put = rec
	p.result = opResult{pseud: target, created: true}
	return nil
}

// rectify: replace one local reference of a case by another.
func (pl *planner) rectify(op *writeOp) error {
	s, p := pl.s, pl.p
	if op.ref == op.ref2 {
		return fmt.Errorf("%w: the new local reference equals the old one", ErrInvalidInput)
	}
	pk := pseudKey{op.d1, op.p1}
	kOld, kNew := s.refKey(op.d1, op.ref), s.refKey(op.d1, op.ref2)
	p.touchPseud(pk)
	p.touchRef(kOld)
	p.touchRef(kNew)
	m := s.pseuds[pk]
	if m == nil {
		return fmt.Errorf("%w: unknown pseudonym in domain %s", ErrNotFound, pl.domain(op.d1))
	}
	if s.refs[kOld] != m {
		return fmt.Errorf("%w: the old local reference is not bound to this pseudonym", ErrNotFound)
	}
	if s.refs[kNew] != nil {
		return fmt.Errorf("%w: the new local reference is already bound in domain %s", ErrConflict, pl.domain(op.d1))
	}
	old, err := pl.load(m)
	if err != nil {
		return err
	}
	rec := old.clone()
	e := rec.entry(pl.domain(op.d1))
	i := slices.Index(e.refs, op.ref)
	if i < 0 {
		return fmt.Errorf("%w: index and record disagree", ErrCorrupt)
	}
	e.refs[i] = op.ref2
	if err := addHistory(rec, pl.now, actRectified, pl.domain(op.d1)); err != nil {
		return err
	}
	p.drop, p.dropRecs, p.put = []*caseMeta{m}, []*caseRecord{old}, rec
	p.result.pseud = op.p1
	return nil
}

// erase: erase a whole case, found by pseudonym or by local reference.
func (pl *planner) erase(op *writeOp) error {
	s, p := pl.s, pl.p
	var m *caseMeta
	if op.kind == opEraseRef {
		k := s.refKey(op.d1, op.ref)
		p.touchRef(k)
		m = s.refs[k]
	} else {
		pk := pseudKey{op.d1, op.p1}
		p.touchPseud(pk)
		m = s.pseuds[pk]
	}
	if m == nil {
		return fmt.Errorf("%w: nothing held for this case in domain %s", ErrNotFound, pl.domain(op.d1))
	}
	old, err := pl.load(m)
	if err != nil {
		return err
	}
	p.drop, p.dropRecs, p.erase = []*caseMeta{m}, []*caseRecord{old}, true
	er := Erasure{ErasedAt: time.Unix(0, pl.now).UTC()}
	for _, e := range old.entries {
		er.Pseudonyms = append(er.Pseudonyms, DomainPseudonym{Domain: e.domain, Pseudonym: e.pseud.String()})
	}
	p.result.erasure = er
	return nil
}

// eraseEntry: erase one domain's entry of a case only (an erasure requested
// on that domain's channel): its references and anchor key go, the other
// domains' entries stay, re-sealed under a fresh data key so the old record
// (which still names the erased entry) is shredded. The last entry takes the
// whole case with it.
func (pl *planner) eraseEntry(op *writeOp) error {
	s, p := pl.s, pl.p
	pk := pseudKey{op.d1, op.p1}
	p.touchPseud(pk)
	m := s.pseuds[pk]
	if m == nil {
		return fmt.Errorf("%w: nothing held for this case in domain %s", ErrNotFound, pl.domain(op.d1))
	}
	old, err := pl.load(m)
	if err != nil {
		return err
	}
	p.drop, p.dropRecs, p.erase = []*caseMeta{m}, []*caseRecord{old}, true
	p.result.erasure = Erasure{ErasedAt: time.Unix(0, pl.now).UTC(),
		Pseudonyms: []DomainPseudonym{{Domain: pl.domain(op.d1), Pseudonym: op.p1.String()}}}
	if len(old.entries) > 1 {
		rec := old.clone()
		rec.entries = slices.DeleteFunc(rec.entries, func(e entryRec) bool { return e.domain == pl.domain(op.d1) })
		if err := addHistory(rec, pl.now, actEntryErased, pl.domain(op.d1)); err != nil {
			return err
		}
		p.put = rec
	}
	return nil
}

func (s *Store) allocSlot() uint32 {
	if n := len(s.free); n > 0 {
		slot := s.free[n-1]
		s.free = s.free[:n-1]
		return slot
	}
	return s.slots.n
}

// sealNew gives rec a fresh record id and data key, writes the wrapped key
// into a free slot (not yet synced) and returns the sealed value.
func (s *Store) sealNew(ctx context.Context, rec *caseRecord) (*caseMeta, []byte, error) {
	var id recordID
	dek := make([]byte, dekLen)
	defer clear(dek)
	if _, err := rand.Read(id[:]); err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	if _, err := rand.Read(dek); err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	ver, wrapped, err := s.kek.Wrap(ctx, dek, dekAAD(id))
	if err != nil {
		return nil, nil, fmt.Errorf("seal: %w", err)
	}
	if len(wrapped) != wrappedDEKLen {
		return nil, nil, fmt.Errorf("seal: wrapped key is %d bytes, want %d", len(wrapped), wrappedDEKLen)
	}
	sealed, err := sealRecord(dek, id, rec)
	if err != nil {
		return nil, nil, err
	}
	e := slotEntry{version: ver, id: id}
	copy(e.wrapped[:], wrapped)
	slot := s.allocSlot()
	if err := s.slots.write(slot, &e); err != nil {
		s.free = append(s.free, slot)
		return nil, nil, err
	}
	return &caseMeta{id: id, slot: slot}, sealed, nil
}

func (s *Store) commit(ctx context.Context, batch []*plan) {
	start := time.Now()
	respondAll := func(err error) {
		for _, p := range batch {
			if err != nil {
				p.op.resultChan <- opResult{err: err}
			} else {
				p.op.resultChan <- p.result
			}
		}
	}
	// 1. new data keys into free slots.
	var fresh []*caseMeta
	sealed := make([][]byte, len(batch))
	undo := func() {
		for _, m := range fresh {
			_ = s.slots.zero(m.slot)
			s.free = append(s.free, m.slot)
		}
	}
	for i, p := range batch {
		if p.put == nil {
			continue
		}
		m, v, err := s.sealNew(ctx, p.put)
		if err != nil {
			undo()
			respondAll(err)
			return
		}
		p.newMeta, sealed[i] = m, v
		fresh = append(fresh, m)
	}
	if len(fresh) > 0 {
		if err := s.slots.sync(); err != nil {
			undo()
			respondAll(err)
			return
		}
	}
	// 2. one synced Badger transaction.
	err := s.db.Update(func(txn *badger.Txn) error {
		for i, p := range batch {
			if p.newMeta != nil {
				if err := txn.Set(recKey(p.newMeta.id), sealed[i]); err != nil {
					return err
				}
			}
			for _, m := range p.drop {
				if err := txn.Delete(recKey(m.id)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		undo()
		respondAll(fmt.Errorf("commit: %w", err))
		return
	}
	// 3. swap the index and shred replaced keys.
	now := s.now().UnixNano()
	var tombs []tombstone
	var shredErr error
	s.mu.Lock()
	for _, p := range batch {
		for i, m := range p.drop {
			s.unindexRecord(m, p.dropRecs[i])
			if err := s.slots.zero(m.slot); err != nil {
				shredErr = errors.Join(shredErr, err)
			}
			reason := tombSuperseded
			if p.erase {
				reason = tombErased
			}
			tombs = append(tombs, tombstone{id: m.id, at: now, reason: reason})
		}
		if p.newMeta != nil {
			if err := s.indexRecord(p.newMeta, p.put); err != nil {
				shredErr = errors.Join(shredErr, err)
			}
		}
	}
	s.mu.Unlock()
	// 4. make the shredding durable before anyone hears of it.
	shredErr = errors.Join(shredErr, s.tombs.append(tombs))
	if len(tombs) > 0 {
		shredErr = errors.Join(shredErr, s.slots.sync(), s.tombs.sync())
	}
	if shredErr != nil {
		// Committed but not provably shredded: stop taking writes; Open
		// finishes the shredding on restart.
		s.broken.Store(&shredErr)
		s.log.Error("shredding failed; store needs a restart", "err", shredErr)
		respondAll(fmt.Errorf("%w: %w", ErrUnavailable, shredErr))
		return
	}
	for _, p := range batch {
		for _, m := range p.drop {
			s.free = append(s.free, m.slot)
		}
	}
	s.m.observeCommit(batch, time.Since(start))
	respondAll(nil)
}

// ---- write API ----

func (s *Store) pseudArgs(domain, pseudonym string) (uint8, uuid.UUID, error) {
	d, err := s.domain(domain)
	if err != nil {
		return 0, uuid.Nil, err
	}
	id, err := ParsePseudonym(pseudonym)
	return d, id, err
}

func (s *Store) refArgs(domain, ref string) (uint8, error) {
	d, err := s.domain(domain)
	if err != nil {
		return 0, err
	}
	return d, ValidateLocalRef(ref)
}

// Pseudonymize implements Vault.
func (s *Store) Pseudonymize(ctx context.Context, domain, localRef string) (string, bool, error) {
	// Fast path: an existing mapping needs no write.
	if p, err := s.resolveRef(domain, localRef); err == nil {
		return p.String(), false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return "", false, err
	}
	d, _ := s.domain(domain)
	r := s.submit(ctx, &writeOp{kind: opPseudonymize, d1: d, ref: localRef})
	if r.err != nil {
		return "", false, r.err
	}
	return r.pseud.String(), r.created, nil
}

// Bind implements Vault.
func (s *Store) Bind(ctx context.Context, domain, pseudonym, localRef string) (bool, error) {
	d, id, err := s.pseudArgs(domain, pseudonym)
	if err != nil {
		return false, err
	}
	if err := ValidateLocalRef(localRef); err != nil {
		return false, err
	}
	r := s.submit(ctx, &writeOp{kind: opBind, d1: d, p1: id, ref: localRef})
	return r.created, r.err
}

// Link implements Vault.
func (s *Store) Link(ctx context.Context, fromDomain, fromPseudonym, toDomain, toPseudonym string) error {
	d1, p1, err := s.pseudArgs(fromDomain, fromPseudonym)
	if err != nil {
		return err
	}
	d2, p2, err := s.pseudArgs(toDomain, toPseudonym)
	if err != nil {
		return err
	}
	return s.submit(ctx, &writeOp{kind: opLink, d1: d1, p1: p1, d2: d2, p2: p2}).err
}

// LinkNew implements Vault.
func (s *Store) LinkNew(ctx context.Context, fromDomain, fromPseudonym, toDomain string) (string, bool, error) {
	d1, p1, err := s.pseudArgs(fromDomain, fromPseudonym)
	if err != nil {
		return "", false, err
	}
	d2, err := s.domain(toDomain)
	if err != nil {
		return "", false, err
	}
	r := s.submit(ctx, &writeOp{kind: opLinkNew, d1: d1, p1: p1, d2: d2})
	if r.err != nil {
		return "", false, r.err
	}
	return r.pseud.String(), r.created, nil
}

// Rectify implements Vault.
func (s *Store) Rectify(ctx context.Context, domain, pseudonym, oldRef, newRef string) error {
	d, id, err := s.pseudArgs(domain, pseudonym)
	if err != nil {
		return err
	}
	if err := errors.Join(ValidateLocalRef(oldRef), ValidateLocalRef(newRef)); err != nil {
		return err
	}
	return s.submit(ctx, &writeOp{kind: opRectify, d1: d, p1: id, ref: oldRef, ref2: newRef}).err
}

// ErasePseudonym implements Vault.
func (s *Store) ErasePseudonym(ctx context.Context, domain, pseudonym string) (Erasure, error) {
	d, id, err := s.pseudArgs(domain, pseudonym)
	if err != nil {
		return Erasure{}, err
	}
	r := s.submit(ctx, &writeOp{kind: opErasePseud, d1: d, p1: id})
	return r.erasure, r.err
}

// EraseRef implements Vault.
func (s *Store) EraseRef(ctx context.Context, domain, localRef string) (Erasure, error) {
	d, err := s.refArgs(domain, localRef)
	if err != nil {
		return Erasure{}, err
	}
	r := s.submit(ctx, &writeOp{kind: opEraseRef, d1: d, ref: localRef})
	return r.erasure, r.err
}

// EraseEntry implements Vault.
func (s *Store) EraseEntry(ctx context.Context, domain, pseudonym string) (Erasure, error) {
	d, id, err := s.pseudArgs(domain, pseudonym)
	if err != nil {
		return Erasure{}, err
	}
	r := s.submit(ctx, &writeOp{kind: opEraseEntry, d1: d, p1: id})
	return r.erasure, r.err
}

// exclusive runs fn in the writer with no batch in flight.
func (s *Store) exclusive(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.submit(ctx, &writeOp{special: fn}).err
}

var _ Vault = (*Store)(nil)
