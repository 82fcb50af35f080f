package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/progress"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Chapter 3: Dublin — case B goes to the partner state; its reply deadline lapses and a
// gateway records the implicit acceptance; the transfer; the deadline boards.

func (s *scenario) dublin(ctx context.Context) error {
	s.section("3. Dublin: case B goes to the partner state (AT)")
	if err := s.holidays(ctx); err != nil {
		return err
	}
	r := s.refs
	natB := api.CaseRef{Channel: "national", LocalRef: r.aoB}
	d, err := s.register(ctx, s.aoDU, "dublin", r.aoDublinB, s.cal.ago(requestDaysAgo), &natB,
		fmt.Sprintf("Dublin file %s, %d days late", r.aoDublinB, requestDaysAgo))
	if err != nil {
		return err
	}
	s.rep.CaseB.Dublin = d.Pseudonym
	s.say("the same person is national case %s and Dublin case %s: two random pseudonyms,", render.Short(s.rep.CaseB.National), render.Short(d.Pseudonym))
	s.say("linked only inside the asylum office's privacy service — the partner state never learns the national one")
	req := api.DublinRequestRequest{DublinCase: api.DublinCase{LocalRef: r.aoDublinB}, Kind: domain.TakeCharge,
		OccurredOn: s.cal.ago(requestDaysAgo), RequestedMemberState: "AT", ReceivedOn: s.cal.ago(requestDaysAgo),
		ApplicationRegisteredOn: s.cal.ago(applicationDaysAgo), Evidence: domain.EvidenceEurodacHit, EvidenceReceivedOn: s.cal.ago(arrivalDaysAgo)}
	w, err := s.aoDU.c.DublinRequest(ctx, req)
	if err != nil {
		return stepErr("take-charge request", err)
	}
	s.did(s.aoDU, w, fmt.Sprintf("sent and received %s, recorded today (late, within the 30-day window)", req.ReceivedOn))
	if v, err := s.aoDU.c.Case(ctx, api.CaseRef{Channel: "dublin", Pseudonym: d.Pseudonym}); err == nil && v.Case.Dublin != nil {
		s.say("regime: %s (application registered %s, after %s); evidence %s", render.Regime(v.Case.Dublin.RegimeFacts()), req.ApplicationRegisteredOn, ammrSwitch, v.Case.Dublin.Evidence)
		for _, dl := range v.Case.Dublin.Deadlines {
			if dl.Kind == domain.DeadlineReply {
				s.say("reply deadline: %s — the requesting state's claim alone does not start the partner state's period before the request was on its ledger", render.Deadline(dl))
			}
		}
	}

	// The partner state sees the request on its stream and binds its file.
	wctx, cancel := s.wait(ctx)
	defer cancel()
	ev, err := s.feeds[s.ps.org].wait(wctx, func(ev api.EventView) bool {
		return ev.Pseudonym == d.Pseudonym && ev.Code == string(domain.EvTakeChargeRequested)
	})
	if err != nil {
		return stepErr("partner state's event stream", err)
	}
	s.say("partner-state stream  %s  dublin case %s %s (held: %v)", ev.Position, render.Short(d.Pseudonym), ev.Code, ev.Held)
	if _, err := s.ps.c.Bind(ctx, api.BindRequest{Channel: "dublin", Pseudonym: d.Pseudonym, LocalRef: r.psB}); err != nil {
		return stepErr("partner state binds its file", err)
	}
	s.say("✔ partner-state binds its own file %s → dublin case %s", r.psB, render.Short(d.Pseudonym))

	// Its gateway acknowledged receipt today by itself; its Dublin officer
	// holds DubliNet's acknowledgement of the receipt on the day it was sent
	// and records that date: only now does the period run from it.
	ack, err := s.ps.c.DublinReply(ctx, api.DublinReplyRequest{DublinCase: api.DublinCase{LocalRef: r.psB},
		Reply: string(domain.EvReceiptAcknowledged), OccurredOn: req.ReceivedOn})
	if err != nil {
		return stepErr("partner state acknowledges the receipt date", err)
	}
	s.did(s.ps, ack, fmt.Sprintf("receipt on %s acknowledged (DubliNet's acknowledgement, Implementing Reg 2025/2055 Art 1(3))", req.ReceivedOn))
	if v, err := s.ps.c.Case(ctx, api.CaseRef{Channel: "dublin", Pseudonym: d.Pseudonym}); err == nil && v.Case.Dublin != nil {
		for _, dl := range v.Case.Dublin.Deadlines {
			if dl.Kind == domain.DeadlineReply {
				s.say("reply deadline: %s — passed; the gateways record the consequence after their grace period", render.Deadline(dl))
			}
		}
	}

	// Nobody replied in time: a gateway's deadline watcher records it.
	line := progress.Start(s.prog, "waiting for a gateway's deadline watcher to record the implicit acceptance")
	isAcceptance := func(ev api.EventView) bool {
		return ev.Pseudonym == d.Pseudonym && ev.Code == string(domain.EvImplicitlyAccepted)
	}
	acc, err := s.feeds[s.ao.org].wait(wctx, isAcceptance)
	if err == nil {
		// Both member states' peers have committed it before either acts on it.
		_, err = s.feeds[s.ps.org].wait(wctx, isAcceptance)
	}
	if err != nil {
		line.Fail("%v", err)
		return stepErr("implicit acceptance", err)
	}
	tl, err := s.ps.c.FullTimeline(ctx, api.CaseRef{Channel: "dublin", Pseudonym: d.Pseudonym})
	if err != nil {
		line.Fail("%v", err)
		return stepErr("partner state's timeline", err)
	}
	for _, e := range tl.Items {
		if e.Code == domain.EvImplicitlyAccepted {
			s.rep.CaseB.ImplicitlyAcceptedBy, s.rep.CaseB.ReplyDeadline = e.MSPID, e.OccurredOn
		}
	}
	line.Done("IMPLICITLY_ACCEPTED in block %d by the gateway of %s, dated %s (the reply deadline's last day)", acc.Block,
		s.rep.CaseB.ImplicitlyAcceptedBy, s.rep.CaseB.ReplyDeadline)

	// A reply now comes too late.
	_, err = s.ps.c.DublinReply(ctx, api.DublinReplyRequest{DublinCase: api.DublinCase{LocalRef: r.psB}, Reply: "REJECTED",
		OccurredOn: s.cal.ago(0), ReceivedOn: s.cal.ago(0)})
	if err == nil {
		return errors.New("the partner state's late rejection was accepted")
	}
	if !errors.Is(err, client.ErrRefused) {
		return stepErr("late rejection", err)
	}
	s.say("✘ partner-state tries to reject now: refused, %s — %s", client.CodeOf(err), detailOf(err))

	if err := s.board(ctx); err != nil {
		return err
	}
	for _, st := range []api.DublinTransferRequest{
		{Step: "DECISION_ISSUED"},
		{Step: "SCHEDULED", ScheduledFor: s.cal.ago(0)},
		{Step: "COMPLETED"},
	} {
		st.DublinCase, st.OccurredOn = api.DublinCase{LocalRef: r.aoDublinB}, s.cal.ago(0)
		w, err := s.aoDU.c.DublinTransfer(ctx, st)
		if err != nil {
			return stepErr("transfer "+st.Step, err)
		}
		s.did(s.aoDU, w, "")
		s.rep.CaseB.DublinStatus = w.Status
	}
	if s.rep.CaseB.DublinStatus != domain.StTransferCompleted {
		return fmt.Errorf("the Dublin case ends in %s, want %s", s.rep.CaseB.DublinStatus, domain.StTransferCompleted)
	}
	if _, err := s.record(ctx, s.ao, "national", r.aoB, domain.EvDecisionIssued, s.cal.ago(0), map[string]any{"outcome": "INADMISSIBLE"},
		"Germany is not responsible"); err != nil {
		return err
	}
	if _, err := s.record(ctx, s.ao, "national", r.aoB, domain.EvCaseClosed, s.cal.ago(0), map[string]any{"closureReason": "TRANSFERRED"}, ""); err != nil {
		return err
	}

	s.say("")
	s.say("one person, two member states, two pseudonyms:")
	for _, x := range []struct {
		a        actor
		ch, p    string
		expected string
	}{
		{s.aoDU, "dublin", d.Pseudonym, r.aoDublinB},
		{s.ao, "national", s.rep.CaseB.National, r.aoB},
		{s.ps, "dublin", d.Pseudonym, r.psB},
		{s.bp, "national", s.rep.CaseB.National, r.bpB},
	} {
		v, err := x.a.c.Case(ctx, api.CaseRef{Channel: x.ch, Pseudonym: x.p})
		if err != nil {
			return stepErr(x.a.org+" reads case B", err)
		}
		if !slices.Contains(v.LocalRefs, x.expected) {
			return fmt.Errorf("%s sees references %v of case B, want %s", x.a, v.LocalRefs, x.expected)
		}
		s.say("  %-30s %-8s case %s  %-20s its reference %s", x.a, x.ch, x.p, v.Case.Status, strings.Join(v.LocalRefs, ", "))
	}
	_, err = s.ps.c.Case(ctx, api.CaseRef{Channel: "national", Pseudonym: s.rep.CaseB.National})
	if err == nil {
		return errors.New("the partner state could read the national channel")
	}
	s.say("  partner-state asking for the national case: refused, %s — %s", client.CodeOf(err), detailOf(err))
	s.say("")
	s.say("what the partner state sees of the Dublin case — every step, whoever recorded it:")
	tl, err = s.ps.c.FullTimeline(ctx, api.CaseRef{Channel: "dublin", Pseudonym: d.Pseudonym})
	if err != nil {
		return stepErr("partner state's timeline", err)
	}
	s.indent(func(w io.Writer) { render.Timeline(w, tl) })
	return nil
}

// board prints the Dublin deadline board as both member states see it.
func (s *scenario) board(ctx context.Context) error {
	for _, a := range []actor{s.aoDU, s.ps} {
		b, err := a.c.Deadlines(ctx, 200, client.Page{PageSize: 100})
		if err != nil {
			return stepErr(a.org+"'s deadline board", err)
		}
		others := 0
		mine := b.Items[:0:0]
		for _, it := range b.Items {
			if s.ours[it.Pseudonym] {
				mine = append(mine, it)
			} else {
				others++
			}
		}
		if len(mine) == 0 {
			return fmt.Errorf("%s's deadline board lacks the Dublin case", a.org)
		}
		b.Items = mine
		s.say("")
		s.say("the Dublin deadline board at %s (%s):", a.org, a.role)
		s.indent(func(w io.Writer) { render.Board(w, b, nil) })
		if others > 0 || b.Bookmark != "" {
			s.say("  (+ deadlines of %d other cases on the board)", others)
		}
	}
	return nil
}
