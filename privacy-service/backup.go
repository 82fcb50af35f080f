package privacy

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"

	badger "github.com/dgraph-io/badger/v4"
)

// Backup format: magic, then frames type(1) uvarint(len) payload, then an
// end frame holding the SHA-256 of everything before it.
//
//	'R' record:    id(16) kek-version(4) wrapped-DEK(60) sealed-record
//	'T' tombstone: the 32-byte tombstone entry
//	'E' end:       sha256(32)
//
// A backup holds no plaintext: records are sealed under their DEKs, DEKs are
// wrapped under the KEK. Retiring a KEK version after rotation makes every
// backup wrapped under it unreadable.
const backupMagic = "CLPVBAK1"

const (
	frameRecord    = 'R'
	frameTombstone = 'T'
	frameEnd       = 'E'
	maxFrameLen    = 1 << 20
)

// BackupStats reports what a backup wrote.
type BackupStats struct {
	Records    int `json:"records"`
	Tombstones int `json:"tombstones"`
}

type frameWriter struct {
	w   *bufio.Writer
	h   hash.Hash
	err error
}

func (f *frameWriter) frame(t byte, payload ...[]byte) {
	if f.err != nil {
		return
	}
	n := 0
	for _, p := range payload {
		n += len(p)
	}
	hdr := binary.AppendUvarint([]byte{t}, uint64(n))
	if t != frameEnd {
		f.h.Write(hdr)
	}
	_, f.err = f.w.Write(hdr)
	for _, p := range payload {
		if f.err == nil {
			if t != frameEnd {
				f.h.Write(p)
			}
			_, f.err = f.w.Write(p)
		}
	}
}

// Backup writes a consistent backup of the running store to w. Writes pause
// only while the snapshot is taken (a Badger read transaction and a copy of
// the key slots), not while it is streamed.
func (s *Store) Backup(ctx context.Context, w io.Writer) (BackupStats, error) {
	var txn *badger.Txn
	var slotsCopy []byte
	var tombs map[recordID]tombstone
	err := s.exclusive(ctx, func(context.Context) error {
		var err error
		if slotsCopy, err = s.slots.snapshot(); err != nil {
			return err
		}
		if tombs, err = s.tombs.readAll(); err != nil {
			return err
		}
		txn = s.db.NewTransaction(false)
		return nil
	})
	if err != nil {
		return BackupStats{}, err
	}
	defer txn.Discard()
	keys := make(map[recordID]slotEntry)
	for off := 0; off+slotSize <= len(slotsCopy); off += slotSize {
		if e, ok := decodeSlot(slotsCopy[off:]); ok {
			keys[e.id] = e
		}
	}
	clear(slotsCopy)

	fw := &frameWriter{w: bufio.NewWriterSize(w, 256<<10), h: sha256.New()}
	fw.h.Write([]byte(backupMagic))
	if _, err := fw.w.WriteString(backupMagic); err != nil {
		return BackupStats{}, fmt.Errorf("backup: %w", err)
	}
	var st BackupStats
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 256, Prefix: []byte{recPrefix}})
	defer it.Close()
	var buf []byte
	for it.Rewind(); it.Valid() && fw.err == nil; it.Next() {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		k := it.Item().Key()
		var id recordID
		if len(k) != 1+len(id) {
			continue
		}
		copy(id[:], k[1:])
		e, ok := keys[id]
		if !ok {
			continue // no key: unreadable anyway
		}
		if buf, err = it.Item().ValueCopy(buf[:0]); err != nil {
			return st, fmt.Errorf("backup: %w", err)
		}
		var ver [4]byte
		binary.BigEndian.PutUint32(ver[:], e.version)
		fw.frame(frameRecord, id[:], ver[:], e.wrapped[:], buf)
		st.Records++
	}
	var tb [tombstoneSize]byte
	for _, t := range tombs {
		t.encode(tb[:])
		fw.frame(frameTombstone, tb[:])
		st.Tombstones++
	}
	fw.frame(frameEnd, fw.h.Sum(nil))
	if fw.err == nil {
		fw.err = fw.w.Flush()
	}
	if fw.err != nil {
		return st, fmt.Errorf("backup: %w", fw.err)
	}
	return st, nil
}

type backupRecord struct {
	id      recordID
	version uint32
	wrapped []byte
	sealed  []byte
}

