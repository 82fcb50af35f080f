package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// GatewayOptions tune the gateway driver.
type GatewayOptions struct {
	// Retry makes the driver behave like a careful agency system: a write answered with 503
	// (overloaded, ledger or privacy service unavailable, outcome unknown, shutting down), 409
	// REQUEST_IN_PROGRESS or not answered at all (connection refused or reset, gateway
	// restarting) is sent again with the same Idempotency-Key and body until the operation's
	// context ends. Reads are retried the same way. Without Retry, every such answer is an error.
	Retry bool
	// MaxBackoff caps the wait between attempts (default 1 s; a Retry-After is honoured up to it).
	MaxBackoff time.Duration
}

// Gateway drives the network through every agency's HTTP gateway (/v1 API), each agency's
// requests to its own gateway with the API token of the operation's role.
type Gateway struct {
	o    GatewayOptions
	apis map[string]api.APIInfo
	http map[string]*http.Client

	mu      sync.Mutex
	retries map[string]int
}

// LoadAPIInfos reads every <root>/connection/<org>-api.json.
func LoadAPIInfos(root string) ([]api.APIInfo, error) {
	files, err := filepath.Glob(filepath.Join(root, "connection", "*-api.json"))
	if err != nil {
		return nil, err
	}
	var out []api.APIInfo
	for _, f := range files {
		a, err := api.LoadAPIInfo(f)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no gateway API details under %s (are the gateways up?): %w", filepath.Join(root, "connection"), os.ErrNotExist)
	}
	return out, nil
}

// NewGateway prepares a driver for the given gateways (all on the loopback interface).
func NewGateway(apis []api.APIInfo, o GatewayOptions) (*Gateway, error) {
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Second
	}
	g := &Gateway{o: o, apis: map[string]api.APIInfo{}, http: map[string]*http.Client{}, retries: map[string]int{}}
	for _, a := range apis {
		if err := CheckLoopback(a.URL); err != nil {
			return nil, fmt.Errorf("gateway of %s: %w", a.Org, err)
		}
		caPEM, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, fmt.Errorf("gateway of %s: CA: %w", a.Org, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("gateway of %s: no certificate in %s", a.Org, a.CAFile)
		}
		g.apis[a.Org] = a
		g.http[a.Org] = &http.Client{Transport: &http.Transport{
			// HTTP/1.1 with a pool of kept-alive connections, as agency systems'
			// HTTP clients typically connect.
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute,
		}}
	}
	return g, nil
}

// Name implements Driver.
func (g *Gateway) Name() string { return "gateway" }

// Close implements Driver.
func (g *Gateway) Close() error {
	for _, c := range g.http {
		c.CloseIdleConnections()
	}
	return nil
}

// TakeRetries returns the attempts repeated since the last call, by class, and resets them.
func (g *Gateway) TakeRetries() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.retries
	g.retries = map[string]int{}
	return r
}

// Do implements Driver.
func (g *Gateway) Do(ctx context.Context, op Op) (Ack, error) {
	c, a := op.Case, op.Actor
	ref := c.Refs[a.Org]
	if op.Kind == OpTimeline {
		var page api.TimelineResponse
		err := g.call(ctx, a, "/v1/cases/timeline", "", api.TimelineRequest{CaseRef: api.CaseRef{Channel: c.Channel, LocalRef: ref}, PageSize: 100}, &page)
		return Ack{Events: len(page.Items)}, err
	}
	bind := api.BindRequest{Channel: c.Channel, Pseudonym: c.Pseudonym, LocalRef: ref}
	if op.Event.Code == "CASE_BOUND" {
		// The script's own bind: CASE_BOUND on the ledger, the reference in the privacy service.
		var res api.BindResponse
		if err := g.call(ctx, a, "/v1/cases/bind", op.RequestID, bind, &res); err != nil {
			return Ack{}, err
		}
		if res.Event == nil {
			return Ack{}, fmt.Errorf("bind: %s already held the case", a.Org)
		}
		if c.bound == nil {
			c.bound = map[string]bool{}
		}
		c.bound[a.Org] = true
		return Ack{TxID: res.Event.TxID, Seq: res.Event.Seq}, nil
	}
	if op.Kind != OpRegister && !c.bound[a.Org] {
		// The agency's system links its own file to the case another agency registered.
		if err := g.call(ctx, a, "/v1/cases/bind", uuid.NewString(), bind, nil); err != nil {
			return Ack{}, fmt.Errorf("bind: %w", err)
		}
	}
	path, body, err := g.request(op, ref)
	if err != nil {
		return Ack{}, err
	}
	var w api.WriteResponse
	if err := g.call(ctx, a, path, op.RequestID, body, &w); err != nil {
		return Ack{}, err
	}
	if op.Kind == OpRegister {
		c.Pseudonym = w.Pseudonym
	}
	if c.bound == nil {
		c.bound = map[string]bool{}
	}
	c.bound[a.Org] = true
	return Ack{TxID: w.TxID, Seq: w.Seq}, nil
}

