package domain

import (
	"slices"
	"testing"
)

const (
	ao  = "AsylumOfficeMSP"
	bp  = "BorderPoliceMSP"
	ia  = "ImmigrationAuthorityMSP"
	ps  = "PartnerStateMSP"
	aud = "AuditorMSP"
)

// nationalAt replays the national procedure up to a named point.
func nationalAt(f *fixture, point string) *CaseState {
	f.t.Helper()
	cw := func(msp string) Actor { return f.actor(msp, RoleCaseworker) }
	n := ProcedureNational
	s := f.step(nil, n, cw(bp), EvCaseRegistered, EventFields{})
	steps := []struct {
		name string
		a    Actor
		code EventCode
		fl   EventFields
	}{
		{"IDENTITY_CHECKED", cw(bp), EvIdentityChecked, EventFields{EurodacHit: EurodacNone}},
		{"FILE_CREATED", cw(ao), EvFileCreated, EventFields{}},
		{"ALLOCATED", cw(ao), EvAllocated, EventFields{RegionCode: "DE-BY"}},
		{"APPLICATION_LODGED", cw(ao), EvApplicationLodged, EventFields{}},
		{"HEARING_SCHEDULED", cw(ao), EvHearingScheduled, EventFields{}},
		{"HEARING_HELD", cw(ao), EvHearingHeld, EventFields{}},
		{"DECISION_ISSUED", cw(ao), EvDecisionIssued, EventFields{Outcome: OutcomeRejected}},
		{"APPEAL_FILED", cw(ao), EvAppealFiled, EventFields{Suspensive: ptr(true)}},
		{"APPEAL_DECIDED", cw(ao), EvAppealDecided, EventFields{AppealOutcome: AppealDismissed}},
		{"RETURN_COUNSELLING", cw(ia), EvReturnCounselling, EventFields{}},
		{"CLOSED", cw(ia), EvCaseClosed, EventFields{ClosureReason: ClosureDeparted}},
	}
	if point == "REGISTERED" {
		return s
	}
	// AO_BOUND: the asylum office bound its reference to the border
	// police's registration; IA_BOUND: the immigration authority to the
	// case after the hearing.
	if point == "AO_BOUND" {
		return f.step(s, n, cw(ao), EvCaseBound, EventFields{})
	}
	for _, st := range steps {
		s = f.step(s, n, st.a, st.code, st.fl)
		if point == "IA_BOUND" && st.name == "HEARING_HELD" {
			return f.step(s, n, cw(ia), EvCaseBound, EventFields{})
		}
		if st.name == point {
			return s
		}
	}
	f.t.Fatalf("unknown point %s", point)
	return nil
}

