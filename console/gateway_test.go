package console

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/gateway"
	inprocnet "github.com/caseledger/caseledger/internal/inproc"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// realGateway is the API behind the console in these tests: the real
// gateway (package gateway: authentication, roles, validation, problems,
// logs) of the asylum office over the in-process network (internal/inproc:
// the real chaincode on in-memory world states), as the gateway's own tests
// run it. The border police's gateway registered one national case that
// the asylum office took part in under its reference BAMF-7. The wrapper
// only watches: which calls the console made, which session tokens it
// minted.
type realGateway struct {
	t         testing.TB
	net       *inprocnet.Network
	api       http.Handler // the asylum office's /v1 handler
	auth      *gateway.Authenticator
	logs      *lockedBuffer
	caseP     string
	seq0      uint64
	mu        sync.Mutex
	calls     []string
	minted    []string
	gatewayOf map[string]*testAgency
}

// testAgency is one agency's running gateway and its static API tokens.
type testAgency struct {
	srv    *gateway.Server
	auth   *gateway.Authenticator
	tokens map[domain.Role]string
}

const (
	aoMSP = "AsylumOfficeMSP"
	bpMSP = "BorderPoliceMSP"
)

func newRealGateway(t testing.TB, now func() time.Time, logs *lockedBuffer) *realGateway {
	t.Helper()
	n, err := inprocnet.New(inprocnet.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	g := &realGateway{t: t, net: n, logs: logs, gatewayOf: map[string]*testAgency{}}
	for _, msp := range []string{aoMSP, bpMSP} {
		g.gatewayOf[msp] = startAgency(t, n, msp, now, logs)
	}
	ao := g.gatewayOf[aoMSP]
	g.api, g.auth = ao.srv.Handler(), ao.auth

	var reg api.WriteResponse
	g.admin(bpMSP, "POST", "/v1/cases", api.RegisterRequest{Channel: "national", LocalRef: "BPOL-7", OccurredOn: "2026-12-04"}, &reg)
	g.admin(aoMSP, "POST", "/v1/cases/bind", api.BindRequest{Channel: "national", Pseudonym: reg.Pseudonym, LocalRef: "BAMF-7"}, nil)
	g.caseP = reg.Pseudonym
	g.seq0 = g.state().Seq
	return g
}

// startAgency runs msp's gateway with its own privacy store and Badger
// store in a temporary folder, and one static token per role.
func startAgency(t testing.TB, n *inprocnet.Network, msp string, now func() time.Time, logs *lockedBuffer) *testAgency {
	t.Helper()
	dir := t.TempDir()
	l := n.Ledger(msp)
	var domains []string
	for _, ch := range l.Channels() {
		domains = append(domains, ch.Name)
	}
	kek, err := privacy.NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	vault, err := privacy.Open(context.Background(), privacy.Options{Dir: filepath.Join(dir, "privacy"), Domains: domains, KEK: kek})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vault.Close() })
	var tf gateway.TokenFile
	a := &testAgency{tokens: map[domain.Role]string{}}
	for _, r := range []domain.Role{domain.RoleCaseworker, domain.RoleAuditor} {
		tok, _, err := tf.Add(msp, r, "test-"+string(r), now())
		if err != nil {
			t.Fatal(err)
		}
		a.tokens[r] = tok
	}
	st, err := gateway.OpenStore(filepath.Join(dir, "gateway"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a.auth = gateway.NewStaticAuthenticator(tf, msp)
	cfg := gateway.Config{Org: msp, MSPID: msp, MemberState: "DE", Ledger: l, Vault: vault, Store: st, Auth: a.auth, Now: now,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	if m, ok := n.Membership().Member(msp); ok && m.MemberState != "" {
		cfg.MemberState = m.MemberState
	}
	if a.srv, err = gateway.New(cfg); err != nil {
		t.Fatal(err)
	}
	a.srv.Start(context.Background())
	t.Cleanup(func() {
		a.srv.BeginShutdown()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return a
}

// admin calls msp's API with its static caseworker token, as the agency's
// own system would; the test fails unless it succeeds.
func (g *realGateway) admin(msp, method, path string, body, out any) {
	g.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		g.t.Fatal(err)
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+g.gatewayOf[msp].tokens[domain.RoleCaseworker])
	req.Header.Set("Idempotency-Key", uuid.NewString())
	w := httptest.NewRecorder()
	g.gatewayOf[msp].srv.Handler().ServeHTTP(w, req)
	if w.Code/100 != 2 {
		g.t.Fatalf("%s %s at %s: %d %s", method, path, msp, w.Code, w.Body)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			g.t.Fatal(err)
		}
	}
}

// ServeHTTP is the handler the console is given: the gateway's, noting
// each call.
func (g *realGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.calls = append(g.calls, r.Method+" "+r.URL.Path)
	g.mu.Unlock()
	g.api.ServeHTTP(w, r)
}

// MintSessionToken and RevokeSessionToken are the gateway's, noting the
// tokens minted.
func (g *realGateway) MintSessionToken(user string, role domain.Role) (string, error) {
	tok, err := g.auth.MintSessionToken(user, role)
	if err == nil {
		g.mu.Lock()
		g.minted = append(g.minted, tok)
		g.mu.Unlock()
	}
	return tok, err
}

func (g *realGateway) RevokeSessionToken(tok string) { g.auth.RevokeSessionToken(tok) }

// live counts the minted session tokens the gateway still accepts.
func (g *realGateway) live() int {
	g.mu.Lock()
	minted := append([]string(nil), g.minted...)
	g.mu.Unlock()
	n := 0
	for _, tok := range minted {
		req := httptest.NewRequest("GET", "/v1/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		g.api.ServeHTTP(w, req)
		if w.Code == http.StatusOK {
			n++
		}
	}
	return n
}

func (g *realGateway) callList() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.calls...)
}

func (g *realGateway) pseudonym() string { return g.caseP }

// state is the case as committed on the in-process ledger.
func (g *realGateway) state() *domain.CaseState {
	g.t.Helper()
	s := g.net.Case("national", g.caseP)
	if s == nil {
		g.t.Fatal("the case is not on the ledger")
	}
	return s
}

func (g *realGateway) status() domain.Status { return g.state().Status }

// eventCount is the number of events recorded on the case since the
// asylum office took part.
func (g *realGateway) eventCount() int { return int(g.state().Seq - g.seq0) }

// vocabulary is the asylum office gateway's answer to GET /v1/vocabulary
// for a channel (the chaincode's vocabulary, value lists included).
func (g *realGateway) vocabulary(channel string) api.Vocabulary {
	g.t.Helper()
	req := httptest.NewRequest("GET", "/v1/vocabulary?channel="+channel, nil)
	req.Header.Set("Authorization", "Bearer "+g.gatewayOf[aoMSP].tokens[domain.RoleCaseworker])
	w := httptest.NewRecorder()
	g.api.ServeHTTP(w, req)
	var v api.Vocabulary
	if w.Code != http.StatusOK {
		g.t.Fatalf("vocabulary of %s: %d %s", channel, w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		g.t.Fatal(err)
	}
	return v
}
