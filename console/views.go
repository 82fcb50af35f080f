package console

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/domain"
)

// Every view asks the gateway's /v1 API with the session's token, and
// shows what it answers: details another agency may not see are withheld by
// the gateway and the chaincode, not by the console; a refusal is shown in
// plain words with the API's code.

// pageTimeout bounds the API calls behind one page.
const pageTimeout = 60 * time.Second

func (q *request) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(q.r.Context(), pageTimeout)
}

// apiError shows the API's refusal of a whole page.
func (c *Console) apiError(q *request, title string, err error) {
	status := http.StatusBadGateway
	var p *client.Problem
	if errors.As(err, &p) {
		status = p.Status
	}
	pg := c.base(q, title)
	pg.Error = c.problemText(q.lang, err)
	c.render(q.w, status, "error", pg)
}

// problemText is the API's answer in plain words: a sentence per problem
// code in the page's language, then the gateway's own detail and code.
func (c *Console) problemText(lang string, err error) string {
	var p *client.Problem
	if !errors.As(err, &p) {
		return c.msg.t(lang, "problem.UNAVAILABLE")
	}
	s := c.msg.t(lang, "problem."+p.Code)
	if s == "problem."+p.Code {
		s = c.msg.t(lang, "problem.other")
	}
	if p.Detail != "" {
		s += " " + c.msg.t(lang, "problem.detail", p.Detail)
	}
	return s + " (" + p.Code + ")"
}

// vocabularies of the agency's channels, by channel name.
func (c *Console) vocabularies(ctx context.Context, q *request) ([]api.ChannelInfo, map[string]api.Vocabulary, error) {
	who, err := q.api.Whoami(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]api.Vocabulary{}
	for _, ch := range who.Channels {
		raw, err := q.api.Vocabulary(ctx, ch.Name)
		if err != nil {
			return nil, nil, err
		}
		var v api.Vocabulary
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, nil, err
		}
		out[ch.Name] = v
	}
	return who.Channels, out, nil
}

// excluded events have flows of their own (registration, binding,
// anchoring with the document, erasure with its confirmations).
func excluded(e domain.EventCode) bool {
	switch e {
	case domain.EvCaseRegistered, domain.EvCaseBound, domain.EvDocumentAnchored, domain.EvErasureRequested, domain.EvErasureConfirmed:
		return true
	}
	return false
}

func spec(v api.Vocabulary, code domain.EventCode) (api.EventSpec, bool) {
	for _, s := range v.Events {
		if s.Code == code {
			return s, true
		}
	}
	return api.EventSpec{}, false
}

// partyOK: is this agency the party the row names, on this case?
func (c *Console) partyOK(p domain.Party, cs domain.CaseState) bool {
	held := slices.Contains(cs.Holders, c.cfg.MSPID)
	var requesting, requested bool
	if d := cs.Dublin; d != nil && c.cfg.MemberState != "" {
		requesting = d.RequestingMemberState == c.cfg.MemberState
		requested = d.RequestedMemberState == c.cfg.MemberState
	}
	switch p {
	case domain.PartyAny:
		return true
	case domain.PartyHolder:
		return held
	case domain.PartyRequesting:
		return requesting
	case domain.PartyRequested:
		return requested
	case domain.PartyInvolved:
		return requesting || requested
	}
	return false
}

// nextSteps are the events this agency and role may record on the case
// next, from the workflow table (guards are the chaincode's to check: a
// step refused for one is answered in plain words). bind says the agency
// may take part in the case by binding its own reference.
func (c *Console) nextSteps(v api.Vocabulary, cs domain.CaseState, role domain.Role) (steps []domain.EventCode, bind bool) {
	if cs.Erasure != nil {
		return nil, false // frozen: only the gateways' confirmations follow
	}
	for _, t := range v.Transitions {
		if !slices.Contains(t.Agencies, c.cfg.Kind) || !slices.Contains(t.Roles, role) || !t.Allows(cs.Status) {
			continue
		}
		if s, ok := spec(v, t.Event); !ok || s.System {
			continue
		}
		if t.Event == domain.EvCaseBound {
			if !slices.Contains(cs.Holders, c.cfg.MSPID) && c.partyOK(t.Party, cs) {
				bind = true
			}
			continue
		}
		if excluded(t.Event) || !c.partyOK(t.Party, cs) || slices.Contains(steps, t.Event) {
			continue
		}
		steps = append(steps, t.Event)
	}
	return steps, bind
}

