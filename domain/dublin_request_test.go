package domain

import (
	"slices"
	"testing"

	"github.com/caseledger/caseledger/domain/deadline"
)

// Issue 13 §3: time limits for sending requests, re-examination only where
// the rule table provides it, the regime as two facts. Every expected day is
// computed by hand (1182/71 Art 3; weekends only, no holiday calendar).

// applyCfg applies a step dated occurred, recorded on f.today, under cfg.
func (f *fixture) applyCfg(cfg deadline.Config, prev *CaseState, a Actor, code EventCode, occurred string, fields EventFields) (*CaseState, Event, error) {
	env := f.env(ProcedureDublin)
	env.Deadlines = cfg
	in := EventInput{VocabularyVersion: VocabularyVersion, Code: code, OccurredOn: occurred, EventFields: fields}
	next, ev, err := Apply(prev, pseud, in, a, env)
	return &next, ev, err
}

func regFacts(appOn string, e Evidence, hitOn string) EventFields {
	return EventFields{ApplicationRegisteredOn: appOn, Evidence: e, EvidenceReceivedOn: hitOn}
}

func TestRequestLimitOnTheBoardBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		name       string
		facts      EventFields
		criteria   deadline.Regime
		pending    deadline.PendingProcedure
		request    string // due of DeadlineRequest
		step       deadline.Step
		notify     string // due of DeadlineTakeBackNotification ("" none)
		lapse      deadline.Consequence
		wantNoneOf bool // no facts: nothing runs
	}{
		// Dublin III 21(1): 3 months from lodging (Mon 2 Mar 2026 → Tue 2 Jun).
		{"Dublin III, 3 months from lodging", regFacts("2026-03-02", EvidenceOther, ""), deadline.DublinIII, deadline.PendingAMMRAfterSwitch,
			"2026-06-02", deadline.TakeChargeRequest, "", deadline.RequestingStateResponsible, false},
		// Dublin III 21(1): 2 months from a Eurodac hit (10 Mar → Sun 10 May → Mon 11 May).
		{"Dublin III, 2 months from a Eurodac hit", regFacts("2026-03-02", EvidenceEurodacHit, "2026-03-10"), deadline.DublinIII, deadline.PendingAMMRAfterSwitch,
			"2026-05-11", deadline.TakeChargeRequestHit, "", deadline.RequestingStateResponsible, false},
		// Dublin III: a VIS hit has no special rule, 3 months from lodging.
		{"Dublin III, VIS hit: 3 months from lodging", regFacts("2026-03-02", EvidenceVISHit, "2026-03-10"), deadline.DublinIII, deadline.PendingAMMRAfterSwitch,
			"2026-06-02", deadline.TakeChargeRequest, "", deadline.RequestingStateResponsible, false},
		// AMMR 39(1): 2 months from registration (3 Aug → Sat 3 Oct → Mon 5 Oct).
		{"AMMR, 2 months from registration", regFacts("2026-08-03", EvidenceOther, ""), deadline.AMMR, "",
			"2026-10-05", deadline.TakeChargeRequest, "", deadline.RequestingStateResponsible, false},
		// AMMR 39(1): 1 month from a VIS hit (5 Aug → Sat 5 Sep → Mon 7 Sep).
		{"AMMR, 1 month from a VIS hit", regFacts("2026-08-03", EvidenceVISHit, "2026-08-05"), deadline.AMMR, "",
			"2026-09-07", deadline.TakeChargeRequestHit, "", deadline.RequestingStateResponsible, false},
		// AMMR 39(1) and 41(1): on a Eurodac hit both limits run; the
		// notification's 2 weeks (Wed 19 Aug) has no lapse consequence.
		{"AMMR, Eurodac hit: request 1 month, notification 2 weeks", regFacts("2026-08-03", EvidenceEurodacHit, "2026-08-05"), deadline.AMMR, "",
			"2026-09-07", deadline.TakeChargeRequestHit, "2026-08-19", deadline.RequestingStateResponsible, false},
		// The switch day itself is AMMR (configured SwitchDayRegime).
		{"registered on the switch day: AMMR criteria", regFacts("2026-07-01", EvidenceOther, ""), deadline.AMMR, "",
			"2026-09-01", deadline.TakeChargeRequest, "", deadline.RequestingStateResponsible, false},
		{"no facts: no limit", EventFields{}, "", "", "", "", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "2026-08-06")
			s := f.step(nil, ProcedureDublin, f.dublinOfficer(ao), EvCaseRegistered, c.facts)
			d := s.Dublin
			if rf := d.RegimeFacts(); rf.Criteria != c.criteria || rf.Limits != c.criteria || rf.PendingProcedure != c.pending {
				t.Fatalf("regime facts before a request %+v", rf)
			}
			if c.wantNoneOf {
				if len(d.Deadlines) != 0 || d.CriteriaRegime != "" {
					t.Fatalf("deadlines without facts: %+v", d)
				}
				return
			}
			if d.CriteriaRegime != c.criteria || d.PendingProcedure != c.pending || d.Regime != "" {
				t.Fatalf("criteria %s pending %q limits %q", d.CriteriaRegime, d.PendingProcedure, d.Regime)
			}
			dl, ok := d.deadline(DeadlineRequest)
			if !ok || dl.Due.String() != c.request || dl.Step != c.step || dl.OnLapse != c.lapse || dl.ActingMemberState != "DE" {
				t.Fatalf("request limit %+v", dl)
			}
			if dueOf(s, DeadlineTakeBackNotification) != c.notify {
				t.Fatalf("notification limit %q, want %q", dueOf(s, DeadlineTakeBackNotification), c.notify)
			}
			if n, ok := d.deadline(DeadlineTakeBackNotification); ok && (n.OnLapse != deadline.ConsequenceNone || n.Article != "2024/1351 Art 41(1)") {
				t.Fatalf("notification %+v", n)
			}
			// The limit binds only the requesting state: it may erase.
			if _, binding := s.bindingDeadline(f.env(ProcedureDublin)); binding {
				t.Fatal("a request limit must not hold back erasure")
			}
		})
	}
}

