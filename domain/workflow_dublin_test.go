package domain

import (
	"testing"
)

// dublinAt replays a Dublin III case (DE requests AT) up to a named point.
// The fixture's day moves along; callers set it again as needed.
func dublinAt(f *fixture, point string) *CaseState {
	f.t.Helper()
	de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
	d := ProcedureDublin
	f.today = date(f.t, "2026-03-02")
	s := f.step(nil, d, de, EvCaseRegistered, EventFields{})
	if point == "REGISTERED" {
		return s
	}
	if point == "TAKE_BACK_REQUESTED" {
		return f.step(s, d, de, EvTakeBackRequested, takeCharge(f, "2026-02-10", EvidenceEurodacHit, "2026-02-20"))
	}
	s = f.step(s, d, de, EvTakeChargeRequested, takeCharge(f, "2026-02-10", EvidenceOther, ""))
	if point == "TAKE_CHARGE_REQUESTED" {
		return s
	}
	// From here on the requested state has bound its file to the case.
	s = f.step(s, d, at, EvCaseBound, EventFields{})
	switch point {
	case "BOUND":
		return s
	case "IMPLICITLY_ACCEPTED":
		f.today = date(f.t, "2026-05-05")
		next, _, err := ResolveDeadlines(s, de, f.env(d))
		if err != nil {
			f.t.Fatal(err)
		}
		return &next
	case "REJECTED", "REEXAMINATION_REQUESTED":
		f.today = date(f.t, "2026-03-10")
		s = f.step(s, d, at, EvRequestRejected, EventFields{ReceivedOn: "2026-03-10"})
		if point == "REJECTED" {
			return s
		}
		return f.step(s, d, de, EvReexaminationRequested, EventFields{ReceivedOn: "2026-03-10"})
	}
	f.today = date(f.t, "2026-03-10")
	s = f.step(s, d, at, EvRequestAccepted, EventFields{})
	if point == "ACCEPTED" {
		return s
	}
	if point == "RESPONSIBILITY_SHIFTED" {
		f.today = date(f.t, "2026-09-11") // transfer due Thu 10 Sep
		next, _, err := ResolveDeadlines(s, at, f.env(d))
		if err != nil {
			f.t.Fatal(err)
		}
		return &next
	}
	s = f.step(s, d, de, EvTransferDecisionIssued, EventFields{})
	switch point {
	case "TRANSFER_DECISION_ISSUED":
		return s
	case "APPEAL_FILED":
		return f.step(s, d, de, EvAppealFiled, EventFields{Suspensive: ptr(true)})
	case "APPEAL_FILED_NON_SUSPENSIVE":
		return f.step(s, d, de, EvAppealFiled, EventFields{Suspensive: ptr(false)})
	}
	s = f.step(s, d, de, EvTransferScheduled, EventFields{ScheduledFor: "2026-04-01"})
	if point == "TRANSFER_SCHEDULED" {
		return s
	}
	f.today = date(f.t, "2026-04-01")
	s = f.step(s, d, de, EvTransferCompleted, EventFields{})
	if point == "TRANSFER_COMPLETED" {
		return s
	}
	s = f.step(s, d, de, EvCaseClosed, EventFields{ClosureReason: ClosureTransferred})
	if point == "CLOSED" {
		return s
	}
	f.t.Fatalf("unknown point %s", point)
	return nil
}

