package gateway

import (
	"errors"
	"net/http"
	"slices"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

func (s *Server) hRequestErasure(c *call) (int, any, error) {
	var req api.ErasureRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	if err := checkDate("occurredOn", req.OccurredOn); err != nil {
		return 0, nil, err
	}
	ch, err := s.channel(req.Channel)
	if err != nil {
		return 0, nil, err
	}
	plan, err := s.findOrCreatePlan(c, ch, req)
	if err != nil {
		return 0, nil, err
	}
	if plan.Done && plan.ID != c.idem.RequestID("erasure-plan") {
		// A new request for a case whose plan is finished: channels refused
		// then are asked again (a refusal such as a running Dublin deadline
		// does not hold for ever).
		if err := s.reopenRefused(plan.ID, func(channel string) string {
			return c.idem.RequestID(channel + "/erasure:RequestErasure")
		}, req.OccurredOn); err != nil {
			return 0, nil, err
		}
	}
	submit := func(tch api.ChannelInfo, requestID string, args ...string) (Receipt, error) {
		if err := c.awaitMinBlock(tch.Name); err != nil {
			return Receipt{}, err
		}
		rec, err := s.ledger.Submit(c.wctx(), c.idem, c.caller.Role, tch.Name, api.FnRequestErasure, requestID, args...)
		if err == nil {
			s.heights.saw(tch.Name, rec.BlockNumber)
		}
		return rec, err
	}
	plan, err = s.runPlan(plan.ID, submit)
	if err != nil {
		// Not decided on some channel: the resumer goes on by itself; a
		// retry (any key) reports the plan.
		s.plans.poke()
		return 0, nil, err
	}
	out := api.ErasureResponse{Plan: plan.ID, Items: []api.ErasureOutcome{}}
	var first *api.Problem
	for _, t := range plan.Targets {
		o := api.ErasureOutcome{Channel: t.Channel, Pseudonym: t.Pseudonym, Requested: t.State == targetRequested, Result: t.Result, Problem: t.Problem}
		if o.Problem != nil && first == nil {
			first = o.Problem
		}
		out.Items = append(out.Items, o)
	}
	if !slices.ContainsFunc(plan.Targets, func(t planTarget) bool { return t.State == targetRequested }) && first != nil {
		return 0, nil, first
	}
	return http.StatusOK, out, nil
}

// findOrCreatePlan returns the case's erasure plan: found by the reference
// given (even once the executor has erased it), else by its pseudonym, else
// a new one. Serialised, so two requests for one case at once make one plan.
func (s *Server) findOrCreatePlan(c *call, ch api.ChannelInfo, req api.ErasureRequest) (*erasurePlan, error) {
	defer s.plans.lock("find-or-create")()
	plan, err := s.planByRef(c, ch, req.CaseRef)
	if err != nil || plan != nil {
		return plan, err
	}
	_, p, err := c.resolve(req.CaseRef)
	if err != nil {
		return nil, err
	}
	fp, err := s.planFingerprint("pseudonym", ch.Name, p)
	if err != nil {
		return nil, err
	}
	if plan, err = s.findPlan(fp); err != nil || plan != nil {
		return plan, err
	}
	return s.newPlan(c, ch, p, req.OccurredOn)
}

// planByRef finds the plan of the case a CaseRef names, if there is one.
// A finished plan found by a local reference that now resolves to another
// pseudonym (the reference was reused for a new case) does not count.
func (s *Server) planByRef(c *call, ch api.ChannelInfo, ref api.CaseRef) (*erasurePlan, error) {
	kind, value := "", ""
	switch {
	case ref.LocalRef != "" && ref.Pseudonym != "":
		return nil, domain.Errorf(domain.KindInvalidArgument, "give localRef or pseudonym, not both")
	case ref.LocalRef != "":
		if err := privacy.ValidateLocalRef(ref.LocalRef); err != nil {
			return nil, err
		}
		kind, value = "ref", ref.LocalRef
	case ref.Pseudonym != "":
		if err := domain.CheckPseudonym(ref.Pseudonym); err != nil {
			return nil, err
		}
		kind, value = "pseudonym", ref.Pseudonym
	default:
		return nil, domain.Errorf(domain.KindInvalidArgument, "localRef or pseudonym required")
	}
	fp, err := s.planFingerprint(kind, ch.Name, value)
	if err != nil {
		return nil, err
	}
	plan, err := s.findPlan(fp)
	if err != nil || plan == nil || !plan.Done || kind != "ref" {
		return plan, err
	}
	now, err := s.vault.ResolveRef(c.wctx(), ch.Name, ref.LocalRef)
	switch {
	case errors.Is(err, privacy.ErrNotFound):
		return plan, nil
	case err != nil:
		return nil, err
	}
	for _, t := range plan.Targets {
		if t.Channel == ch.Name && t.Pseudonym == now {
			return plan, nil
		}
	}
	return nil, nil // a new case under a reused reference
}

// newPlan resolves the channels the case is linked to, derives each
// request's id from the write's Idempotency-Key record and stores the plan
// (synced) with its index before anything is submitted.
func (s *Server) newPlan(c *call, ch api.ChannelInfo, p, occurredOn string) (*erasurePlan, error) {
	id := c.idem.RequestID("erasure-plan")
	if existing, err := s.loadPlan(id); err != nil || existing != nil {
		return existing, err
	}
	targets := []planTarget{{Channel: ch.Name, Pseudonym: p}}
	for _, other := range s.ledger.Channels() {
		if other.Name == ch.Name {
			continue
		}
		lp, err := s.vault.Linked(c.wctx(), ch.Name, p, other.Name)
		if errors.Is(err, privacy.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		targets = append(targets, planTarget{Channel: other.Name, Pseudonym: lp})
	}
	for i := range targets {
		targets[i].RequestID = c.idem.RequestID(targets[i].Channel + "/erasure:RequestErasure")
		targets[i].State = targetPending
	}
	fps, err := s.planFingerprints(c.wctx(), targets)
	if err != nil {
		return nil, err
	}
	plan := &erasurePlan{ID: id, Created: s.now().UTC(), Role: c.caller.Role, OccurredOn: occurredOn, Targets: targets}
	if err := s.createPlan(plan, fps); err != nil {
		return nil, err
	}
	return plan, nil
}

func (s *Server) hErasureStatus(c *call) (int, any, error) {
	ch, p, err := c.caseBody()
	if err != nil {
		return 0, nil, err
	}
	var st api.ErasureStatus
	if err := c.evaluate(ch.Name, api.FnGetErasureStatus, &st, p); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, st, nil
}

func (s *Server) hOpenErasures(c *call) (int, any, error) {
	q := c.r.URL.Query()
	ch, bm, ps, err := s.listQuery(q)
	if err != nil {
		return 0, nil, err
	}
	var page api.Page[api.ErasureStatus]
	if err := c.evaluate(ch.Name, api.FnListOpenErasures, &page, bm, ps); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.ErasureList{Items: nonNilSlice(page.Items), Bookmark: page.Bookmark}, nil
}