func TestRegistrationFactsRefused(t *testing.T) {
	f := newFixture(t, "2026-08-06")
	de := f.dublinOfficer(ao)
	for _, c := range []struct {
		name   string
		p      Procedure
		a      Actor
		fields EventFields
		want   Kind
	}{
		{"national channel", ProcedureNational, f.actor(ao, RoleCaseworker), regFacts("2026-08-03", EvidenceOther, ""), KindInvalidArgument},
		{"application without evidence", ProcedureDublin, de, EventFields{ApplicationRegisteredOn: "2026-08-03"}, KindInvalidArgument},
		{"evidence without application", ProcedureDublin, de, EventFields{Evidence: EvidenceOther}, KindInvalidArgument},
		{"hit without its date", ProcedureDublin, de, regFacts("2026-08-03", EvidenceEurodacHit, ""), KindInvalidArgument},
		{"hit date alone", ProcedureDublin, de, EventFields{EvidenceReceivedOn: "2026-08-05"}, KindInvalidArgument},
		{"application after the registration", ProcedureDublin, de, regFacts("2026-08-07", EvidenceOther, ""), KindInvalidArgument},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := Apply(nil, pseud, f.input(EvCaseRegistered, c.fields), c.a, f.env(c.p))
			if KindOf(err) != c.want {
				t.Fatalf("got %v, want %s", err, c.want)
			}
		})
	}
}

