package domain

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitPayload(t *testing.T) {
	v := DefaultVisibility()
	salt := strings.Repeat("ab", 32)
	fixed := func() (string, error) { return salt, nil }
	never := func() (string, error) {
		t.Helper()
		t.Error("salt drawn for an event that withholds nothing")
		return "", nil
	}
	registered := `{"vocabularyVersion":1,"code":"CASE_REGISTERED","occurredOn":"2026-03-02"}`
	decision := `{"vocabularyVersion":1,"code":"DECISION_ISSUED","occurredOn":"2026-03-02","outcome":"REJECTED"}`

	pub, det, err := v.SplitPayload(ProcedureNational, []byte(registered), never)
	if err != nil || string(pub) != registered || det != nil {
		t.Fatalf("nothing withheld: %s %s %v", pub, det, err)
	}

	pub, det, err = v.SplitPayload(ProcedureNational, []byte(decision), fixed)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"vocabularyVersion":1,"code":"DECISION_ISSUED","occurredOn":"2026-03-02"}`; string(pub) != want {
		t.Fatalf("public payload %s, want %s", pub, want)
	}
	d, err := DecodeCanonicalDetails(det)
	if err != nil {
		t.Fatalf("details %s do not decode: %v", det, err)
	}
	if d.Salt != salt || d.Outcome != OutcomeRejected || d.Collection != CollectionName(ProcedureNational, v.EventAudience(ProcedureNational, EvDecisionIssued)) {
		t.Fatalf("details %+v", d)
	}

	for name, tc := range map[string]struct {
		payload string
		salt    func() (string, error)
		kind    Kind
	}{
		"salt not hex":          {decision, func() (string, error) { return "not-a-salt", nil }, KindInvalidArgument},
		"no randomness":         {decision, func() (string, error) { return "", Errorf(KindInternal, "no randomness") }, KindInternal},
		"payload not an event":  {`{"code":"NOPE"}`, fixed, KindInvalidArgument},
		"payload not canonical": {`{"code":"DECISION_ISSUED","vocabularyVersion":1,"occurredOn":"2026-03-02","outcome":"REJECTED"}`, fixed, KindInvalidArgument},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := v.SplitPayload(ProcedureNational, []byte(tc.payload), tc.salt)
			var de *Error
			if !errors.As(err, &de) || de.Kind != tc.kind {
				t.Fatalf("err %v, want kind %s", err, tc.kind)
			}
		})
	}
}