// workStatuses are the statuses from which a row of this agency and role
// starts explicitly (wildcard rows — anchoring, closing, erasure — are
// always possible and belong on the case page, not in the worklist).
func (c *Console) workStatuses(v api.Vocabulary, role domain.Role) []domain.Status {
	var out []domain.Status
	for _, t := range v.Transitions {
		if !slices.Contains(t.Agencies, c.cfg.Kind) || !slices.Contains(t.Roles, role) || excluded(t.Event) {
			continue
		}
		if s, ok := spec(v, t.Event); !ok || s.System {
			continue
		}
		for _, st := range t.From {
			if st != "*" && st != "**" && !slices.Contains(out, st) {
				out = append(out, st)
			}
		}
	}
	return out
}

type workItem struct {
	Channel   string
	Pseudonym string
	Refs      []string
	Status    domain.Status
	UpdatedOn string
	Steps     []domain.EventCode
	Bind      bool
}

// maxWorkPerStatus bounds the cases read per status (pages of 100).
const maxWorkPerStatus = 500

func (c *Console) worklist(q *request) {
	if q.s.Role == domain.RoleAuditor {
		http.Redirect(q.w, q.r, Prefix+"audit", http.StatusSeeOther)
		return
	}
	ctx, cancel := q.ctx()
	defer cancel()
	title := c.msg.t(q.lang, "title.worklist")
	channels, vocs, err := c.vocabularies(ctx, q)
	if err != nil {
		c.apiError(q, title, err)
		return
	}
	var items []workItem
	for _, ch := range channels {
		v := vocs[ch.Name]
		for _, st := range c.workStatuses(v, q.s.Role) {
			bm := ""
			for n := 0; n < maxWorkPerStatus; n += 100 {
				list, err := q.api.Cases(ctx, ch.Name, string(st), client.Page{Bookmark: bm, PageSize: 100})
				if err != nil {
					c.apiError(q, title, err)
					return
				}
				for _, cv := range list.Items {
					steps, bind := c.nextSteps(v, cv.Case, q.s.Role)
					if len(steps) == 0 && !bind {
						continue
					}
					items = append(items, workItem{Channel: ch.Name, Pseudonym: cv.Case.Pseudonym, Refs: cv.LocalRefs,
						Status: cv.Case.Status, UpdatedOn: cv.Case.UpdatedOn, Steps: steps, Bind: bind})
				}
				if bm = list.Bookmark; bm == "" {
					break
				}
			}
		}
	}
	slices.SortStableFunc(items, func(a, b workItem) int {
		return cmp.Or(strings.Compare(b.UpdatedOn, a.UpdatedOn), strings.Compare(a.Pseudonym, b.Pseudonym))
	})
	var due []api.BoardItem
	if c.hasDublinChannel(channels) {
		board, err := q.api.Deadlines(ctx, 14, client.Page{PageSize: 100})
		if err != nil {
			c.apiError(q, title, err)
			return
		}
		due = board.Items
		slices.SortStableFunc(due, func(a, b api.BoardItem) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) })
	}
	pg := c.base(q, title)
	dublin := ""
	for _, ch := range channels {
		if ch.Procedure == domain.ProcedureDublin {
			dublin = ch.Name
		}
	}
	pg.Data = struct {
		Items         []workItem
		Due           []api.BoardItem
		Today         string
		Channels      []api.ChannelInfo
		DublinChannel string
	}{items, due, c.today(), channels, dublin}
	c.render(q.w, http.StatusOK, "worklist", pg)
}

func (c *Console) hasDublinChannel(chs []api.ChannelInfo) bool {
	for _, ch := range chs {
		if ch.Procedure == domain.ProcedureDublin {
			return true
		}
	}
	return false
}