func TestLateRequest(t *testing.T) {
	type want struct {
		kind      Kind
		late      bool
		limit     string
		replyDue  string
		lapse     deadline.Consequence
		resolveOK bool // the reply deadline's lapse is recorded as implicit acceptance
	}
	cases := []struct {
		name    string
		reg     EventFields // registration facts (zero: none)
		code    EventCode
		sentOn  string
		request EventFields
		want    want
	}{
		// Dublin III 21(1): lodged 2 Mar, limit Tue 2 Jun. Sent on the last day.
		{"Dublin III take charge on the last day", regFacts("2026-03-02", EvidenceOther, ""), EvTakeChargeRequested, "2026-06-02",
			reqFields("2026-06-02", "2026-03-02", EvidenceOther),
			want{limit: "2026-06-02", replyDue: "2026-08-03", lapse: deadline.ImplicitAcceptance, resolveOK: true}},
		// One day late: recorded with that fact, silence is no acceptance.
		{"Dublin III take charge one day late", regFacts("2026-03-02", EvidenceOther, ""), EvTakeChargeRequested, "2026-06-03",
			reqFields("2026-06-03", "2026-03-02", EvidenceOther),
			want{late: true, limit: "2026-06-02", replyDue: "2026-08-03", lapse: deadline.ConsequenceNone}},
		// The request's own facts decide when the registration carried none.
		{"Dublin III late, facts only on the request", EventFields{}, EvTakeChargeRequested, "2026-06-03",
			reqFields("2026-06-03", "2026-03-02", EvidenceOther),
			want{late: true, limit: "2026-06-02", replyDue: "2026-08-03", lapse: deadline.ConsequenceNone}},
		// Dublin III 23(2): take back on a Eurodac hit, 2 months from the hit
		// (10 Mar → Mon 11 May); sent 12 May; reply 2 weeks (25(2)).
		{"Dublin III take back late", regFacts("2026-03-02", EvidenceEurodacHit, "2026-03-10"), EvTakeBackRequested, "2026-05-12",
			hitFieldsOn("2026-05-12", "2026-03-02", "2026-03-10"),
			want{late: true, limit: "2026-05-11", replyDue: "2026-05-26", lapse: deadline.ConsequenceNone}},
		// AMMR 39(1): registered 3 Aug, VIS hit 5 Aug → limit Mon 7 Sep; sent 8 Sep.
		{"AMMR take charge late", regFacts("2026-08-03", EvidenceVISHit, "2026-08-05"), EvTakeChargeRequested, "2026-09-08",
			EventFields{RequestedMemberState: "AT", ReceivedOn: "2026-09-08", ApplicationRegisteredOn: "2026-08-03", Evidence: EvidenceVISHit, EvidenceReceivedOn: "2026-08-05"},
			want{late: true, limit: "2026-09-07", replyDue: "2026-09-22", lapse: deadline.ConsequenceNone}},
		// AMMR 41(1): a late take back notification does not shift
		// responsibility: silence still confirms (41(4)).
		{"AMMR take back notification late still binds", regFacts("2026-08-03", EvidenceEurodacHit, "2026-08-05"), EvTakeBackNotified, "2026-08-20",
			hitFieldsOn("2026-08-20", "2026-08-03", "2026-08-05"),
			want{late: true, limit: "2026-08-19", replyDue: "2026-09-03", lapse: deadline.ImplicitConfirmation, resolveOK: true}},
		// A request cannot run from other facts than the registration's.
		{"other application date than registered", regFacts("2026-03-02", EvidenceOther, ""), EvTakeChargeRequested, "2026-06-03",
			reqFields("2026-06-03", "2026-03-05", EvidenceOther), want{kind: KindInvalidArgument}},
		{"registered hit dropped from the request", regFacts("2026-03-02", EvidenceEurodacHit, "2026-03-10"), EvTakeChargeRequested, "2026-05-12",
			reqFields("2026-05-12", "2026-03-02", EvidenceOther), want{kind: KindInvalidArgument}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.sentOn)
			de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
			s := f.step(nil, ProcedureDublin, de, EvCaseRegistered, c.reg)
			next, _, err := f.stepOn(s, de, c.code, c.sentOn, c.request)
			if c.want.kind != "" {
				if KindOf(err) != c.want.kind {
					t.Fatalf("got %v, want %s", err, c.want.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := next.Dublin
			if lr, late := d.LateRequest(); late != c.want.late || late && lr.Due.String() != c.want.limit {
				t.Fatalf("LateRequest %+v %v", lr, late)
			}
			if d.RequestLate != c.want.late || d.RequestLimit == nil || d.RequestLimit.Due.String() != c.want.limit {
				t.Fatalf("late %v limit %+v", d.RequestLate, d.RequestLimit)
			}
			if dueOf(next, DeadlineRequest) != "" || dueOf(next, DeadlineTakeBackNotification) != "" {
				t.Fatalf("request limits still on the board: %+v", d.Deadlines)
			}
			reply, _ := d.deadline(DeadlineReply)
			if reply.Due.String() != c.want.replyDue || reply.OnLapse != c.want.lapse || reply.RequestLate != (c.want.late && !c.want.resolveOK) {
				t.Fatalf("reply deadline %+v", reply)
			}
			f.today = date(t, c.want.replyDue).AddDays(1)
			_, ev, err := f.resolve(next, at)
			switch {
			case c.want.resolveOK && (err != nil || ev.Code != EvImplicitlyAccepted):
				t.Fatalf("implicit acceptance: %v %+v", err, ev)
			case !c.want.resolveOK && KindOf(err) != KindInvalidTransition:
				t.Fatalf("a late request ended in %+v, %v", ev, err)
			}
			if !c.want.resolveOK {
				// The requested state may still accept explicitly.
				acc, _, err := f.stepOn(next, at, EvRequestAccepted, c.want.replyDue, EventFields{})
				if err != nil || acc.Status != StAccepted {
					t.Fatalf("explicit acceptance of a late request: %v", err)
				}
			}
		})
	}
}

func hitFieldsOn(received, appOn, hitOn string) EventFields {
	return EventFields{RequestedMemberState: "AT", ReceivedOn: received, ApplicationRegisteredOn: appOn,
		Evidence: EvidenceEurodacHit, EvidenceReceivedOn: hitOn}
}

func TestRegimeIsTwoFacts(t *testing.T) {
	d3 := deadline.DefaultConfig()
	d3.PendingProcedure = deadline.PendingDublinIII
	for _, c := range []struct {
		name     string
		cfg      deadline.Config
		appOn    string
		sentOn   string
		criteria deadline.Regime
		limits   deadline.Regime
		pending  deadline.PendingProcedure
	}{
		{"Dublin III application, request before the switch", deadline.DefaultConfig(), "2026-06-01", "2026-06-20", deadline.DublinIII, deadline.DublinIII, deadline.PendingAMMRAfterSwitch},
		{"Dublin III application, request after the switch (default choice)", deadline.DefaultConfig(), "2026-06-01", "2026-07-02", deadline.DublinIII, deadline.AMMR, deadline.PendingAMMRAfterSwitch},
		{"Dublin III application, request after the switch (Dublin III limits configured)", d3, "2026-06-01", "2026-07-02", deadline.DublinIII, deadline.DublinIII, deadline.PendingDublinIII},
		{"AMMR application", deadline.DefaultConfig(), "2026-07-02", "2026-07-03", deadline.AMMR, deadline.AMMR, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.sentOn)
			de := f.dublinOfficer(ao)
			s, _, err := f.applyCfg(c.cfg, nil, de, EvCaseRegistered, c.sentOn, EventFields{})
			if err != nil {
				t.Fatal(err)
			}
			s, _, err = f.applyCfg(c.cfg, s, de, EvTakeChargeRequested, c.sentOn, reqFields(c.sentOn, c.appOn, EvidenceOther))
			if err != nil {
				t.Fatal(err)
			}
			d := s.Dublin
			if d.CriteriaRegime != c.criteria || d.Regime != c.limits || d.PendingProcedure != c.pending {
				t.Fatalf("criteria %s limits %s pending %q", d.CriteriaRegime, d.Regime, d.PendingProcedure)
			}
			if rf := d.RegimeFacts(); rf.Criteria != c.criteria || rf.Limits != c.limits || rf.PendingProcedure != c.pending {
				t.Fatalf("regime facts %+v", rf)
			}
			// The request limit runs under the criteria regime's table.
			if d.RequestLimit == nil || d.RequestLimit.Regime != c.criteria {
				t.Fatalf("request limit %+v", d.RequestLimit)
			}
		})
	}
}

