package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/test/framework"
)

// lossyGateways puts a TLS proxy in front of each agency's real gateway (test/framework's
// in-process agencies: gateway.Server, its privacy store, the real chaincode). The proxy records
// every request and, for every n-th new write, lets the gateway record it but tells the client
// "outcome unknown" (503 OUTCOME_UNKNOWN) twice before passing its retries on: the fault of a
// lost answer, injected around the real gateway rather than in a copy of it.
type lossyGateways struct {
	t     *testing.T
	every int

	mu     sync.Mutex
	calls  []string        // "org path" of every request
	seen   map[string]bool // Idempotency-Keys forwarded
	lose   map[string]int  // Idempotency-Key -> 503 answers still to give
	writes int
}

// startLossyGateways starts the demo topology's agencies in process and returns the API details
// that point the driver at the proxies (with each agency's real tokens).
func startLossyGateways(t *testing.T, every int) (*lossyGateways, []api.APIInfo) {
	c, err := framework.StartInProcess(context.Background(), framework.InProcessOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	l := &lossyGateways{t: t, every: every, seen: map[string]bool{}, lose: map[string]int{}}
	ca := filepath.Join(t.TempDir(), "proxy-ca.pem")
	var apis []api.APIInfo
	for _, org := range c.Orgs() {
		info, err := c.API(org)
		if err != nil {
			t.Fatal(err)
		}
		pem, err := os.ReadFile(info.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		upstream := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
		target := info.URL
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.serve(w, r, org, target, upstream) }))
		t.Cleanup(srv.Close)
		t.Cleanup(upstream.CloseIdleConnections)
		if err := os.WriteFile(ca, pemOf(srv.Certificate().Raw), 0o644); err != nil { // one test certificate for every httptest server
			t.Fatal(err)
		}
		info.URL, info.CAFile = srv.URL, ca
		apis = append(apis, info)
	}
	return l, apis
}

func pemOf(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }

func (l *lossyGateways) serve(w http.ResponseWriter, r *http.Request, org, target string, upstream *http.Client) {
	key := r.Header.Get(api.HeaderIdempotencyKey)
	l.mu.Lock()
	l.calls = append(l.calls, org+" "+r.URL.Path)
	lost := key != "" && l.lose[key] > 0
	if lost {
		l.lose[key]--
	}
	l.mu.Unlock()
	if lost {
		lossyProblem(w)
		return
	}
	body, _ := io.ReadAll(r.Body)
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		l.t.Error(err)
		return
	}
	req.Header = r.Header.Clone()
	res, err := upstream.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	l.mu.Lock()
	drop := false
	if key != "" && !l.seen[key] && res.StatusCode == http.StatusOK {
		l.writes++
		if drop = l.every > 0 && l.writes%l.every == 0; drop {
			l.lose[key] = 1 // and once more on the first retry
		}
	}
	if key != "" {
		l.seen[key] = true
	}
	l.mu.Unlock()
	if drop {
		lossyProblem(w)
		return
	}
	for k, vs := range res.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(answer)
}

func lossyProblem(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(api.Problem{Type: "urn:test", Title: "Outcome unknown", Status: http.StatusServiceUnavailable, Code: api.CodeOutcomeUnknown})
}

