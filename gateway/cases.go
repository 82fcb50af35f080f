package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// channel returns one of the agency's channels.
func (s *Server) channel(name string) (api.ChannelInfo, error) {
	for _, ch := range s.ledger.Channels() {
		if ch.Name == name {
			return ch, nil
		}
	}
	if name == "" {
		return api.ChannelInfo{}, domain.Errorf(domain.KindInvalidArgument, "channel: required")
	}
	return api.ChannelInfo{}, domain.Errorf(domain.KindInvalidArgument, "channel: not a channel of this agency")
}

// channelFor returns the agency's channel of a procedure.
func (s *Server) channelFor(p domain.Procedure) (api.ChannelInfo, error) {
	for _, ch := range s.ledger.Channels() {
		if ch.Procedure == p {
			return ch, nil
		}
	}
	return api.ChannelInfo{}, domain.Errorf(domain.KindForbidden, "this agency takes no part in the %s procedure", p)
}

// memo persists a resolved value with the write (see idemCall.Memo); reads
// compute it every time.
func (c *call) memo(name string, f func() (string, error)) (string, error) {
	if c.idem == nil {
		return f()
	}
	return c.idem.Memo(name, f)
}

// wctx is the context of ledger and vault work: a write outlives a client
// that hangs up, so its outcome is stored for the retry.
func (c *call) wctx() context.Context {
	if c.idem != nil {
		return context.WithoutCancel(c.ctx)
	}
	return c.ctx
}

// resolve finds the pseudonym a CaseRef names.
func (c *call) resolve(ref api.CaseRef) (api.ChannelInfo, string, error) {
	ch, err := c.s.channel(ref.Channel)
	if err != nil {
		return api.ChannelInfo{}, "", err
	}
	p, err := c.memo("case/"+ch.Name, func() (string, error) {
		switch {
		case ref.LocalRef != "" && ref.Pseudonym != "":
			return "", domain.Errorf(domain.KindInvalidArgument, "give localRef or pseudonym, not both")
		case ref.LocalRef != "":
			if err := privacy.ValidateLocalRef(ref.LocalRef); err != nil {
				return "", err
			}
			return c.s.vault.ResolveRef(c.wctx(), ch.Name, ref.LocalRef)
		case ref.Pseudonym != "":
			if err := domain.CheckPseudonym(ref.Pseudonym); err != nil {
				return "", err
			}
			return ref.Pseudonym, nil
		}
		return "", domain.Errorf(domain.KindInvalidArgument, "localRef or pseudonym required")
	})
	return ch, p, err
}

// ownRefs returns the agency's local references of a pseudonym ([] when it
// holds none).
func (s *Server) ownRefs(ctx context.Context, channel, pseudonym string) ([]string, error) {
	refs, err := s.vault.ResolvePseudonym(ctx, channel, pseudonym)
	if errors.Is(err, privacy.ErrNotFound) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	if refs == nil {
		refs = []string{}
	}
	return refs, nil
}

// submit records one case transaction of the write and answers its result.
func (c *call) submit(ch api.ChannelInfo, fn string, args ...string) (api.WriteResponse, error) {
	rec, err := c.submitTx(ch, fn, args...)
	if err != nil {
		return api.WriteResponse{}, err
	}
	return writeResponse(ch.Name, rec)
}

// submitTx records one transaction of the write: requestID derived from the
// Idempotency-Key's record, after the block the request names, journaled.
func (c *call) submitTx(ch api.ChannelInfo, fn string, args ...string) (Receipt, error) {
	reqID := c.idem.RequestID(ch.Name + "/" + fn)
	if err := c.awaitMinBlock(ch.Name); err != nil {
		return Receipt{}, err
	}
	var rec Receipt
	var err error
	if fn == api.FnRecordEvent && len(args) == 2 {
		// args: pseudonym, payload. Coded details go in the transient map (visibility.go).
		payload, details, derr := c.withholdDetails(ch, args[1])
		if derr != nil {
			return Receipt{}, derr
		}
		if details != nil {
			rec, err = c.s.ledger.SubmitPrivate(c.wctx(), c.idem, c.caller.Role, ch.Name, fn, reqID, details, args[0], payload)
		} else {
			rec, err = c.s.ledger.Submit(c.wctx(), c.idem, c.caller.Role, ch.Name, fn, reqID, args...)
		}
	} else {
		rec, err = c.s.ledger.Submit(c.wctx(), c.idem, c.caller.Role, ch.Name, fn, reqID, args...)
	}
	if err != nil {
		return Receipt{}, err
	}
	c.s.heights.saw(ch.Name, rec.BlockNumber)
	return rec, nil
}

