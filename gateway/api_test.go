package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

const (
	ao = "AsylumOfficeMSP"
	bp = "BorderPoliceMSP"
	ia = "ImmigrationAuthorityMSP"
	ps = "PartnerStateMSP"
	au = "AuditorMSP"
)

// A case's registration, events, reads, binding and listing through the gateways, and idempotent
// retries, are shared bodies of the whole-system tests (test/gateway_api_test.go,
// test/idempotency_test.go): in process under go test ./test/, on Fabric with -tags integration.

func TestProblems(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, nil)
	w := a.register(domain.RoleCaseworker, "national", "BP-1", "2026-11-27")
	ref := api.CaseRef{Channel: "national", LocalRef: "BP-1"}
	a.must(http.StatusOK, a.record(domain.RoleCaseworker, ref, map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": "2026-11-27", "eurodacHit": "NONE"}), nil)
	cases := []struct {
		name   string
		role   domain.Role
		method string
		path   string
		body   any
		key    string
		status int
		code   string
	}{
		{"no token", "", "GET", "/v1/whoami", nil, "", 401, "UNAUTHENTICATED"},
		{"unknown route", domain.RoleCaseworker, "GET", "/v1/nothing", nil, "", 404, api.CodeRouteNotFound},
		{"wrong method", domain.RoleCaseworker, "PUT", "/v1/cases", []byte("{}"), "", 405, api.CodeMethodNotAllowed},
		{"missing idempotency key", domain.RoleCaseworker, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "X", OccurredOn: "2026-11-27"}, "-", 428, api.CodeIdempotencyKeyRequired},
		{"bad idempotency key", domain.RoleCaseworker, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "X", OccurredOn: "2026-11-27"}, "a b", 400, "INVALID_ARGUMENT"},
		{"auditor writes", domain.RoleAuditor, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "X", OccurredOn: "2026-11-27"}, "", 403, "FORBIDDEN"},
		{"caseworker audits", domain.RoleCaseworker, "GET", "/v1/audit/late?channel=national", nil, "", 403, "FORBIDDEN"},
		{"role without identity", domain.RoleDublinOfficer, "POST", "/v1/cases/state", ref, "", 403, "FORBIDDEN"},
		{"unknown field", domain.RoleCaseworker, "POST", "/v1/cases/state", map[string]any{"channel": "national", "localRef": "BP-1", "name": "x"}, "", 400, "INVALID_ARGUMENT"},
		{"foreign channel", domain.RoleCaseworker, "POST", "/v1/cases/state", api.CaseRef{Channel: "dublin", LocalRef: "BP-1"}, "", 400, "INVALID_ARGUMENT"},
		{"unknown local ref", domain.RoleCaseworker, "POST", "/v1/cases/state", api.CaseRef{Channel: "national", LocalRef: "BP-404"}, "", 404, api.CodeUnknownLocalRef},
		{"both ref and pseudonym", domain.RoleCaseworker, "POST", "/v1/cases/state", api.CaseRef{Channel: "national", LocalRef: "BP-1", Pseudonym: w.Pseudonym}, "", 400, "INVALID_ARGUMENT"},
		{"invalid transition", domain.RoleCaseworker, "POST", "/v1/cases/events", api.EventRequest{CaseRef: ref, Event: json.RawMessage(`{"code":"IDENTITY_CHECKED","occurredOn":"2026-11-27","eurodacHit":"NONE"}`)}, "", 409, "INVALID_TRANSITION"},
		{"personal data", domain.RoleCaseworker, "POST", "/v1/cases/events", api.EventRequest{CaseRef: ref, Event: json.RawMessage(`{"code":"IDENTITY_CHECKED","occurredOn":"2026-11-27","eurodacHit":"NONE","name":"Max Mustermann"}`)}, "", 422, "PERSONAL_DATA"},
		{"already registered", domain.RoleCaseworker, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "BP-1", OccurredOn: "2026-11-27"}, "", 409, "ALREADY_EXISTS"},
		{"wrong content type", domain.RoleCaseworker, "POST", "/v1/cases/state", []byte("channel=national"), "", 415, api.CodeUnsupportedMediaType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r resp
			if tc.name == "wrong content type" {
				r = a.rawCall(tc.role, tc.method, tc.path, "text/plain", tc.body.([]byte))
			} else {
				r = a.call(tc.role, tc.method, tc.path, tc.body, tc.key)
			}
			p := r.problem(t)
			if r.status != tc.status || p.Status != tc.status || p.Code != tc.code {
				t.Fatalf("got %d %+v, want %d %s", r.status, p, tc.status, tc.code)
			}
		})
	}
}