func TestReexaminationUnderEachRegime(t *testing.T) {
	configured := deadline.DefaultConfig()
	configured.PeriodOverrides = map[deadline.Regime]map[deadline.Step]deadline.Period{
		deadline.AMMR: {deadline.ReexaminationRequestTakeCharge: deadline.WeeksPeriod(3)}}
	d3 := deadline.DefaultConfig()
	d3.PendingProcedure = deadline.PendingDublinIII // Dublin III limits after the switch
	for _, c := range []struct {
		name    string
		cfg     deadline.Config
		appOn   string
		code    EventCode
		request func(sent string) EventFields
		askOn   string // rejection received 2026-09-01 (Tue)
		kind    Kind
		due     string // re-examination deadline after the rejection ("" none)
	}{
		// 1560/2003 Art 5(2): 3 weeks from the negative reply (Tue 22 Sep).
		{"Dublin III take charge, in time", d3, "2026-06-01", EvTakeChargeRequested, nil, "2026-09-22", "", "2026-09-22"},
		{"Dublin III take charge, a day late", d3, "2026-06-01", EvTakeChargeRequested, nil, "2026-09-23", KindDeadlinePassed, "2026-09-22"},
		// The same Dublin III application under the default choice: the
		// request made after the switch follows AMMR limits.
		{"Dublin III criteria, AMMR limits: not provided", deadline.DefaultConfig(), "2026-06-01", EvTakeChargeRequested, nil, "2026-09-02", KindInvalidTransition, ""},
		// AMMR: no re-examination of a take charge reply unless configured.
		{"AMMR take charge, not provided", deadline.DefaultConfig(), "2026-08-03", EvTakeChargeRequested, nil, "2026-09-02", KindInvalidTransition, ""},
		{"AMMR take charge, configured row", configured, "2026-08-03", EvTakeChargeRequested, nil, "2026-09-02", "", "2026-09-22"},
		{"AMMR take charge, configured row, late", configured, "2026-08-03", EvTakeChargeRequested, nil, "2026-09-23", KindDeadlinePassed, "2026-09-22"},
		// AMMR take back: 2025/2055 Art 15(3) provides it; no limit retrieved.
		{"AMMR unconfirmed take back", deadline.DefaultConfig(), "2026-08-03", EvTakeBackNotified,
			func(sent string) EventFields { return hitFieldsOn(sent, "2026-08-03", "2026-08-20") }, "2026-09-02", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "2026-08-25")
			de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
			s, _, err := f.applyCfg(c.cfg, nil, de, EvCaseRegistered, "2026-08-25", EventFields{})
			if err != nil {
				t.Fatal(err)
			}
			fields := reqFields("2026-08-25", c.appOn, EvidenceOther)
			if c.request != nil {
				fields = c.request("2026-08-25")
			}
			if s, _, err = f.applyCfg(c.cfg, s, de, c.code, "2026-08-25", fields); err != nil {
				t.Fatal(err)
			}
			f.today = date(t, "2026-09-01")
			if s, _, err = f.applyCfg(c.cfg, s, at, EvRequestRejected, "2026-09-01", EventFields{ReceivedOn: "2026-09-01"}); err != nil {
				t.Fatal(err)
			}
			if dueOf(s, DeadlineReexamination) != c.due {
				t.Fatalf("re-examination due %q, want %q", dueOf(s, DeadlineReexamination), c.due)
			}
			f.today = date(t, c.askOn)
			next, _, err := f.applyCfg(c.cfg, s, de, EvReexaminationRequested, c.askOn, EventFields{ReceivedOn: c.askOn})
			if KindOf(err) != c.kind {
				t.Fatalf("got %v, want %q", err, c.kind)
			}
			if c.kind == "" && (next.Status != StReexaminationRequested || !next.Dublin.Reexamined) {
				t.Fatalf("status %s", next.Status)
			}
		})
	}
}

