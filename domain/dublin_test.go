package domain

import (
	"slices"
	"testing"

	"github.com/caseledger/caseledger/domain/deadline"
)

func (f *fixture) dublinOfficer(msp string) Actor { return f.actor(msp, RoleDublinOfficer) }

// dueOf returns the due day of a running deadline ("" if none).
func dueOf(s *CaseState, k DeadlineKind) string {
	dl, ok := s.Dublin.deadline(k)
	if !ok {
		return ""
	}
	return dl.Due.String()
}

func (f *fixture) refuse(prev *CaseState, a Actor, code EventCode, fields EventFields, want Kind) {
	f.t.Helper()
	_, _, err := Apply(prev, pseud, f.input(code, fields), a, f.env(ProcedureDublin))
	if KindOf(err) != want {
		f.t.Fatalf("%s by %s/%s: got %v, want %s", code, a.Member.MSPID, a.Role, err, want)
	}
}

func (f *fixture) resolve(prev *CaseState, a Actor) (*CaseState, Event, error) {
	next, ev, err := ResolveDeadlines(prev, a, f.env(ProcedureDublin))
	return &next, ev, err
}

func takeCharge(f *fixture, appRegistered string, evidence Evidence, hitOn string) EventFields {
	return EventFields{RequestedMemberState: "AT", ReceivedOn: f.today.String(), ApplicationRegisteredOn: appRegistered,
		Evidence: evidence, EvidenceReceivedOn: hitOn}
}

// TestDublinIIIImplicitAcceptanceToShift walks a Dublin III case from the
// request through implicit acceptance, a suspensive appeal, an extension
// and the lapse of the transfer deadline. Expected days are computed by hand.
func TestDublinIIIImplicitAcceptanceToShift(t *testing.T) {
	f := newFixture(t, "2026-03-02") // Monday
	de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
	d := ProcedureDublin
	s := f.step(nil, d, de, EvCaseRegistered, EventFields{})
	if s.Dublin.RequestingMemberState != "DE" {
		t.Fatalf("requesting state %q", s.Dublin.RequestingMemberState)
	}
	s = f.step(s, d, de, EvTakeChargeRequested, takeCharge(f, "2026-02-10", EvidenceOther, ""))
	// 2 months from 2 March = Sat 2 May -> Mon 4 May (Art 22(1); 1182/71 Art 3(4)).
	if s.Dublin.Regime != deadline.DublinIII || dueOf(s, DeadlineReply) != "2026-05-04" {
		t.Fatalf("regime %s reply due %s", s.Dublin.Regime, dueOf(s, DeadlineReply))
	}
	dl, _ := s.Dublin.deadline(DeadlineReply)
	if dl.ActingMemberState != "AT" || dl.OnLapse != deadline.ImplicitAcceptance || !slices.Equal(dl.HolidaysMissing, []int{2026}) {
		t.Fatalf("reply deadline %+v", dl)
	}

	// The requesting state cannot reply to itself; the requested state's
	// caseworker role may not reply; silence cannot be recorded early.
	f.refuse(s, de, EvRequestAccepted, EventFields{}, KindForbidden)
	f.refuse(s, f.actor(ps, RoleCaseworker), EvRequestAccepted, EventFields{}, KindForbidden)
	f.refuse(s, de, EvImplicitlyAccepted, EventFields{}, KindInvalidArgument) // system event: ResolveDeadlines only
	f.today = date(t, "2026-05-04")
	if _, _, err := f.resolve(s, de); KindOf(err) != KindDeadlineNotReached {
		t.Fatalf("resolve on the last day: %v", err)
	}
	f.today = date(t, "2026-05-05")
	f.refuse(s, at, EvRequestAccepted, EventFields{}, KindDeadlinePassed)
	f.refuse(s, at, EvRequestRejected, EventFields{ReceivedOn: "2026-05-05"}, KindDeadlinePassed)
	s, ev, err := f.resolve(s, at) // any writing member may resolve
	if err != nil {
		t.Fatal(err)
	}
	if ev.Code != EvImplicitlyAccepted || ev.OccurredOn != "2026-05-04" || s.Status != StImplicitlyAccepted || !s.Dublin.Implicit {
		t.Fatalf("implicit acceptance %+v / %+v", ev, s)
	}
	// Transfer: 6 months from 4 May = Wed 4 Nov (Art 29(1)).
	if dueOf(s, DeadlineTransfer) != "2026-11-04" || dueOf(s, DeadlineReply) != "" || dueOf(s, DeadlineTransferDecision) != "" {
		t.Fatalf("deadlines %+v", s.Dublin.Deadlines)
	}
	if _, _, err := f.resolve(s, de); KindOf(err) != KindDeadlineNotReached {
		t.Fatalf("resolve before the transfer deadline: %v", err)
	}

	f.today = date(t, "2026-05-11")
	s = f.step(s, d, de, EvTransferDecisionIssued, EventFields{})
	f.refuse(s, at, EvAppealFiled, EventFields{Suspensive: ptr(true)}, KindForbidden)
	f.today = date(t, "2026-05-20")
	s = f.step(s, d, de, EvAppealFiled, EventFields{Suspensive: ptr(true)})
	if dueOf(s, DeadlineTransfer) != "" {
		t.Fatal("a suspensive appeal must stop the transfer clock")
	}
	f.today = date(t, "2026-06-10")
	s = f.step(s, d, de, EvAppealDecided, EventFields{AppealOutcome: AppealDismissed})
	// Restarted from the final decision: 10 Jun + 6 months = Thu 10 Dec.
	if s.Status != StTransferDecisionIssued || dueOf(s, DeadlineTransfer) != "2026-12-10" {
		t.Fatalf("after the appeal: %s, transfer due %s", s.Status, dueOf(s, DeadlineTransfer))
	}
	f.today = date(t, "2026-07-01")
	s = f.step(s, d, de, EvTransferDeadlineExtended, EventFields{ExtensionReason: ExtensionAbsconding})
	// 18 months from 10 Jun 2026 = Fri 10 Dec 2027 (Art 29(2)).
	if dueOf(s, DeadlineTransfer) != "2027-12-10" {
		t.Fatalf("extended transfer due %s", dueOf(s, DeadlineTransfer))
	}
	f.refuse(s, de, EvTransferDeadlineExtended, EventFields{ExtensionReason: ExtensionImprisonment}, KindInvalidTransition)
	f.today = date(t, "2027-12-11")
	f.refuse(s, de, EvTransferScheduled, EventFields{ScheduledFor: "2027-12-20"}, KindDeadlinePassed)
	s, ev, err = f.resolve(s, de)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Code != EvResponsibilityShifted || ev.OccurredOn != "2027-12-10" || s.Status != StResponsibilityShifted || len(s.Dublin.Deadlines) != 0 {
		t.Fatalf("shift %+v / %+v", ev, s)
	}
	s = f.step(s, d, de, EvCaseClosed, EventFields{ClosureReason: ClosureResponsible})
	if s.Status != StClosed {
		t.Fatalf("status %s", s.Status)
	}
}

