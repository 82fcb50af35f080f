package domain

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain/deadline"
)

// FuzzApply feeds arbitrary payloads through the decoder and the workflow
// against cases in several statuses. Invariants: no panic; refusals carry a
// client-side kind (never INTERNAL); whatever is accepted produces an event
// and a state holding only allowed strings.
func FuzzApply(f *testing.F) {
	for _, s := range []string{
		`{"vocabularyVersion":1,"code":"FILE_CREATED","occurredOn":"2026-03-02"}`,
		`{"vocabularyVersion":1,"code":"REQUEST_ACCEPTED","occurredOn":"2026-03-02"}`,
		`{"vocabularyVersion":1,"code":"TAKE_CHARGE_REQUESTED","occurredOn":"2026-03-02","requestedMemberState":"AT","receivedOn":"2026-03-02","applicationRegisteredOn":"2026-02-10","evidence":"OTHER","urgent":true,"urgentReplyDue":"2026-03-20"}`,
		`{"vocabularyVersion":1,"code":"TRANSFER_DEADLINE_EXTENDED","occurredOn":"2026-03-02","extensionReason":"IMPRISONMENT"}`,
		`{"vocabularyVersion":1,"code":"ERASURE_REQUESTED","occurredOn":"2026-02-01"}`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(3))
	}
	fx := newFixture(f, "2026-03-02")
	points := []func() (*CaseState, Procedure){
		func() (*CaseState, Procedure) { return nationalAt(fx, "IDENTITY_CHECKED"), ProcedureNational },
		func() (*CaseState, Procedure) { return nationalAt(fx, "DECISION_ISSUED"), ProcedureNational },
		func() (*CaseState, Procedure) { return dublinAt(fx, "REGISTERED"), ProcedureDublin },
		func() (*CaseState, Procedure) { return dublinAt(fx, "TAKE_CHARGE_REQUESTED"), ProcedureDublin },
		func() (*CaseState, Procedure) { return dublinAt(fx, "ACCEPTED"), ProcedureDublin },
	}
	states := make([]*CaseState, len(points))
	procs := make([]Procedure, len(points))
	for i, p := range points {
		states[i], procs[i] = p()
	}
	fx.today = date(f, "2026-03-02")
	actors := []Actor{
		fx.actor(ao, RoleCaseworker), fx.actor(ao, RoleDublinOfficer), fx.actor(ps, RoleDublinOfficer),
		fx.actor(bp, RoleCaseworker), fx.actor(ia, RoleCaseworker), fx.actor(aud, RoleAuditor),
	}
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		in, err := DecodeEventInput(data)
		if err != nil {
			return // the decoder has its own fuzz target
		}
		i := int(sel) % len(states)
		a := actors[int(sel/8)%len(actors)]
		next, ev, err := Apply(states[i], pseud, in, a, fx.env(procs[i]))
		if err != nil {
			if KindOf(err) == KindInternal {
				t.Fatalf("INTERNAL for a decoded payload: %v", err)
			}
			return
		}
		for _, v := range []any{next, ev} {
			b, _ := json.Marshal(v)
			var generic any
			_ = json.Unmarshal(b, &generic)
			checkStrings(t, fx.m, generic)
		}
	})
}

// checkStrings fails on any string that is not an allowed token or an
// identifier this system writes itself (MSP ids of the membership, roles,
// statuses and other UPPER_SNAKE codes, periods, transaction ids, times).
func checkStrings(t *testing.T, m Membership, v any) {
	switch x := v.(type) {
	case string:
		if _, isMember := m.Member(x); x == "" || isMember || allowedString(x) || isCanonicalUUID(x) ||
			Role(x).Valid() || Procedure(x).Valid() || isUpperSnake(x) || isPeriod(x) || isTimestamp(x) || IsHash64(x) {
			return
		}
		t.Fatalf("unexpected string %q on the ledger", x)
	case []any:
		for _, e := range x {
			checkStrings(t, m, e)
		}
	case map[string]any:
		for k, e := range x {
			if k == "article" {
				continue // rule citations come from the deadline tables, not from input
			}
			checkStrings(t, m, e)
		}
	}
}

func isUpperSnake(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return len(s) <= 64
}

func isPeriod(s string) bool {
	_, err := deadline.ParsePeriod(s)
	return err == nil
}

func isTimestamp(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
