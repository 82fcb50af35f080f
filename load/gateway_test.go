package load

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
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

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// fakeGateways is one TLS test server standing in for every agency's gateway: it decodes each
// request strictly into the real gateway's request types, checks the token and the
// Idempotency-Key, and answers like the gateway (WriteResponse, problem+json).
type fakeGateways struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	tokens    map[string]string // token -> "org/role"
	seq       map[string]uint64 // pseudonym -> last seq
	refs      map[string]string // org|localRef -> pseudonym
	byKey     map[string]string // Idempotency-Key -> first body
	answers   map[string][]byte // Idempotency-Key -> first answer
	fail      map[string]int    // Idempotency-Key -> 503 answers still to give
	failEvery int               // give every n-th new write two 503s first
	writes    int
	calls     []string // "org path"
	binds     map[string]int
}

func newFakeGateways(t *testing.T) (*fakeGateways, []api.APIInfo) {
	f := &fakeGateways{t: t, tokens: map[string]string{}, seq: map[string]uint64{}, refs: map[string]string{},
		byKey: map[string]string{}, answers: map[string][]byte{}, fail: map[string]int{}, binds: map[string]int{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	var apis []api.APIInfo
	for _, o := range demoDesc(t).Orgs {
		a := api.APIInfo{Org: o.Name, MSPID: o.MSPID, URL: f.srv.URL + "/" + o.Name, CAFile: ca, Tokens: map[string]string{}}
		for _, u := range o.Users {
			tok := "clg_" + uuid.NewString()
			a.Tokens[u.Role] = tok
			f.tokens[tok] = o.Name + "/" + u.Role
		}
		apis = append(apis, a)
	}
	return f, apis
}

func (f *fakeGateways) problem(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"x","title":"t","status":%d,"code":%q,"detail":"d"}`, status, code)
}

func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (f *fakeGateways) serve(w http.ResponseWriter, r *http.Request) {
	org, path, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	path = "/" + path
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	who, ok := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok || !strings.HasPrefix(who, org+"/") || r.Header.Get("Content-Type") != "application/json" {
		f.problem(w, 401, "UNAUTHENTICATED")
		return
	}
	f.calls = append(f.calls, org+" "+path)
	key := r.Header.Get("Idempotency-Key")
	if path == "/v1/cases/timeline" {
		var req api.TimelineRequest
		if err := strict(body, &req); err != nil || key != "" {
			f.t.Errorf("timeline request %s (key %q): %v", body, key, err)
		}
		p := f.refs[org+"|"+req.LocalRef]
		items := make([]json.RawMessage, f.seq[p])
		for i := range items {
			items[i] = json.RawMessage(`{}`)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"items": items})
		return
	}
	if key == "" {
		f.problem(w, 428, "IDEMPOTENCY_KEY_REQUIRED")
		return
	}
	if first, ok := f.byKey[key]; ok && first != string(body) {
		f.t.Errorf("key %s reused with another body", key)
	}
	f.byKey[key] = string(body)
	if n := f.fail[key]; n > 0 {
		f.fail[key] = n - 1
		f.problem(w, 503, "OUTCOME_UNKNOWN")
		return
	}
	if a, ok := f.answers[key]; ok { // an idempotent replay
		_, _ = w.Write(a)
		return
	}
	var ref, pseudonym string
	code := ""
	decode := func(v any) {
		if err := strict(body, v); err != nil {
			f.t.Errorf("%s %s: %s: %v", org, path, body, err)
		}
	}
	switch path {
	case "/v1/cases":
		var req api.RegisterRequest
		decode(&req)
		ref, pseudonym, code = req.LocalRef, uuid.NewString(), "CASE_REGISTERED"
		f.refs[org+"|"+ref] = pseudonym
	case "/v1/cases/bind":
		var req api.BindRequest
		decode(&req)
		f.refs[org+"|"+req.LocalRef] = req.Pseudonym
		f.binds[org+"|"+req.Pseudonym]++
		ref, pseudonym, code = req.LocalRef, req.Pseudonym, "CASE_BOUND" // recorded on the ledger
	case "/v1/cases/events":
		var req api.EventRequest
		decode(&req)
		var ev map[string]any
		_ = json.Unmarshal(req.Event, &ev)
		ev["vocabularyVersion"] = 1
		b, _ := json.Marshal(ev)
		in, err := domain.DecodeEventInput(b)
		if err != nil {
			f.t.Errorf("event %s: %v", b, err)
		}
		ref, code = req.LocalRef, string(in.Code)
	case "/v1/dublin/requests":
		var req api.DublinRequestRequest
		decode(&req)
		ref, code = req.LocalRef, "TAKE_CHARGE_REQUESTED"
	case "/v1/dublin/replies":
		var req api.DublinReplyRequest
		decode(&req)
		ref, code = req.LocalRef, "REQUEST_"+req.Reply
	case "/v1/dublin/transfers":
		var req api.DublinTransferRequest
		decode(&req)
		ref, code = req.LocalRef, "TRANSFER_"+req.Step
	case "/v1/dublin/deadlines/resolve":
		var req api.DublinCase
		decode(&req)
		ref, code = req.LocalRef, "IMPLICITLY_ACCEPTED"
	default:
		f.problem(w, 404, "ROUTE_NOT_FOUND")
		return
	}
	if pseudonym == "" {
		var ok bool
		if pseudonym, ok = f.refs[org+"|"+ref]; !ok {
			f.problem(w, 404, "UNKNOWN_LOCAL_REF")
			return
		}
	}
	f.seq[pseudonym]++
	wr := api.WriteResponse{Pseudonym: pseudonym, Seq: f.seq[pseudonym], Code: domain.EventCode(code), TxID: uuid.NewString()}
	answer, _ := json.Marshal(wr)
	if path == "/v1/cases/bind" {
		answer, _ = json.Marshal(api.BindResponse{Pseudonym: pseudonym, Created: true, Holder: true, Event: &wr})
	}
	f.answers[key] = answer
	f.writes++
	if f.failEvery > 0 && f.writes%f.failEvery == 0 {
		// The write happened, but the client hears "outcome unknown" twice before the answer.
		f.fail[key] = 2
		f.problem(w, 503, "OUTCOME_UNKNOWN")
		return
	}
	_, _ = w.Write(answer)
}

// TestGatewayDriverSpeaksTheAPI runs the workload through the gateway driver against fake
// gateways that decode every request with the real gateway's types.
func TestGatewayDriverSpeaksTheAPI(t *testing.T) {
	f, apis := newFakeGateways(t)
	f.failEvery = 5
	g, err := NewGateway(apis, GatewayOptions{Retry: true, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	w, err := NewWorkload(demoDesc(t), Mix{DublinShare: 0.4, LateDublinShare: 0.5, ReadShare: 0.3}, "gw", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(context.Background(), g, w, Config{Workers: 4, MaxOps: 400, Seed: 5})
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
	for _, c := range f.calls {
		_, p, _ := strings.Cut(c, " ")
		paths[p] = true
	}
	for _, p := range []string{"/v1/cases", "/v1/cases/bind", "/v1/cases/events", "/v1/cases/timeline", "/v1/dublin/requests",
		"/v1/dublin/replies", "/v1/dublin/transfers", "/v1/dublin/deadlines/resolve"} {
		if !paths[p] {
			t.Errorf("no call to %s", p)
		}
	}
	for k, n := range f.binds {
		if n != 1 {
			t.Errorf("%s bound %d times", k, n)
		}
	}
	// Every acknowledged write carries the pseudonym and sequence number the gateway gave.
	v := Verification{}
	for _, c := range r.Cases {
		var tl []TimelineEntry
		for i, wr := range c.Writes {
			if !wr.Acked || wr.Ack.Seq != uint64(i+1) {
				t.Fatalf("case %d write %d: %+v", c.ID, i, wr)
			}
			tl = append(tl, TimelineEntry{Seq: wr.Ack.Seq, Code: wr.Op.Event.Code, TxID: wr.Ack.TxID, RequestID: wr.Op.RequestID})
			v.AckedWrites++
		}
		if _, ok := f.seq[c.Pseudonym]; !ok {
			t.Fatalf("case %d: pseudonym %q not the gateway's", c.ID, c.Pseudonym)
		}
		v.checkCase(c, tl, len(c.Writes))
	}
	if !v.OK() {
		t.Fatalf("%v", v.Problems)
	}
}

func TestGatewayDriverReportsProblems(t *testing.T) {
	f, apis := newFakeGateways(t)
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
	if len(f.calls) != 0 {
		t.Fatalf("calls %v", f.calls)
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
