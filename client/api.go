package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/caseledger/caseledger/api"
)

// One method per /v1 operation of gateway/openapi.yaml. Local references
// travel only in request bodies, never in a URL.

// Page selects one page of a list (zero value: the first page, default size).
type Page struct {
	Bookmark string
	PageSize int
}

func (p Page) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if p.Bookmark != "" {
		q.Set("bookmark", p.Bookmark)
	}
	if p.PageSize > 0 {
		q.Set("pageSize", strconv.Itoa(p.PageSize))
	}
	return q
}

func get(ctx context.Context, c *Client, path string, q url.Values, out any) error {
	return c.do(ctx, request{method: http.MethodGet, path: path, query: q}, out)
}

func read(ctx context.Context, c *Client, path string, body, out any) error {
	return c.do(ctx, request{method: http.MethodPost, path: path, body: body}, out)
}

func write(ctx context.Context, c *Client, path string, body, out any, opts []WriteOption) error {
	var o writeOpts
	for _, f := range opts {
		f(&o)
	}
	return c.do(ctx, request{method: http.MethodPost, path: path, body: body, write: true, key: o.key}, out)
}

// Healthy checks that the gateway process answers (GET /healthz).
func (c *Client) Healthy(ctx context.Context) error { return get(ctx, c, "/healthz", nil, nil) }

// Ready checks that the gateway can serve: its peer and its privacy service
// answer (GET /readyz; a *Problem with LEDGER_UNAVAILABLE or
// PRIVACY_UNAVAILABLE otherwise).
func (c *Client) Ready(ctx context.Context) error { return get(ctx, c, "/readyz", nil, nil) }

// Whoami says which agency and role the token stands for, and the agency's
// channels.
func (c *Client) Whoami(ctx context.Context) (api.Whoami, error) {
	var out api.Whoami
	return out, get(ctx, c, "/v1/whoami", nil, &out)
}

// Vocabulary returns the channel's event vocabulary, transitions and codes.
func (c *Client) Vocabulary(ctx context.Context, channel string) (json.RawMessage, error) {
	var out json.RawMessage
	return out, get(ctx, c, "/v1/vocabulary", url.Values{"channel": {channel}}, &out)
}

// OpenAPI returns the gateway's OpenAPI document (YAML).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	var out []byte
	return out, get(ctx, c, "/v1/openapi.yaml", nil, &out)
}

// Register registers a case under the agency's local reference (with
// LinkFrom: continues a case the agency holds on another channel under a
// fresh pseudonym).
func (c *Client) Register(ctx context.Context, req api.RegisterRequest, opts ...WriteOption) (api.WriteResponse, error) {
	var out api.WriteResponse
	return out, write(ctx, c, "/v1/cases", req, &out, opts)
}

// Bind attaches the agency's local reference to a case another agency put
// on the ledger.
func (c *Client) Bind(ctx context.Context, req api.BindRequest, opts ...WriteOption) (api.BindResponse, error) {
	var out api.BindResponse
	return out, write(ctx, c, "/v1/cases/bind", req, &out, opts)
}

// RecordEvent records any event of the vocabulary on a case.
func (c *Client) RecordEvent(ctx context.Context, req api.EventRequest, opts ...WriteOption) (api.WriteResponse, error) {
	var out api.WriteResponse
	return out, write(ctx, c, "/v1/cases/events", req, &out, opts)
}

// Case returns a case's state and the agency's own references to it.
func (c *Client) Case(ctx context.Context, ref api.CaseRef) (api.CaseView, error) {
	var out api.CaseView
	return out, read(ctx, c, "/v1/cases/state", ref, &out)
}

// Timeline returns one page of a case's events in sequence order.
func (c *Client) Timeline(ctx context.Context, ref api.CaseRef, p Page) (api.TimelineResponse, error) {
	var out api.TimelineResponse
	return out, read(ctx, c, "/v1/cases/timeline", api.TimelineRequest{CaseRef: ref, Bookmark: p.Bookmark, PageSize: p.PageSize}, &out)
}

// FullTimeline reads every page of a case's timeline.
func (c *Client) FullTimeline(ctx context.Context, ref api.CaseRef) (api.TimelineResponse, error) {
	var all api.TimelineResponse
	p := Page{}
	for {
		tl, err := c.Timeline(ctx, ref, p)
		if err != nil {
			return all, err
		}
		items := append(all.Items, tl.Items...)
		all, all.Items = tl, items
		if tl.Bookmark == "" || len(tl.Items) == 0 {
			all.Bookmark = ""
			return all, nil
		}
		p.Bookmark = tl.Bookmark
	}
}

