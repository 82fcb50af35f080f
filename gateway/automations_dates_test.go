package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// TestDeadlineWatcherGraceReceiptAndSupersession (issue 13): the requested
// state's gateway acknowledges receipt of a request by itself (dated the day
// it reached the ledger); a back-dated receipt claim alone does not make the
// deadline lapse; the watchers wait the grace period; an on-time rejection
// recorded after the implicit acceptance supersedes it and says so on the
// event stream, the timeline and the board.
func TestDeadlineWatcherGraceReceiptAndSupersession(t *testing.T) {
	clock := newTestClock() // Fri 2026-11-27
	n := newTestNet(t, clock.Now)
	grace := func(c *Config) {
		c.Automations.DeadlineGraceDays = 3
		c.Automations.DeadlinePoll = 50 * time.Millisecond
	}
	aoA := newAgency(t, n, clock, ao, grace)
	psA := newAgency(t, n, clock, ps, grace)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, res := aoA.readSSE(ctx, domain.RoleDublinOfficer, "?channel=dublin", "")
	if res.StatusCode != 200 {
		t.Fatalf("stream %d", res.StatusCode)
	}

	// Sent and (claimed) received 7 Nov, recorded 27 Nov: AMMR, Eurodac hit,
	// 2 weeks. Without the requested state's word the period runs from 27 Nov.
	w := dublinCase(t, aoA, "AO-N9", "AO-D9", "2026-11-07")
	waitFor(t, "automatic acknowledgement", func() bool {
		s := n.state("dublin", w.Pseudonym)
		return s != nil && s.Dublin.ReceiptAcknowledgedOn.String() == "2026-11-27"
	})
	s := n.state("dublin", w.Pseudonym)
	if s.Status != domain.StTakeChargeRequested || s.Dublin.Deadlines[0].Due.String() != "2026-12-11" {
		t.Fatalf("after the acknowledgement: %s due %s", s.Status, s.Dublin.Deadlines[0].Due)
	}
	if got := n.submitted(api.FnResolveDeadlines); got != 0 {
		t.Fatalf("a consequence was recorded on a claimed receipt date: %d", got)
	}

	// The officer acknowledges DubliNet's receipt of 13 Nov: due Fri 27 Nov,
	// lapsed but inside the 3-day grace: no watcher records it.
	acknowledge(t, psA, w.Pseudonym, "2026-11-13")
	s = n.state("dublin", w.Pseudonym)
	if s.Dublin.Deadlines[0].Due.String() != "2026-11-27" {
		t.Fatalf("due %s", s.Dublin.Deadlines[0].Due)
	}
	clock.Set(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)) // 3 days after: still in grace
	time.Sleep(400 * time.Millisecond)
	if got := n.submitted(api.FnResolveDeadlines); got != 0 {
		t.Fatalf("consequence recorded inside the grace period: %d", got)
	}
	clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	waitFor(t, "implicit acceptance after the grace", func() bool {
		s := n.state("dublin", w.Pseudonym)
		return s != nil && s.Status == domain.StImplicitlyAccepted
	})
	cons := n.state("dublin", w.Pseudonym).Seq

	// The rejection sent on 26 Nov is recorded on 1 Dec: it stands.
	var rep api.WriteResponse
	psA.must(200, psA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/replies",
		api.DublinReplyRequest{DublinCase: api.DublinCase{Pseudonym: w.Pseudonym}, Reply: "REJECTED", OccurredOn: "2026-11-26", ReceivedOn: "2026-11-26"}, ""), &rep)
	if rep.Status != domain.StRejected {
		t.Fatalf("rejection %+v", rep)
	}
	deadline := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case ev := <-stream:
			if ev.view.Pseudonym == w.Pseudonym && ev.view.Code == string(domain.EvRequestRejected) {
				if ev.view.Supersedes == nil || ev.view.Supersedes.Seq != cons || ev.view.Supersedes.Code != domain.EvImplicitlyAccepted {
					t.Fatalf("stream event %+v", ev.view)
				}
				found = true
			}
		case <-deadline:
			t.Fatal("the superseding event did not reach the stream")
		}
	}
	var tl api.TimelineResponse
	aoA.must(200, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/cases/timeline", api.TimelineRequest{CaseRef: api.CaseRef{Channel: "dublin", Pseudonym: w.Pseudonym}}, ""), &tl)
	marked := 0
	for _, e := range tl.Items {
		if e.SupersededBy != nil {
			marked++
			if e.Code != domain.EvImplicitlyAccepted {
				t.Fatalf("marked %s", e.Code)
			}
		}
	}
	if marked != 1 {
		t.Fatalf("timeline marks %d events superseded", marked)
	}
	time.Sleep(300 * time.Millisecond)
	if got := n.submitted(api.FnResolveDeadlines); got != 1 {
		t.Fatalf("ResolveDeadlines committed %d times", got)
	}
}