func caseURL(channel, pseudonym string, extra url.Values) string {
	v := url.Values{"channel": {channel}, "p": {pseudonym}}
	for k, vs := range extra {
		v[k] = vs
	}
	return Prefix + "case?" + v.Encode()
}

// field is one input of a step's form.
type field struct {
	Name     string
	Kind     string // select, bool, date, text
	Options  []string
	Required bool
	Value    string
}

// dateFields are the payload fields that hold a date.
func fieldKind(f domain.Field, v api.Vocabulary) (string, []string) {
	if opts, ok := v.Values[string(f)]; ok {
		return "select", opts
	}
	switch f {
	case domain.FieldSuspensive, domain.FieldUrgent:
		return "bool", nil
	case domain.FieldReceivedOn, domain.FieldApplicationOn, domain.FieldEvidenceOn, domain.FieldReplyDue, domain.FieldScheduledFor:
		return "date", nil
	}
	return "text", nil
}

func stepFields(s api.EventSpec, v api.Vocabulary, form url.Values) []field {
	var out []field
	add := func(f domain.Field, req bool) {
		k, opts := fieldKind(f, v)
		out = append(out, field{Name: string(f), Kind: k, Options: opts, Required: req, Value: form.Get("f." + string(f))})
	}
	for _, f := range s.Required {
		add(f, true)
	}
	for _, f := range s.Optional {
		add(f, false)
	}
	return out
}

type casePageData struct {
	Channel   string
	Pseudonym string
	View      api.CaseView
	Timeline  []domain.Event
	Anchors   []api.Anchor
	Erasure   *api.ErasureStatus
	Steps     []domain.EventCode
	Bind      bool
	Step      domain.EventCode
	Fields    []field
	Occurred  string
	IdemKey   string
	Done      string
	FormError string
	BindRef   string
}

// caseData reads everything the case page shows.
func (c *Console) caseData(ctx context.Context, q *request, channel, pseudonym string) (*casePageData, api.Vocabulary, error) {
	ref := api.CaseRef{Channel: channel, Pseudonym: pseudonym}
	d := &casePageData{Channel: channel, Pseudonym: pseudonym, Occurred: c.today()}
	var err error
	if d.View, err = q.api.Case(ctx, ref); err != nil {
		return nil, api.Vocabulary{}, err
	}
	tl, err := q.api.FullTimeline(ctx, ref)
	if err != nil {
		return nil, api.Vocabulary{}, err
	}
	d.Timeline = tl.Items
	an, err := q.api.Anchors(ctx, ref, client.Page{PageSize: 100})
	if err != nil {
		return nil, api.Vocabulary{}, err
	}
	d.Anchors = an.Items
	if d.View.Case.Erasure != nil {
		es, err := q.api.ErasureStatus(ctx, ref)
		if err != nil {
			return nil, api.Vocabulary{}, err
		}
		d.Erasure = &es
	}
	raw, err := q.api.Vocabulary(ctx, channel)
	if err != nil {
		return nil, api.Vocabulary{}, err
	}
	var v api.Vocabulary
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, api.Vocabulary{}, err
	}
	d.Steps, d.Bind = c.nextSteps(v, d.View.Case, q.s.Role)
	return d, v, nil
}

func (c *Console) casePage(q *request) {
	qv := q.r.URL.Query()
	c.showCase(q, qv.Get("channel"), qv.Get("p"), domain.EventCode(qv.Get("step")), nil, "", http.StatusOK)
}

// showCase renders the case page; with step, the form of that step (form
// holds what was entered when the API refused it, formErr the refusal).
func (c *Console) showCase(q *request, channel, pseudonym string, step domain.EventCode, form url.Values, formErr string, status int) {
	ctx, cancel := q.ctx()
	defer cancel()
	title := c.msg.t(q.lang, "title.case")
	d, v, err := c.caseData(ctx, q, channel, pseudonym)
	if err != nil {
		c.apiError(q, title, err)
		return
	}
	if form == nil {
		form = url.Values{}
	}
	if step != "" && slices.Contains(d.Steps, step) {
		s, _ := spec(v, step)
		d.Step, d.Fields = step, stepFields(s, v, form)
		d.IdemKey = form.Get("idem")
		if d.IdemKey == "" {
			d.IdemKey = client.NewIdempotencyKey()
		}
		if o := form.Get("occurredOn"); o != "" {
			d.Occurred = o
		}
	}
	if done := q.r.URL.Query().Get("done"); done != "" {
		if _, ok := spec(v, domain.EventCode(done)); ok || done == string(domain.EvCaseBound) {
			d.Done = done
		}
	}
	d.FormError = formErr
	d.BindRef = form.Get("localRef")
	pg := c.base(q, title)
	pg.Data = d
	c.render(q.w, status, "case", pg)
}