func writeResponse(channel string, rec Receipt) (api.WriteResponse, error) {
	var wr api.WriteResult
	if err := json.Unmarshal(rec.Result, &wr); err != nil {
		return api.WriteResponse{}, domain.Errorf(domain.KindInternal, "undecodable chaincode result")
	}
	txID := wr.TxID
	if txID == "" {
		txID = rec.TxID
	}
	return api.WriteResponse{
		Channel: channel, Pseudonym: wr.Pseudonym, Seq: wr.Seq, Code: wr.Code, Status: wr.Status,
		TxID: txID, BlockNumber: rec.BlockNumber, RecordedOn: wr.RecordedOn, OccurredOn: wr.OccurredOn,
	}, nil
}

// evaluate runs a query as the caller's role and decodes the result.
func (c *call) evaluate(channel, fn string, out any, args ...string) error {
	if err := c.awaitMinBlock(channel); err != nil {
		return err
	}
	raw, err := c.s.ledger.Evaluate(c.wctx(), c.caller.Role, channel, fn, args...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return domain.Errorf(domain.KindInternal, "undecodable chaincode result")
	}
	return nil
}

func checkDate(field, s string) error {
	if _, err := deadline.ParseDate(s); err != nil {
		return domain.Errorf(domain.KindInvalidArgument, "%s: must be a date YYYY-MM-DD", field)
	}
	return nil
}

func (s *Server) hRegister(c *call) (int, any, error) {
	var req api.RegisterRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	ch, err := s.channel(req.Channel)
	if err != nil {
		return 0, nil, err
	}
	if err := privacy.ValidateLocalRef(req.LocalRef); err != nil {
		return 0, nil, err
	}
	if err := checkDate("occurredOn", req.OccurredOn); err != nil {
		return 0, nil, err
	}
	facts, err := registrationFacts(req)
	if err != nil {
		return 0, nil, err
	}
	if facts != "" && ch.Procedure != domain.ProcedureDublin {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "applicationRegisteredOn, evidence: request facts are recorded on the Dublin channel only")
	}
	created := false
	p, err := c.memo("pseudonym", func() (string, error) {
		ctx := c.wctx()
		if req.LinkFrom == nil {
			p, cr, err := s.vault.Pseudonymize(ctx, ch.Name, req.LocalRef)
			created = cr
			return p, err
		}
		if req.LinkFrom.Channel == ch.Name {
			return "", domain.Errorf(domain.KindInvalidArgument, "linkFrom: must name another channel")
		}
		from, fp, err := c.resolve(*req.LinkFrom)
		if err != nil {
			return "", err
		}
		p, cr, err := s.vault.LinkNew(ctx, from.Name, fp, ch.Name)
		if err != nil {
			return "", err
		}
		created = cr
		if _, err := s.vault.Bind(ctx, ch.Name, p, req.LocalRef); err != nil {
			return "", err
		}
		return p, nil
	})
	if err != nil {
		return 0, nil, err
	}
	var res api.WriteResponse
	if facts != "" {
		res, err = c.submit(ch, api.FnRecordEvent, p, facts)
	} else {
		res, err = c.submit(ch, api.FnRegisterCase, p, req.OccurredOn)
	}
	var de *domain.Error
	if err != nil && created && req.LinkFrom == nil && errors.As(err, &de) && problemOf(err).Status < 500 {
		// Refused for good (a 5xx kind such as CLOCK_SKEW is retried with the
		// memoised pseudonym, so its mapping must stay): leave no mapping
		// behind for a case that is not on the ledger.
		if _, eerr := s.vault.ErasePseudonym(c.wctx(), ch.Name, p); eerr != nil {
			s.log.Warn("could not drop the mapping of a refused registration", "err", eerr)
		}
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, res, nil
}

