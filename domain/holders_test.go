package domain

import (
	"reflect"
	"testing"
)

// TestNonHolderCannotTakeOverOthersCase is issue 11's finding 2 as a table:
// the immigration authority, with its own valid identity, tries every way
// into a border-police case it does not hold. Each attempt is refused and
// leaves the case as it was (Apply is pure: the state passed in is the
// ledger's).
func TestNonHolderCannotTakeOverOthersCase(t *testing.T) {
	f := newFixture(t, "2026-03-02")
	n := ProcedureNational
	for _, point := range []string{"REGISTERED", "IDENTITY_CHECKED"} {
		for _, tc := range []struct {
			name   string
			code   EventCode
			fields EventFields
			role   Role
			kind   Kind
		}{
			{"anchor junk", EvDocumentAnchored, EventFields{DocumentHash: hash64('f')}, RoleCaseworker, KindForbidden},
			{"anchor as dublin officer", EvDocumentAnchored, EventFields{DocumentHash: hash64('f')}, RoleDublinOfficer, KindForbidden},
			{"close early", EvCaseClosed, EventFields{ClosureReason: ClosureNoApplication}, RoleCaseworker, KindForbidden},
			{"request erasure", EvErasureRequested, EventFields{}, RoleCaseworker, KindForbidden},
			{"request erasure as admin", EvErasureRequested, EventFields{}, RoleAdmin, KindForbidden},
			{"confirm an erasure", EvErasureConfirmed, EventFields{}, RoleCaseworker, KindForbidden},
			{"bind itself in", EvCaseBound, EventFields{}, RoleCaseworker, KindInvalidTransition},
		} {
			t.Run(point+"/"+tc.name, func(t *testing.T) {
				prev := nationalAt(f, point)
				before := prev.clone()
				_, _, err := Apply(prev, pseud, f.input(tc.code, tc.fields), f.actor(ia, tc.role), f.env(n))
				if KindOf(err) != tc.kind {
					t.Fatalf("got %v, want %s", err, tc.kind)
				}
				if !reflect.DeepEqual(*prev, before) {
					t.Fatal("a refused write changed the case")
				}
			})
		}
	}
	// The border police themselves (the registrar) may do each of these.
	s := nationalAt(f, "REGISTERED")
	for _, code := range []EventCode{EvDocumentAnchored, EvCaseClosed} {
		fl := EventFields{DocumentHash: hash64('f'), ClosureReason: ClosureNoApplication}
		if code == EvDocumentAnchored {
			fl.ClosureReason = ""
		} else {
			fl.DocumentHash = ""
		}
		if _, _, err := Apply(s, pseud, f.input(code, fl), f.actor(bp, RoleCaseworker), f.env(n)); err != nil {
			t.Fatalf("registrar %s: %v", code, err)
		}
	}
	// A write by a non-holder that is admitted (a workflow step of its own)
	// does not make it a holder either.
	s = nationalAt(f, "HEARING_HELD") // bp registered, ao took over with the file
	s = f.step(s, n, f.actor(ao, RoleCaseworker), EvDecisionIssued, EventFields{Outcome: OutcomeRefugeeStatus})
	if want := []string{ao, bp}; !reflect.DeepEqual(s.Holders, want) {
		t.Fatalf("holders %v, want %v", s.Holders, want)
	}
}

// TestDublinErasureKeepsTheOtherStatesDeadline: the requested state cannot
// escape an implicit acceptance by requesting erasure, nor the requesting
// state take away the requested state's right to reply; the deadline's
// consequence is still recorded.
func TestDublinErasureKeepsTheOtherStatesDeadline(t *testing.T) {
	f := newFixture(t, "2026-03-02")
	d := ProcedureDublin
	s := dublinAt(f, "BOUND") // DE asked AT on 2026-03-02, reply due 2026-05-04
	for _, tc := range []struct {
		today string
		msp   string
	}{
		{"2026-03-20", ps}, // the requested state, before its reply deadline
		{"2026-03-20", ao}, // the requesting state, freezing the other's right to reply
		{"2026-05-05", ps}, // lapsed, consequence not yet recorded
		{"2026-05-05", ao},
	} {
		f.today = date(t, tc.today)
		_, _, err := Apply(s, pseud, f.input(EvErasureRequested, EventFields{}), f.dublinOfficer(tc.msp), f.env(d))
		if KindOf(err) != KindInvalidTransition {
			t.Fatalf("%s erasure on %s: %v, want INVALID_TRANSITION", tc.msp, tc.today, err)
		}
	}
	f.today = date(t, "2026-05-05")
	next, ev, err := ResolveDeadlines(s, f.dublinOfficer(ao), f.env(d))
	if err != nil || ev.Code != EvImplicitlyAccepted || next.Status != StImplicitlyAccepted {
		t.Fatalf("implicit acceptance after the refused erasures: %s %v", ev.Code, err)
	}
	// Now the transfer deadline runs for the requesting state: still no erasure.
	if _, _, err := Apply(&next, pseud, f.input(EvErasureRequested, EventFields{}), f.dublinOfficer(ps), f.env(d)); KindOf(err) != KindInvalidTransition {
		t.Fatalf("erasure while the transfer deadline runs: %v", err)
	}
	// Once the procedure has ended, either holder may request it; the case's
	// facts and dates stay, only the limits without consequence go.
	s = dublinAt(f, "TRANSFER_COMPLETED")
	next2, _, err := Apply(s, pseud, f.input(EvErasureRequested, EventFields{}), f.dublinOfficer(ps), f.env(d))
	if err != nil {
		t.Fatal(err)
	}
	if next2.Dublin.AcceptedOn != s.Dublin.AcceptedOn || next2.Dublin.RequestedMemberState != "AT" ||
		!reflect.DeepEqual(next2.Erasure.Pending, []string{ao, ps}) {
		t.Fatalf("erased case %+v %+v", next2.Dublin, next2.Erasure)
	}
}