func TestNationalTransitions(t *testing.T) {
	type row struct {
		from   string // a point of nationalAt, or "" for a new case
		code   EventCode
		msp    string
		role   Role
		fields EventFields
		want   Status // on success
		kind   Kind   // on refusal
	}
	cw, do, ad, au := RoleCaseworker, RoleDublinOfficer, RoleAdmin, RoleAuditor
	rows := []row{
		// Registration.
		{"", EvCaseRegistered, bp, cw, EventFields{}, StRegistered, ""},
		{"", EvCaseRegistered, ao, cw, EventFields{}, StRegistered, ""},
		{"", EvCaseRegistered, ia, cw, EventFields{}, StRegistered, ""},
		{"", EvCaseRegistered, bp, do, EventFields{}, "", KindForbidden},
		{"", EvCaseRegistered, bp, ad, EventFields{}, "", KindForbidden},
		{"", EvCaseRegistered, aud, cw, EventFields{}, "", KindForbidden},
		{"", EvCaseRegistered, ao, au, EventFields{}, "", KindForbidden},
		{"", EvCaseRegistered, ps, cw, EventFields{}, "", KindForbidden}, // not on the national channel
		{"REGISTERED", EvCaseRegistered, bp, cw, EventFields{}, "", KindAlreadyExists},
		{"", EvFileCreated, ao, cw, EventFields{}, "", KindNotFound},
		// Binding: the asylum office at any time, the immigration authority
		// once the case is allocated; the border police hold only what they
		// registered.
		{"REGISTERED", EvCaseBound, ao, cw, EventFields{}, StRegistered, ""},
		{"ALLOCATED", EvCaseBound, ia, cw, EventFields{}, StAllocated, ""},
		{"REGISTERED", EvCaseBound, ia, cw, EventFields{}, "", KindInvalidTransition},
		{"IDENTITY_CHECKED", EvCaseBound, ia, cw, EventFields{}, "", KindInvalidTransition},
		{"REGISTERED", EvCaseBound, bp, cw, EventFields{}, "", KindForbidden},
		{"REGISTERED", EvCaseBound, ao, do, EventFields{}, "", KindForbidden},
		{"AO_BOUND", EvCaseBound, ao, cw, EventFields{}, "", KindAlreadyExists},
		{"FILE_CREATED", EvCaseBound, ao, cw, EventFields{}, "", KindAlreadyExists}, // took it over
		{"CLOSED", EvCaseBound, ao, cw, EventFields{}, "", KindInvalidTransition},
		{"", EvCaseBound, ao, cw, EventFields{}, "", KindNotFound},
		// Identity check: by a holder.
		{"REGISTERED", EvIdentityChecked, bp, cw, EventFields{EurodacHit: EurodacCategory2}, StIdentityChecked, ""},
		{"AO_BOUND", EvIdentityChecked, ao, cw, EventFields{EurodacHit: EurodacNone}, StIdentityChecked, ""},
		{"REGISTERED", EvIdentityChecked, ao, cw, EventFields{EurodacHit: EurodacNone}, "", KindForbidden},
		{"REGISTERED", EvIdentityChecked, ia, cw, EventFields{EurodacHit: EurodacNone}, "", KindForbidden},
		{"IDENTITY_CHECKED", EvIdentityChecked, bp, cw, EventFields{EurodacHit: EurodacNone}, "", KindInvalidTransition},
		// File creation: asylum office only, after the identity check.
		{"IDENTITY_CHECKED", EvFileCreated, ao, cw, EventFields{}, StFileCreated, ""},
		{"IDENTITY_CHECKED", EvFileCreated, bp, cw, EventFields{}, "", KindForbidden},
		{"IDENTITY_CHECKED", EvFileCreated, ia, cw, EventFields{}, "", KindForbidden},
		{"IDENTITY_CHECKED", EvFileCreated, ao, do, EventFields{}, "", KindForbidden},
		{"REGISTERED", EvFileCreated, ao, cw, EventFields{}, "", KindInvalidTransition},
		// Allocation optional.
		{"FILE_CREATED", EvAllocated, ao, cw, EventFields{RegionCode: "DE-NW"}, StAllocated, ""},
		{"FILE_CREATED", EvAllocated, ia, cw, EventFields{RegionCode: "DE-NW"}, "", KindForbidden},
		{"FILE_CREATED", EvApplicationLodged, ao, cw, EventFields{}, StApplicationLodged, ""},
		{"ALLOCATED", EvApplicationLodged, ao, cw, EventFields{}, StApplicationLodged, ""},
		{"IDENTITY_CHECKED", EvApplicationLodged, ao, cw, EventFields{}, "", KindInvalidTransition},
		// Hearing, rescheduling, decision with or without hearing.
		{"APPLICATION_LODGED", EvHearingScheduled, ao, cw, EventFields{}, StHearingScheduled, ""},
		{"HEARING_SCHEDULED", EvHearingScheduled, ao, cw, EventFields{}, StHearingScheduled, ""},
		{"HEARING_SCHEDULED", EvHearingHeld, ao, cw, EventFields{}, StHearingHeld, ""},
		{"APPLICATION_LODGED", EvHearingHeld, ao, cw, EventFields{}, "", KindInvalidTransition},
		{"HEARING_HELD", EvDecisionIssued, ao, cw, EventFields{Outcome: OutcomeRefugeeStatus}, StDecisionIssued, ""},
		{"APPLICATION_LODGED", EvDecisionIssued, ao, cw, EventFields{Outcome: OutcomeInadmissible}, StDecisionIssued, ""},
		{"HEARING_SCHEDULED", EvDecisionIssued, ao, cw, EventFields{Outcome: OutcomeRejected}, "", KindInvalidTransition},
		{"HEARING_HELD", EvDecisionIssued, bp, cw, EventFields{Outcome: OutcomeRejected}, "", KindForbidden},
		{"HEARING_HELD", EvDecisionIssued, ia, cw, EventFields{Outcome: OutcomeRejected}, "", KindForbidden},
		// Appeal.
		{"DECISION_ISSUED", EvAppealFiled, ao, cw, EventFields{Suspensive: ptr(false)}, StAppealFiled, ""},
		{"DECISION_ISSUED", EvAppealFiled, ia, cw, EventFields{Suspensive: ptr(false)}, "", KindForbidden},
		{"APPEAL_FILED", EvAppealDecided, ao, cw, EventFields{AppealOutcome: AppealUpheld}, StAppealDecided, ""},
		{"DECISION_ISSUED", EvAppealDecided, ao, cw, EventFields{AppealOutcome: AppealUpheld}, "", KindInvalidTransition},
		{"APPEAL_DECIDED", EvDecisionIssued, ao, cw, EventFields{Outcome: OutcomeSubsidiaryProtection}, StDecisionIssued, ""},
		// Return counselling: immigration authority, after a negative decision.
		{"DECISION_ISSUED", EvReturnCounselling, ia, cw, EventFields{}, StReturnCounselling, ""},
		{"APPEAL_DECIDED", EvReturnCounselling, ia, cw, EventFields{}, StReturnCounselling, ""},
		{"RETURN_COUNSELLING", EvReturnCounselling, ia, cw, EventFields{}, StReturnCounselling, ""},
		{"DECISION_ISSUED", EvReturnCounselling, ao, cw, EventFields{}, "", KindForbidden},
		{"APPEAL_FILED", EvReturnCounselling, ia, cw, EventFields{}, "", KindInvalidTransition},
		// Closing.
		{"RETURN_COUNSELLING", EvCaseClosed, ia, cw, EventFields{ClosureReason: ClosureDeparted}, StClosed, ""},
		{"DECISION_ISSUED", EvCaseClosed, ao, cw, EventFields{ClosureReason: ClosureOther}, StClosed, ""},
		// Border police may close only before the file exists.
		{"DECISION_ISSUED", EvCaseClosed, bp, cw, EventFields{ClosureReason: ClosureOther}, "", KindInvalidTransition},
		{"REGISTERED", EvCaseClosed, bp, cw, EventFields{ClosureReason: ClosureNoApplication}, StClosed, ""},
		{"REGISTERED", EvCaseClosed, ia, cw, EventFields{ClosureReason: ClosureNoApplication}, "", KindForbidden}, // not a holder
		{"HEARING_HELD", EvCaseClosed, ao, cw, EventFields{ClosureReason: ClosureOther}, "", KindInvalidTransition},
		{"CLOSED", EvCaseClosed, ia, cw, EventFields{ClosureReason: ClosureOther}, "", KindInvalidTransition},
		{"CLOSED", EvFileCreated, ao, cw, EventFields{}, "", KindInvalidTransition},
		// Dublin events are not recorded on the national channel.
		{"APPLICATION_LODGED", EvTakeChargeRequested, ao, do, EventFields{}, "", KindInvalidArgument},
		// Anchors: holders only, case open.
		{"HEARING_HELD", EvDocumentAnchored, ao, cw, EventFields{DocumentHash: hash64('a')}, StHearingHeld, ""},
		{"HEARING_HELD", EvDocumentAnchored, bp, cw, EventFields{DocumentHash: hash64('a')}, StHearingHeld, ""},
		{"HEARING_HELD", EvDocumentAnchored, ia, cw, EventFields{DocumentHash: hash64('b')}, "", KindForbidden},
		{"IA_BOUND", EvDocumentAnchored, ia, cw, EventFields{DocumentHash: hash64('b')}, StHearingHeld, ""},
		{"REGISTERED", EvDocumentAnchored, ia, cw, EventFields{DocumentHash: hash64('b')}, "", KindForbidden},
		{"HEARING_HELD", EvDocumentAnchored, aud, au, EventFields{DocumentHash: hash64('b')}, "", KindForbidden},
		{"CLOSED", EvDocumentAnchored, ao, cw, EventFields{DocumentHash: hash64('c')}, "", KindInvalidTransition},
		// Erasure: any holder, in any status, even closed.
		{"CLOSED", EvErasureRequested, ao, cw, EventFields{}, StClosed, ""},
		{"HEARING_HELD", EvErasureRequested, bp, cw, EventFields{}, StHearingHeld, ""},
		{"REGISTERED", EvErasureRequested, ao, cw, EventFields{}, "", KindForbidden}, // not a holder
		{"AO_BOUND", EvErasureRequested, ao, cw, EventFields{}, StRegistered, ""},
		{"HEARING_HELD", EvErasureRequested, ia, cw, EventFields{}, "", KindForbidden},
		{"IA_BOUND", EvErasureRequested, ia, cw, EventFields{}, StHearingHeld, ""},
		{"REGISTERED", EvErasureConfirmed, bp, cw, EventFields{}, "", KindInvalidTransition},
	}
	for _, r := range rows {
		name := r.from + ">" + string(r.code) + ">" + r.msp + "/" + string(r.role)
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, "2026-03-02")
			var prev *CaseState
			if r.from != "" {
				prev = nationalAt(f, r.from)
			}
			in := f.input(r.code, r.fields)
			if spec, _ := Spec(r.code); spec.OnProcedure(ProcedureDublin) && !spec.OnProcedure(ProcedureNational) {
				in = EventInput{VocabularyVersion: 1, Code: r.code, OccurredOn: f.today.String(), EventFields: EventFields{
					RequestedMemberState: "AT", ReceivedOn: f.today.String(), ApplicationRegisteredOn: f.today.String(), Evidence: EvidenceOther}}
			}
			next, ev, err := Apply(prev, pseud, in, f.actor(r.msp, r.role), f.env(ProcedureNational))
			if r.kind != "" {
				if KindOf(err) != r.kind {
					t.Fatalf("got %v, want %s", err, r.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if next.Status != r.want || ev.Code != r.code || ev.MSPID != r.msp || next.Seq != ev.Seq {
				t.Fatalf("status %s seq %d (event %d %s), want %s", next.Status, next.Seq, ev.Seq, ev.Code, r.want)
			}
			assertHolders(t, prev, next, r.code, r.msp)
		})
	}
	// Every row of the national table is exercised by at least one success.
	for _, tr := range nationalTransitions() {
		found := false
		for _, r := range rows {
			if r.code == tr.Event && r.kind == "" && (r.want == tr.To || tr.To == "") {
				found = true
			}
		}
		if !found {
			t.Errorf("no successful case for %s -> %s", tr.Event, tr.To)
		}
	}
}

