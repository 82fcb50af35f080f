package chaincode

import (
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

func takeChargePayload(day string) string {
	return payload(domain.EvTakeChargeRequested, day, map[string]any{
		"requestedMemberState": "AT", "receivedOn": day, "applicationRegisteredOn": "2026-02-10", "evidence": "OTHER",
	})
}

// TestDublinProcedure: request -> silence -> implicit acceptance after the
// reply deadline -> transfer decision -> scheduled -> completed.
func TestDublinProcedure(t *testing.T) {
	n := newNet(t, t0) // Mon 2 March 2026
	p := newID()
	n.must("dublin", "ao-do", "cases:RegisterCase", newID(), p, n.today())
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, takeChargePayload(n.today()))
	s := n.getCase("dublin", p)
	if s.Status != domain.StTakeChargeRequested || s.Dublin.Regime != deadline.DublinIII || len(s.Dublin.Deadlines) != 1 ||
		s.Dublin.Deadlines[0].Due.String() != "2026-05-04" || s.Dublin.Deadlines[0].Kind != domain.DeadlineReply {
		t.Fatalf("after the request: %+v", s.Dublin)
	}
	// The board shows it before 5 May, not before 4 May.
	board := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2026-05-05", "", ""))
	if len(board.Items) != 1 || board.Items[0].Pseudonym != p || board.Items[0].Deadline.OnLapse != deadline.ImplicitAcceptance {
		t.Fatalf("board %+v", board)
	}
	if b := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2026-05-04", "", "")); len(b.Items) != 0 {
		t.Fatalf("board before 4 May %+v", b)
	}
	// Nobody may resolve on the last day; the day after, the partner state
	// (or anyone writing) may, and a reply is too late.
	n.advance(63 * 24 * time.Hour) // Mon 4 May
	n.refuse(domain.KindDeadlineNotReached, "dublin", "at-do", "dublin:ResolveDeadlines", newID(), p)
	n.advance(24 * time.Hour) // Tue 5 May
	n.refuse(domain.KindDeadlinePassed, "dublin", "at-do", "cases:RecordEvent", newID(), p, payload(domain.EvRequestAccepted, n.today(), nil))
	n.refuse(domain.KindForbidden, "dublin", "aud", "dublin:ResolveDeadlines", newID(), p)
	w := decode[api.WriteResult](t, n.must("dublin", "at-do", "dublin:ResolveDeadlines", newID(), p))
	if w.Code != domain.EvImplicitlyAccepted || w.Status != domain.StImplicitlyAccepted || w.OccurredOn != "2026-05-04" {
		t.Fatalf("resolve result %+v", w)
	}
	n.refuse(domain.KindDeadlineNotReached, "dublin", "at-do", "dublin:ResolveDeadlines", newID(), p) // the transfer clock runs now
	s = n.getCase("dublin", p)
	if len(s.Dublin.Deadlines) != 1 || s.Dublin.Deadlines[0].Kind != domain.DeadlineTransfer || s.Dublin.Deadlines[0].Due.String() != "2026-11-04" {
		t.Fatalf("transfer deadline %+v", s.Dublin.Deadlines)
	}
	// The board moved from the reply to the transfer deadline.
	if b := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2026-06-01", "", "")); len(b.Items) != 0 {
		t.Fatalf("stale board entry %+v", b)
	}
	if b := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2027-01-01", "", "")); len(b.Items) != 1 || b.Items[0].Deadline.Kind != domain.DeadlineTransfer {
		t.Fatalf("transfer on the board %+v", b)
	}

	n.advance(7 * 24 * time.Hour)
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, payload(domain.EvTransferDecisionIssued, n.today(), nil))
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, payload(domain.EvTransferScheduled, n.today(), map[string]any{"scheduledFor": "2026-06-15"}))
	n.advance(24 * time.Hour * 34) // 15 June
	w = decode[api.WriteResult](t, n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, payload(domain.EvTransferCompleted, n.today(), nil)))
	if w.Status != domain.StTransferCompleted || w.Seq != 6 {
		t.Fatalf("completed %+v", w)
	}
	if b := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2099-01-01", "", "")); len(b.Items) != 0 {
		t.Fatalf("board after the transfer %+v", b)
	}
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, payload(domain.EvCaseClosed, n.today(), map[string]any{"closureReason": "TRANSFERRED"}))
	// The national channel knows nothing of this pseudonym.
	n.refuse(domain.KindNotFound, "national", "aud", "cases:GetCase", p)
}

func TestHolidaysOnTheLedger(t *testing.T) {
	n := newNet(t, t0)
	dates := `["2026-01-01","2026-01-06","2026-04-06","2026-05-01","2026-05-04"]`
	n.refuse(domain.KindForbidden, "dublin", "ao-do", "dublin:SetHolidays", newID(), "AT", "2026", dates) // not Austria's unit
	n.refuse(domain.KindForbidden, "dublin", "at-cw", "dublin:SetHolidays", newID(), "AT", "2026", dates) // wrong role
	n.refuse(domain.KindInvalidArgument, "dublin", "at-do", "dublin:SetHolidays", newID(), "AT", "2026", `["2026-05-04","2026-05-01"]`)
	n.refuse(domain.KindInvalidArgument, "dublin", "at-do", "dublin:SetHolidays", newID(), "AT", "2026", `["2027-01-01"]`)
	n.refuse(domain.KindInvalidArgument, "dublin", "at-do", "dublin:SetHolidays", newID(), "AT", "26", dates)
	n.refuse(domain.KindInvalidArgument, "national", "ao-do", "dublin:SetHolidays", newID(), "DE", "2026", `[]`)
	r := n.invoke("dublin", "at-do", "dublin:SetHolidays", newID(), "AT", "2026", dates)
	if r.status != 200 {
		t.Fatal(r.message)
	}
	if ev, ok := r.tx.Event(); !ok || ev.Name != api.EventHolidays || string(ev.Payload) != `{"memberState":"AT","year":2026}` {
		t.Fatalf("event %+v", ev)
	}
	got := decode[api.HolidayCalendar](t, n.must("dublin", "ao-do", "dublin:GetHolidays", "AT", "2026"))
	if got.Holidays.Len() != 5 {
		t.Fatalf("holidays %+v", got)
	}
	n.refuse(domain.KindNotFound, "dublin", "ao-do", "dublin:GetHolidays", "AT", "2027")
	// The (fictitious) holiday on Mon 4 May moves Austria's reply deadline.
	p := newID()
	n.must("dublin", "ao-do", "cases:RegisterCase", newID(), p, n.today())
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, takeChargePayload(n.today()))
	s := n.getCase("dublin", p)
	if dl := s.Dublin.Deadlines[0]; dl.Due.String() != "2026-05-05" || len(dl.HolidaysMissing) != 0 {
		t.Fatalf("reply deadline %+v", dl)
	}
}
