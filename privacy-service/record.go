package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/google/uuid"
)

// caseRecord is one case: its entries (one per domain), kept together because
// the case is the unit of erasure, and its value-free history.
type caseRecord struct {
	created int64 // unix nanoseconds
	entries []entryRec
	history []historyRec
}

type entryRec struct {
	domain    string
	pseud     uuid.UUID
	refs      []string
	anchorKey [32]byte
	created   int64
}

type historyAction uint8

const (
	actCreated   historyAction = 1
	actBound     historyAction = 2
	actLinked    historyAction = 3
	actRectified historyAction = 4
	actRestored  historyAction = 5
	// actEntryErased: one domain's entry was erased, the others kept.
	actEntryErased historyAction = 6
)

var actionNames = map[historyAction]string{
	actCreated: "created", actBound: "reference-bound", actLinked: "linked",
	actRectified: "rectified", actRestored: "restored", actEntryErased: "entry-erased",
}

type historyRec struct {
	at     int64
	action historyAction
	domain string
}

func (r *caseRecord) entry(domain string) *entryRec {
	for i := range r.entries {
		if r.entries[i].domain == domain {
			return &r.entries[i]
		}
	}
	return nil
}

func (r *caseRecord) clone() *caseRecord {
	c := &caseRecord{created: r.created, history: slices.Clone(r.history)}
	c.entries = make([]entryRec, len(r.entries))
	for i, e := range r.entries {
		e.refs = slices.Clone(e.refs)
		c.entries[i] = e
	}
	return c
}

const recordFormat = 1

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (r *caseRecord) marshal() []byte {
	b := make([]byte, 0, 128)
	b = append(b, recordFormat)
	b = binary.AppendVarint(b, r.created)
	b = binary.AppendUvarint(b, uint64(len(r.entries)))
	for _, e := range r.entries {
		b = appendString(b, e.domain)
		b = append(b, e.pseud[:]...)
		b = append(b, e.anchorKey[:]...)
		b = binary.AppendVarint(b, e.created)
		b = binary.AppendUvarint(b, uint64(len(e.refs)))
		for _, ref := range e.refs {
			b = appendString(b, ref)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(r.history)))
	for _, h := range r.history {
		b = binary.AppendVarint(b, h.at)
		b = append(b, byte(h.action))
		b = appendString(b, h.domain)
	}
	return b
}

type recordDecoder struct {
	b   []byte
	err error
}

func (d *recordDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: record: %s", ErrCorrupt, what)
	}
}

func (d *recordDecoder) uvarint(limit uint64, what string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > limit {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) varint(what string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordDecoder) bytes(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail(what)
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *recordDecoder) str(limit int, what string) string {
	n := d.uvarint(uint64(limit), what)
	b := d.bytes(int(n), what)
	if d.err == nil && !utf8.Valid(b) {
		d.fail(what)
	}
	return string(b)
}

// unmarshalRecord decodes a record; every count and length is bounded so a
// corrupt or hostile input cannot make it allocate without limit.
func unmarshalRecord(b []byte) (*caseRecord, error) {
	if len(b) == 0 || b[0] != recordFormat {
		return nil, fmt.Errorf("%w: record: unknown format", ErrCorrupt)
	}
	d := &recordDecoder{b: b[1:]}
	r := &caseRecord{created: d.varint("created")}
	n := d.uvarint(MaxDomains, "entry count")
	for i := uint64(0); i < n && d.err == nil; i++ {
		var e entryRec
		e.domain = d.str(maxDomainNameLen, "domain")
		copy(e.pseud[:], d.bytes(16, "pseudonym"))
		copy(e.anchorKey[:], d.bytes(32, "anchor key"))
		e.created = d.varint("entry created")
		nr := d.uvarint(MaxRefsPerEntry, "reference count")
		for j := uint64(0); j < nr && d.err == nil; j++ {
			e.refs = append(e.refs, d.str(MaxLocalRefLen, "reference"))
		}
		r.entries = append(r.entries, e)
	}
	nh := d.uvarint(maxHistory, "history count")
	for i := uint64(0); i < nh && d.err == nil; i++ {
		var h historyRec
		h.at = d.varint("history time")
		if a := d.bytes(1, "history action"); a != nil {
			h.action = historyAction(a[0])
		}
		h.domain = d.str(maxDomainNameLen, "history domain")
		r.history = append(r.history, h)
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	return r, nil
}

// Sealed record value: format(1) nonce(12) AES-256-GCM(DEK, record, AAD
// "rec"||record id).
const sealFormat = 1

func recAAD(id recordID) []byte { return append([]byte("rec"), id[:]...) }

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aead: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("aead: %w", err)
	}
	return aead, nil
}

func sealRecord(dek []byte, id recordID, r *caseRecord) ([]byte, error) {
	aead, err := newAEAD(dek)
	if err != nil {
		return nil, err
	}
	plain := r.marshal()
	out := make([]byte, 1+gcmNonceLen, 1+gcmNonceLen+len(plain)+gcmTagLen)
	out[0] = sealFormat
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	out = aead.Seal(out, out[1:1+gcmNonceLen], plain, recAAD(id))
	clear(plain)
	return out, nil
}

func openRecord(dek []byte, id recordID, sealed []byte) (*caseRecord, error) {
	if len(sealed) < 1+gcmNonceLen+gcmTagLen || sealed[0] != sealFormat {
		return nil, fmt.Errorf("%w: sealed record malformed", ErrCorrupt)
	}
	aead, err := newAEAD(dek)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, sealed[1:1+gcmNonceLen], sealed[1+gcmNonceLen:], recAAD(id))
	if err != nil {
		return nil, fmt.Errorf("%w: sealed record does not authenticate", ErrCorrupt)
	}
	return unmarshalRecord(plain)
}