func (s *Server) hBind(c *call) (int, any, error) {
	var req api.BindRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	ch, err := s.channel(req.Channel)
	if err != nil {
		return 0, nil, err
	}
	if err := domain.CheckPseudonym(req.Pseudonym); err != nil {
		return 0, nil, err
	}
	if err := privacy.ValidateLocalRef(req.LocalRef); err != nil {
		return 0, nil, err
	}
	// The ledger first: the chaincode decides whether this agency may take
	// part in the case (it refuses a case that does not exist, and a party
	// the workflow does not admit) and records it as a holder, which is what
	// makes its gateway erase the mapping on an erasure request. Only then
	// is the reference bound locally, so a refused bind leaves no mapping.
	// The date is memoised so a retry sends byte-identical arguments.
	on, err := c.memo("bound-on", func() (string, error) { return s.today().String(), nil })
	if err != nil {
		return 0, nil, err
	}
	payload, err := json.Marshal(domain.EventInput{VocabularyVersion: domain.VocabularyVersion, Code: domain.EvCaseBound, OccurredOn: on})
	if err != nil {
		return 0, nil, domain.Errorf(domain.KindInternal, "encoding failed")
	}
	out := api.BindResponse{Channel: ch.Name, Pseudonym: req.Pseudonym, Holder: true}
	res, err := c.submit(ch, api.FnRecordEvent, req.Pseudonym, string(payload))
	switch {
	case err == nil:
		out.Event = &res
	case domain.KindOf(err) == domain.KindAlreadyExists:
		// Already a holder: binding another reference needs no event.
	default:
		return 0, nil, err
	}
	out.Created, err = s.vault.Bind(c.wctx(), ch.Name, req.Pseudonym, req.LocalRef)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// canonicalEvent validates an event payload with the chaincode's own strict
// decoder and renders it canonically, so a retried request sends the
// chaincode byte-identical arguments. vocabularyVersion defaults to the
// current one.
func canonicalEvent(raw json.RawMessage) (string, domain.EventInput, error) {
	var m map[string]json.RawMessage
	if err := decodeJSON(raw, &m); err != nil || m == nil {
		return "", domain.EventInput{}, domain.Errorf(domain.KindInvalidArgument, "event: must be a JSON object")
	}
	if _, ok := m["vocabularyVersion"]; !ok {
		m["vocabularyVersion"] = json.RawMessage(strconv.Itoa(domain.VocabularyVersion))
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", domain.EventInput{}, domain.Errorf(domain.KindInvalidArgument, "event: not encodable")
	}
	in, err := domain.DecodeEventInput(b)
	if err != nil {
		return "", domain.EventInput{}, err
	}
	out, err := json.Marshal(in)
	if err != nil {
		return "", domain.EventInput{}, domain.Errorf(domain.KindInternal, "encoding failed")
	}
	return string(out), in, nil
}

func (s *Server) hRecordEvent(c *call) (int, any, error) {
	var req api.EventRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	payload, _, err := canonicalEvent(req.Event)
	if err != nil {
		return 0, nil, err
	}
	return c.recordPayload(req.CaseRef, payload)
}

func (c *call) recordPayload(ref api.CaseRef, payload string) (int, any, error) {
	ch, p, err := c.resolve(ref)
	if err != nil {
		return 0, nil, err
	}
	res, err := c.submit(ch, api.FnRecordEvent, p, payload)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, res, nil
}

func (s *Server) hState(c *call) (int, any, error) {
	ch, p, err := c.caseBody()
	if err != nil {
		return 0, nil, err
	}
	var st domain.CaseState
	if err := c.evaluate(ch.Name, api.FnGetCase, &st, p); err != nil {
		return 0, nil, err
	}
	refs, err := s.ownRefs(c.ctx, ch.Name, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.CaseView{Case: st, LocalRefs: refs}, nil
}

func pageSizeArg(n int) (string, error) {
	if n < 0 || n > 1000 {
		return "", domain.Errorf(domain.KindInvalidArgument, "pageSize: 0..1000")
	}
	return strconv.Itoa(n), nil
}

func (s *Server) hTimeline(c *call) (int, any, error) {
	ch, p, bm, ps, err := c.casePageBody()
	if err != nil {
		return 0, nil, err
	}
	var page api.Page[domain.Event]
	if err := c.evaluate(ch.Name, api.FnGetTimeline, &page, p, bm, ps); err != nil {
		return 0, nil, err
	}
	refs, err := s.ownRefs(c.ctx, ch.Name, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.TimelineResponse{Channel: ch.Name, Pseudonym: p, LocalRefs: refs, Items: nonNilSlice(page.Items), Bookmark: page.Bookmark}, nil
}

// pageQuery reads bookmark and pageSize from the query string.
func pageQuery(q url.Values) (bookmark, size string, err error) {
	n := 0
	if v := q.Get("pageSize"); v != "" {
		if n, err = strconv.Atoi(v); err != nil {
			return "", "", domain.Errorf(domain.KindInvalidArgument, "pageSize: must be an integer")
		}
	}
	size, err = pageSizeArg(n)
	return q.Get("bookmark"), size, err
}

// listQuery reads a list route's channel and paging parameters.
func (s *Server) listQuery(q url.Values) (ch api.ChannelInfo, bookmark, size string, err error) {
	if ch, err = s.channel(q.Get("channel")); err != nil {
		return api.ChannelInfo{}, "", "", err
	}
	bookmark, size, err = pageQuery(q)
	return ch, bookmark, size, err
}

// caseBody decodes a CaseRef request body and resolves the case it names.
func (c *call) caseBody() (api.ChannelInfo, string, error) {
	var ref api.CaseRef
	if err := decodeJSON(c.body, &ref); err != nil {
		return api.ChannelInfo{}, "", err
	}
	return c.resolve(ref)
}

// casePageBody decodes a page request over one case (TimelineRequest) and
// resolves the case: channel, pseudonym, bookmark, page size.
func (c *call) casePageBody() (api.ChannelInfo, string, string, string, error) {
	var req api.TimelineRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return api.ChannelInfo{}, "", "", "", err
	}
	ps, err := pageSizeArg(req.PageSize)
	if err != nil {
		return api.ChannelInfo{}, "", "", "", err
	}
	ch, p, err := c.resolve(req.CaseRef)
	return ch, p, req.Bookmark, ps, err
}

func (s *Server) hListByStatus(c *call) (int, any, error) {
	q := c.r.URL.Query()
	ch, bm, ps, err := s.listQuery(q)
	if err != nil {
		return 0, nil, err
	}
	var page api.Page[domain.CaseState]
	if err := c.evaluate(ch.Name, api.FnListByStatus, &page, q.Get("status"), bm, ps); err != nil {
		return 0, nil, err
	}
	out, err := s.views(c.ctx, ch.Name, page.Items)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.CaseList{Items: out, Bookmark: page.Bookmark}, nil
}

func (s *Server) views(ctx context.Context, channel string, states []domain.CaseState) ([]api.CaseView, error) {
	out := make([]api.CaseView, 0, len(states))
	for _, st := range states {
		refs, err := s.ownRefs(ctx, channel, st.Pseudonym)
		if err != nil {
			return nil, err
		}
		out = append(out, api.CaseView{Case: st, LocalRefs: refs})
	}
	return out, nil
}

func (s *Server) hWhoami(c *call) (int, any, error) {
	return http.StatusOK, api.Whoami{
		Org: s.cfg.Org, MSPID: s.cfg.MSPID, MemberState: s.cfg.MemberState, Role: c.caller.Role,
		TokenID: c.caller.TokenID, TokenName: c.caller.Name, Channels: s.ledger.Channels(), Roles: s.ledger.Roles(),
	}, nil
}

func (s *Server) hVocabulary(c *call) (int, any, error) {
	ch, err := s.channel(c.r.URL.Query().Get("channel"))
	if err != nil {
		return 0, nil, err
	}
	var v json.RawMessage
	if err := c.evaluate(ch.Name, api.FnGetVocabulary, &v); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, v, nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clip(s)
}
