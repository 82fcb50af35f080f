package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// fakeClock is a settable clock shared by the in-process ledger and the gateways.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// syncBuffer collects logs from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// agency is one gateway under test: a Server over the in-process ledger, an
// in-process privacy store and a Badger store in a temporary folder.
type agency struct {
	t      testing.TB
	msp    string
	net    *testNet
	ledger *testLedger
	vault  *privacy.Store
	dir    string
	cfg    func(*Config)
	tokens map[domain.Role]string
	tf     TokenFile
	logs   *syncBuffer
	clock  *fakeClock

	srv   *Server
	store *Store
	hs    *httptest.Server
}

func newTestClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
}

func newAgency(t testing.TB, n *testNet, clock *fakeClock, msp string, cfg func(*Config)) *agency {
	t.Helper()
	a := &agency{t: t, msp: msp, net: n, ledger: n.ledger(msp), dir: t.TempDir(), cfg: cfg,
		tokens: map[domain.Role]string{}, logs: &syncBuffer{}, clock: clock}
	var domains []string
	for _, ch := range a.ledger.Channels() {
		domains = append(domains, ch.Name)
	}
	kek, err := privacy.NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	a.vault, err = privacy.Open(context.Background(), privacy.Options{Dir: filepath.Join(a.dir, "privacy"), Domains: domains, KEK: kek})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.vault.Close() })
	for _, r := range []domain.Role{domain.RoleCaseworker, domain.RoleDublinOfficer, domain.RoleAuditor, domain.RoleAdmin} {
		tok, _, err := a.tf.Add(msp, r, "test-"+string(r), clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		a.tokens[r] = tok
	}
	a.start()
	t.Cleanup(a.stop)
	return a
}

func (a *agency) start() {
	a.t.Helper()
	st, err := OpenStore(filepath.Join(a.dir, "gateway"), nil)
	if err != nil {
		a.t.Fatal(err)
	}
	cfg := Config{
		Org: a.msp, MSPID: a.msp, MemberState: "DE", Ledger: a.ledger, Vault: a.vault, Store: st,
		Auth: NewStaticAuthenticator(a.tf, a.msp), Now: a.clock.Now,
		Logger:      slog.New(slog.NewJSONHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Webhooks:    WebhookOptions{AllowHTTP: true, AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxAttempts: 3, Timeout: 2 * time.Second},
		Automations: AutomationOptions{DeadlinePoll: 50 * time.Millisecond},
	}
	if m, ok := a.net.Membership().Member(a.msp); ok && m.MemberState != "" {
		cfg.MemberState = m.MemberState
	}
	if a.cfg != nil {
		a.cfg(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		a.t.Fatal(err)
	}
	srv.Start(context.Background())
	a.srv, a.store, a.hs = srv, st, httptest.NewServer(srv.Handler())
}

func (a *agency) stop() {
	if a.srv == nil {
		return
	}
	a.srv.BeginShutdown()
	a.hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.srv.Shutdown(ctx); err != nil {
		a.t.Error(err)
	}
	if err := a.store.Close(); err != nil {
		a.t.Error(err)
	}
	a.srv = nil
}

func (a *agency) restart() { a.stop(); a.start() }

// resp is a decoded HTTP answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) problem(t testing.TB) api.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d, content type %q, want a problem: %s", r.status, ct, r.body)
	}
	var p api.Problem
	r.json(t, &p)
	return p
}

// call sends a request as role ("" = no token). Writes get a fresh
// Idempotency-Key unless key is given ("-" = none).
func (a *agency) call(role domain.Role, method, path string, body any, key string) resp {
	a.t.Helper()
	return a.callWith(nil, role, method, path, body, key)
}

// callWith is call with extra request headers.
func (a *agency) callWith(hdr http.Header, role domain.Role, method, path string, body any, key string) resp {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				a.t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.hs.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+a.tokens[role])
	}
	switch {
	case key == "-":
	case key != "":
		req.Header.Set("Idempotency-Key", key)
	case method != http.MethodGet:
		req.Header.Set("Idempotency-Key", uuid.NewString())
	}
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

// must asserts the status and decodes the body into v (if not nil).
func (a *agency) must(want int, r resp, v any) {
	a.t.Helper()
	if r.status != want {
		a.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	if v != nil {
		r.json(a.t, v)
	}
}

// register registers localRef on channel as role and returns the pseudonym.
func (a *agency) register(role domain.Role, channel, localRef, occurredOn string) api.WriteResponse {
	a.t.Helper()
	var w api.WriteResponse
	a.must(http.StatusCreated, a.call(role, "POST", "/v1/cases", api.RegisterRequest{Channel: channel, LocalRef: localRef, OccurredOn: occurredOn}, ""), &w)
	return w
}

func (a *agency) record(role domain.Role, ref api.CaseRef, event map[string]any) resp {
	a.t.Helper()
	raw, _ := json.Marshal(event)
	return a.call(role, "POST", "/v1/cases/events", api.EventRequest{CaseRef: ref, Event: raw}, "")
}

// waitFor polls cond (event-driven code under test runs in goroutines).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLogger(testing.TB) *slog.Logger { return slog.New(slog.DiscardHandler) }

// randHex is n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
