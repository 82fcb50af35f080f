package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

const testToken = "clg_test-token"

func newTestClient(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Token: testToken, HTTPClient: srv.Client(), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "urn:test", "title": http.StatusText(status), "status": status, "code": code, "detail": detail})
}

func TestWriteSendsKeyTokenAndBody(t *testing.T) {
	var got struct {
		method, path, auth, key, ctype string
		body                           api.RegisterRequest
	}
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path = r.Method, r.URL.Path
		got.auth, got.key, got.ctype = r.Header.Get("Authorization"), r.Header.Get("Idempotency-Key"), r.Header.Get("Content-Type")
		if err := json.NewDecoder(r.Body).Decode(&got.body); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(api.WriteResponse{Channel: "national", Pseudonym: "p", Seq: 1, Code: domain.EvCaseRegistered, TxID: "tx1", BlockNumber: 7})
	}))
	res, err := c.Register(context.Background(), api.RegisterRequest{Channel: "national", LocalRef: "BPOL-1", OccurredOn: "2026-11-27"},
		WithIdempotencyKey("key-1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.TxID != "tx1" || res.BlockNumber != 7 || res.Code != domain.EvCaseRegistered {
		t.Errorf("answer decoded as %+v", res)
	}
	if got.method != "POST" || got.path != "/v1/cases" || got.auth != "Bearer "+testToken || got.key != "key-1" || got.ctype != "application/json" {
		t.Errorf("request: %+v", got)
	}
	if got.body.LocalRef != "BPOL-1" || got.body.Channel != "national" || got.body.OccurredOn != "2026-11-27" {
		t.Errorf("body: %+v", got.body)
	}
}

