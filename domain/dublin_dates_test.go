package domain

import (
	"strings"
	"testing"
)

// Issue 13: whether a reply, a transfer or an extension was in time is
// decided by its own date; the receipt date that starts a reply period is
// established by the requested state's side.

// ammrHitRequest records an AMMR take charge request on a Eurodac hit, sent
// and received on sentOn (recorded that day), and AT's binding.
func ammrHitRequest(f *fixture, sentOn string) *CaseState {
	f.t.Helper()
	de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
	d := ProcedureDublin
	f.today = date(f.t, sentOn)
	s := f.step(nil, d, de, EvCaseRegistered, EventFields{})
	s = f.step(s, d, de, EvTakeChargeRequested, hitFields(sentOn, "2026-10-01", "2026-10-20"))
	return f.step(s, d, at, EvCaseBound, EventFields{})
}

func (f *fixture) stepOn(prev *CaseState, a Actor, code EventCode, occurred string, fields EventFields) (*CaseState, Event, error) {
	in := EventInput{VocabularyVersion: VocabularyVersion, Code: code, OccurredOn: occurred, EventFields: fields}
	next, ev, err := Apply(prev, pseud, in, a, f.env(ProcedureDublin))
	return &next, ev, err
}

func TestReplyDatedInTimeSupersedesImplicitAcceptance(t *testing.T) {
	type want struct {
		kind       Kind
		status     Status
		acceptedOn string
		transfer   string // transfer deadline after the step ("" none)
	}
	cases := []struct {
		name     string
		code     EventCode
		occurred string
		fields   EventFields
		by       string
		recorded string
		decision bool // DE issued a transfer decision on the implicit acceptance
		want     want
	}{
		// The observed case: rejection dated 18 Nov (due 19 Nov), recorded
		// 4 Dec after IMPLICITLY_ACCEPTED dated 19 Nov.
		{"rejection dated before the deadline", EvRequestRejected, "2026-11-18", EventFields{ReceivedOn: "2026-11-18"}, ps, "2026-12-04", false,
			want{status: StRejected}},
		{"rejection dated on the deadline", EvRequestRejected, "2026-11-19", EventFields{ReceivedOn: "2026-11-19"}, ps, "2026-12-04", false,
			want{status: StRejected}},
		{"rejection supersedes the transfer decision built on the acceptance", EvRequestRejected, "2026-11-18", EventFields{ReceivedOn: "2026-11-18"}, ps, "2026-12-04", true,
			want{status: StRejected}},
		// An explicit acceptance dated in time: the transfer clock runs
		// from its date (6 months from 10 Nov: Mon 10 May 2027), not from
		// the implicit acceptance (19 May).
		{"acceptance dated in time recomputes the transfer clock", EvRequestAccepted, "2026-11-10", EventFields{}, ps, "2026-12-04", false,
			want{status: StAccepted, acceptedOn: "2026-11-10", transfer: "2027-05-10"}},
		{"rejection dated after the deadline", EvRequestRejected, "2026-11-20", EventFields{ReceivedOn: "2026-11-20"}, ps, "2026-12-04", false,
			want{kind: KindDeadlinePassed}},
		{"rejection in time but recorded after the late-recording window", EvRequestRejected, "2026-11-18", EventFields{ReceivedOn: "2026-11-18"}, ps, "2026-12-19", false,
			want{kind: KindInvalidArgument}},
		{"only the requested state replies", EvRequestRejected, "2026-11-18", EventFields{ReceivedOn: "2026-11-18"}, ao, "2026-12-04", false,
			want{kind: KindForbidden}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "2026-11-05")
			s := ammrHitRequest(f, "2026-11-05")
			if got := dueOf(s, DeadlineReply); got != "2026-11-19" {
				t.Fatalf("reply due %s, want 2026-11-19", got)
			}
			f.today = date(t, "2026-11-20")
			s, cons, err := f.resolve(s, f.dublinOfficer(ps))
			if err != nil || s.Status != StImplicitlyAccepted || cons.OccurredOn != "2026-11-19" {
				t.Fatalf("implicit acceptance: %v %s %s", err, s.Status, cons.OccurredOn)
			}
			if s.Dublin.Revocable == nil || s.Dublin.Revocable.Seq != cons.Seq {
				t.Fatalf("consequence not revocable: %+v", s.Dublin.Revocable)
			}
			if dueOf(s, DeadlineTransfer) != "2027-05-19" {
				t.Fatalf("transfer due %s after implicit acceptance", dueOf(s, DeadlineTransfer))
			}
			var decision Event
			if c.decision {
				f.today = date(t, "2026-11-25")
				s, decision, err = f.stepOn(s, f.dublinOfficer(ao), EvTransferDecisionIssued, "2026-11-25", EventFields{})
				if err != nil || s.Dublin.Revocable == nil {
					t.Fatalf("decision: %v (revocable %v)", err, s.Dublin.Revocable)
				}
			}
			f.today = date(t, c.recorded)
			next, ev, err := f.stepOn(s, f.actor(c.by, RoleDublinOfficer), c.code, c.occurred, c.fields)
			if c.want.kind != "" {
				if KindOf(err) != c.want.kind {
					t.Fatalf("got %v, want %s", err, c.want.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if next.Status != c.want.status {
				t.Fatalf("status %s, want %s", next.Status, c.want.status)
			}
			if ev.Supersedes == nil || ev.Supersedes.Seq != cons.Seq || ev.Supersedes.Code != EvImplicitlyAccepted || ev.Supersedes.BySeq != ev.Seq {
				t.Fatalf("event does not name the superseded consequence: %+v", ev.Supersedes)
			}
			d := next.Dublin
			if d.Revocable != nil || len(d.Superseded) != 1 || d.Superseded[0] != *ev.Supersedes {
				t.Fatalf("state: revocable %v superseded %+v", d.Revocable, d.Superseded)
			}
			if _, ok := d.SupersededBy(cons.Seq); !ok {
				t.Fatal("the consequence is not marked superseded")
			}
			if _, ok := d.SupersededBy(ev.Seq); ok {
				t.Fatal("the superseding step is marked superseded")
			}
			if c.decision {
				if _, ok := d.SupersededBy(decision.Seq); !ok {
					t.Fatal("the transfer decision built on the acceptance is not marked superseded")
				}
			}
			if d.Implicit || d.AcceptedOn.String() != c.want.acceptedOn && !(c.want.acceptedOn == "" && d.AcceptedOn.IsZero()) {
				t.Fatalf("acceptedOn %s implicit %v", d.AcceptedOn, d.Implicit)
			}
			if got := dueOf(next, DeadlineTransfer); got != c.want.transfer {
				t.Fatalf("transfer due %q, want %q", got, c.want.transfer)
			}
			if next.LastOccurredOn != c.occurred || next.Seq != ev.Seq {
				t.Fatalf("lastOccurredOn %s seq %d", next.LastOccurredOn, next.Seq)
			}
			// Nothing of the superseded consequence remains to be resolved:
			// after a rejection nothing runs; after an acceptance only the
			// recomputed transfer clock.
			wantKind := KindInvalidTransition
			if c.want.transfer != "" {
				wantKind = KindDeadlineNotReached
			}
			if _, _, err := f.resolve(next, f.dublinOfficer(ps)); KindOf(err) != wantKind {
				t.Fatalf("resolve after supersession: %v", err)
			}
		})
	}
}

// transferCase: Dublin III, DE requests AT; AT accepts on 10 Mar 2026, so
// the transfer is due Thu 10 Sep 2026; a decision and a schedule follow.
func transferCase(f *fixture) *CaseState {
	f.t.Helper()
	de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
	d := ProcedureDublin
	f.today = date(f.t, "2026-03-02")
	s := f.step(nil, d, de, EvCaseRegistered, EventFields{})
	s = f.step(s, d, de, EvTakeChargeRequested, takeCharge(f, "2026-02-10", EvidenceOther, ""))
	f.today = date(f.t, "2026-03-10")
	s = f.step(s, d, at, EvRequestAccepted, EventFields{})
	s = f.step(s, d, de, EvTransferDecisionIssued, EventFields{})
	f.today = date(f.t, "2026-09-01")
	return f.step(s, d, de, EvTransferScheduled, EventFields{ScheduledFor: "2026-09-09"})
}

func TestTransferAndExtensionDatedInTimeSupersedeShift(t *testing.T) {
	cases := []struct {
		name     string
		code     EventCode
		occurred string
		fields   EventFields
		recorded string
		kind     Kind
		status   Status
		transfer string
	}{
		{"transfer completed in time, recorded after the shift", EvTransferCompleted, "2026-09-09", EventFields{}, "2026-09-20", "", StTransferCompleted, ""},
		{"transfer completed on the due day", EvTransferCompleted, "2026-09-10", EventFields{}, "2026-09-20", "", StTransferCompleted, ""},
		{"transfer completed after the deadline", EvTransferCompleted, "2026-09-11", EventFields{}, "2026-09-20", KindDeadlinePassed, "", ""},
		// 1560/2003 Art 9(2): notified before the limit expired; 18 months
		// from acceptance on 10 Mar 2026: Fri 10 Sep 2027.
		{"absconding extension notified in time", EvTransferDeadlineExtended, "2026-09-10", EventFields{ExtensionReason: ExtensionAbsconding}, "2026-09-15", "", StTransferScheduled, "2027-09-10"},
		{"imprisonment extension notified in time", EvTransferDeadlineExtended, "2026-09-08", EventFields{ExtensionReason: ExtensionImprisonment}, "2026-09-15", "", StTransferScheduled, "2027-03-10"},
		{"extension notified after the deadline", EvTransferDeadlineExtended, "2026-09-11", EventFields{ExtensionReason: ExtensionAbsconding}, "2026-09-15", KindDeadlinePassed, "", ""},
		{"extension in time recorded after the window", EvTransferDeadlineExtended, "2026-09-10", EventFields{ExtensionReason: ExtensionAbsconding}, "2026-10-11", KindInvalidArgument, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "2026-03-02")
			s := transferCase(f)
			if dueOf(s, DeadlineTransfer) != "2026-09-10" {
				t.Fatalf("transfer due %s", dueOf(s, DeadlineTransfer))
			}
			f.today = date(t, "2026-09-11")
			s, cons, err := f.resolve(s, f.dublinOfficer(ps))
			if err != nil || s.Status != StResponsibilityShifted {
				t.Fatalf("shift: %v %s", err, s.Status)
			}
			f.today = date(t, c.recorded)
			next, ev, err := f.stepOn(s, f.dublinOfficer(ao), c.code, c.occurred, c.fields)
			if c.kind != "" {
				if KindOf(err) != c.kind {
					t.Fatalf("got %v, want %s", err, c.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if next.Status != c.status || ev.Supersedes == nil || ev.Supersedes.Seq != cons.Seq || ev.Supersedes.Code != EvResponsibilityShifted {
				t.Fatalf("status %s supersedes %+v", next.Status, ev.Supersedes)
			}
			if got := dueOf(next, DeadlineTransfer); got != c.transfer {
				t.Fatalf("transfer due %q, want %q", got, c.transfer)
			}
		})
	}
}

// The consequence binds a member state while it can be superseded: no
// erasure freezes the case before the late-recording window has passed.
func TestRevocableConsequenceBlocksErasure(t *testing.T) {
	f := newFixture(t, "2026-11-05")
	s := ammrHitRequest(f, "2026-11-05")
	f.today = date(t, "2026-11-20")
	s, _, err := f.resolve(s, f.dublinOfficer(ps))
	if err != nil {
		t.Fatal(err)
	}
	// Until 19 Nov + 30 days the revocable reply deadline binds; then only
	// the transfer clock the acceptance started does.
	f.today = date(t, "2026-12-19")
	_, _, err = f.stepOn(s, f.dublinOfficer(ao), EvErasureRequested, "2026-12-19", EventFields{})
	if KindOf(err) != KindInvalidTransition || !strings.Contains(err.Error(), "REPLY deadline (due 2026-11-19") {
		t.Fatalf("erasure inside the window: %v", err)
	}
	f.today = date(t, "2026-12-20")
	_, _, err = f.stepOn(s, f.dublinOfficer(ao), EvErasureRequested, "2026-12-20", EventFields{})
	if KindOf(err) != KindInvalidTransition || !strings.Contains(err.Error(), "TRANSFER deadline") {
		t.Fatalf("erasure after the window: %v", err)
	}
}

// A completed transfer or a closure ends what could be superseded.
func TestClosureEndsRevocable(t *testing.T) {
	f := newFixture(t, "2026-11-05")
	s := ammrHitRequest(f, "2026-11-05")
	f.today = date(t, "2026-11-20")
	s, _, _ = f.resolve(s, f.dublinOfficer(ps))
	s, _, err := f.stepOn(s, f.dublinOfficer(ao), EvCaseClosed, "2026-11-20", EventFields{ClosureReason: ClosureResponsible})
	if err != nil || s.Dublin.Revocable != nil {
		t.Fatalf("close: %v revocable %v", err, s.Dublin.Revocable)
	}
	f.today = date(t, "2026-11-25")
	if _, _, err := f.stepOn(s, f.dublinOfficer(ps), EvRequestRejected, "2026-11-18", EventFields{ReceivedOn: "2026-11-18"}); KindOf(err) != KindInvalidTransition {
		t.Fatalf("reply after closure: %v", err)
	}
}

// §2: the requesting state records on 4 Dec a request it says was received
// on 5 Nov. Until the requested state acknowledges that date, the reply
// period runs from the day the request reached the ledger.
func TestBackDatedReceiptNeedsAcknowledgement(t *testing.T) {
	de, at := ao, ps
	cases := []struct {
		name     string
		ackBy    string
		ackOn    string // "" no acknowledgement
		kind     Kind
		received string
		due      string
	}{
		{"not acknowledged: the period runs from the ledger date", "", "", "", "2026-12-04", "2026-12-18"},
		{"requested state acknowledges the claimed date", at, "2026-11-05", "", "2026-11-05", "2026-11-19"},
		{"requested state acknowledges a date in between", at, "2026-11-20", "", "2026-11-20", "2026-12-04"},
		{"requesting state cannot acknowledge", de, "2026-11-05", KindForbidden, "", ""},
		{"receipt not after the ledger date", at, "2026-12-05", KindInvalidArgument, "", ""},
		{"receipt not before the request was sent", at, "2026-11-04", KindInvalidArgument, "", ""},
		{"acknowledged on the ledger date: unchanged", at, "2026-12-04", "", "2026-12-04", "2026-12-18"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "2026-12-04")
			s, _, err := f.stepOn(nil, f.dublinOfficer(de), EvCaseRegistered, "2026-11-05", EventFields{})
			if err != nil {
				t.Fatal(err)
			}
			in := EventInput{VocabularyVersion: VocabularyVersion, Code: EvTakeChargeRequested, OccurredOn: "2026-11-05",
				EventFields: hitFields("2026-11-05", "2026-10-01", "2026-10-20")}
			next, _, err := Apply(s, pseud, in, f.dublinOfficer(de), f.env(ProcedureDublin))
			if err != nil {
				t.Fatal(err)
			}
			s = &next
			if s.Dublin.ClaimedReceivedOn.String() != "2026-11-05" || s.Dublin.RequestOnLedgerOn.String() != "2026-12-04" {
				t.Fatalf("claimed %s on ledger %s", s.Dublin.ClaimedReceivedOn, s.Dublin.RequestOnLedgerOn)
			}
			// The observed case: AT's gateway could record the implicit
			// acceptance at once. Not any more.
			if _, _, err := f.resolve(s, f.dublinOfficer(at)); KindOf(err) != KindDeadlineNotReached {
				t.Fatalf("resolve before acknowledgement: %v", err)
			}
			if c.ackOn != "" {
				s, _, err = f.stepOn(s, f.dublinOfficer(c.ackBy), EvReceiptAcknowledged, c.ackOn, EventFields{})
				if c.kind != "" {
					if KindOf(err) != c.kind {
						t.Fatalf("got %v, want %s", err, c.kind)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if s.Dublin.RequestReceivedOn.String() != c.received || dueOf(s, DeadlineReply) != c.due {
				t.Fatalf("received %s due %s, want %s %s", s.Dublin.RequestReceivedOn, dueOf(s, DeadlineReply), c.received, c.due)
			}
			res, ev, err := f.resolve(s, f.dublinOfficer(at))
			if c.due < "2026-12-04" {
				if err != nil || res.Status != StImplicitlyAccepted || ev.OccurredOn != c.due {
					t.Fatalf("acknowledged earlier receipt: the period has run out: %v %s", err, ev.OccurredOn)
				}
			} else if KindOf(err) != KindDeadlineNotReached {
				t.Fatalf("resolve: %v", err)
			}
		})
	}
}

// An acknowledgement may only move the receipt date earlier: an automatic
// one (the ledger date) followed by the officer's earlier date works; a
// later one is ALREADY_EXISTS.
func TestAcknowledgementOnlyEarlier(t *testing.T) {
	f := newFixture(t, "2026-12-04")
	de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
	s, _, err := f.stepOn(nil, de, EvCaseRegistered, "2026-11-05", EventFields{})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err = f.stepOn(s, de, EvTakeChargeRequested, "2026-11-05", hitFields("2026-11-05", "2026-10-01", "2026-10-20"))
	if err != nil {
		t.Fatal(err)
	}
	s, _, err = f.stepOn(s, f.actor(ps, RoleAdmin), EvReceiptAcknowledged, "2026-12-04", EventFields{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.stepOn(s, at, EvReceiptAcknowledged, "2026-12-04", EventFields{}); KindOf(err) != KindAlreadyExists {
		t.Fatalf("repeat: %v", err)
	}
	s, _, err = f.stepOn(s, at, EvReceiptAcknowledged, "2026-11-05", EventFields{})
	if err != nil || dueOf(s, DeadlineReply) != "2026-11-19" || s.LastOccurredOn != "2026-11-05" {
		t.Fatalf("earlier: %v due %s last %s", err, dueOf(s, DeadlineReply), s.LastOccurredOn)
	}
	if _, _, err := f.stepOn(s, at, EvReceiptAcknowledged, "2026-11-20", EventFields{}); KindOf(err) != KindAlreadyExists {
		t.Fatalf("later: %v", err)
	}
}

// An urgent request keeps the length it asked for, counted from the receipt
// date that stands (Dublin III 21(2)/22(6): the requesting state sets it).
func TestUrgentPeriodFollowsTheReceiptThatStands(t *testing.T) {
	f := newFixture(t, "2026-03-12") // Thu
	de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
	s, _, err := f.stepOn(nil, de, EvCaseRegistered, "2026-03-02", EventFields{})
	if err != nil {
		t.Fatal(err)
	}
	fields := reqFields("2026-03-02", "2026-02-10", EvidenceOther)
	fields.Urgent, fields.UrgentReplyDue = ptr(true), "2026-03-09" // one week
	s, _, err = f.stepOn(s, de, EvTakeChargeRequested, "2026-03-02", fields)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dublin.UrgentDays != 7 || dueOf(s, DeadlineReply) != "2026-03-19" {
		t.Fatalf("from the ledger date: %d days, due %s", s.Dublin.UrgentDays, dueOf(s, DeadlineReply))
	}
	s, _, err = f.stepOn(s, at, EvReceiptAcknowledged, "2026-03-02", EventFields{})
	if err != nil || dueOf(s, DeadlineReply) != "2026-03-09" {
		t.Fatalf("acknowledged: %v due %s", err, dueOf(s, DeadlineReply))
	}
}