// TestGatewayDriverSpeaksTheAPI runs the workload through the gateway driver against the real
// gateways, every fifth write's answer lost twice, and reads every case's timeline back as the
// auditor: each acknowledged write is on the ledger once, at the sequence number and with the
// transaction id the driver was given, nothing else of the script is, and a retried write was not
// recorded twice.
func TestGatewayDriverSpeaksTheAPI(t *testing.T) {
	l, apis := startLossyGateways(t, 5)
	g, err := NewGateway(apis, GatewayOptions{Retry: true, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	// No late Dublin cases in the run: the gateways' deadline watchers record their implicit
	// acceptance themselves (Mix.LateDublinShare); the resolve route is tried on its own below.
	w, err := NewWorkload(demoDesc(t), Mix{DublinShare: 0.4, LateDublinShare: 0, ReadShare: 0.3}, "gw", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := Run(ctx, g, w, Config{Workers: 4, MaxOps: 400, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.ErrorCount() != 0 {
		t.Fatalf("errors %v %v", r.Errors, r.ErrorExamples)
	}
	if retries := g.TakeRetries(); retries["http/503/OUTCOME_UNKNOWN"] == 0 {
		t.Fatalf("no retries counted: %v", retries)
	}
	paths := map[string]bool{}
	l.mu.Lock()
	for _, c := range l.calls {
		_, p, _ := strings.Cut(c, " ")
		paths[p] = true
	}
	l.mu.Unlock()
	for _, p := range []string{"/v1/cases", "/v1/cases/bind", "/v1/cases/events", "/v1/cases/timeline", "/v1/dublin/requests",
		"/v1/dublin/replies", "/v1/dublin/transfers"} {
		if !paths[p] {
			t.Errorf("no call to %s", p)
		}
	}
	var auditor api.APIInfo
	for _, a := range apis {
		if a.Org == "auditor" {
			auditor = a
		}
	}
	reader, err := client.New(client.Config{BaseURL: auditor.URL, CAFile: auditor.CAFile, Token: auditor.Tokens["auditor"]})
	if err != nil {
		t.Fatal(err)
	}
	v := Verification{}
	for _, c := range r.Cases {
		if len(c.Writes) == 0 {
			continue
		}
		nAcked := 0
		for _, wr := range c.Writes {
			if wr.Acked {
				nAcked++
			}
		}
		v.AckedWrites += nAcked
		tl, err := reader.FullTimeline(ctx, api.CaseRef{Channel: c.Channel, Pseudonym: c.Pseudonym})
		if err != nil {
			t.Fatalf("case %d (%s %s): %v", c.ID, c.Channel, c.Pseudonym, err)
		}
		var entries []TimelineEntry
		for _, e := range tl.Items {
			entries = append(entries, TimelineEntry{Seq: e.Seq, Code: string(e.Code), TxID: e.TxID, RequestID: e.RequestID, MSPID: e.MSPID})
		}
		v.checkCase(c, entries, nAcked)
	}
	if !v.OK() || v.AckedWrites == 0 {
		t.Fatalf("acknowledged %d, on the ledger %d: %v", v.AckedWrites, v.OnLedger, v.Problems)
	}

	// A late case's own dublin:ResolveDeadlines races the requested state's deadline watcher: the
	// gateway records it, or refuses it because the watcher recorded the acceptance first. Either
	// is an answer on the merits to a request it decoded (its decoding is strict).
	lw, err := NewWorkload(demoDesc(t), Mix{DublinShare: 1, LateDublinShare: 1}, "gw-late", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	lc := lw.NewCase(newTestRand(), 1)
	resolved := false
	for _, op := range lc.Ops {
		_, err := g.Do(ctx, op)
		if op.Kind == OpResolve {
			resolved = true
			if err != nil && Classify(err) != "http/409/DEADLINE_NOT_REACHED" {
				t.Fatalf("resolve: %v", err)
			}
			break
		}
		if err != nil {
			t.Fatalf("%s %s: %v", op.Kind, op.Event.Code, err)
		}
	}
	if !resolved {
		t.Fatalf("the late case has no resolve step: %v", lc.Codes())
	}
}

func TestGatewayDriverReportsProblems(t *testing.T) {
	l, apis := startLossyGateways(t, 0)
	for i := range apis {
		apis[i].Tokens["caseworker"] = "clg_wrong" // every call unauthenticated
	}
	g, err := NewGateway(apis, GatewayOptions{Retry: true})
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWorkload(demoDesc(t), Mix{}, "gw", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	c := w.NewCase(newTestRand(), 1)
	_, err = g.Do(context.Background(), c.Ops[0])
	if got := Classify(err); got != "http/401/UNAUTHENTICATED" {
		t.Fatalf("class %q (%v)", got, err)
	}
	if len(l.calls) != 1 {
		t.Fatalf("a refusal was retried: calls %v", l.calls)
	}
	if _, err := NewGateway([]api.APIInfo{{Org: "x", URL: "https://10.1.2.3:7109", CAFile: apis[0].CAFile}}, GatewayOptions{}); err == nil {
		t.Fatal("a gateway off the loopback interface was accepted")
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 1)) }

func FuzzParseProblem(f *testing.F) {
	f.Add(503, []byte(`{"type":"x","title":"Too many requests in flight","status":503,"code":"OVERLOADED"}`))
	f.Add(400, []byte(`{"code":"INVALID_ARGUMENT","detail":"event: must be a JSON object"}`))
	f.Add(502, []byte(`<html>bad gateway</html>`))
	f.Add(404, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		p := ParseProblem(status, body)
		if p == nil || p.Status != status {
			t.Fatalf("problem %+v for status %d", p, status)
		}
		if got := Classify(p); !strings.HasPrefix(got, "http/"+strconv.Itoa(status)+"/") {
			t.Fatalf("class %q", got)
		}
	})
}