func TestDublinTransitions(t *testing.T) {
	type row struct {
		from   string
		today  string // "" keeps the day the replay ended on
		code   EventCode
		msp    string
		role   Role
		fields EventFields
		want   Status
		kind   Kind
	}
	do, cw, ad, au := RoleDublinOfficer, RoleCaseworker, RoleAdmin, RoleAuditor
	rows := []row{
		{"", "", EvCaseRegistered, ao, do, EventFields{}, StRegistered, ""},
		{"", "", EvCaseRegistered, ps, do, EventFields{}, StRegistered, ""},
		{"", "", EvCaseRegistered, ao, cw, EventFields{}, "", KindForbidden},
		{"", "", EvCaseRegistered, aud, au, EventFields{}, "", KindForbidden},
		{"", "", EvCaseRegistered, bp, cw, EventFields{}, "", KindForbidden}, // not on the Dublin channel
		{"REGISTERED", "", EvTakeChargeRequested, ao, do, reqFields("2026-03-02", "2026-02-10", EvidenceOther), StTakeChargeRequested, ""},
		{"REGISTERED", "", EvTakeChargeRequested, ps, do, reqFields("2026-03-02", "2026-02-10", EvidenceOther), "", KindForbidden},
		{"REGISTERED", "", EvTakeBackRequested, ao, do, reqFields("2026-03-02", "2026-02-10", EvidenceOther), StTakeBackRequested, ""},
		{"REGISTERED", "2026-08-03", EvTakeBackNotified, ao, do, hitFields("2026-08-03", "2026-07-15", "2026-07-20"), StTakeBackNotified, ""},
		{"REGISTERED", "", EvRequestAccepted, ps, do, EventFields{}, "", KindInvalidTransition},
		{"REGISTERED", "", EvFileCreated, ao, cw, EventFields{}, "", KindInvalidArgument}, // a national event
		{"REGISTERED", "", EvDocumentAnchored, ps, do, EventFields{DocumentHash: hash64('1')}, "", KindForbidden},
		// The facts that start the request limit, added to a case registered
		// without them: by the requesting state's Dublin unit, before any request.
		{"REGISTERED", "", EvRequestFactsRecorded, ao, do, regFacts("2026-02-10", EvidenceOther, ""), StRegistered, ""},
		{"REGISTERED", "", EvRequestFactsRecorded, ps, do, regFacts("2026-02-10", EvidenceOther, ""), "", KindForbidden},
		{"REGISTERED", "", EvRequestFactsRecorded, ao, cw, regFacts("2026-02-10", EvidenceOther, ""), "", KindForbidden},
		{"REGISTERED", "", EvRequestFactsRecorded, ao, do, EventFields{ApplicationRegisteredOn: "2026-02-10"}, "", KindInvalidArgument},
		{"REGISTERED", "", EvRequestFactsRecorded, ao, do, regFacts("2026-03-03", EvidenceOther, ""), "", KindInvalidArgument}, // after the act
		{"TAKE_CHARGE_REQUESTED", "", EvRequestFactsRecorded, ao, do, regFacts("2026-02-10", EvidenceOther, ""), "", KindInvalidTransition},
		// Binding: only the requested state's Dublin unit, once a request names it.
		{"TAKE_CHARGE_REQUESTED", "", EvCaseBound, ps, do, EventFields{}, StTakeChargeRequested, ""},
		{"TAKE_CHARGE_REQUESTED", "", EvCaseBound, ao, do, EventFields{}, "", KindForbidden},
		{"TAKE_CHARGE_REQUESTED", "", EvCaseBound, ps, cw, EventFields{}, "", KindForbidden},
		{"REGISTERED", "", EvCaseBound, ps, do, EventFields{}, "", KindForbidden},
		{"BOUND", "", EvCaseBound, ps, do, EventFields{}, "", KindAlreadyExists},
		{"CLOSED", "", EvCaseBound, ps, do, EventFields{}, "", KindInvalidTransition},
		{"REGISTERED", "", EvCaseClosed, ao, do, EventFields{ClosureReason: ClosureNoApplication}, StClosed, ""},
		{"TAKE_CHARGE_REQUESTED", "", EvRequestAccepted, ps, do, EventFields{}, StAccepted, ""},
		// Receipt is acknowledged by the requested state only, never later
		// than the day the request reached the ledger.
		{"TAKE_CHARGE_REQUESTED", "", EvReceiptAcknowledged, ps, do, EventFields{}, StTakeChargeRequested, ""},
		{"TAKE_CHARGE_REQUESTED", "", EvReceiptAcknowledged, ps, ad, EventFields{}, StTakeChargeRequested, ""},
		{"TAKE_CHARGE_REQUESTED", "", EvReceiptAcknowledged, ao, do, EventFields{}, "", KindForbidden},
		{"TAKE_CHARGE_REQUESTED", "2026-03-03", EvReceiptAcknowledged, ps, do, EventFields{}, "", KindInvalidArgument},
		{"ACCEPTED", "", EvReceiptAcknowledged, ps, do, EventFields{}, "", KindInvalidTransition},
		// A reply dated in time supersedes an implicit acceptance recorded
		// meanwhile; one dated after the deadline does not.
		{"IMPLICITLY_ACCEPTED", "", EvRequestRejected, ps, do, EventFields{ReceivedOn: "2026-05-05"}, "", KindDeadlinePassed},
		{"IMPLICITLY_ACCEPTED", "", EvRequestAccepted, ao, do, EventFields{}, "", KindForbidden},
		{"TAKE_CHARGE_REQUESTED", "", EvRequestAccepted, ao, do, EventFields{}, "", KindForbidden},
		{"TAKE_CHARGE_REQUESTED", "", EvRequestAccepted, ps, cw, EventFields{}, "", KindForbidden},
		{"TAKE_CHARGE_REQUESTED", "", EvRequestRejected, ps, do, EventFields{ReceivedOn: "2026-03-02"}, StRejected, ""},
		{"TAKE_CHARGE_REQUESTED", "", EvTransferDecisionIssued, ao, do, EventFields{}, "", KindInvalidTransition},
		{"TAKE_CHARGE_REQUESTED", "", EvDocumentAnchored, ps, do, EventFields{DocumentHash: hash64('2')}, "", KindForbidden}, // not bound
		{"BOUND", "", EvDocumentAnchored, ps, do, EventFields{DocumentHash: hash64('2')}, StTakeChargeRequested, ""},
		{"TAKE_CHARGE_REQUESTED", "", EvDocumentAnchored, ao, do, EventFields{DocumentHash: hash64('2')}, StTakeChargeRequested, ""},
		// Erasure on dublin waits while a deadline binds a member state: the
		// reply deadline (implicit acceptance), also once lapsed until its
		// consequence is recorded; the transfer deadline; a re-examination
		// period still open.
		{"TAKE_CHARGE_REQUESTED", "", EvErasureRequested, ao, do, EventFields{}, "", KindInvalidTransition},
		{"BOUND", "", EvErasureRequested, ps, do, EventFields{}, "", KindInvalidTransition},
		{"BOUND", "2026-05-05", EvErasureRequested, ps, do, EventFields{}, "", KindInvalidTransition},
		{"ACCEPTED", "", EvErasureRequested, ps, do, EventFields{}, "", KindInvalidTransition},
		{"IMPLICITLY_ACCEPTED", "", EvErasureRequested, ao, do, EventFields{}, "", KindInvalidTransition},
		{"REJECTED", "", EvErasureRequested, ps, do, EventFields{}, "", KindInvalidTransition},
		{"REJECTED", "2026-04-01", EvErasureRequested, ps, do, EventFields{}, StRejected, ""},
		{"REGISTERED", "", EvErasureRequested, ao, do, EventFields{}, StRegistered, ""},
		{"REGISTERED", "", EvErasureRequested, ps, do, EventFields{}, "", KindForbidden}, // not a holder
		{"TAKE_CHARGE_REQUESTED", "2026-05-05", EvImplicitlyAccepted, ps, ad, EventFields{}, StImplicitlyAccepted, ""},
		{"TAKE_CHARGE_REQUESTED", "2026-05-04", EvImplicitlyAccepted, ps, do, EventFields{}, "", KindDeadlineNotReached},
		{"TAKE_BACK_REQUESTED", "", EvRequestAccepted, ps, do, EventFields{}, StAccepted, ""},
		{"TAKE_BACK_REQUESTED", "2026-03-17", EvImplicitlyAccepted, ao, do, EventFields{}, StImplicitlyAccepted, ""}, // 2 weeks on Eurodac
		{"REJECTED", "", EvReexaminationRequested, ao, do, EventFields{ReceivedOn: "2026-03-10"}, StReexaminationRequested, ""},
		{"REJECTED", "", EvReexaminationRequested, ps, do, EventFields{ReceivedOn: "2026-03-10"}, "", KindForbidden},
		{"REJECTED", "", EvTakeChargeRequested, ao, do, reqFields("2026-03-10", "2026-02-10", EvidenceOther), StTakeChargeRequested, ""},
		{"REJECTED", "", EvCaseClosed, ao, do, EventFields{ClosureReason: ClosureResponsible}, StClosed, ""},
		{"REJECTED", "", EvCaseClosed, ps, do, EventFields{ClosureReason: ClosureResponsible}, "", KindForbidden},
		{"REEXAMINATION_REQUESTED", "", EvRequestAccepted, ps, do, EventFields{}, StAccepted, ""},
		{"REEXAMINATION_REQUESTED", "", EvRequestRejected, ps, do, EventFields{ReceivedOn: "2026-03-10"}, StRejected, ""},
		{"REEXAMINATION_REQUESTED", "", EvReexaminationRequested, ao, do, EventFields{ReceivedOn: "2026-03-10"}, "", KindInvalidTransition},
		{"ACCEPTED", "", EvTransferDecisionIssued, ao, do, EventFields{}, StTransferDecisionIssued, ""},
		{"ACCEPTED", "", EvTransferDecisionIssued, ps, do, EventFields{}, "", KindForbidden},
		{"ACCEPTED", "", EvTransferDeadlineExtended, ao, do, EventFields{ExtensionReason: ExtensionImprisonment}, StAccepted, ""},
		{"ACCEPTED", "", EvTransferScheduled, ao, do, EventFields{ScheduledFor: "2026-04-01"}, "", KindInvalidTransition},
		{"ACCEPTED", "2026-09-11", EvResponsibilityShifted, ps, do, EventFields{}, StResponsibilityShifted, ""},
		{"ACCEPTED", "2026-09-10", EvResponsibilityShifted, ps, do, EventFields{}, "", KindDeadlineNotReached},
		{"ACCEPTED", "2026-09-11", EvTransferDecisionIssued, ao, do, EventFields{}, "", KindDeadlinePassed},
		{"IMPLICITLY_ACCEPTED", "", EvTransferDecisionIssued, ao, do, EventFields{}, StTransferDecisionIssued, ""},
		{"TRANSFER_DECISION_ISSUED", "", EvAppealFiled, ao, do, EventFields{Suspensive: ptr(false)}, StAppealFiled, ""},
		{"TRANSFER_DECISION_ISSUED", "", EvTransferScheduled, ao, do, EventFields{ScheduledFor: "2026-04-01"}, StTransferScheduled, ""},
		{"TRANSFER_DECISION_ISSUED", "", EvTransferCompleted, ao, do, EventFields{}, "", KindInvalidTransition},
		{"APPEAL_FILED", "", EvAppealDecided, ao, do, EventFields{AppealOutcome: AppealDismissed}, StTransferDecisionIssued, ""},
		{"APPEAL_FILED", "", EvAppealDecided, ao, do, EventFields{AppealOutcome: AppealUpheld}, StAccepted, ""},
		{"APPEAL_FILED", "", EvAppealDecided, ps, do, EventFields{AppealOutcome: AppealUpheld}, "", KindForbidden},
		{"APPEAL_FILED", "", EvTransferScheduled, ao, do, EventFields{ScheduledFor: "2026-04-01"}, "", KindInvalidTransition},
		// A suspensive appeal stops the transfer clock: nothing to resolve or extend.
		{"APPEAL_FILED", "2027-01-01", EvResponsibilityShifted, ps, do, EventFields{}, "", KindInvalidTransition},
		{"APPEAL_FILED", "", EvTransferDeadlineExtended, ao, do, EventFields{ExtensionReason: ExtensionAbsconding}, "", KindInvalidTransition},
		// A non-suspensive one does not.
		{"APPEAL_FILED_NON_SUSPENSIVE", "2026-09-11", EvResponsibilityShifted, ps, do, EventFields{}, StResponsibilityShifted, ""},
		{"APPEAL_FILED_NON_SUSPENSIVE", "", EvTransferDeadlineExtended, ao, do, EventFields{ExtensionReason: ExtensionImprisonment}, StAppealFiled, ""},
		{"TRANSFER_DECISION_ISSUED", "", EvCaseClosed, ao, do, EventFields{ClosureReason: ClosureResponsible}, StClosed, ""},
		{"TAKE_CHARGE_REQUESTED", "", EvCaseClosed, ao, do, EventFields{ClosureReason: ClosureResponsible}, "", KindInvalidTransition},
		{"TRANSFER_SCHEDULED", "", EvTransferScheduled, ao, do, EventFields{ScheduledFor: "2026-04-02"}, StTransferScheduled, ""},
		{"TRANSFER_SCHEDULED", "", EvAppealFiled, ao, do, EventFields{Suspensive: ptr(true)}, StAppealFiled, ""},
		{"TRANSFER_SCHEDULED", "", EvTransferCompleted, ao, do, EventFields{}, StTransferCompleted, ""},
		{"TRANSFER_SCHEDULED", "", EvTransferDeadlineExtended, ao, do, EventFields{ExtensionReason: ExtensionAbsconding}, StTransferScheduled, ""},
		{"TRANSFER_COMPLETED", "", EvCaseClosed, ao, do, EventFields{ClosureReason: ClosureTransferred}, StClosed, ""},
		{"TRANSFER_COMPLETED", "", EvErasureRequested, ps, do, EventFields{}, StTransferCompleted, ""},
		{"TRANSFER_COMPLETED", "", EvTransferDeadlineExtended, ao, do, EventFields{ExtensionReason: ExtensionAbsconding}, "", KindInvalidTransition},
		{"RESPONSIBILITY_SHIFTED", "", EvCaseClosed, ao, do, EventFields{ClosureReason: ClosureResponsible}, StClosed, ""},
		{"RESPONSIBILITY_SHIFTED", "", EvTransferCompleted, ao, do, EventFields{}, "", KindInvalidTransition},
		{"CLOSED", "", EvErasureRequested, ao, do, EventFields{}, StClosed, ""},
		{"CLOSED", "", EvDocumentAnchored, ao, do, EventFields{DocumentHash: hash64('3')}, "", KindInvalidTransition},
	}
	for _, r := range rows {
		name := r.from + ">" + string(r.code) + ">" + r.msp + "/" + string(r.role) + "@" + r.today
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, "2026-03-02")
			var prev *CaseState
			if r.from != "" {
				prev = dublinAt(f, r.from)
			}
			if r.today != "" {
				f.today = date(t, r.today)
			}
			a := f.actor(r.msp, r.role)
			var next CaseState
			var err error
			if spec, _ := Spec(r.code); spec.System {
				next, _, err = ResolveDeadlines(prev, a, f.env(ProcedureDublin))
			} else {
				next, _, err = Apply(prev, pseud, f.input(r.code, r.fields), a, f.env(ProcedureDublin))
			}
			if r.kind != "" {
				if KindOf(err) != r.kind {
					t.Fatalf("got %v, want %s", err, r.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if next.Status != r.want || next.LastEvent != r.code {
				t.Fatalf("status %s after %s, want %s", next.Status, next.LastEvent, r.want)
			}
		})
	}
	for _, tr := range dublinTransitions() {
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

func reqFields(received, appRegistered string, e Evidence) EventFields {
	return EventFields{RequestedMemberState: "AT", ReceivedOn: received, ApplicationRegisteredOn: appRegistered, Evidence: e}
}

func hitFields(received, appRegistered, hitOn string) EventFields {
	return EventFields{RequestedMemberState: "AT", ReceivedOn: received, ApplicationRegisteredOn: appRegistered,
		Evidence: EvidenceEurodacHit, EvidenceReceivedOn: hitOn}
}
