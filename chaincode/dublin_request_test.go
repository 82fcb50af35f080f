package chaincode

import (
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// Issue 13 §3 through the chaincode, as a member calling the peers
// directly: the request limit is on the board before any request; a request
// dated after it is recorded late whatever the caller claims, and no
// implicit acceptance follows; its facts cannot differ from the
// registration's.
func TestLateRequestDecidedByTheChaincode(t *testing.T) {
	n := newNet(t, time.Date(2026, 6, 3, 10, 0, 0, 0, time.UTC))
	p := newID()
	// Dublin III application lodged Mon 2 Mar 2026: request limit Tue 2 Jun (21(1)).
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, payload(domain.EvCaseRegistered, "2026-06-01",
		map[string]any{"applicationRegisteredOn": "2026-03-02", "evidence": "OTHER"}))
	b := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2099-01-01", "", ""))
	if len(b.Items) != 1 || b.Items[0].Deadline.Kind != domain.DeadlineRequest || b.Items[0].Deadline.Due.String() != "2026-06-02" ||
		b.Items[0].Deadline.OnLapse != deadline.RequestingStateResponsible || b.Items[0].Deadline.Article != "604/2013 Art 21(1), 20(2)" {
		t.Fatalf("board before the request %+v", b.Items)
	}
	// A request naming a later application date to look in time is refused.
	n.refuse(domain.KindInvalidArgument, "dublin", "ao-do", "cases:RecordEvent", newID(), p, payload(domain.EvTakeChargeRequested, "2026-06-03",
		map[string]any{"requestedMemberState": "AT", "receivedOn": "2026-06-03", "applicationRegisteredOn": "2026-03-05", "evidence": "OTHER"}))
	// Dated 3 Jun (before the AMMR switch, so Dublin III limits), the
	// request is late.
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, payload(domain.EvTakeChargeRequested, "2026-06-03",
		map[string]any{"requestedMemberState": "AT", "receivedOn": "2026-06-03", "applicationRegisteredOn": "2026-03-02", "evidence": "OTHER"}))
	s := n.getCase("dublin", p)
	d := s.Dublin
	if !d.RequestLate || d.RequestLimit == nil || d.RequestLimit.Due.String() != "2026-06-02" || d.CriteriaRegime != deadline.DublinIII {
		t.Fatalf("late request not recorded: %+v", d)
	}
	if len(d.Deadlines) != 1 || d.Deadlines[0].Kind != domain.DeadlineReply || !d.Deadlines[0].RequestLate || d.Deadlines[0].OnLapse != deadline.ConsequenceNone {
		t.Fatalf("reply deadline of a late request %+v", d.Deadlines)
	}
	// Silence after the reply period is no acceptance: neither state can
	// record one.
	n.advance(90 * 24 * time.Hour)
	n.refuse(domain.KindInvalidTransition, "dublin", "ao-do", "dublin:ResolveDeadlines", newID(), p)
	n.refuse(domain.KindInvalidTransition, "dublin", "at-do", "dublin:ResolveDeadlines", newID(), p)
}

// An AMMR take charge re-examination is refused on the ledger (the table
// provides none unless configured).
func TestAMMRTakeChargeReexaminationRefused(t *testing.T) {
	n := newNet(t, time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC))
	p := newID()
	n.must("dublin", "ao-do", "cases:RegisterCase", newID(), p, n.today())
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, hitRequestPayload(n.today(), n.today()))
	n.advance(24 * time.Hour)
	n.record("dublin", "at-do", p, domain.EvRequestRejected, n.today(), map[string]any{"receivedOn": n.today()})
	n.refuse(domain.KindInvalidTransition, "dublin", "ao-do", "cases:RecordEvent", newID(), p,
		payload(domain.EvReexaminationRequested, n.today(), map[string]any{"receivedOn": n.today()}))
}

// A Dublin case registered without the request facts gets them later by
// REQUEST_FACTS_RECORDED (issue 13 §3): the board shows the limit from then
// on; only the requesting state records them, once.
func TestRequestFactsRecordedLater(t *testing.T) {
	n := newNet(t, time.Date(2026, 8, 10, 10, 0, 0, 0, time.UTC))
	p := newID()
	n.must("dublin", "ao-do", "cases:RegisterCase", newID(), p, "2026-08-06")
	if b := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2099-01-01", "", "")); len(b.Items) != 0 {
		t.Fatalf("board without facts %+v", b.Items)
	}
	facts := map[string]any{"applicationRegisteredOn": "2026-08-03", "evidence": "VIS_HIT", "evidenceReceivedOn": "2026-08-05"}
	n.refuse(domain.KindForbidden, "dublin", "at-do", "cases:RecordEvent", newID(), p, payload(domain.EvRequestFactsRecorded, n.today(), facts))
	w := n.record("dublin", "ao-do", p, domain.EvRequestFactsRecorded, n.today(), facts)
	if w.Status != domain.StRegistered {
		t.Fatalf("after the facts %+v", w)
	}
	// AMMR 39(1): 1 month from the VIS hit of Wed 5 Aug: Sat 5 Sep → Mon 7 Sep.
	b := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2099-01-01", "", ""))
	if len(b.Items) != 1 || b.Items[0].Deadline.Kind != domain.DeadlineRequest || b.Items[0].Deadline.Due.String() != "2026-09-07" ||
		b.Items[0].Regime.Criteria != deadline.AMMR || b.Items[0].Deadline.Article != "2024/1351 Art 39(1)" {
		t.Fatalf("board after the facts %+v", b.Items)
	}
	n.refuse(domain.KindAlreadyExists, "dublin", "ao-do", "cases:RecordEvent", newID(), p, payload(domain.EvRequestFactsRecorded, n.today(), facts))
}