// record records the chosen step through POST /v1/cases/events. The form
// carries an Idempotency-Key drawn when it was shown: sending it twice
// records the step once.
func (c *Console) record(q *request) {
	f := q.r.PostForm
	channel, pseudonym, step := f.Get("channel"), f.Get("p"), domain.EventCode(f.Get("step"))
	ev := map[string]any{"code": string(step), "occurredOn": f.Get("occurredOn")}
	for k, vs := range f {
		name, ok := strings.CutPrefix(k, "f.")
		if !ok || len(vs) != 1 || vs[0] == "" {
			continue
		}
		switch vs[0] {
		case "true":
			ev[name] = true
		case "false":
			ev[name] = false
		default:
			ev[name] = vs[0]
		}
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		c.plainError(q.w, q.lang, http.StatusBadRequest, "err.bad-form")
		return
	}
	key := f.Get("idem")
	if key == "" || len(key) > 128 {
		key = client.NewIdempotencyKey()
	}
	ctx, cancel := q.ctx()
	defer cancel()
	res, err := q.api.RecordEvent(ctx, api.EventRequest{CaseRef: api.CaseRef{Channel: channel, Pseudonym: pseudonym}, Event: raw},
		client.WithIdempotencyKey(key))
	if err != nil {
		c.audit("record", q.s.User, q.s.Role, client.CodeOf(err), "code", string(step), "channel", channel)
		c.showCase(q, channel, pseudonym, step, f, c.problemText(q.lang, err), http.StatusUnprocessableEntity)
		return
	}
	c.audit("record", q.s.User, q.s.Role, "OK", "code", string(step), "channel", channel, "txId", res.TxID)
	http.Redirect(q.w, q.r, caseURL(channel, pseudonym, url.Values{"done": {string(step)}}), http.StatusSeeOther)
}

// bind takes part in a case with the agency's own reference (in the body,
// never in a URL).
func (c *Console) bind(q *request) {
	f := q.r.PostForm
	channel, pseudonym := f.Get("channel"), f.Get("p")
	key := f.Get("idem")
	if key == "" || len(key) > 128 {
		key = client.NewIdempotencyKey()
	}
	ctx, cancel := q.ctx()
	defer cancel()
	_, err := q.api.Bind(ctx, api.BindRequest{Channel: channel, Pseudonym: pseudonym, LocalRef: strings.TrimSpace(f.Get("localRef"))},
		client.WithIdempotencyKey(key))
	if err != nil {
		c.audit("bind", q.s.User, q.s.Role, client.CodeOf(err), "channel", channel)
		c.showCase(q, channel, pseudonym, "", f, c.problemText(q.lang, err), http.StatusUnprocessableEntity)
		return
	}
	c.audit("bind", q.s.User, q.s.Role, "OK", "channel", channel)
	http.Redirect(q.w, q.r, caseURL(channel, pseudonym, url.Values{"done": {string(domain.EvCaseBound)}}), http.StatusSeeOther)
}

// find opens a case by the agency's own reference (posted, never in a URL).
func (c *Console) find(q *request) {
	f := q.r.PostForm
	ctx, cancel := q.ctx()
	defer cancel()
	cv, err := q.api.Case(ctx, api.CaseRef{Channel: f.Get("channel"), LocalRef: strings.TrimSpace(f.Get("localRef"))})
	if err != nil {
		c.apiError(q, c.msg.t(q.lang, "title.case"), err)
		return
	}
	http.Redirect(q.w, q.r, caseURL(f.Get("channel"), cv.Case.Pseudonym, nil), http.StatusSeeOther)
}