// Cases lists the channel's cases in a status.
func (c *Client) Cases(ctx context.Context, channel, status string, p Page) (api.CaseList, error) {
	var out api.CaseList
	return out, get(ctx, c, "/v1/cases", p.query(url.Values{"channel": {channel}, "status": {status}}), &out)
}

// DublinRequest sends a take-charge / take-back request or notification.
func (c *Client) DublinRequest(ctx context.Context, req api.DublinRequestRequest, opts ...WriteOption) (api.WriteResponse, error) {
	var out api.WriteResponse
	return out, write(ctx, c, "/v1/dublin/requests", req, &out, opts)
}

// DublinReply records ACCEPTED, REJECTED or REEXAMINATION_REQUESTED.
func (c *Client) DublinReply(ctx context.Context, req api.DublinReplyRequest, opts ...WriteOption) (api.WriteResponse, error) {
	var out api.WriteResponse
	return out, write(ctx, c, "/v1/dublin/replies", req, &out, opts)
}

// DublinTransfer records a transfer step (DECISION_ISSUED, SCHEDULED,
// COMPLETED, DEADLINE_EXTENDED).
func (c *Client) DublinTransfer(ctx context.Context, req api.DublinTransferRequest, opts ...WriteOption) (api.WriteResponse, error) {
	var out api.WriteResponse
	return out, write(ctx, c, "/v1/dublin/transfers", req, &out, opts)
}

// ResolveDeadlines records the consequence of a lapsed Dublin deadline now
// (the gateways' deadline watchers do it by themselves).
func (c *Client) ResolveDeadlines(ctx context.Context, dc api.DublinCase, opts ...WriteOption) (api.WriteResponse, error) {
	var out api.WriteResponse
	return out, write(ctx, c, "/v1/dublin/deadlines/resolve", dc, &out, opts)
}

// SetHolidays records the public holidays of the agency's own member state for one year
// (Dublin units only).
func (c *Client) SetHolidays(ctx context.Context, req api.HolidaysRequest, opts ...WriteOption) (api.HolidayCalendar, error) {
	var out api.HolidayCalendar
	return out, write(ctx, c, "/v1/dublin/holidays", req, &out, opts)
}

// Holidays returns a member state's recorded holidays for a year ("" and 0: the agency's own state,
// this year).
func (c *Client) Holidays(ctx context.Context, memberState string, year int) (api.HolidayCalendar, error) {
	q := url.Values{}
	if memberState != "" {
		q.Set("memberState", memberState)
	}
	if year != 0 {
		q.Set("year", strconv.Itoa(year))
	}
	var out api.HolidayCalendar
	return out, get(ctx, c, "/v1/dublin/holidays", q, &out)
}

// Deadlines returns the Dublin deadline board: running deadlines whose last
// day is at most withinDays from today (passed ones included; <0: the
// gateway's default).
func (c *Client) Deadlines(ctx context.Context, withinDays int, p Page) (api.Board, error) {
	q := url.Values{}
	if withinDays >= 0 {
		q.Set("withinDays", strconv.Itoa(withinDays))
	}
	var out api.Board
	return out, get(ctx, c, "/v1/dublin/deadlines", p.query(q), &out)
}

// Anchor anchors a document on a case (the gateway keeps only its keyed hash).
func (c *Client) Anchor(ctx context.Context, req api.AnchorRequest, opts ...WriteOption) (api.AnchorResponse, error) {
	var out api.AnchorResponse
	return out, write(ctx, c, "/v1/documents/anchor", req, &out, opts)
}

// Verify checks a document against a case's anchors.
func (c *Client) Verify(ctx context.Context, req api.VerifyRequest) (api.VerifyResponse, error) {
	var out api.VerifyResponse
	return out, read(ctx, c, "/v1/documents/verify", req, &out)
}

// Anchors lists a case's anchors.
func (c *Client) Anchors(ctx context.Context, ref api.CaseRef, p Page) (api.AnchorList, error) {
	var out api.AnchorList
	return out, read(ctx, c, "/v1/documents/list", api.TimelineRequest{CaseRef: ref, Bookmark: p.Bookmark, PageSize: p.PageSize}, &out)
}

// RequestErasure asks for a case to be erased by every holder, on the
// named channel and every channel the agency links the case to. Keep the
// pseudonyms of the answer: the local reference stops resolving.
func (c *Client) RequestErasure(ctx context.Context, req api.ErasureRequest, opts ...WriteOption) (api.ErasureResponse, error) {
	var out api.ErasureResponse
	return out, write(ctx, c, "/v1/erasures", req, &out, opts)
}

