package chaincode

import (
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// hitRequestPayload: an AMMR take charge request on a Eurodac hit.
func hitRequestPayload(occurred, received string) string {
	return payload(domain.EvTakeChargeRequested, occurred, map[string]any{
		"requestedMemberState": "AT", "receivedOn": received, "applicationRegisteredOn": "2026-10-01",
		"evidence": "EURODAC_HIT", "evidenceReceivedOn": "2026-10-20",
	})
}

// TestOnTimeReplyRecordedLateSupersedes is issue 13's observed case through
// the chaincode: request received 5 Nov, reply due 19 Nov, implicit
// acceptance recorded on 20 Nov, the rejection dated 18 Nov recorded on
// 4 Dec. The rejection stands; the timeline, the board and the chaincode
// event say what it superseded.
func TestOnTimeReplyRecordedLateSupersedes(t *testing.T) {
	n := newNet(t, time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC))
	p := newID()
	n.must("dublin", "ao-do", "cases:RegisterCase", newID(), p, n.today())
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, hitRequestPayload(n.today(), n.today()))
	n.advance(15 * 24 * time.Hour) // 20 Nov
	cons := decode[api.WriteResult](t, n.must("dublin", "at-do", "dublin:ResolveDeadlines", newID(), p))
	if cons.Code != domain.EvImplicitlyAccepted || cons.OccurredOn != "2026-11-19" {
		t.Fatalf("consequence %+v", cons)
	}
	n.advance(14 * 24 * time.Hour) // 4 Dec
	r := n.invoke("dublin", "at-do", "cases:RecordEvent", newID(), p,
		payload(domain.EvRequestRejected, "2026-11-18", map[string]any{"receivedOn": "2026-11-18"}))
	if r.status != 200 {
		t.Fatalf("on-time rejection refused: %s", r.message)
	}
	w := decode[api.WriteResult](t, r.payload)
	if w.Status != domain.StRejected {
		t.Fatalf("after the rejection %+v", w)
	}
	ev, ok := r.tx.Event()
	if !ok || ev.Name != api.EventCase {
		t.Fatalf("chaincode event %+v", ev)
	}
	ce := decode[api.CaseEvent](t, string(ev.Payload))
	if ce.Supersedes == nil || ce.Supersedes.Seq != cons.Seq || ce.Supersedes.Code != domain.EvImplicitlyAccepted || ce.Supersedes.BySeq != w.Seq {
		t.Fatalf("chaincode event does not name the superseded consequence: %+v", ce)
	}
	s := n.getCase("dublin", p)
	if s.Status != domain.StRejected || len(s.Dublin.Superseded) != 1 || s.Dublin.Revocable != nil || s.Dublin.Implicit || !s.Dublin.AcceptedOn.IsZero() {
		t.Fatalf("state %+v", s.Dublin)
	}
	tl := decode[api.Page[domain.Event]](t, n.must("dublin", "aud", "cases:GetTimeline", p, "", ""))
	var marked, supersedes int
	for _, e := range tl.Items {
		if e.SupersededBy != nil {
			marked++
			if e.Seq != cons.Seq || e.SupersededBy.BySeq != w.Seq {
				t.Fatalf("wrong event marked: %+v", e)
			}
		}
		if e.Supersedes != nil {
			supersedes++
		}
	}
	if marked != 1 || supersedes != 1 {
		t.Fatalf("timeline marks %d superseded, %d superseding: %+v", marked, supersedes, tl.Items)
	}
	// The auditor's list of late-recorded events marks the consequence the
	// same way (both it and the rejection were recorded after their day).
	late := decode[api.Page[domain.Event]](t, n.must("dublin", "aud", "audit:ListLateEvents", "", "", ""))
	var lateMarked []uint64
	for _, e := range late.Items {
		if e.Pseudonym == p && e.SupersededBy != nil {
			lateMarked = append(lateMarked, e.Seq)
			if e.Code != domain.EvImplicitlyAccepted || e.SupersededBy.BySeq != w.Seq {
				t.Fatalf("late list marks %+v", e)
			}
		}
	}
	if len(lateMarked) != 1 || lateMarked[0] != cons.Seq {
		t.Fatalf("late list marks %v, want [%d]: %+v", lateMarked, cons.Seq, late.Items)
	}
	// The transfer deadline the implicit acceptance started is gone from
	// the board; nothing of it can be resolved. What remains is the limit
	// for a new request (AMMR 39(1), passed on 20 Nov).
	if b := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2099-01-01", "", "")); len(b.Items) != 1 ||
		b.Items[0].Deadline.Kind != domain.DeadlineRequest || b.Items[0].Deadline.Due.String() != "2026-11-20" {
		t.Fatalf("board after the supersession %+v", b)
	}
	n.refuse(domain.KindInvalidTransition, "dublin", "ao-do", "dublin:ResolveDeadlines", newID(), p)
}

// An acceptance dated in time supersedes the implicit acceptance and the
// board shows the transfer deadline recomputed from its date, with the
// supersession.
func TestOnTimeAcceptanceRecomputesTransferOnBoard(t *testing.T) {
	n := newNet(t, time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC))
	p := newID()
	n.must("dublin", "ao-do", "cases:RegisterCase", newID(), p, n.today())
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, hitRequestPayload(n.today(), n.today()))
	n.advance(15 * 24 * time.Hour)
	n.must("dublin", "ao-do", "dublin:ResolveDeadlines", newID(), p)
	n.advance(14 * 24 * time.Hour)
	n.record("dublin", "at-do", p, domain.EvRequestAccepted, "2026-11-10", nil)
	b := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2099-01-01", "", ""))
	var transfer *api.DueItem
	for i := range b.Items {
		if b.Items[i].Deadline.Kind == domain.DeadlineTransfer {
			transfer = &b.Items[i]
		}
	}
	if transfer == nil || transfer.Deadline.Due.String() != "2027-05-10" || len(transfer.Superseded) != 1 {
		t.Fatalf("board %+v", b.Items)
	}
}

// Issue 13 §2: the requesting state records on 4 Dec a request it says was
// received 29 days earlier. The requested state's gateway cannot be made to
// record an implicit acceptance before it had the request for its period.
func TestBackDatedReceiptDoesNotLapse(t *testing.T) {
	n := newNet(t, time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	p := newID()
	n.must("dublin", "ao-do", "cases:RegisterCase", newID(), p, "2026-11-05")
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), p, hitRequestPayload("2026-11-05", "2026-11-05"))
	n.refuse(domain.KindDeadlineNotReached, "dublin", "at-do", "dublin:ResolveDeadlines", newID(), p)
	s := n.getCase("dublin", p)
	if s.Dublin.RequestReceivedOn.String() != "2026-12-04" || s.Dublin.Deadlines[0].Due.String() != "2026-12-18" {
		t.Fatalf("receipt %s due %s", s.Dublin.RequestReceivedOn, s.Dublin.Deadlines[0].Due)
	}
	// Only the requested state acknowledges; the requester's claim counts
	// once it does.
	n.refuse(domain.KindForbidden, "dublin", "ao-do", "cases:RecordEvent", newID(), p, payload(domain.EvReceiptAcknowledged, "2026-11-05", nil))
	n.record("dublin", "at-do", p, domain.EvReceiptAcknowledged, "2026-11-05", nil)
	w := decode[api.WriteResult](t, n.must("dublin", "at-do", "dublin:ResolveDeadlines", newID(), p))
	if w.OccurredOn != "2026-11-19" {
		t.Fatalf("implicit acceptance %+v", w)
	}
}