func (a *agency) rawCall(role domain.Role, method, path, ct string, body []byte) resp {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.hs.URL+path, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+a.tokens[role])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// TestTransientFailureRetriesWithTheSameRequestID: a transient ledger failure is not stored under
// the Idempotency-Key; the retry runs again with the same requestID and records once.
func TestTransientFailureRetriesWithTheSameRequestID(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, nil)
	a.register(domain.RoleCaseworker, "national", "BP-7", "2026-11-27")
	fails := 1
	n.failSubmit = func(string) error {
		if fails > 0 {
			fails--
			return fmt.Errorf("%w: orderer gone", ErrLedgerUnavailable)
		}
		return nil
	}
	ev := api.EventRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: "BP-7"}, Event: json.RawMessage(`{"code":"IDENTITY_CHECKED","occurredOn":"2026-11-27","eurodacHit":"NONE"}`)}
	r1 := a.call(domain.RoleCaseworker, "POST", "/v1/cases/events", ev, "key-2")
	if p := r1.problem(t); r1.status != 503 || p.Code != api.CodeLedgerUnavailable || r1.header.Get("Retry-After") == "" {
		t.Fatalf("transient: %d %+v", r1.status, p)
	}
	before := len(n.submittedIDs())
	r2 := a.call(domain.RoleCaseworker, "POST", "/v1/cases/events", ev, "key-2")
	a.must(200, r2, nil)
	if n.submitted(api.FnRecordEvent) != 1 {
		t.Fatalf("recorded %d times", n.submitted(api.FnRecordEvent))
	}
	// The chaincode saw the same requestID both times.
	var tl api.TimelineResponse
	a.must(200, a.call(domain.RoleCaseworker, "POST", "/v1/cases/timeline", api.TimelineRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: "BP-7"}}, ""), &tl)
	if n.submittedIDs()[before] != tl.Items[1].RequestID {
		t.Fatalf("retry used requestID %s, recorded %s", n.submittedIDs()[before], tl.Items[1].RequestID)
	}
}

func TestConcurrentSameKeyAndOverload(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, func(c *Config) { c.MaxInFlight, c.MaxQueue = 2, -1 })
	n.blockSubmit = make(chan struct{})
	body := api.RegisterRequest{Channel: "national", LocalRef: "BP-9", OccurredOn: "2026-11-27"}
	var wg sync.WaitGroup
	results := make(chan resp, 1)
	wg.Add(1)
	go func() { defer wg.Done(); results <- a.call(domain.RoleCaseworker, "POST", "/v1/cases", body, "k") }()
	waitFor(t, "first request in flight", func() bool { return len(a.srv.sem) == 1 })
	// The same key while the first is running: in progress.
	dup := a.call(domain.RoleCaseworker, "POST", "/v1/cases", body, "k")
	if p := dup.problem(t); dup.status != 409 || p.Code != api.CodeRequestInProgress || dup.header.Get("Retry-After") == "" {
		t.Fatalf("concurrent same key: %d %+v", dup.status, p)
	}
	// Fill the last slot, then one more is refused at once, not queued.
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.call(domain.RoleCaseworker, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "BP-10", OccurredOn: "2026-11-27"}, "k2")
	}()
	waitFor(t, "second request in flight", func() bool { return len(a.srv.sem) == 2 })
	over := a.call(domain.RoleCaseworker, "GET", "/v1/whoami", nil, "")
	if p := over.problem(t); over.status != 503 || p.Code != api.CodeOverloaded || over.header.Get("Retry-After") != "1" {
		t.Fatalf("overload: %d %+v", over.status, p)
	}
	close(n.blockSubmit)
	wg.Wait()
	if r := <-results; r.status != 201 {
		t.Fatalf("first request: %d %s", r.status, r.body)
	}
	if n.submitted(api.FnRegisterCase) != 2 {
		t.Fatalf("submits %d", n.submitted(api.FnRegisterCase))
	}
}

// TestBurstsQueueBriefly: beyond the limit a request waits for a slot, behind
// at most MaxQueue others and for at most QueueWait; more are refused at once.
func TestBurstsQueueBriefly(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, func(c *Config) { c.MaxInFlight, c.MaxQueue, c.QueueWait = 1, 1, time.Minute })
	n.blockSubmit = make(chan struct{})
	results := make(chan resp, 2)
	go func() {
		results <- a.call(domain.RoleCaseworker, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "BP-1", OccurredOn: "2026-11-27"}, "k1")
	}()
	waitFor(t, "first request in flight", func() bool { return len(a.srv.sem) == 1 })
	go func() { results <- a.call(domain.RoleCaseworker, "GET", "/v1/whoami", nil, "") }()
	waitFor(t, "second request queued", func() bool { return a.srv.queued.Load() == 1 })
	over := a.call(domain.RoleCaseworker, "GET", "/v1/whoami", nil, "")
	if p := over.problem(t); over.status != 503 || p.Code != api.CodeOverloaded || over.header.Get("Retry-After") != "1" {
		t.Fatalf("past the queue: %d %+v, want 503 OVERLOADED at once", over.status, p)
	}
	close(n.blockSubmit) // the first finishes; the queued one takes its slot
	got := map[int]int{}
	for range 2 {
		r := <-results
		got[r.status]++
	}
	if got[201] != 1 || got[200] != 1 {
		t.Fatalf("statuses %v, want the write 201 and the queued read 200", got)
	}
	if a.srv.queued.Load() != 0 || len(a.srv.sem) != 0 {
		t.Fatalf("after the burst: %d queued, %d in flight", a.srv.queued.Load(), len(a.srv.sem))
	}
}