// ErasureStatus says who has confirmed an erasure.
func (c *Client) ErasureStatus(ctx context.Context, ref api.CaseRef) (api.ErasureStatus, error) {
	var out api.ErasureStatus
	return out, read(ctx, c, "/v1/erasures/status", ref, &out)
}

// OpenErasures lists erasure requests not confirmed by every holder.
func (c *Client) OpenErasures(ctx context.Context, channel string, p Page) (api.ErasureList, error) {
	var out api.ErasureList
	return out, get(ctx, c, "/v1/erasures/open", p.query(url.Values{"channel": {channel}}), &out)
}

// AutomationRefusals lists the automations' writes the ledger refused for
// good (admin).
func (c *Client) AutomationRefusals(ctx context.Context) (api.RefusalList, error) {
	var out api.RefusalList
	return out, get(ctx, c, "/v1/automations/refusals", nil, &out)
}

// CreateWebhook subscribes a URL to the agency's events; the answer holds
// the signing secret, shown only once.
func (c *Client) CreateWebhook(ctx context.Context, req api.CreateWebhookRequest, opts ...WriteOption) (api.CreatedWebhook, error) {
	var out api.CreatedWebhook
	return out, write(ctx, c, "/v1/webhooks", req, &out, opts)
}

// Webhooks lists the agency's subscriptions.
func (c *Client) Webhooks(ctx context.Context) (api.WebhookList, error) {
	var out api.WebhookList
	return out, get(ctx, c, "/v1/webhooks", nil, &out)
}

// DeleteWebhook removes a subscription.
func (c *Client) DeleteWebhook(ctx context.Context, id string, opts ...WriteOption) error {
	var o writeOpts
	for _, f := range opts {
		f(&o)
	}
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/webhooks/" + url.PathEscape(id), write: true, key: o.key}, nil)
}

// AuditHistory returns every version of a case's state, newest first
// (auditors; by pseudonym).
func (c *Client) AuditHistory(ctx context.Context, req api.HistoryRequest) (api.HistoryPage, error) {
	var out api.HistoryPage
	return out, read(ctx, c, "/v1/audit/history", req, &out)
}

// AuditWrites lists the events mspID recorded on channel between from and to
// (recording dates, inclusive).
func (c *Client) AuditWrites(ctx context.Context, channel, mspID, from, to string, p Page) (api.EventPage, error) {
	var out api.EventPage
	q := url.Values{"channel": {channel}, "mspId": {mspID}, "from": {from}, "to": {to}}
	return out, get(ctx, c, "/v1/audit/writes", p.query(q), &out)
}

// AuditLate lists events recorded after the day they occurred (mspID ""
// = every agency).
func (c *Client) AuditLate(ctx context.Context, channel, mspID string, p Page) (api.EventPage, error) {
	q := url.Values{"channel": {channel}}
	if mspID != "" {
		q.Set("mspId", mspID)
	}
	var out api.EventPage
	return out, get(ctx, c, "/v1/audit/late", p.query(q), &out)
}

// AuditErasures lists erasure requests still unconfirmed after
// olderThanDays days.
func (c *Client) AuditErasures(ctx context.Context, channel string, olderThanDays int, p Page) (api.OverdueErasures, error) {
	q := url.Values{"channel": {channel}, "olderThanDays": {strconv.Itoa(olderThanDays)}}
	var out api.OverdueErasures
	return out, get(ctx, c, "/v1/audit/erasures", p.query(q), &out)
}

// ReconcileErasures makes the gateway check every mapping of its privacy
// service against the erasures on the ledger and erase each one whose case's
// erasure is requested (admin; after a privacy-service restore).
func (c *Client) ReconcileErasures(ctx context.Context) (api.ReconcileReport, error) {
	var out api.ReconcileReport
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/erasures/reconcile"}, &out)
}

// AuditVerify recomputes the hash chain and signatures of every channel from
// the auditor's own peer (may take a while on a long ledger).
func (c *Client) AuditVerify(ctx context.Context) (api.AuditReport, error) {
	var out api.AuditReport
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/audit/verification"}, &out)
}

// AuditReport returns the last stored verification.
func (c *Client) AuditReport(ctx context.Context) (api.AuditReport, error) {
	var out api.AuditReport
	return out, get(ctx, c, "/v1/audit/verification", nil, &out)
}