// TestTransferExtensionLimits: Dublin III 29(2) absconding extends to 18
// months where Dublin III's limits govern the case (a request before the
// AMMR switch, or the configured choice DUBLIN_III_LIMITS for a pending
// Dublin III application); the AMMR 46(2) values are NOT VERIFIED and follow
// the configuration.
func TestTransferExtensionLimits(t *testing.T) {
	ammr18 := deadline.DefaultConfig()
	ammr18.PeriodOverrides = map[deadline.Regime]map[deadline.Step]deadline.Period{
		deadline.AMMR: {deadline.TransferExtendedAbsconding: deadline.MonthsPeriod(18)}}
	for _, c := range []struct {
		name     string
		cfg      deadline.Config
		pending  deadline.PendingProcedure
		appOn    string
		limits   deadline.Regime
		transfer string // after acceptance on Tue 1 Sep 2026
		extended string
	}{
		// 6 months: Mon 1 Mar 2027; 18 months: Wed 1 Mar 2028.
		{"Dublin III absconding, Dublin III limits configured: 18 months", deadline.DefaultConfig(), deadline.PendingDublinIII, "2026-06-01", deadline.DublinIII, "2027-03-01", "2028-03-01"},
		// The default choice: a request made after the switch follows the
		// AMMR's limits, so its recalled extension (3 years: Sat 1 Sep 2029
		// → Mon 3 Sep), not Dublin III's 18 months.
		{"Dublin III criteria, AMMR limits (default choice): AMMR's extension", deadline.DefaultConfig(), deadline.PendingAMMRAfterSwitch, "2026-06-01", deadline.AMMR, "2027-03-01", "2029-09-03"},
		{"AMMR absconding: recalled default 3 years", deadline.DefaultConfig(), deadline.PendingDublinIII, "2026-08-03", deadline.AMMR, "2027-03-01", "2029-09-03"},
		{"AMMR absconding: configured 18 months", ammr18, deadline.PendingDublinIII, "2026-08-03", deadline.AMMR, "2027-03-01", "2028-03-01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "2026-08-25")
			de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
			cfg := c.cfg
			cfg.PendingProcedure = c.pending
			s, _, err := f.applyCfg(cfg, nil, de, EvCaseRegistered, "2026-08-25", EventFields{})
			if err != nil {
				t.Fatal(err)
			}
			if s, _, err = f.applyCfg(cfg, s, de, EvTakeChargeRequested, "2026-08-25", reqFields("2026-08-25", c.appOn, EvidenceOther)); err != nil {
				t.Fatal(err)
			}
			if s.Dublin.Regime != c.limits {
				t.Fatalf("time limits %s, want %s", s.Dublin.Regime, c.limits)
			}
			f.today = date(t, "2026-09-01")
			if s, _, err = f.applyCfg(cfg, s, at, EvRequestAccepted, "2026-09-01", EventFields{}); err != nil {
				t.Fatal(err)
			}
			if dueOf(s, DeadlineTransfer) != c.transfer {
				t.Fatalf("transfer due %s", dueOf(s, DeadlineTransfer))
			}
			f.today = date(t, "2026-10-01")
			if s, _, err = f.applyCfg(cfg, s, de, EvTransferDeadlineExtended, "2026-10-01", EventFields{ExtensionReason: ExtensionAbsconding}); err != nil {
				t.Fatal(err)
			}
			if dueOf(s, DeadlineTransfer) != c.extended {
				t.Fatalf("extended transfer due %s, want %s", dueOf(s, DeadlineTransfer), c.extended)
			}
		})
	}
}

