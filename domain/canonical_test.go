package domain

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain/deadline"
)

const canonicalIdentity = `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE"}`

// TestDecodeCanonicalEventInput: every spelling of a valid payload other than its canonical
// encoding is refused, in particular a duplicate key whose first value is personal data (the json
// package keeps the last value, so only the canonical comparison sees the first one).
func TestDecodeCanonicalEventInput(t *testing.T) {
	if _, err := DecodeCanonicalEventInput([]byte(canonicalIdentity)); err != nil {
		t.Fatalf("canonical payload refused: %v", err)
	}
	refused := map[string]string{
		"duplicate key, name first":     `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"Max Mustermann, 01.02.1990","eurodacHit":"NONE"}`,
		"duplicate key, same value":     `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE","eurodacHit":"NONE"}`,
		"duplicate code":                `{"vocabularyVersion":1,"code":"max@example.org","code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE"}`,
		"whitespace":                    `{"vocabularyVersion":1, "code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE"}`,
		"leading whitespace":            " " + canonicalIdentity,
		"trailing newline":              canonicalIdentity + "\n",
		"key order":                     `{"code":"IDENTITY_CHECKED","vocabularyVersion":1,"occurredOn":"2026-03-02","eurodacHit":"NONE"}`,
		"key case":                      `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","EURODACHIT":"NONE"}`,
		"escaped value":                 `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"\u004eONE"}`,
		"escaped key":                   `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","\u0065urodacHit":"NONE"}`,
		"number spelling":               `{"vocabularyVersion":1.0,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE"}`,
		"explicit null of absent field": `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE","regionCode":null}`,
		"empty string of absent field":  `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE","closureReason":""}`,
	}
	for name, s := range refused {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeCanonicalEventInput([]byte(s))
			if err == nil {
				t.Fatal("accepted")
			}
			if k := KindOf(err); k != KindInvalidArgument {
				t.Fatalf("kind %s (%v), want INVALID_ARGUMENT", k, err)
			}
			if strings.Contains(err.Error(), "Mustermann") || strings.Contains(err.Error(), "example") {
				t.Fatalf("error echoes the input: %v", err)
			}
		})
	}
}

// TestDecodeCanonicalHolidays: a JSON array argument is canonical only without whitespace or escapes.
func TestDecodeCanonicalHolidays(t *testing.T) {
	var h deadline.Holidays
	if err := DecodeCanonical([]byte(`["2026-01-01","2026-12-25"]`), &h); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`[ "2026-01-01"]`, `["2026-01-01"]` + "\n", `["\u0032026-01-01"]`, `[]  `} {
		if err := DecodeCanonical([]byte(s), &h); KindOf(err) != KindInvalidArgument {
			t.Errorf("%q: %v, want INVALID_ARGUMENT", s, err)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"100", 100, true}, {"1000", 1000, true},
		{"1001", 0, false}, {"", 0, false}, {"07", 0, false}, {"00", 0, false}, {"+7", 0, false},
		{"-1", 0, false}, {" 7", 0, false}, {"7\n", 0, false}, {"1e1", 0, false}, {"７", 0, false},
		{"99999999999999999999", 0, false},
	} {
		n, err := ParseDecimal("pageSize", tc.in, 1000)
		if (err == nil) != tc.ok || n != tc.want {
			t.Errorf("ParseDecimal(%q) = %d, %v", tc.in, n, err)
		}
	}
}

// FuzzDecodeCanonicalEventInput: whatever the canonical decoder accepts re-encodes to exactly
// the input bytes, holds no string the personal-data check would refuse, and is accepted by the
// lenient decoder the gateways use (so a gateway that re-encodes sends the same bytes).
func FuzzDecodeCanonicalEventInput(f *testing.F) {
	f.Add([]byte(canonicalIdentity))
	f.Add([]byte(`{"vocabularyVersion":1,"code":"CASE_REGISTERED","occurredOn":"2026-03-02"}`))
	f.Add([]byte(`{"vocabularyVersion":1,"code":"TAKE_CHARGE_REQUESTED","occurredOn":"2026-03-02","urgent":true,"requestedMemberState":"AT","receivedOn":"2026-03-02","evidence":"EURODAC_HIT","applicationRegisteredOn":"2026-02-10","evidenceReceivedOn":"2026-02-20","urgentReplyDue":"2026-03-20"}`))
	f.Add([]byte(`{"vocabularyVersion":1,"code":"DOCUMENT_ANCHORED","occurredOn":"2026-03-02","documentHash":"` + strings.Repeat("0f", 32) + `","documentType":"DECISION"}`))
	f.Add([]byte(`{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"Max Mustermann","eurodacHit":"NONE"}`))
	f.Add([]byte(`{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"\u004eONE"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := DecodeCanonicalEventInput(data)
		if err != nil {
			if k := KindOf(err); k != KindInvalidArgument && k != KindPersonalData {
				t.Fatalf("error kind %s: %v", k, err)
			}
			return
		}
		b, err := EncodeCanonical(in)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, data) {
			t.Fatalf("accepted %q, which re-encodes to %q", data, b)
		}
		if rawLooksPersonal(data) {
			t.Fatalf("accepted %q, which the personal-data check refuses", data)
		}
		// Every token, keys included, is an allowed kind of string.
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			if s, ok := tok.(string); ok && LooksPersonal(s) && !isAllowedToken(s) {
				t.Fatalf("accepted token %q", s)
			}
		}
		in2, err := DecodeEventInput(b)
		if err != nil {
			t.Fatalf("lenient decoder refuses: %v", err)
		}
		if b2, _ := EncodeCanonical(in2); !bytes.Equal(b2, b) {
			t.Fatal("lenient decoder disagrees")
		}
	})
}

// FuzzParseDecimal: an accepted number is spelt exactly as strconv would print it.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "7", "1000", "07", "+1", " 1", "1e3", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseDecimal("n", s, 1<<30)
		if err != nil {
			if k := KindOf(err); k != KindInvalidArgument && k != KindPersonalData {
				t.Fatalf("kind %s", k)
			}
			return
		}
		if strconv.Itoa(n) != s {
			t.Fatalf("accepted %q as %d", s, n)
		}
	})
}
