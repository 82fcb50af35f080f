package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// Dublin operations are shorthands for RecordEvent on the agency's Dublin
// channel; the chaincode checks party, deadlines and workflow.

func (c *call) dublinRef(dc api.DublinCase) (api.CaseRef, error) {
	ch, err := c.s.channelFor(domain.ProcedureDublin)
	if err != nil {
		return api.CaseRef{}, err
	}
	return api.CaseRef{Channel: ch.Name, LocalRef: dc.LocalRef, Pseudonym: dc.Pseudonym}, nil
}

func (s *Server) hDublinRequest(c *call) (int, any, error) {
	var req api.DublinRequestRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	codes := map[domain.RequestKind]domain.EventCode{
		domain.TakeCharge: domain.EvTakeChargeRequested, domain.TakeBack: domain.EvTakeBackRequested,
		domain.TakeBackNotifyKind: domain.EvTakeBackNotified,
	}
	code, ok := codes[req.Kind]
	if !ok {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "kind: TAKE_CHARGE, TAKE_BACK or TAKE_BACK_NOTIFICATION")
	}
	in := domain.EventInput{VocabularyVersion: domain.VocabularyVersion, Code: code, OccurredOn: req.OccurredOn,
		EventFields: domain.EventFields{
			RequestedMemberState: req.RequestedMemberState, ReceivedOn: req.ReceivedOn,
			ApplicationRegisteredOn: req.ApplicationRegisteredOn, Evidence: req.Evidence,
			EvidenceReceivedOn: req.EvidenceReceivedOn, Urgent: req.Urgent, UrgentReplyDue: req.UrgentReplyDue,
		}}
	return c.recordDublin(req.DublinCase, in)
}

// recordDublin validates an event built from a Dublin shorthand exactly as
// the chaincode will, and records it.
func (c *call) recordDublin(dc api.DublinCase, in domain.EventInput) (int, any, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return 0, nil, domain.Errorf(domain.KindInternal, "encoding failed")
	}
	payload, _, err := canonicalEvent(raw)
	if err != nil {
		return 0, nil, err
	}
	ref, err := c.dublinRef(dc)
	if err != nil {
		return 0, nil, err
	}
	return c.recordPayload(ref, payload)
}

func (s *Server) hDublinReply(c *call) (int, any, error) {
	var req api.DublinReplyRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	codes := map[string]domain.EventCode{
		"ACCEPTED": domain.EvRequestAccepted, "REJECTED": domain.EvRequestRejected,
		"REEXAMINATION_REQUESTED": domain.EvReexaminationRequested,
		// The requested state acknowledges receipt; occurredOn is the
		// receipt date.
		"RECEIPT_ACKNOWLEDGED": domain.EvReceiptAcknowledged,
	}
	code, ok := codes[req.Reply]
	if !ok {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "reply: ACCEPTED, REJECTED, REEXAMINATION_REQUESTED or RECEIPT_ACKNOWLEDGED")
	}
	in := domain.EventInput{VocabularyVersion: domain.VocabularyVersion, Code: code, OccurredOn: req.OccurredOn,
		EventFields: domain.EventFields{ReceivedOn: req.ReceivedOn}}
	return c.recordDublin(req.DublinCase, in)
}

func (s *Server) hDublinTransfer(c *call) (int, any, error) {
	var req api.DublinTransferRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	codes := map[string]domain.EventCode{
		"DECISION_ISSUED": domain.EvTransferDecisionIssued, "SCHEDULED": domain.EvTransferScheduled,
		"COMPLETED": domain.EvTransferCompleted, "DEADLINE_EXTENDED": domain.EvTransferDeadlineExtended,
	}
	code, ok := codes[req.Step]
	if !ok {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "step: DECISION_ISSUED, SCHEDULED, COMPLETED or DEADLINE_EXTENDED")
	}
	in := domain.EventInput{VocabularyVersion: domain.VocabularyVersion, Code: code, OccurredOn: req.OccurredOn,
		EventFields: domain.EventFields{ScheduledFor: req.ScheduledFor, ExtensionReason: req.ExtensionReason}}
	return c.recordDublin(req.DublinCase, in)
}

func (s *Server) hResolveDeadlines(c *call) (int, any, error) {
	var req api.DublinCase
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	ref, err := c.dublinRef(req)
	if err != nil {
		return 0, nil, err
	}
	ch, p, err := c.resolve(ref)
	if err != nil {
		return 0, nil, err
	}
	res, err := c.submit(ch, api.FnResolveDeadlines, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, res, nil
}

// today is the gateway's date in the agency's member state.
func (s *Server) today() deadline.Date {
	loc := time.UTC
	if s.cfg.MemberState != "" {
		if l, err := time.LoadLocation(domain.TimeZone(s.cfg.MemberState)); err == nil {
			loc = l
		}
	}
	t := s.now().In(loc)
	d, _ := deadline.NewDate(t.Year(), t.Month(), t.Day())
	return d
}

// hDeadlineBoard lists deadlines whose last day is within withinDays of
// today (passed ones included), earliest first.
func (s *Server) hDeadlineBoard(c *call) (int, any, error) {
	ch, err := s.channelFor(domain.ProcedureDublin)
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	within := 14
	if v := q.Get("withinDays"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 3650 {
			return 0, nil, domain.Errorf(domain.KindInvalidArgument, "withinDays: 0..3650")
		}
		within = n
	}
	bm, ps, err := pageQuery(q)
	if err != nil {
		return 0, nil, err
	}
	today := s.today()
	before := today.AddDays(within + 1)
	var page api.Page[api.DueItem]
	if err := c.evaluate(ch.Name, api.FnDeadlinesDue, &page, before.String(), bm, ps); err != nil {
		return 0, nil, err
	}
	out := api.Board{Today: today.String(), Before: before.String(), Items: []api.BoardItem{}, Bookmark: page.Bookmark}
	for _, it := range page.Items {
		refs, err := s.ownRefs(c.ctx, ch.Name, it.Pseudonym)
		if err != nil {
			return 0, nil, err
		}
		out.Items = append(out.Items, api.BoardItem{Pseudonym: it.Pseudonym, LocalRefs: refs, Status: it.Status,
			Deadline: it.Deadline, DaysLeft: today.DaysUntil(it.Deadline.Due), Superseded: it.Superseded,
			Regime: it.Regime, LateRequest: it.LateRequest})
	}
	return http.StatusOK, out, nil
}

// registrationFacts: a registration with the facts that start the limit for
// sending a Dublin request is recorded as a CASE_REGISTERED payload through
// RecordEvent (RegisterCase takes a date only); checked as the chaincode
// will before a pseudonym is made. "" without facts.
func registrationFacts(req api.RegisterRequest) (string, error) {
	if req.ApplicationRegisteredOn == "" && req.Evidence == "" && req.EvidenceReceivedOn == "" {
		return "", nil
	}
	raw, err := json.Marshal(domain.EventInput{VocabularyVersion: domain.VocabularyVersion, Code: domain.EvCaseRegistered,
		OccurredOn: req.OccurredOn, EventFields: domain.EventFields{ApplicationRegisteredOn: req.ApplicationRegisteredOn,
			Evidence: req.Evidence, EvidenceReceivedOn: req.EvidenceReceivedOn}})
	if err != nil {
		return "", domain.Errorf(domain.KindInternal, "encoding failed")
	}
	payload, _, err := canonicalEvent(raw)
	return payload, err
}