// TestRequestLimitAfterRejectionMarksMissingCalendar: the limit for a new
// request that is back on the board after a rejection is marked, like
// every deadline, when its year has no holiday calendar of the requesting
// state on the ledger (Dublin III 21(1): Eurodac hit 20 Nov 2026, two
// months: Wed 20 Jan 2027).
func TestRequestLimitAfterRejectionMarksMissingCalendar(t *testing.T) {
	de2027, err := deadline.NewHolidays([]deadline.Date{date(t, "2027-01-01")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		cal     bool
		missing []int
	}{
		{"no calendar for 2027", false, []int{2027}},
		{"DE's 2027 calendar on the ledger", true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "2026-11-23")
			if c.cal {
				f.holidays["DE"] = map[int]deadline.Holidays{2027: de2027}
			}
			d3 := deadline.DefaultConfig()
			d3.PendingProcedure = deadline.PendingDublinIII
			de, at := f.dublinOfficer(ao), f.dublinOfficer(ps)
			s, _, err := f.applyCfg(d3, nil, de, EvCaseRegistered, "2026-11-20", regFacts("2026-06-30", EvidenceEurodacHit, "2026-11-20"))
			if err != nil {
				t.Fatal(err)
			}
			before, _ := s.Dublin.deadline(DeadlineRequest)
			if s, _, err = f.applyCfg(d3, s, de, EvTakeChargeRequested, "2026-11-23", hitFieldsOn("2026-11-23", "2026-06-30", "2026-11-20")); err != nil {
				t.Fatal(err)
			}
			f.today = date(t, "2026-11-25")
			if s, _, err = f.applyCfg(d3, s, at, EvRequestRejected, "2026-11-25", EventFields{ReceivedOn: "2026-11-25"}); err != nil {
				t.Fatal(err)
			}
			after, ok := s.Dublin.deadline(DeadlineRequest)
			if !ok || after.Due.String() != "2027-01-20" || after.Step != deadline.TakeChargeRequestHit || after.ActingMemberState != "DE" {
				t.Fatalf("request limit after the rejection %+v", after)
			}
			if !slices.Equal(after.HolidaysMissing, c.missing) || !slices.Equal(before.HolidaysMissing, c.missing) {
				t.Fatalf("holidays missing: before the request %v, after the rejection %v, want %v", before.HolidaysMissing, after.HolidaysMissing, c.missing)
			}
		})
	}
}

