package scenario

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Chapter 2: the national procedure, to a decision for case A.

func (s *scenario) nationalProcedure(ctx context.Context) error {
	s.section("2. The national procedure: identity checks, files, applications; a hearing and a decision for case A")
	r, today := s.refs, s.cal.ago(0)
	steps := []struct {
		ref    string
		code   domain.EventCode
		date   string
		fields map[string]any
		note   string
	}{
		{r.aoA, domain.EvIdentityChecked, today, map[string]any{"eurodacHit": "NONE"}, "case A: no Eurodac hit"},
		{r.aoB, domain.EvIdentityChecked, s.cal.ago(arrivalDaysAgo), map[string]any{"eurodacHit": "CATEGORY_1"}, "case B: Eurodac category-1 hit (applied in AT before)"},
		{r.aoA, domain.EvFileCreated, today, nil, ""},
		{r.aoB, domain.EvFileCreated, s.cal.ago(applicationDaysAgo), nil, "late entry"},
		{r.aoA, domain.EvAllocated, today, map[string]any{"regionCode": "DE-BY"}, "allocated to Bavaria"},
		{r.aoA, domain.EvApplicationLodged, today, nil, ""},
		{r.aoB, domain.EvApplicationLodged, s.cal.ago(applicationDaysAgo), nil, "late entry"},
		{r.aoA, domain.EvHearingScheduled, today, map[string]any{"scheduledFor": today}, ""},
		{r.aoA, domain.EvHearingHeld, today, nil, ""},
		{r.aoA, domain.EvDecisionIssued, today, map[string]any{"outcome": "SUBSIDIARY_PROTECTION"}, "case A decided"},
	}
	var last api.WriteResponse
	for _, st := range steps {
		w, err := s.record(ctx, s.ao, "national", st.ref, st.code, st.date, st.fields, st.note)
		if err != nil {
			return err
		}
		if st.ref == r.aoA {
			last = w
		}
	}
	s.rep.CaseA.Status = last.Status
	if last.Status != domain.StDecisionIssued {
		return fmt.Errorf("case A ends in %s, want %s", last.Status, domain.StDecisionIssued)
	}
	res, err := s.ia.c.Bind(ctx, api.BindRequest{Channel: "national", Pseudonym: s.rep.CaseA.National, LocalRef: r.iaA})
	if err != nil {
		return stepErr("immigration authority binds its file", err)
	}
	s.say("✔ immigration-authority (Bavaria) binds its file %s → case %s after the allocation", r.iaA, render.Short(res.Pseudonym))
	s.say("")
	s.say("what the immigration authority sees of case A — its own reference, every agency's steps:")
	tl, err := s.ia.c.FullTimeline(ctx, api.CaseRef{Channel: "national", Pseudonym: s.rep.CaseA.National})
	if err != nil {
		return stepErr("immigration authority's timeline", err)
	}
	// Registration, the asylum office's bind, seven steps, the immigration
	// authority's own bind.
	if len(tl.Items) != 10 || !slices.Equal(tl.LocalRefs, []string{r.iaA}) {
		return fmt.Errorf("immigration authority sees %d events and references %v of case A, want 10 and its own", len(tl.Items), tl.LocalRefs)
	}
	s.indent(func(w io.Writer) { render.Timeline(w, tl) })
	if err := s.needToKnow(ctx); err != nil {
		return err
	}
	return s.views(ctx, "national", map[string]string{"case A": s.rep.CaseA.National, "case B": s.rep.CaseB.National}, s.bp, s.ao, s.ia, s.aud)
}

// needToKnow shows what two agencies' own peers answer about case A's decision: the immigration
// authority (in the decision's audience) sees the outcome, the border police only that a decision
// exists and its details are withheld (docs/visibility.md).
func (s *scenario) needToKnow(ctx context.Context) error {
	s.say("")
	s.say("need to know — case A's decision as each agency's own peer answers it:")
	for _, a := range []struct {
		who  string
		ag   actor
		want string
	}{{"immigration-authority", s.ia, "SUBSIDIARY_PROTECTION"}, {"border-police", s.bp, ""}} {
		tl, err := a.ag.c.FullTimeline(ctx, api.CaseRef{Channel: "national", Pseudonym: s.rep.CaseA.National})
		if err != nil {
			return stepErr(a.who+"'s timeline", err)
		}
		for _, e := range tl.Items {
			if e.Code != domain.EvDecisionIssued {
				continue
			}
			if string(e.Outcome) != a.want {
				return fmt.Errorf("%s sees the decision's outcome %q, want %q", a.who, e.Outcome, a.want)
			}
			if e.Outcome != "" {
				s.say("  %-22s DECISION_ISSUED outcome %s (from its collection %s)", a.who, e.Outcome, e.Withheld)
			} else {
				s.say("  %-22s DECISION_ISSUED — details exist and are withheld (%s)", a.who, e.Withheld)
			}
		}
	}
	return nil
}