// request maps a write to the gateway's operation and its request type: registrations, Dublin
// steps through the Dublin endpoints, every other event through /v1/cases/events.
func (g *Gateway) request(op Op, ref string) (string, any, error) {
	e := op.Event
	str := func(k string) string { s, _ := e.Fields[k].(string); return s }
	dc := api.DublinCase{LocalRef: ref}
	switch op.Kind {
	case OpRegister:
		return "/v1/cases", api.RegisterRequest{Channel: op.Case.Channel, LocalRef: ref, OccurredOn: e.OccurredOn}, nil
	case OpResolve:
		return "/v1/dublin/deadlines/resolve", dc, nil
	}
	switch e.Code {
	case "TAKE_CHARGE_REQUESTED":
		return "/v1/dublin/requests", api.DublinRequestRequest{DublinCase: dc, Kind: domain.TakeCharge, OccurredOn: e.OccurredOn,
			RequestedMemberState: str("requestedMemberState"), ReceivedOn: str("receivedOn"),
			ApplicationRegisteredOn: str("applicationRegisteredOn"), Evidence: domain.Evidence(str("evidence")),
			EvidenceReceivedOn: str("evidenceReceivedOn")}, nil
	case "REQUEST_ACCEPTED":
		return "/v1/dublin/replies", api.DublinReplyRequest{DublinCase: dc, Reply: "ACCEPTED", OccurredOn: e.OccurredOn}, nil
	case "TRANSFER_DECISION_ISSUED":
		return "/v1/dublin/transfers", api.DublinTransferRequest{DublinCase: dc, Step: "DECISION_ISSUED", OccurredOn: e.OccurredOn}, nil
	case "TRANSFER_SCHEDULED":
		return "/v1/dublin/transfers", api.DublinTransferRequest{DublinCase: dc, Step: "SCHEDULED", OccurredOn: e.OccurredOn,
			ScheduledFor: str("scheduledFor")}, nil
	case "TRANSFER_COMPLETED":
		return "/v1/dublin/transfers", api.DublinTransferRequest{DublinCase: dc, Step: "COMPLETED", OccurredOn: e.OccurredOn}, nil
	}
	ev := map[string]any{"code": e.Code, "occurredOn": e.OccurredOn}
	for k, v := range e.Fields {
		ev[k] = v
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return "", nil, fmt.Errorf("event %s: %w", e.Code, err)
	}
	return "/v1/cases/events", api.EventRequest{CaseRef: api.CaseRef{Channel: op.Case.Channel, LocalRef: ref}, Event: b}, nil
}

// retryable reports whether an answer leaves the outcome open or the gateway momentarily
// unable, so that the same request may be sent again.
func retryable(err error) bool {
	var pe *api.Problem
	if errors.As(err, &pe) {
		return pe.Status == http.StatusServiceUnavailable || pe.Status == http.StatusBadGateway ||
			pe.Status == http.StatusGatewayTimeout || pe.Code == "REQUEST_IN_PROGRESS"
	}
	// No answer at all: connection refused or reset, gateway restarting.
	return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

// call POSTs body (idempotencyKey "" for reads) as the actor and decodes the answer into out.
func (g *Gateway) call(ctx context.Context, a Actor, path, idempotencyKey string, body any, out any) error {
	api, ok := g.apis[a.Org]
	if !ok {
		return fmt.Errorf("no gateway API details for org %s", a.Org)
	}
	token, ok := api.Tokens[a.Role]
	if !ok {
		return fmt.Errorf("no API token for %s/%s", a.Org, a.Role)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	backoff := 100 * time.Millisecond
	for {
		wait, err := g.once(ctx, a.Org, api.URL+path, token, idempotencyKey, b, out)
		if err == nil || !g.o.Retry || !retryable(err) || ctx.Err() != nil {
			return err
		}
		g.mu.Lock()
		g.retries[Classify(err)]++
		g.mu.Unlock()
		if wait <= 0 {
			wait = backoff
			backoff = min(2*backoff, g.o.MaxBackoff)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last answer: %v)", ctx.Err(), err)
		case <-time.After(min(wait, g.o.MaxBackoff)):
		}
	}
}

// once makes one attempt; wait is the gateway's Retry-After, if any.
func (g *Gateway) once(ctx context.Context, org, url, token, idempotencyKey string, body []byte, out any) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if idempotencyKey != "" {
		req.Header.Set(api.HeaderIdempotencyKey, idempotencyKey)
	}
	res, err := g.http[org].Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return 0, err
	}
	if res.StatusCode >= 300 {
		var wait time.Duration
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		return wait, fmt.Errorf("http %d: %w", res.StatusCode, ParseProblem(res.StatusCode, rb))
	}
	if out == nil {
		return 0, nil
	}
	if err := json.Unmarshal(rb, out); err != nil {
		return 0, fmt.Errorf("%s: undecodable answer: %w", url, err)
	}
	return 0, nil
}

// ParseProblem turns an error answer into its *api.Problem: the HTTP status is authoritative
// (RFC 9457 §3.1.3); a body that is no problem document (a proxy's page) keeps the status with
// its text as title and no code.
func ParseProblem(status int, body []byte) *api.Problem {
	var p api.Problem
	if json.Unmarshal(body, &p) != nil {
		p = api.Problem{}
	}
	p.Status, p.RetryAfter = status, 0
	if p.Title == "" && p.Detail == "" {
		p.Title = http.StatusText(status)
	}
	return &p
}

// FormatRetries renders retry counts, most frequent first.
func FormatRetries(r map[string]int) string {
	var keys []string
	for k := range r {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return r[keys[i]] > r[keys[j]] || r[keys[i]] == r[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, r[k]))
	}
	return strings.Join(parts, ", ")
}
