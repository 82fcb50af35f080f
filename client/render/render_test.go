package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

func date(t *testing.T, s string) deadline.Date {
	t.Helper()
	d, err := deadline.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTimelineShowsLatenessAndPayload(t *testing.T) {
	var b bytes.Buffer
	Timeline(&b, api.TimelineResponse{Channel: "national", Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6",
		LocalRefs: []string{"BAMF-1"}, Items: []domain.Event{
			{Seq: 1, Code: domain.EvCaseRegistered, OccurredOn: "2026-11-01", RecordedOn: "2026-11-27", LateDays: 26, MSPID: "BorderPoliceMSP", Role: "caseworker"},
			{Seq: 2, Code: domain.EvIdentityChecked, OccurredOn: "2026-11-27", RecordedOn: "2026-11-27", MSPID: "AsylumOfficeMSP",
				EventFields: domain.EventFields{EurodacHit: domain.EurodacHit("CATEGORY_1")}},
		}})
	out := b.String()
	for _, want := range []string{"your references: BAMF-1", "26d", "eurodacHit=CATEGORY_1", "BorderPoliceMSP"} {
		if !strings.Contains(out, want) {
			t.Errorf("timeline lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want header line, table header and 2 rows:\n%s", len(lines), out)
	}
	if strings.Contains(lines[3], "26d") || !strings.Contains(lines[3], " - ") {
		t.Errorf("an event recorded the same day shows lateness: %q", lines[3])
	}
}

func TestBoardMarksCasesAndPassedDeadlines(t *testing.T) {
	var b bytes.Buffer
	mine := "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6"
	other := "0b6c4f1e-8f0e-4d6a-9a59-0a4f3c2d1e00"
	dl := domain.Deadline{Kind: domain.DeadlineReply, Deadline: deadline.Deadline{Due: date(t, "2026-11-20"), Regime: "AMMR", Article: "Art 40(1)"}}
	Board(&b, api.Board{Today: "2026-11-27", Before: "2026-12-12", Items: []api.BoardItem{
		{Pseudonym: mine, LocalRefs: []string{"BAMF-D-1"}, Status: domain.StTakeChargeRequested, Deadline: dl, DaysLeft: -7},
		{Pseudonym: other, Status: domain.StTakeChargeRequested, Deadline: dl, DaysLeft: 3},
	}}, func(p string) bool { return p == mine })
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("board:\n%s", b.String())
	}
	if !strings.Contains(lines[2], "▶6f1c2a9e") || !strings.Contains(lines[2], "passed 7d ago") || !strings.Contains(lines[2], "BAMF-D-1") {
		t.Errorf("own case row: %q", lines[2])
	}
	if strings.Contains(lines[3], "▶") || !strings.Contains(lines[3], "holds no reference") {
		t.Errorf("other case row: %q", lines[3])
	}
	b.Reset()
	Board(&b, api.Board{Today: "2026-11-27"}, nil)
	if !strings.Contains(b.String(), "no running deadline") {
		t.Errorf("empty board: %q", b.String())
	}
}

func TestAuditNamesTheFirstInconsistency(t *testing.T) {
	var b bytes.Buffer
	Audit(&b, api.AuditReport{Intact: false, Channels: []api.ChainReport{
		{Channel: "national", Blocks: 9, Intact: true, ValidationCodes: map[string]int{"VALID": 8, "MVCC_READ_CONFLICT": 1}, PrivateRecords: 3, PrivateRecordsPurged: 2},
		{Channel: "dublin", Blocks: 4, FirstInconsistency: &api.Inconsistency{Block: 3, Tx: 1, Problem: "data hash does not match"}},
	}})
	out := b.String()
	for _, want := range []string{"ledger NOT INTACT", "MVCC_READ_CONFLICT=1 VALID=8", "3 verified, 2 purged", "block 3 tx 1: data hash does not match"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestAuditListsTransactionsToLookAt(t *testing.T) {
	var b bytes.Buffer
	ts := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	Audit(&b, api.AuditReport{Intact: true, Channels: []api.ChainReport{
		{Channel: "national", Blocks: 9, Intact: true, NoWritesTotal: 0},
		{Channel: "dublin", Blocks: 4, Intact: true, LateTolerance: "5m0s",
			NoWrites:       []api.TxNote{{Block: 3, Tx: 0, TxID: strings.Repeat("ab", 32), Creator: "AuditorMSP", Function: "dublin:DeadlinesDue", Timestamp: ts}, {Block: 3, Tx: 1, Creator: "AuditorMSP", Timestamp: ts}},
			NoWritesTotal:  3,
			LateTimestamps: []api.TxNote{{Block: 4, Tx: 0, Creator: "PartnerStateMSP", Function: "cases:RecordEvent", Timestamp: ts, Behind: "7m1s"}}, LateTimestampsTotal: 1,
			UnexpectedContent: []api.TxNote{{Block: 4, Tx: 1, Creator: "PartnerStateMSP", Timestamp: ts, Problem: "an endorsement signature does not verify"}}, UnexpectedContentTotal: 1},
	}})
	out := b.String()
	for _, want := range []string{"dublin: 3 valid transactions that wrote nothing", "AuditorMSP", "dublin:DeadlinesDue", "(unknown)", "… 1 more",
		"dublin: 1 writes timestamped more than 5m0s before", "PartnerStateMSP", "cases:RecordEvent", "7m1s", "2026-03-02T10:00:00Z",
		"dublin: 1 valid transactions with content the chaincode never saw", "an endorsement signature does not verify"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "national: ") {
		t.Errorf("empty lists printed:\n%s", out)
	}
}

func TestCaseAndCasesShowTheDayOfTheRegistration(t *testing.T) {
	for _, tc := range []struct {
		occurred, recorded string
		want               string // in show's registered row and in the cases table
	}{
		{"2026-11-20", "2026-11-27", "2026-11-20 (recorded 2026-11-27)"},
		{"2026-11-27", "2026-11-27", "2026-11-27"},
		{"", "2026-11-27", "2026-11-27 (recorded)"}, // a state from before the day of the act was kept
	} {
		c := domain.CaseState{Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Procedure: domain.ProcedureNational, Status: "REGISTERED",
			RegisteredBy: "BorderPoliceMSP", RegistrationOccurredOn: tc.occurred, RegisteredOn: tc.recorded, UpdatedOn: "2026-11-30"}
		var show, list bytes.Buffer
		Case(&show, api.CaseView{Case: c})
		Cases(&list, []api.CaseView{{Case: c}})
		row := ""
		for _, l := range strings.Split(show.String(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "registered") {
				row = l
			}
		}
		if got := strings.Join(strings.Fields(row), " "); !strings.HasPrefix(got, "registered "+tc.want+" by BorderPoliceMSP;") {
			t.Errorf("%s/%s: show's row %q, want %q", tc.occurred, tc.recorded, row, tc.want)
		}
		if !strings.Contains(list.String(), tc.want+"  BorderPoliceMSP") {
			t.Errorf("%s/%s: cases lacks %q:\n%s", tc.occurred, tc.recorded, tc.want, list.String())
		}
		if tc.occurred == tc.recorded && strings.Contains(show.String()+list.String(), "(recorded") {
			t.Errorf("the recording date printed although it is the day of the act:\n%s%s", show.String(), list.String())
		}
	}
}

func TestEventsMarkAutomaticConsequences(t *testing.T) {
	var b bytes.Buffer
	Events(&b, []domain.Event{
		{Seq: 3, Code: domain.EvFileCreated, OccurredOn: "2026-11-01", RecordedOn: "2026-11-03", LateDays: 2, MSPID: "AsylumOfficeMSP", Role: "dublin-officer"},
		{Seq: 4, Code: domain.EvImplicitlyAccepted, OccurredOn: "2026-11-15", RecordedOn: "2026-11-19", LateDays: 4, MSPID: "PartnerMSP", Role: "dublin-officer"},
	}, true)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want header, 2 rows and a 2-line note:\n%s", len(lines), b.String())
	}
	if strings.Contains(lines[1], "[automatic]") || !strings.Contains(lines[2], "IMPLICITLY_ACCEPTED [automatic]") ||
		!strings.Contains(lines[3], "consequence of a lapsed Dublin deadline") {
		t.Errorf("automatic consequence not marked (or a step marked):\n%s", b.String())
	}
	b.Reset()
	Events(&b, []domain.Event{{Seq: 3, Code: domain.EvFileCreated, OccurredOn: "2026-11-01", RecordedOn: "2026-11-03", LateDays: 2}}, false)
	if strings.Contains(b.String(), "automatic") {
		t.Errorf("note without an automatic event:\n%s", b.String())
	}
}

// Issue 13 §3: the board and show print the regime as two facts, flag
// rules that are recalled or not verified, years without a holiday
// calendar (with the command that adds one) and a request sent late.
func TestDeadlineViewsShowRegimeFlagsCalendarsAndLateRequests(t *testing.T) {
	late := deadline.Deadline{Regime: deadline.DublinIII, Step: deadline.TakeChargeRequest, Article: "604/2013 Art 21(1), 20(2)",
		Period: deadline.MonthsPeriod(3), Due: date(t, "2026-06-02"), OnLapse: deadline.RequestingStateResponsible, Verification: deadline.Verified}
	reply := domain.Deadline{Kind: domain.DeadlineReply, ActingMemberState: "AT", HolidaysMissing: []int{2026},
		RequestLate: true, Deadline: deadline.Deadline{Regime: deadline.AMMR, Step: deadline.ReplyTakeCharge, Article: "2024/1351 Art 40(1)",
			Period: deadline.MonthsPeriod(1), Due: date(t, "2026-07-03"), OnLapse: deadline.ConsequenceNone,
			Verification: deadline.Verified, ConsequenceVerification: deadline.NotVerified}}
	recalled := domain.Deadline{Kind: domain.DeadlineReply, ActingMemberState: "AT", Deadline: deadline.Deadline{Regime: deadline.DublinIII,
		Step: deadline.ReplyTakeCharge, Article: "604/2013 Art 22(1), 22(7)", Period: deadline.MonthsPeriod(2), Due: date(t, "2026-08-03"),
		OnLapse: deadline.ImplicitAcceptance, Verification: deadline.Recalled, ConsequenceVerification: deadline.Recalled}}
	rf := domain.RegimeFacts{Criteria: deadline.DublinIII, Limits: deadline.AMMR, PendingProcedure: deadline.PendingAMMRAfterSwitch}

	var b bytes.Buffer
	Board(&b, api.Board{Today: "2026-06-20", Before: "2026-08-10", Items: []api.BoardItem{
		{Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Status: domain.StTakeChargeRequested, Deadline: reply, DaysLeft: 13, Regime: rf, LateRequest: &late},
		{Pseudonym: "0b6c4f1e-8f0e-4d6a-9a59-0a4f3c2d1e00", Status: domain.StTakeChargeRequested, Deadline: recalled, DaysLeft: 44,
			Regime: domain.RegimeFacts{Criteria: deadline.DublinIII, Limits: deadline.DublinIII, PendingProcedure: deadline.PendingDublinIII}},
	}}, nil)
	out := b.String()
	for _, want := range []string{
		"CRITERIA / LIMITS", "DUBLIN_III / AMMR (AMMR_LIMITS_FOR_REQUESTS_AFTER_SWITCH)", "DUBLIN_III / DUBLIN_III (DUBLIN_III_LIMITS)",
		"consequence NONE", // a late request's reply: NONE is shown, its NOT VERIFIED acceptance is moot
		"no holiday calendar of AT for 2026 on the ledger", "caseledger holidays set --year 2026",
		"the request was sent after its limit 2026-06-02 (TAKE_CHARGE_REQUEST 604/2013 Art 21(1), 20(2)) — REQUESTING_STATE_RESPONSIBLE: silence is no acceptance",
		"rule DUBLIN_III REPLY_TAKE_CHARGE: period M (recalled", "consequence IMPLICIT_ACCEPTANCE is M",
	} {
		if want == "consequence NONE" {
			if strings.Contains(out, want) {
				t.Errorf("board flags the consequence of a late request's reply:\n%s", out)
			}
			continue
		}
		if !strings.Contains(out, want) {
			t.Errorf("board lacks %q:\n%s", want, out)
		}
	}

	b.Reset()
	Case(&b, api.CaseView{Case: domain.CaseState{Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Procedure: domain.ProcedureDublin,
		Status: domain.StTakeChargeRequested, Dublin: &domain.DublinFacts{RequestingMemberState: "DE", RequestedMemberState: "AT",
			Regime: deadline.AMMR, CriteriaRegime: deadline.DublinIII, PendingProcedure: deadline.PendingAMMRAfterSwitch,
			RequestLimit: &late, RequestLate: true, Deadlines: []domain.Deadline{reply}}}})
	out = b.String()
	for _, want := range []string{
		"regime", "criteria DUBLIN_III, time limits AMMR (configured for Dublin III applications: AMMR_LIMITS_FOR_REQUESTS_AFTER_SWITCH)",
		"request limit", "TAKE_CHARGE_REQUEST due 2026-06-02", "sent after it — REQUESTING_STATE_RESPONSIBLE: silence is no acceptance",
		"no holiday calendar of AT for 2026", "AMMR table",
		// the reply deadline's note names the missed limit, as on the board
		"↳ the request was sent after its limit 2026-06-02 (TAKE_CHARGE_REQUEST 604/2013 Art 21(1), 20(2))",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if got := LateRequest(&domain.DublinFacts{RequestLimit: &late, RequestLate: true}); !strings.Contains(got,
		"sent after its time limit: TAKE_CHARGE_REQUEST due 2026-06-02 (3M 604/2013 Art 21(1), 20(2), DUBLIN_III): the request was sent after it — REQUESTING_STATE_RESPONSIBLE") {
		t.Errorf("LateRequest = %q", got)
	}
	if got := LateRequest(&domain.DublinFacts{RequestLimit: &late}); got != "" {
		t.Errorf("LateRequest of a request in time = %q", got)
	}
}