func TestQueuedRequestGivesUpAfterQueueWait(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, func(c *Config) { c.MaxInFlight, c.MaxQueue, c.QueueWait = 1, 4, 50*time.Millisecond })
	n.blockSubmit = make(chan struct{})
	// The blocked request must end before the test does: its call reports
	// through t, and the agency is stopped by the test's cleanup.
	first := make(chan struct{})
	defer func() { close(n.blockSubmit); <-first }()
	go func() {
		defer close(first)
		a.call(domain.RoleCaseworker, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "BP-1", OccurredOn: "2026-11-27"}, "k1")
	}()
	waitFor(t, "first request in flight", func() bool { return len(a.srv.sem) == 1 })
	r := a.call(domain.RoleCaseworker, "GET", "/v1/whoami", nil, "")
	if p := r.problem(t); r.status != 503 || p.Code != api.CodeOverloaded || r.header.Get("Retry-After") == "" {
		t.Fatalf("after the queue wait: %d %+v, want 503 OVERLOADED", r.status, p)
	}
	if a.srv.queued.Load() != 0 {
		t.Fatalf("%d still counted as queued", a.srv.queued.Load())
	}
}

// TestNoIdentifiersInLogsOrMetrics: local references never reach logs or
// metric labels, whatever the outcome.
func TestNoIdentifiersInLogsOrMetrics(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, nil)
	const ref = "SECRET-REF-0815"
	w := a.register(domain.RoleCaseworker, "national", ref, "2026-11-27")
	a.call(domain.RoleCaseworker, "POST", "/v1/cases/state", api.CaseRef{Channel: "national", LocalRef: ref}, "")
	a.call(domain.RoleCaseworker, "POST", "/v1/cases/state", api.CaseRef{Channel: "national", LocalRef: ref + "-unknown"}, "")
	a.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: ref}, map[string]any{"code": "HEARING_HELD", "occurredOn": "2026-11-27"})
	n.failSubmit = func(string) error { return errors.New("peer exploded") }
	a.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: ref}, map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": "2026-11-27", "eurodacHit": "NONE"})
	n.failSubmit = nil
	metrics := a.call(domain.RoleAdmin, "GET", "/metrics", nil, "")
	for name, text := range map[string]string{"logs": a.logs.String(), "metrics": string(metrics.body)} {
		if i := strings.Index(text, "SECRET-REF"); i >= 0 {
			t.Fatalf("%s carry a local reference: %s", name, text[max(0, i-300):i+20])
		}
		if strings.Contains(text, w.Pseudonym) {
			t.Fatalf("%s carry a pseudonym", name)
		}
	}
	if !strings.Contains(string(metrics.body), `gateway_http_requests_total{method="POST",route="/v1/cases/state",status="404"} 1`) {
		t.Fatalf("metrics lack the route template series:\n%s", metrics.body)
	}
}

func TestWhoamiAndHealth(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, ao, nil)
	var who api.Whoami
	a.must(200, a.call(domain.RoleDublinOfficer, "GET", "/v1/whoami", nil, ""), &who)
	if who.MSPID != ao || who.Role != domain.RoleDublinOfficer || len(who.Channels) != 2 {
		t.Fatalf("whoami %+v", who)
	}
	if r := a.call("", "GET", "/healthz", nil, ""); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := a.call("", "GET", "/readyz", nil, ""); r.status != 200 {
		t.Fatalf("readyz %d %s", r.status, r.body)
	}
	a.srv.BeginShutdown()
	if r := a.call("", "GET", "/readyz", nil, ""); r.status != 503 {
		t.Fatalf("readyz while shutting down: %d", r.status)
	}
	if r := a.call(domain.RoleCaseworker, "GET", "/v1/whoami", nil, ""); r.status != 503 || r.problem(t).Code != api.CodeShuttingDown {
		t.Fatalf("request while shutting down: %d", r.status)
	}
}