func TestDublinHolidaysOfTheActingState(t *testing.T) {
	f := newFixture(t, "2026-03-02")
	// A (fictitious) Austrian holiday on Mon 4 May moves the reply deadline;
	// a German one on the same day does not (the requested state replies).
	at, err := deadline.NewHolidays([]deadline.Date{date(t, "2026-05-04")})
	if err != nil {
		t.Fatal(err)
	}
	f.holidays["AT"] = map[int]deadline.Holidays{2026: at}
	de := f.dublinOfficer(ao)
	s := f.step(nil, ProcedureDublin, de, EvCaseRegistered, EventFields{})
	s = f.step(s, ProcedureDublin, de, EvTakeChargeRequested, takeCharge(f, "2026-02-10", EvidenceOther, ""))
	dl, _ := s.Dublin.deadline(DeadlineReply)
	if dl.Due.String() != "2026-05-05" || len(dl.HolidaysMissing) != 0 {
		t.Fatalf("reply deadline %+v", dl)
	}
}

func TestAMMRDeadlines(t *testing.T) {
	tests := []struct {
		name        string
		code        EventCode
		evidence    Evidence
		hitOn       string
		reply       string
		consequence deadline.Consequence
	}{
		// AMMR 40(1): one month.
		{"take charge", EvTakeChargeRequested, EvidenceOther, "", "2026-09-03", deadline.ImplicitAcceptance},
		// AMMR 40(2): two weeks on a Eurodac or VIS hit.
		{"take charge, Eurodac", EvTakeChargeRequested, EvidenceEurodacHit, "2026-07-20", "2026-08-17", deadline.ImplicitAcceptance},
		{"take charge, VIS", EvTakeChargeRequested, EvidenceVISHit, "2026-07-20", "2026-08-17", deadline.ImplicitAcceptance},
		// AMMR 41(3): confirmation within two weeks.
		{"take back notification", EvTakeBackNotified, EvidenceEurodacHit, "2026-07-20", "2026-08-17", deadline.ImplicitConfirmation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "2026-08-03") // Monday
			de := f.dublinOfficer(ao)
			s := f.step(nil, ProcedureDublin, de, EvCaseRegistered, EventFields{})
			s = f.step(s, ProcedureDublin, de, tc.code, takeCharge(f, "2026-07-15", tc.evidence, tc.hitOn))
			dl, _ := s.Dublin.deadline(DeadlineReply)
			if s.Dublin.Regime != deadline.AMMR || dl.Due.String() != tc.reply || dl.OnLapse != tc.consequence {
				t.Fatalf("regime %s, reply %+v", s.Dublin.Regime, dl)
			}
			f.today = date(t, "2026-08-10")
			s = f.step(s, ProcedureDublin, f.dublinOfficer(ps), EvRequestAccepted, EventFields{})
			// AMMR 46(1): 6 months; 42(1): transfer decision within 2 weeks.
			if dueOf(s, DeadlineTransfer) != "2027-02-10" || dueOf(s, DeadlineTransferDecision) != "2026-08-24" {
				t.Fatalf("deadlines %+v", s.Dublin.Deadlines)
			}
			s = f.step(s, ProcedureDublin, de, EvTransferDecisionIssued, EventFields{})
			if dueOf(s, DeadlineTransferDecision) != "" {
				t.Fatal("transfer decision deadline still running")
			}
		})
	}
}

func TestDublinRequestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		today  string
		code   EventCode
		fields func(f *fixture) EventFields
		kind   Kind
	}{
		{"take back request under AMMR", "2026-08-03", EvTakeBackRequested, func(f *fixture) EventFields {
			return takeCharge(f, "2026-07-15", EvidenceEurodacHit, "2026-07-20")
		}, KindInvalidArgument},
		{"take back notification under Dublin III", "2026-03-02", EvTakeBackNotified, func(f *fixture) EventFields {
			return takeCharge(f, "2026-02-10", EvidenceEurodacHit, "2026-02-20")
		}, KindInvalidArgument},
		{"urgent under AMMR", "2026-08-03", EvTakeChargeRequested, func(f *fixture) EventFields {
			fl := takeCharge(f, "2026-07-15", EvidenceOther, "")
			fl.Urgent, fl.UrgentReplyDue = ptr(true), "2026-08-17"
			return fl
		}, KindInvalidArgument},
		{"urgent reply shorter than a week", "2026-03-02", EvTakeChargeRequested, func(f *fixture) EventFields {
			fl := takeCharge(f, "2026-02-10", EvidenceOther, "")
			fl.Urgent, fl.UrgentReplyDue = ptr(true), "2026-03-05"
			return fl
		}, KindInvalidArgument},
		{"urgent reply longer than a month", "2026-03-02", EvTakeChargeRequested, func(f *fixture) EventFields {
			fl := takeCharge(f, "2026-02-10", EvidenceOther, "")
			fl.Urgent, fl.UrgentReplyDue = ptr(true), "2026-04-10"
			return fl
		}, KindInvalidArgument},
		{"request to itself", "2026-03-02", EvTakeChargeRequested, func(f *fixture) EventFields {
			fl := takeCharge(f, "2026-02-10", EvidenceOther, "")
			fl.RequestedMemberState = "DE"
			return fl
		}, KindInvalidArgument},
		{"request to a state without a Dublin unit on the channel", "2026-03-02", EvTakeChargeRequested, func(f *fixture) EventFields {
			fl := takeCharge(f, "2026-02-10", EvidenceOther, "")
			fl.RequestedMemberState = "FR"
			return fl
		}, KindInvalidArgument},
		{"receipt before sending", "2026-03-02", EvTakeChargeRequested, func(f *fixture) EventFields {
			fl := takeCharge(f, "2026-02-10", EvidenceOther, "")
			fl.ReceivedOn = "2026-03-01"
			return fl
		}, KindInvalidArgument},
		{"application registered after the request", "2026-03-02", EvTakeChargeRequested, func(f *fixture) EventFields {
			return takeCharge(f, "2026-03-03", EvidenceOther, "")
		}, KindInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.today)
			de := f.dublinOfficer(ao)
			s := f.step(nil, ProcedureDublin, de, EvCaseRegistered, EventFields{})
			f.refuse(s, de, tc.code, tc.fields(f), tc.kind)
		})
	}
}

func TestDublinUrgentReply(t *testing.T) {
	f := newFixture(t, "2026-03-02")
	de := f.dublinOfficer(ao)
	s := f.step(nil, ProcedureDublin, de, EvCaseRegistered, EventFields{})
	fl := takeCharge(f, "2026-02-10", EvidenceOther, "")
	fl.Urgent, fl.UrgentReplyDue = ptr(true), "2026-03-14" // a Saturday
	s = f.step(s, ProcedureDublin, de, EvTakeChargeRequested, fl)
	if dueOf(s, DeadlineReply) != "2026-03-16" || !s.Dublin.Urgent {
		t.Fatalf("urgent reply due %s", dueOf(s, DeadlineReply))
	}
}