// readBackup parses and verifies a whole backup before anything is applied,
// so a truncated or altered backup changes nothing.
func readBackup(r io.Reader) ([]backupRecord, []tombstone, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	h := sha256.New()
	bad := func(what string, err error) error {
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: %w: %s: %w", ErrInvalidInput, ErrCorrupt, what, err)
		}
		return fmt.Errorf("%w: %w: %s", ErrInvalidInput, ErrCorrupt, what)
	}
	magic := make([]byte, len(backupMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != backupMagic {
		return nil, nil, bad("not a privacy-service backup", err)
	}
	h.Write(magic)
	var recs []backupRecord
	var tombs []tombstone
	for {
		t, err := br.ReadByte()
		if err != nil {
			return nil, nil, bad("backup is truncated", err)
		}
		n, err := binary.ReadUvarint(br)
		if err != nil || n > maxFrameLen {
			return nil, nil, bad("backup frame header", err)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return nil, nil, bad("backup is truncated", err)
		}
		if t == frameEnd {
			if len(payload) != sha256.Size || string(payload) != string(h.Sum(nil)) {
				return nil, nil, bad("backup checksum mismatch", nil)
			}
			if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
				return nil, nil, bad("data after the end of the backup", nil)
			}
			return recs, tombs, nil
		}
		h.Write(binary.AppendUvarint([]byte{t}, n))
		h.Write(payload)
		switch t {
		case frameRecord:
			if len(payload) < 16+4+wrappedDEKLen+1 {
				return nil, nil, bad("backup record frame too short", nil)
			}
			var rec backupRecord
			copy(rec.id[:], payload[:16])
			rec.version = binary.BigEndian.Uint32(payload[16:20])
			rec.wrapped = payload[20 : 20+wrappedDEKLen]
			rec.sealed = payload[20+wrappedDEKLen:]
			recs = append(recs, rec)
		case frameTombstone:
			if len(payload) != tombstoneSize {
				return nil, nil, bad("backup tombstone frame size", nil)
			}
			ts, ok := decodeTombstone(payload)
			if !ok {
				return nil, nil, bad("backup tombstone checksum", nil)
			}
			tombs = append(tombs, ts)
		default:
			return nil, nil, bad("unknown backup frame type", nil)
		}
	}
}

// Restore writes back the records of a backup that the store lacks. It never
// brings back a record whose id is in the tombstone log (shredded after the
// backup, by erasure or by a later rewrite), one whose data key cannot be
// unwrapped (KEK version retired), or one that clashes with a live case. The
// backup's own tombstones are merged into the log. Writes pause meanwhile.
func (s *Store) Restore(ctx context.Context, r io.Reader) (RestoreStats, error) {
	recs, btombs, err := readBackup(r)
	if err != nil {
		return RestoreStats{}, err
	}
	var st RestoreStats
	err = s.exclusive(ctx, func(ctx context.Context) error {
		live, err := s.tombs.readAll()
		if err != nil {
			return err
		}
		var newTombs []tombstone
		for _, t := range btombs {
			if _, ok := live[t.id]; !ok {
				live[t.id] = t
				newTombs = append(newTombs, t)
			}
		}
		if err := s.tombs.append(newTombs); err != nil {
			return err
		}
		if err := s.tombs.sync(); err != nil {
			return err
		}
		st.Tombstones = len(newTombs)
		const chunk = 512
		for start := 0; start < len(recs); start += chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.restoreChunk(ctx, recs[start:min(start+chunk, len(recs))], live, &st); err != nil {
				return errors.Join(err, s.restoredGeneration(st))
			}
		}
		return s.restoredGeneration(st)
	})
	return st, err
}

// restoredGeneration: records written back may include mappings whose
// erasure was recorded on the ledger after the backup (and whose tombstones
// are lost): a new generation makes the gateway check them.
func (s *Store) restoredGeneration(st RestoreStats) error {
	if st.Restored == 0 {
		return nil
	}
	return s.newGeneration()
}

