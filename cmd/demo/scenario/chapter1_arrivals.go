package scenario

import (
	"context"
	"fmt"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Chapter 1: two arrivals at the border, one recorded late.

func (s *scenario) arrivals(ctx context.Context) error {
	s.section("1. Two arrivals at the border")
	r := s.refs
	a, err := s.register(ctx, s.bp, "national", r.bpA, s.cal.ago(0), nil, "arrival 1, border police file "+r.bpA)
	if err != nil {
		return err
	}
	s.rep.CaseA.National = a.Pseudonym
	b, err := s.register(ctx, s.bp, "national", r.bpB, s.cal.ago(arrivalDaysAgo), nil,
		fmt.Sprintf("arrival 2 at a remote post %d days ago, recorded late: file %s", arrivalDaysAgo, r.bpB))
	if err != nil {
		return err
	}
	s.rep.CaseB.National = b.Pseudonym

	s.say("the asylum office learns of both cases on its own event stream (pseudonyms only, not yet its cases):")
	wctx, cancel := s.wait(ctx)
	defer cancel()
	for _, p := range []string{a.Pseudonym, b.Pseudonym} {
		ev, err := s.feeds[s.ao.org].wait(wctx, func(ev api.EventView) bool {
			return ev.Pseudonym == p && ev.Code == string(domain.EvCaseRegistered)
		})
		if err != nil {
			return stepErr("asylum office's event stream", err)
		}
		s.say("  asylum-office stream  %s  national case %s %s  held by the asylum office: %v", ev.Position, render.Short(p), ev.Code, ev.Held)
	}
	s.say("the border police hand the pseudonyms over with the person; the asylum office binds its own file numbers")
	s.say("(CASE_BOUND on the ledger: it now holds the cases — anchoring or writing alone never makes an agency a holder):")
	for _, x := range [][2]string{{a.Pseudonym, r.aoA}, {b.Pseudonym, r.aoB}} {
		res, err := s.ao.c.Bind(ctx, api.BindRequest{Channel: "national", Pseudonym: x[0], LocalRef: x[1]})
		if err != nil {
			return stepErr("asylum office binds "+x[1], err)
		}
		s.say("  ✔ asylum-office binds %s → national case %s (only its own privacy service knows)", x[1], render.Short(res.Pseudonym))
	}
	return nil
}