// assertHolders: holding is explicit. Registering, binding and the
// take-overs the tables mark (FILE_CREATED, RETURN_COUNSELLING) add the
// caller; every other event leaves the holders as they were.
func assertHolders(t *testing.T, prev *CaseState, next CaseState, code EventCode, msp string) {
	t.Helper()
	var want []string
	if prev != nil {
		want = slices.Clone(prev.Holders)
	}
	switch code {
	case EvCaseRegistered, EvCaseBound, EvFileCreated, EvReturnCounselling:
		if !slices.Contains(want, msp) {
			want = append(want, msp)
			slices.Sort(want)
		}
	}
	if !slices.Equal(next.Holders, want) {
		t.Fatalf("%s by %s: holders %v, want %v", code, msp, next.Holders, want)
	}
}

func hash64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func TestReturnCounsellingNeedsNegativeDecision(t *testing.T) {
	f := newFixture(t, "2026-03-02")
	s := nationalAt(f, "HEARING_HELD")
	s = f.step(s, ProcedureNational, f.actor(ao, RoleCaseworker), EvDecisionIssued, EventFields{Outcome: OutcomeRefugeeStatus})
	_, _, err := Apply(s, pseud, f.input(EvReturnCounselling, EventFields{}), f.actor(ia, RoleCaseworker), f.env(ProcedureNational))
	if KindOf(err) != KindInvalidTransition {
		t.Fatalf("return counselling after protection granted: %v", err)
	}
	// An upheld appeal against a rejection also rules it out.
	s2 := nationalAt(f, "APPEAL_FILED")
	s2 = f.step(s2, ProcedureNational, f.actor(ao, RoleCaseworker), EvAppealDecided, EventFields{AppealOutcome: AppealUpheld})
	_, _, err = Apply(s2, pseud, f.input(EvReturnCounselling, EventFields{}), f.actor(ia, RoleCaseworker), f.env(ProcedureNational))
	if KindOf(err) != KindInvalidTransition {
		t.Fatalf("return counselling after an upheld appeal: %v", err)
	}
}