// TestRequestFactsRecordedAfterRegistration: a Dublin case registered
// without the facts that start the request limit gets them by
// REQUEST_FACTS_RECORDED; the board then shows the limit as if they had come
// with the registration (AMMR 39(1): registered 3 Aug, VIS hit 5 Aug → Mon
// 7 Sep), once: a second record, or one naming other facts, is refused, and
// the request is held to them.
func TestRequestFactsRecordedAfterRegistration(t *testing.T) {
	f := newFixture(t, "2026-08-06")
	de := f.dublinOfficer(ao)
	s := f.step(nil, ProcedureDublin, de, EvCaseRegistered, EventFields{})
	if len(s.Dublin.Deadlines) != 0 || s.Dublin.CriteriaRegime != "" {
		t.Fatalf("deadlines without facts: %+v", s.Dublin)
	}
	f.today = date(t, "2026-08-10")
	next, ev, err := f.stepOn(s, de, EvRequestFactsRecorded, "2026-08-10", regFacts("2026-08-03", EvidenceVISHit, "2026-08-05"))
	if err != nil {
		t.Fatal(err)
	}
	d := next.Dublin
	if next.Status != StRegistered || ev.Code != EvRequestFactsRecorded || d.CriteriaRegime != deadline.AMMR || dueOf(next, DeadlineRequest) != "2026-09-07" {
		t.Fatalf("after the facts: %s %+v", next.Status, d)
	}
	if next.LastOccurredOn != s.LastOccurredOn {
		t.Fatalf("the facts moved the procedure's date: %s", next.LastOccurredOn)
	}
	if _, _, err := f.stepOn(next, de, EvRequestFactsRecorded, "2026-08-10", regFacts("2026-08-03", EvidenceVISHit, "2026-08-05")); KindOf(err) != KindAlreadyExists {
		t.Fatalf("second record: %v", err)
	}
	// The request is held to the facts on the ledger and decided by them.
	f.today = date(t, "2026-09-08")
	if _, _, err := f.stepOn(next, de, EvTakeChargeRequested, "2026-09-08", EventFields{RequestedMemberState: "AT", ReceivedOn: "2026-09-08",
		ApplicationRegisteredOn: "2026-08-04", Evidence: EvidenceVISHit, EvidenceReceivedOn: "2026-08-05"}); KindOf(err) != KindInvalidArgument {
		t.Fatalf("request naming another application date: %v", err)
	}
	req, _, err := f.stepOn(next, de, EvTakeChargeRequested, "2026-09-08", EventFields{RequestedMemberState: "AT", ReceivedOn: "2026-09-08",
		ApplicationRegisteredOn: "2026-08-03", Evidence: EvidenceVISHit, EvidenceReceivedOn: "2026-08-05"})
	if err != nil || !req.Dublin.RequestLate || req.Dublin.RequestLimit.Due.String() != "2026-09-07" {
		t.Fatalf("late request after the facts: %v %+v", err, req.Dublin)
	}
	// On the national channel the code does not exist.
	if _, _, err := Apply(nil, pseud, f.input(EvRequestFactsRecorded, regFacts("2026-08-03", EvidenceOther, "")), f.actor(ao, RoleCaseworker), f.env(ProcedureNational)); KindOf(err) != KindInvalidArgument {
		t.Fatalf("national channel: %v", err)
	}
}