func TestDublinRejectionAndReexamination(t *testing.T) {
	f := newFixture(t, "2026-03-02")
	de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
	d := ProcedureDublin
	s := f.step(nil, d, de, EvCaseRegistered, EventFields{})
	s = f.step(s, d, de, EvTakeChargeRequested, takeCharge(f, "2026-02-10", EvidenceOther, ""))
	f.today = date(t, "2026-03-20")
	s = f.step(s, d, at, EvRequestRejected, EventFields{ReceivedOn: "2026-03-20"})
	// 1560/2003 Art 5(2): three weeks from receipt of the negative reply.
	if s.Status != StRejected || dueOf(s, DeadlineReexamination) != "2026-04-10" || dueOf(s, DeadlineReply) != "" {
		t.Fatalf("%s %+v", s.Status, s.Dublin.Deadlines)
	}
	late := *s
	late.Dublin = s.clone().Dublin
	f.today = date(t, "2026-04-13")
	f.refuse(&late, de, EvReexaminationRequested, EventFields{ReceivedOn: "2026-04-13"}, KindDeadlinePassed)
	f.today = date(t, "2026-04-10")
	f.refuse(s, at, EvReexaminationRequested, EventFields{ReceivedOn: "2026-04-10"}, KindForbidden)
	s = f.step(s, d, de, EvReexaminationRequested, EventFields{ReceivedOn: "2026-04-10"})
	dl, _ := s.Dublin.deadline(DeadlineReply)
	if dl.Due.String() != "2026-04-24" || dl.OnLapse != deadline.ProcedureEnds {
		t.Fatalf("re-examination reply target %+v", dl)
	}
	f.today = date(t, "2026-05-04")
	if _, _, err := f.resolve(s, de); KindOf(err) != KindInvalidTransition {
		t.Fatalf("resolve after the re-examination target: %v", err)
	}
	// The target is not binding: a late final rejection is accepted.
	s = f.step(s, d, at, EvRequestRejected, EventFields{ReceivedOn: "2026-05-04"})
	// Only the limit for a new request runs, the one of the first request
	// (3 months from lodging, 21(1)): a re-examination does not extend it
	// (C-47/17).
	if s.Status != StRejected || len(s.Dublin.Deadlines) != 1 || dueOf(s, DeadlineRequest) != "2026-05-11" {
		t.Fatalf("final rejection %s %+v", s.Status, s.Dublin.Deadlines)
	}
	f.refuse(s, de, EvReexaminationRequested, EventFields{ReceivedOn: "2026-05-04"}, KindInvalidTransition)
	// A new request may follow.
	s = f.step(s, d, de, EvTakeChargeRequested, takeCharge(f, "2026-02-10", EvidenceOther, ""))
	if s.Dublin.Requests != 2 || s.Dublin.Reexamined || s.Status != StTakeChargeRequested || s.Dublin.RequestLate || dueOf(s, DeadlineRequest) != "" {
		t.Fatalf("second request %+v", s.Dublin)
	}
}

func TestDublinTransferCompletion(t *testing.T) {
	f := newFixture(t, "2026-03-02")
	de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
	d := ProcedureDublin
	s := f.step(nil, d, de, EvCaseRegistered, EventFields{})
	s = f.step(s, d, de, EvTakeChargeRequested, takeCharge(f, "2026-02-10", EvidenceOther, ""))
	f.today = date(t, "2026-03-16")
	s = f.step(s, d, at, EvCaseBound, EventFields{})
	s = f.step(s, d, at, EvRequestAccepted, EventFields{})
	if dueOf(s, DeadlineTransfer) != "2026-09-16" {
		t.Fatalf("transfer due %s", dueOf(s, DeadlineTransfer))
	}
	f.refuse(s, de, EvTransferScheduled, EventFields{ScheduledFor: "2026-04-01"}, KindInvalidTransition) // no decision yet
	s = f.step(s, d, de, EvTransferDecisionIssued, EventFields{})
	f.refuse(s, de, EvTransferScheduled, EventFields{ScheduledFor: "2026-09-17"}, KindDeadlinePassed)
	s = f.step(s, d, de, EvTransferScheduled, EventFields{ScheduledFor: "2026-04-01"})
	f.refuse(s, at, EvTransferCompleted, EventFields{}, KindForbidden)
	f.today = date(t, "2026-04-01")
	s = f.step(s, d, de, EvTransferCompleted, EventFields{})
	if s.Status != StTransferCompleted || len(s.Dublin.Deadlines) != 0 {
		t.Fatalf("%s %+v", s.Status, s.Dublin.Deadlines)
	}
	if want := []string{ao, ps}; !slices.Equal(s.Holders, want) {
		t.Fatalf("holders %v", s.Holders)
	}
	// Anchors by the involved states only; the auditor never writes.
	s = f.step(s, d, at, EvDocumentAnchored, EventFields{DocumentHash: hash64('d')})
	f.refuse(s, f.actor(aud, RoleAuditor), EvDocumentAnchored, EventFields{DocumentHash: hash64('e')}, KindForbidden)
}