func TestTimeRules(t *testing.T) {
	f := newFixture(t, "2026-03-31")
	a := f.actor(bp, RoleCaseworker)
	reg := func(occurred string) error {
		_, _, err := Apply(nil, pseud, EventInput{VocabularyVersion: 1, Code: EvCaseRegistered, OccurredOn: occurred}, a, f.env(ProcedureNational))
		return err
	}
	tests := []struct {
		occurred string
		kind     Kind
	}{
		{"2026-03-31", ""},
		{"2026-03-01", ""}, // 30 days back: inside the window
		{"2026-02-28", KindInvalidArgument},
		{"2026-04-01", KindInvalidArgument}, // after the transaction's date
	}
	for _, tc := range tests {
		if got := KindOf(reg(tc.occurred)); got != tc.kind {
			t.Errorf("occurredOn %s: %s, want %q", tc.occurred, got, tc.kind)
		}
	}
	// Late entries carry both dates, and so does the state of a case
	// registered late.
	st, ev, err := Apply(nil, pseud, EventInput{VocabularyVersion: 1, Code: EvCaseRegistered, OccurredOn: "2026-03-21"}, a, f.env(ProcedureNational))
	if err != nil || ev.LateDays != 10 || ev.RecordedOn != "2026-03-31" || ev.OccurredOn != "2026-03-21" {
		t.Fatalf("late event %+v, %v", ev, err)
	}
	if st.RegisteredOn != "2026-03-31" || st.RegistrationOccurredOn != "2026-03-21" {
		t.Fatalf("late registration: registeredOn %s, registrationOccurredOn %s", st.RegisteredOn, st.RegistrationOccurredOn)
	}
	// A later workflow step may not be dated before the previous one.
	s := f.step(nil, ProcedureNational, a, EvCaseRegistered, EventFields{})
	in := EventInput{VocabularyVersion: 1, Code: EvIdentityChecked, OccurredOn: "2026-03-30", EventFields: EventFields{EurodacHit: EurodacNone}}
	if _, _, err := Apply(s, pseud, in, a, f.env(ProcedureNational)); KindOf(err) != KindInvalidArgument {
		t.Fatalf("step dated before the previous one: %v", err)
	}
	// The window is configurable.
	f.late = 0
	if got := KindOf(reg("2026-03-30")); got != KindInvalidArgument {
		t.Fatalf("window 0, yesterday: %s", got)
	}
}