func TestWriteWithoutKeyDrawsAFreshOnePerCall(t *testing.T) {
	var keys []string
	var mu sync.Mutex
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}))
	for range 2 {
		if _, err := c.RecordEvent(context.Background(), api.EventRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(keys) != 2 || keys[0] == "" || keys[0] == keys[1] {
		t.Fatalf("keys %q: want two different non-empty keys", keys)
	}
}

func TestTransientWriteFailureIsRetriedWithTheSameKey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		code   string
	}{
		{"outcome unknown", 503, api.CodeOutcomeUnknown},
		{"in progress", 409, api.CodeRequestInProgress},
		{"ledger unavailable", 503, api.CodeLedgerUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var keys []string
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				keys = append(keys, r.Header.Get("Idempotency-Key"))
				if len(keys) < 3 {
					problem(w, tc.status, tc.code, "")
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"txId":"tx-first"}`)
			}))
			res, err := c.DublinReply(context.Background(), api.DublinReplyRequest{Reply: "ACCEPTED"})
			if err != nil {
				t.Fatal(err)
			}
			if res.TxID != "tx-first" || len(keys) != 3 || keys[0] != keys[1] || keys[1] != keys[2] {
				t.Fatalf("res %+v after keys %q: want 3 attempts with one key", res, keys)
			}
		})
	}
}

func TestRetriesAreBounded(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		problem(w, 503, api.CodeOverloaded, "")
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, HTTPClient: srv.Client(), Retries: 2, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Whoami(context.Background())
	if !errors.Is(err, ErrUnavailable) || CodeOf(err) != api.CodeOverloaded {
		t.Fatalf("err %v", err)
	}
	if n.Load() != 3 {
		t.Fatalf("%d attempts, want 1 + 2 retries", n.Load())
	}
	c2, _ := New(Config{BaseURL: srv.URL, HTTPClient: srv.Client(), Retries: -1})
	n.Store(0)
	_, _ = c2.Whoami(context.Background())
	if n.Load() != 1 {
		t.Fatalf("%d attempts with retries off", n.Load())
	}
}

func TestProblemsMapToSentinels(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		want   error
		retry  bool
	}{
		{400, "INVALID_ARGUMENT", ErrRefused, false},
		{422, "PERSONAL_DATA", ErrRefused, false},
		{409, "INVALID_TRANSITION", ErrRefused, false},
		{422, "DEADLINE_PASSED", ErrRefused, false},
		{401, "UNAUTHENTICATED", ErrUnauthenticated, false},
		{403, "FORBIDDEN", ErrForbidden, false},
		{404, "UNKNOWN_LOCAL_REF", ErrNotFound, false},
		{404, "NOT_FOUND", ErrNotFound, false},
		{502, "COMMIT_FAILED", ErrUnavailable, false},
		{502, "ENDORSER_CLOCK_SKEW", ErrUnavailable, false}, // an operator must fix a clock: no retry loop
		{502, "ENDORSERS_DISAGREE", ErrUnavailable, false},
		{503, "ENDORSER_BEHIND", ErrUnavailable, true},
		{503, "CLOCK_SKEW", ErrUnavailable, true},
		{503, "PRIVACY_UNAVAILABLE", ErrUnavailable, true},
		{500, "INTERNAL", ErrUnavailable, true},
	} {
		t.Run(tc.code, func(t *testing.T) {
			var n atomic.Int32
			c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header().Set("X-Request-Id", "req-1")
				problem(w, tc.status, tc.code, "the detail")
			}))
			_, err := c.Anchor(context.Background(), api.AnchorRequest{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v is not %v", err, tc.want)
			}
			for _, other := range []error{ErrRefused, ErrUnauthenticated, ErrForbidden, ErrNotFound, ErrUnavailable} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("%v is also %v", err, other)
				}
			}
			var p *Problem
			if !errors.As(err, &p) || p.Code != tc.code || p.Detail != "the detail" || RequestID(err) != "req-1" || p.Status != tc.status {
				t.Fatalf("problem %+v", p)
			}
			if !strings.Contains(err.Error(), tc.code) || !strings.Contains(err.Error(), "the detail") {
				t.Errorf("message %q lacks code or detail", err)
			}
			if retried := n.Load() > 1; retried != tc.retry {
				t.Errorf("%d attempts, retry wanted: %v", n.Load(), tc.retry)
			}
		})
	}
}

func TestNonProblemErrorPageKeepsItsStatus(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "<html>bad</html>")
	}))
	_, err := c.Whoami(context.Background())
	if !errors.Is(err, ErrRefused) || CodeOf(err) != "HTTP_400" {
		t.Fatalf("err %v (code %q)", err, CodeOf(err))
	}
}

func TestUnreachableGatewayIsUnavailable(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	hc := srv.Client()
	url := srv.URL
	srv.Close()
	c, err := New(Config{BaseURL: url, HTTPClient: hc, Retries: 1, RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Whoami(context.Background())
	var te *TransportError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &te) {
		t.Fatalf("err %v (%T)", err, err)
	}
}

func TestLocalReferencesNeverTravelInURLs(t *testing.T) {
	const ref = "BAMF-7654321-438"
	var urls []string
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		urls = append(urls, r.URL.String())
		b, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && !strings.Contains(string(b), ref) {
			t.Errorf("%s: body without the reference", r.URL.Path)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}))
	ctx := context.Background()
	ref1 := api.CaseRef{Channel: "national", LocalRef: ref}
	calls := []func() error{
		func() error { _, err := c.Case(ctx, ref1); return err },
		func() error { _, err := c.Timeline(ctx, ref1, Page{}); return err },
		func() error { _, err := c.Anchors(ctx, ref1, Page{}); return err },
		func() error { _, err := c.ErasureStatus(ctx, ref1); return err },
		func() error { _, err := c.Verify(ctx, api.VerifyRequest{CaseRef: ref1}); return err },
		func() error {
			_, err := c.RequestErasure(ctx, api.ErasureRequest{CaseRef: ref1})
			return err
		},
	}
	for _, f := range calls {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range urls {
		if strings.Contains(u, ref) || strings.Contains(u, "BAMF") {
			t.Errorf("reference in URL %s", u)
		}
	}
	if len(urls) != len(calls) {
		t.Fatalf("%d requests for %d calls", len(urls), len(calls))
	}
}

func TestQueriesCarryTheirParameters(t *testing.T) {
	var got []string
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}))
	ctx := context.Background()
	_, _ = c.Deadlines(ctx, 30, Page{PageSize: 5, Bookmark: "bm"})
	_, _ = c.Cases(ctx, "national", "CLOSED", Page{})
	_, _ = c.AuditLate(ctx, "dublin", "", Page{})
	_, _ = c.AuditErasures(ctx, "national", 3, Page{})
	_, _ = c.AuditWrites(ctx, "national", "BorderPoliceMSP", "2026-01-01", "2026-12-31", Page{})
	_, _ = c.AuditVerify(ctx)
	_ = c.DeleteWebhook(ctx, "wh-1")
	want := []string{
		"GET /v1/dublin/deadlines?bookmark=bm&pageSize=5&withinDays=30",
		"GET /v1/cases?channel=national&status=CLOSED",
		"GET /v1/audit/late?channel=dublin",
		"GET /v1/audit/erasures?channel=national&olderThanDays=3",
		"GET /v1/audit/writes?channel=national&from=2026-01-01&mspId=BorderPoliceMSP&to=2026-12-31",
		"POST /v1/audit/verification?",
		"DELETE /v1/webhooks/wh-1?",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("requests\n%q\nwant\n%q", got, want)
	}
}

func TestFullTimelineReadsEveryPage(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req api.TimelineRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		page := map[string]api.TimelineResponse{
			"":   {Pseudonym: "p", Items: []domain.Event{{Seq: 1}, {Seq: 2}}, Bookmark: "b1"},
			"b1": {Pseudonym: "p", Items: []domain.Event{{Seq: 3}}, Bookmark: "b2"},
			"b2": {Pseudonym: "p", Items: []domain.Event{}, Bookmark: ""},
		}[req.Bookmark]
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	}))
	tl, err := c.FullTimeline(context.Background(), api.CaseRef{Channel: "national", Pseudonym: "p"})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, e := range tl.Items {
		seqs = append(seqs, e.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 3]" || tl.Bookmark != "" || tl.Pseudonym != "p" {
		t.Fatalf("timeline %+v", tl)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{BaseURL: "ftp://x"},
		{BaseURL: "https://"},
		{BaseURL: "https://x", CAFile: "/nonexistent/ca.pem"},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

func FuzzReadProblem(f *testing.F) {
	f.Add(503, "application/problem+json", `{"title":"x","status":503,"code":"OVERLOADED"}`, "2")
	f.Add(404, "application/json", `{"code":"NOT_FOUND"}`, "")
	f.Add(502, "text/html", `<html>`, "abc")
	f.Add(400, "application/problem+json", `{"status":"nope"}`, "-1")
	f.Fuzz(func(t *testing.T, status int, ctype, body, retryAfter string) {
		if status < 300 || status > 599 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
		resp.Header.Set("Content-Type", ctype)
		resp.Header.Set("Retry-After", retryAfter)
		err := readProblem(resp)
		var p *Problem
		if !errors.As(err, &p) {
			t.Fatalf("%T is not a problem", err)
		}
		if p.Code == "" || p.Status == 0 || p.RetryAfter < 0 || p.RetryAfter > 3600 {
			t.Fatalf("problem %+v", p)
		}
		// Exactly one class, so an exit code is always defined.
		n := 0
		for _, s := range []error{ErrRefused, ErrUnauthenticated, ErrForbidden, ErrNotFound, ErrUnavailable} {
			if errors.Is(err, s) {
				n++
			}
		}
		if p.Status != status || (status >= 400 && n != 1) {
			t.Fatalf("status %d (code %s) is in %d classes", p.Status, p.Code, n)
		}
	})
}

// AfterBlock travels as Caseledger-Min-Block on reads and writes, and a
// LEDGER_BEHIND answer is retried with the same key.
func TestAfterBlockSendsMinBlockAndRetriesLedgerBehind(t *testing.T) {
	var mu sync.Mutex
	var hints, keys []string
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hints = append(hints, r.Header.Get(api.HeaderMinBlock))
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		first := len(hints) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			problem(w, 503, api.CodeLedgerBehind, "")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(api.WriteResponse{Channel: "national", Pseudonym: "p", Seq: 2})
	}))
	ctx := context.Background()
	after := c.AfterBlock(42)
	if _, err := after.RecordEvent(ctx, api.EventRequest{CaseRef: api.CaseRef{Channel: "national", Pseudonym: "p"}, Event: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := after.Case(ctx, api.CaseRef{Channel: "national", Pseudonym: "p"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Case(ctx, api.CaseRef{Channel: "national", Pseudonym: "p"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"42", "42", "42", ""}; strings.Join(hints, ",") != strings.Join(want, ",") {
		t.Fatalf("Min-Block headers %q, want %q", hints, want)
	}
	if keys[0] == "" || keys[0] != keys[1] {
		t.Fatalf("the retry after LEDGER_BEHIND changed the key: %q", keys[:2])
	}
}