func (s *Store) restoreChunk(ctx context.Context, recs []backupRecord, tombs map[recordID]tombstone, st *RestoreStats) error {
	type accepted struct {
		meta   *caseMeta
		rec    *caseRecord
		sealed []byte
	}
	var ok []accepted
	// Keys claimed by this chunk, so two backup records cannot both land.
	refsT := map[refKey]bool{}
	pseudsT := map[pseudKey]bool{}
	for _, br := range recs {
		if _, dead := tombs[br.id]; dead {
			st.Tombstoned++
			continue
		}
		exists := false
		err := s.db.View(func(txn *badger.Txn) error {
			_, err := txn.Get(recKey(br.id))
			exists = err == nil
			if errors.Is(err, badger.ErrKeyNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if exists {
			st.AlreadyPresent++
			continue
		}
		dek, err := s.kek.Unwrap(ctx, br.version, br.wrapped, dekAAD(br.id))
		if err != nil {
			st.Unreadable++
			continue
		}
		rec, err := openRecord(dek, br.id, br.sealed)
		if err != nil {
			clear(dek)
			st.Unreadable++
			continue
		}
		clash := false
		var claimR []refKey
		var claimP []pseudKey
		for _, e := range rec.entries {
			d, known := s.domains[e.domain]
			if !known {
				clash = true
				break
			}
			pk := pseudKey{d, e.pseud}
			if s.pseuds[pk] != nil || pseudsT[pk] {
				clash = true
			}
			claimP = append(claimP, pk)
			for _, ref := range e.refs {
				rk := s.refKey(d, ref)
				if s.refs[rk] != nil || refsT[rk] {
					clash = true
				}
				claimR = append(claimR, rk)
			}
		}
		if clash {
			clear(dek)
			st.Conflicting++
			continue
		}
		for _, k := range claimR {
			refsT[k] = true
		}
		for _, k := range claimP {
			pseudsT[k] = true
		}
		ver, wrapped, err := s.kek.Wrap(ctx, dek, dekAAD(br.id))
		clear(dek)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		e := slotEntry{version: ver, id: br.id, restoring: true}
		copy(e.wrapped[:], wrapped)
		slot := s.allocSlot()
		if err := s.slots.write(slot, &e); err != nil {
			return err
		}
		ok = append(ok, accepted{meta: &caseMeta{id: br.id, slot: slot}, rec: rec, sealed: br.sealed})
	}
	if len(ok) == 0 {
		return nil
	}
	if err := s.slots.sync(); err != nil {
		return err
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		for _, a := range ok {
			if err := txn.Set(recKey(a.meta.id), a.sealed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, a := range ok {
			_ = s.slots.zero(a.meta.slot)
			s.free = append(s.free, a.meta.slot)
		}
		return errors.Join(fmt.Errorf("restore: %w", err), s.slots.sync())
	}
	// Committed: the keys are ordinary used slots from now on.
	for _, a := range ok {
		e, _, err := s.slots.read(a.meta.slot)
		if err != nil {
			return err
		}
		e.restoring = false
		if err := s.slots.write(a.meta.slot, &e); err != nil {
			return err
		}
	}
	if err := s.slots.sync(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range ok {
		if err := s.indexRecord(a.meta, a.rec); err != nil {
			return err
		}
		st.Restored++
	}
	return nil
}

// RotateKEK re-wraps every data key under next's active version and makes
// next the store's KEK. next must be able to wrap; the old KEK unwraps.
// Afterwards retire the old version (Keyring.Without): copies of the slots
// wrapped under it — in freed file blocks, in backups — become unreadable.
func (s *Store) RotateKEK(ctx context.Context, next KeyWrapper) (int, error) {
	var n int
	err := s.exclusive(ctx, func(ctx context.Context) error {
		raw, err := s.slots.snapshot()
		if err != nil {
			return err
		}
		entries := map[uint32]slotEntry{}
		for slot := uint32(0); int(slot+1)*slotSize <= len(raw); slot++ {
			e, ok := decodeSlot(raw[int(slot)*slotSize:])
			if !ok {
				continue
			}
			dek, err := s.kek.Unwrap(ctx, e.version, e.wrapped[:], dekAAD(e.id))
			if err != nil {
				return fmt.Errorf("rotate: %w", err)
			}
			ver, wrapped, err := next.Wrap(ctx, dek, dekAAD(e.id))
			clear(dek)
			if err != nil {
				return fmt.Errorf("rotate: %w", err)
			}
			e.version = ver
			copy(e.wrapped[:], wrapped)
			entries[slot] = e
			n++
		}
		clear(raw)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.slots.replace(entries); err != nil {
			return err
		}
		s.kek = next
		return nil
	})
	return n, err
}

// KEKVersionsInUse counts live data keys per KEK version, to check that a
// version can be retired.
func (s *Store) KEKVersionsInUse(ctx context.Context) (map[uint32]int, error) {
	out := map[uint32]int{}
	err := s.exclusive(ctx, func(context.Context) error {
		raw, err := s.slots.snapshot()
		if err != nil {
			return err
		}
		for off := 0; off+slotSize <= len(raw); off += slotSize {
			if e, ok := decodeSlot(raw[off:]); ok {
				out[e.version]++
			}
		}
		return nil
	})
	return out, err
}

// Compact asks Badger to drop old versions and deleted records from its
// files (flatten the LSM tree, garbage-collect the value log). Erasure does
// not depend on it — shredded records are ciphertext without a key — but it
// shrinks what is left.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.db.Flatten(2); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	for ctx.Err() == nil {
		if err := s.db.RunValueLogGC(0.5); err != nil {
			if errors.Is(err, badger.ErrNoRewrite) {
				return nil
			}
			return fmt.Errorf("compact: %w", err)
		}
	}
	return ctx.Err()
}