func TestErasure(t *testing.T) {
	f := newFixture(t, "2026-03-02")
	s := nationalAt(f, "RETURN_COUNSELLING") // holders: bp, ao, ia
	if want := []string{ao, bp, ia}; !slices.Equal(s.Holders, want) {
		t.Fatalf("holders %v, want %v", s.Holders, want)
	}
	n := ProcedureNational
	s = f.step(s, n, f.actor(ia, RoleCaseworker), EvErasureRequested, EventFields{})
	if !s.Erasure.Open() || !slices.Equal(s.Erasure.Pending, []string{ao, bp, ia}) || s.Erasure.RequestedBy != ia {
		t.Fatalf("erasure %+v", s.Erasure)
	}
	// Frozen: no workflow event, no second request.
	for code, fl := range map[EventCode]EventFields{EvCaseClosed: {ClosureReason: ClosureOther}, EvErasureRequested: {}} {
		_, _, err := Apply(s, pseud, f.input(code, fl), f.actor(ia, RoleCaseworker), f.env(n))
		if k := KindOf(err); k != KindInvalidTransition && k != KindAlreadyExists {
			t.Fatalf("%s on a frozen case: %v", code, err)
		}
	}
	s = f.step(s, n, f.actor(bp, RoleCaseworker), EvErasureConfirmed, EventFields{})
	if _, _, err := Apply(s, pseud, f.input(EvErasureConfirmed, EventFields{}), f.actor(bp, RoleAdmin), f.env(n)); KindOf(err) != KindAlreadyExists {
		t.Fatalf("second confirmation: %v", err)
	}
	s = f.step(s, n, f.actor(ao, RoleAdmin), EvErasureConfirmed, EventFields{})
	if !s.Erasure.Open() || !slices.Equal(s.Erasure.Pending, []string{ia}) || s.Erasure.CompletedOn != "" {
		t.Fatalf("erasure %+v", s.Erasure)
	}
	s = f.step(s, n, f.actor(ia, RoleCaseworker), EvErasureConfirmed, EventFields{})
	if s.Erasure.Open() || s.Erasure.CompletedOn != "2026-03-02" || !slices.Equal(s.Erasure.Confirmed, []string{ao, bp, ia}) {
		t.Fatalf("erasure %+v", s.Erasure)
	}
}

func TestStatuses(t *testing.T) {
	for _, p := range []Procedure{ProcedureNational, ProcedureDublin} {
		sts := Statuses(p)
		if !slices.Contains(sts, StRegistered) || !slices.Contains(sts, StClosed) || slices.Contains(sts, anyActive) || slices.Contains(sts, anyStatus) {
			t.Errorf("%s statuses %v", p, sts)
		}
	}
	if IsStatus(ProcedureNational, StTransferScheduled) || !IsStatus(ProcedureDublin, StTransferScheduled) {
		t.Error("status lists mixed up")
	}
}
