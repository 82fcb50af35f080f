package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/progress"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Chapter 6: the auditor verifies both channels on its own peer and lists late entries.

func (s *scenario) audit(ctx context.Context) error {
	s.section("6. The auditor verifies both channels on its own peer")
	line := progress.Start(s.prog, "auditor: recomputing every block's hashes and every transaction's signature")
	rep, err := s.aud.c.AuditVerify(ctx)
	if err != nil {
		line.Fail("%v", err)
		return stepErr("audit verification", err)
	}
	line.Done("%d channels", len(rep.Channels))
	s.rep.Audit = rep
	s.indent(func(w io.Writer) { render.Audit(w, rep) })
	if !rep.Intact || len(rep.Channels) != 2 {
		return fmt.Errorf("audit: intact %v over %d channels", rep.Intact, len(rep.Channels))
	}
	s.say("")
	s.say("late recordings of this run (occurred before the day they were recorded):")
	var late []domain.Event
	total := 0
	for _, ch := range []string{"national", "dublin"} {
		p := client.Page{PageSize: 100}
		for {
			l, err := s.aud.c.AuditLate(ctx, ch, "", p)
			if err != nil {
				return stepErr("late recordings", err)
			}
			total += len(l.Items)
			for _, e := range l.Items {
				if e.Pseudonym == s.rep.CaseB.National || e.Pseudonym == s.rep.CaseB.Dublin {
					late = append(late, e)
				}
			}
			if l.Bookmark == "" || len(l.Items) == 0 {
				break
			}
			p.Bookmark = l.Bookmark
		}
	}
	s.rep.LateEvents = late
	if len(late) == 0 {
		return errors.New("the auditor lists none of this run's late recordings")
	}
	s.indent(func(w io.Writer) { render.Events(w, late, true) })
	s.say("(%d late recordings on the ledger in all)", total)
	s.say("")
	s.say("erasure requests not yet confirmed by every holder:")
	for _, ch := range []string{"national", "dublin"} {
		l, err := s.aud.c.AuditErasures(ctx, ch, 0, client.Page{PageSize: 100})
		if err != nil {
			return stepErr("unconfirmed erasures", err)
		}
		s.rep.OpenErasures += len(l.Items)
		sts := make([]api.ErasureStatus, len(l.Items))
		for i, it := range l.Items {
			if s.ours[it.Pseudonym] {
				return fmt.Errorf("this run's completed erasure is listed as unconfirmed on %s", ch)
			}
			sts[i] = it.ErasureStatus
		}
		s.say("  %s:", ch)
		s.indent(func(w io.Writer) { render.Erasures(w, sts, func(i int) int { return l.Items[i].DaysOpen }) })
	}
	return nil
}
