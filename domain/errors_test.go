package domain

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		name, in string
		kind     Kind
		msg      string
	}{
		{"plain", "NOT_FOUND: case not found", KindNotFound, "case not found"},
		{"no message", "FORBIDDEN", KindForbidden, ""},
		{"fabric endorse wrapping", "chaincode response 500, DEADLINE_PASSED: the reply deadline has passed", KindDeadlinePassed, "the reply deadline has passed"},
		{"gateway evaluate wrapping", "rpc error: code = Unknown desc = evaluate call to endorser returned error: chaincode response 500, PERSONAL_DATA: unknown field refused: it looks like personal data",
			KindPersonalData, "unknown field refused: it looks like personal data"},
		{"earliest kind wins", "INVALID_TRANSITION: CONFLICT: x", KindInvalidTransition, "CONFLICT: x"},
		{"kind inside a word is not a kind", "XNOT_FOUND: y", KindInternal, "XNOT_FOUND: y"},
		{"kind followed by letters is not a kind", "NOT_FOUNDED: y", KindInternal, "NOT_FOUNDED: y"},
		{"contract api error", "Incorrect number of params. Expected 3, received 2", KindInternal, "Incorrect number of params. Expected 3, received 2"},
		{"empty", "", KindInternal, ""},
		{"later occurrence after a false one", "XFORBIDDEN FORBIDDEN: no", KindForbidden, "no"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, m := ParseError(tc.in)
			if k != tc.kind || m != tc.msg {
				t.Fatalf("ParseError(%q) = %q, %q; want %q, %q", tc.in, k, m, tc.kind, tc.msg)
			}
		})
	}
}

func TestFindKind(t *testing.T) {
	if _, _, found := FindKind("Function Foo not found in contract cases"); found {
		t.Error("found a kind in a contract API message")
	}
	if k, m, found := FindKind("chaincode response 500, INTERNAL: internal error"); !found || k != KindInternal || m != "internal error" {
		t.Errorf("INTERNAL: %s %q %v", k, m, found)
	}
}

func TestErrorRoundTripAndIs(t *testing.T) {
	for _, k := range Kinds() {
		err := Errorf(k, "something %d", 7)
		wrapped := fmt.Errorf("context: %w", err)
		if KindOf(wrapped) != k {
			t.Errorf("KindOf(%v) = %s", wrapped, KindOf(wrapped))
		}
		gk, gm := ParseError("chaincode response 500, " + Wire(wrapped).Error())
		if gk != k || gm != "something 7" {
			t.Errorf("round trip of %s: %s %q", k, gk, gm)
		}
		if !k.Valid() {
			t.Errorf("%s not valid", k)
		}
	}
	if !errors.Is(Errorf(KindNotFound, "x"), ErrNotFound) {
		t.Error("errors.Is(NOT_FOUND error, ErrNotFound) = false")
	}
	if errors.Is(Errorf(KindNotFound, "x"), ErrForbidden) {
		t.Error("errors.Is(NOT_FOUND error, ErrForbidden) = true")
	}
	if got := Wire(errors.New("json: unknown field \"Max Mustermann\"")).Error(); strings.Contains(got, "Max") || KindOf(Wire(errors.New("x"))) != KindInternal {
		t.Errorf("Wire of a foreign error = %q", got)
	}
	if KindOf(nil) != "" || Wire(nil) != nil {
		t.Error("nil handling")
	}
}

func FuzzParseError(f *testing.F) {
	for _, s := range []string{"", "NOT_FOUND: x", "chaincode response 500, CONFLICT: y", "FORBIDDENFORBIDDEN:", "INTERNAL", ":::", "DEADLINE_PASSED DEADLINE_NOT_REACHED: z", "\xff\xfeKIND"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, m := ParseError(s)
		if !k.Valid() {
			t.Fatalf("invalid kind %q", k)
		}
		if len(m) > len(s) {
			t.Fatalf("message longer than input")
		}
		// A rendered error always parses back to itself.
		msg := strings.TrimSpace(strings.ReplaceAll(s, ":", ""))
		for _, kk := range Kinds() {
			if strings.Contains(msg, string(kk)) {
				return // the message itself names a kind; earliest wins
			}
		}
		gk, gm := ParseError(Errorf(KindConflict, "%s", msg).Error())
		if gk != KindConflict || gm != msg {
			t.Fatalf("round trip: %s %q, want CONFLICT %q", gk, gm, msg)
		}
	})
}
