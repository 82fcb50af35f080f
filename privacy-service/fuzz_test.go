package privacy

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// FuzzParseRequest: any body yields a decoded, valid request or a stable
// client-error code — never a panic, never INTERNAL — and a decoded request
// survives a round trip.
func FuzzParseRequest(f *testing.F) {
	seeds := []string{
		`{"localRef":"BAMF-2026-0001"}`,
		`{"pseudonym":"0b9f5a4e-8a55-4d7c-9a43-0d5f3f0b8e21","localRef":"R-1"}`,
		`{"pseudonym":"0b9f5a4e-8a55-4d7c-9a43-0d5f3f0b8e21","toDomain":"dublin"}`,
		`{"pseudonym":"0b9f5a4e-8a55-4d7c-9a43-0d5f3f0b8e21","oldLocalRef":"a","newLocalRef":"b"}`,
		`{"after":"","limit":10}`,
		`{"localRef":""}`, `{"localRef":7}`, `{"localRef":"a"}{}`, `[]`, `null`, ``, `{"localRef":"\u0000"}`,
		`{"localRef":" x"}`, `{"x":1}`, `{"limit":1e999}`, `{"localRef":"\ud800"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []func() requestValidator{
			func() requestValidator { return &RefRequest{} },
			func() requestValidator { return &PseudonymRequest{} },
			func() requestValidator { return &BindRequest{} },
			func() requestValidator { return &LinkRequest{} },
			func() requestValidator { return &RectifyRequest{} },
			func() requestValidator { return &EraseRequest{} },
			func() requestValidator { return &ListRequest{} },
		}
		for _, mk := range targets {
			v := mk()
			err := parseRequest(body, v)
			if err != nil {
				if c := CodeOf(err); c != CodeInvalidInput && c != CodePayloadTooLarge {
					t.Fatalf("%T: code %s for %q: %v", v, c, body, err)
				}
				continue
			}
			again := mk()
			enc, _ := json.Marshal(v)
			if err := parseRequest(enc, again); err != nil || !reflect.DeepEqual(v, again) {
				t.Fatalf("%T does not round-trip: %q -> %q (%v)", v, body, enc, err)
			}
		}
	})
}

// FuzzLocalRefAndPseudonym: what the validators accept has the promised shape.
func FuzzLocalRefAndPseudonym(f *testing.F) {
	for _, s := range []string{"BAMF-1", "", " x", "x ", "a\tb", strings.Repeat("z", 257), "ü-1", "\xff",
		"0b9f5a4e-8a55-4d7c-9a43-0d5f3f0b8e21", "0B9F5A4E-8A55-4D7C-9A43-0D5F3F0B8E21", "{0b9f5a4e-8a55-4d7c-9a43-0d5f3f0b8e21}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateLocalRef(s); err == nil {
			if s == "" || len(s) > MaxLocalRefLen || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) ||
				strings.TrimSpace(s) != s {
				t.Fatalf("accepted bad local reference %q", s)
			}
		}
		if id, err := ParsePseudonym(s); err == nil {
			if id.String() != s || id.Version() != 4 || id.Variant() != uuid.RFC4122 {
				t.Fatalf("accepted non-canonical pseudonym %q", s)
			}
		}
	})
}

// FuzzRecordCodec: the record decoder never panics and what it accepts
// re-encodes to something it decodes the same way.
func FuzzRecordCodec(f *testing.F) {
	rec := &caseRecord{created: 42, entries: []entryRec{{domain: "national", pseud: uuid.New(), refs: []string{"A", "B"}, created: 7}},
		history: []historyRec{{at: 1, action: actCreated, domain: "national"}}}
	f.Add(rec.marshal())
	f.Add([]byte{recordFormat})
	f.Add([]byte{recordFormat, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := unmarshalRecord(data)
		if err != nil {
			return
		}
		enc := r.marshal()
		r2, err := unmarshalRecord(enc)
		if err != nil || !bytes.Equal(r2.marshal(), enc) {
			t.Fatalf("record does not round-trip: %v", err)
		}
	})
}

// FuzzReadBackup: a damaged or hostile backup is refused as invalid input.
func FuzzReadBackup(f *testing.F) {
	s := newTestStore(f)
	var buf bytes.Buffer
	for _, ref := range []string{"F-1", "F-2"} {
		if _, _, err := s.Pseudonymize(f.Context(), "national", ref); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := s.EraseRef(f.Context(), "national", "F-2"); err != nil {
		f.Fatal(err)
	}
	if _, err := s.Backup(f.Context(), &buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(backupMagic))
	f.Add([]byte(backupMagic + "E\x20"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, tombs, err := readBackup(bytes.NewReader(data))
		if err != nil {
			if CodeOf(err) != CodeInvalidInput {
				t.Fatalf("code %s: %v", CodeOf(err), err)
			}
			return
		}
		for _, r := range recs {
			if len(r.wrapped) != wrappedDEKLen {
				t.Fatalf("accepted record with %d-byte wrapped key", len(r.wrapped))
			}
		}
		_ = tombs
	})
}