// TestReadinessAndLimits: readiness follows the privacy service; bodies are
// bounded; a registration refused for good leaves no mapping behind.
func TestReadinessAndLimits(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	var privacyDown bool
	var mu sync.Mutex
	a := newAgency(t, n, clock, bp, func(c *Config) {
		c.PrivacyReady = func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			if privacyDown {
				return errors.New("down")
			}
			return nil
		}
	})
	mu.Lock()
	privacyDown = true
	mu.Unlock()
	if r := a.call("", "GET", "/readyz", nil, ""); r.status != 503 || r.problem(t).Code != api.CodePrivacyUnavailable {
		t.Fatalf("readyz with the privacy service down: %d", r.status)
	}
	big := make([]byte, maxJSONBody+1)
	for i := range big {
		big[i] = ' '
	}
	if r := a.rawCall(domain.RoleCaseworker, "POST", "/v1/cases/state", "application/json", big); r.status != 413 || r.problem(t).Code != api.CodePayloadTooLarge {
		t.Fatalf("large body: %d", r.status)
	}
	// Admin may not register on the national channel: refused for good, and
	// the fresh pseudonym is dropped from the privacy service again.
	r := a.call(domain.RoleAdmin, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "BP-ADMIN", OccurredOn: "2026-11-27"}, "")
	if r.status != 403 {
		t.Fatalf("admin registration: %d %s", r.status, r.body)
	}
	if _, err := a.vault.ResolveRef(t.Context(), "national", "BP-ADMIN"); err == nil {
		t.Fatal("mapping of a refused registration kept")
	}
	// A refusal that is retried (clock skew) keeps it.
	n.failSubmit = func(string) error { return domain.Errorf(domain.KindClockSkew, "skew") }
	r = a.call(domain.RoleCaseworker, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "BP-SKEW", OccurredOn: "2026-11-27"}, "skew-key")
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("clock skew: %d", r.status)
	}
	n.failSubmit = nil
	p, err := a.vault.ResolveRef(t.Context(), "national", "BP-SKEW")
	if err != nil {
		t.Fatal("mapping dropped although the write will be retried")
	}
	var w api.WriteResponse
	a.must(201, a.call(domain.RoleCaseworker, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "BP-SKEW", OccurredOn: "2026-11-27"}, "skew-key"), &w)
	if w.Pseudonym != p {
		t.Fatalf("retry registered %s, mapping holds %s", w.Pseudonym, p)
	}
}

// TestBindRecordsHolder: a bind records CASE_BOUND on the ledger (the
// agency becomes a holder) before the reference is bound locally; binding a
// further reference needs no event; a case that does not exist, or one the
// workflow does not let the agency take part in, leaves no mapping.
func TestBindRecordsHolder(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, nil)
	w := a.register(domain.RoleCaseworker, "national", "BP-K1", "2026-11-27")
	b := newAgency(t, n, clock, ao, nil)
	iaA := newAgency(t, n, clock, ia, nil)
	var bound api.BindResponse
	b.must(http.StatusOK, b.call(domain.RoleCaseworker, "POST", "/v1/cases/bind", api.BindRequest{Channel: "national", Pseudonym: w.Pseudonym, LocalRef: "AO-K1"}, ""), &bound)
	if !bound.Created || !bound.Holder || bound.Event == nil || bound.Event.Code != domain.EvCaseBound {
		t.Fatalf("first bind: %+v", bound)
	}
	if st := n.state("national", w.Pseudonym); !slices.Equal(st.Holders, []string{ao, bp}) || st.Status != domain.StRegistered {
		t.Fatalf("holders %v status %s", st.Holders, st.Status)
	}
	var again api.BindResponse
	b.must(http.StatusOK, b.call(domain.RoleCaseworker, "POST", "/v1/cases/bind", api.BindRequest{Channel: "national", Pseudonym: w.Pseudonym, LocalRef: "AO-K1b"}, ""), &again)
	if !again.Created || !again.Holder || again.Event != nil {
		t.Fatalf("second reference: %+v", again)
	}
	for _, c := range []struct {
		a         *agency
		pseudonym string
		code      string
	}{
		{b, "7d0c7a8e-3f5b-4c1a-9e2d-0b6f4a3c2d1e", "NOT_FOUND"}, // not on the ledger
		{iaA, w.Pseudonym, "INVALID_TRANSITION"},                 // not allocated yet: no part in the case
		{a, w.Pseudonym, "FORBIDDEN"},                            // the border police hold what they register
	} {
		ref := "X-" + c.a.msp[:2]
		if p := c.a.call(domain.RoleCaseworker, "POST", "/v1/cases/bind", api.BindRequest{Channel: "national", Pseudonym: c.pseudonym, LocalRef: ref}, "").problem(t); p.Code != c.code {
			t.Fatalf("%s binds %s: %+v, want %s", c.a.msp, c.pseudonym, p, c.code)
		}
		if _, err := c.a.vault.ResolveRef(t.Context(), "national", ref); !errors.Is(err, privacy.ErrNotFound) {
			t.Fatalf("a refused bind left a mapping: %v", err)
		}
	}
}
