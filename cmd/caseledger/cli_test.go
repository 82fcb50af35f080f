package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
)

// fakeGateway answers like a gateway and records what it was sent.
type fakeGateway struct {
	t      *testing.T
	srv    *httptest.Server
	caFile string
	mu     sync.Mutex
	got    []recorded
	// answer, by "METHOD path", returns status and body (a problem when
	// status >= 400).
	answer map[string]func(body []byte) (int, any)
}

type recorded struct {
	method, path, query, auth, key string
	minBlock                       string
	body                           map[string]any
}

func newFakeGateway(t *testing.T) *fakeGateway {
	g := &fakeGateway{t: t, answer: map[string]func([]byte) (int, any){}}
	g.answer["GET /v1/whoami"] = func([]byte) (int, any) {
		return 200, api.Whoami{Org: "asylum-office", MSPID: "AsylumOfficeMSP", MemberState: "DE", Role: "caseworker"}
	}
	g.srv = httptest.NewTLSServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	g.caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.srv.Certificate().Raw})
	if err := os.WriteFile(g.caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec := recorded{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, auth: r.Header.Get("Authorization"), key: r.Header.Get("Idempotency-Key"),
		minBlock: r.Header.Get(api.HeaderMinBlock)}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &rec.body); err != nil {
			g.t.Errorf("body not JSON: %s", b)
		}
	}
	g.mu.Lock()
	g.got = append(g.got, rec)
	f := g.answer[r.Method+" "+r.URL.Path]
	g.mu.Unlock()
	if f == nil {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"title":"No such route","status":404,"code":"ROUTE_NOT_FOUND"}`)
		return
	}
	status, body := f(b)
	if s, ok := body.(string); ok && strings.HasPrefix(s, "SSE:") {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, strings.TrimPrefix(s, "SSE:"))
		return
	}
	w.Header().Set("X-Request-Id", "req-42")
	if status >= 400 {
		w.Header().Set("Content-Type", "application/problem+json")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (g *fakeGateway) requests() []recorded {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]recorded(nil), g.got...)
}

func (g *fakeGateway) last(path string) recorded {
	g.t.Helper()
	rs := g.requests()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].path == path {
			return rs[i]
		}
	}
	g.t.Fatalf("no request to %s", path)
	return recorded{}
}

func problemBody(status int, code, detail string) map[string]any {
	return map[string]any{"type": "urn:x", "title": http.StatusText(status), "status": status, "code": code, "detail": detail}
}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs the command line with the environment env.
func cli(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, args, &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

// envFor points the command line at g with a token.
func envFor(g *fakeGateway) map[string]string {
	return map[string]string{"CASELEDGER_URL": g.srv.URL, "CASELEDGER_CA": g.caFile, "CASELEDGER_TOKEN": "clg_env", "CASELEDGER_RETRIES": "1"}
}

func TestUsageErrorsExitOne(t *testing.T) {
	g := newFakeGateway(t)
	env := envFor(g)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "usage: caseledger"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"show", "--ref", "X"}, "--channel is required"},
		{[]string{"show", "--channel", "national", "--ref", "X", "--pseudonym", "p"}, "exactly one of --ref and --pseudonym"},
		{[]string{"show", "--channel", "national"}, "exactly one of --ref and --pseudonym"},
		{[]string{"show", "--channel", "national", "--ref", "X", "extra"}, `unexpected argument "extra"`},
		{[]string{"--output", "yaml", "whoami"}, "--output must be text or json"},
		{[]string{"record", "--channel", "national", "--ref", "X", "--code", "FILE_CREATED", "oops"}, `field "oops": want key=value`},
		{[]string{"dublin", "reply", "--ref", "X", "--reply", "MAYBE"}, "--reply must be one of"},
		{[]string{"deadlines", "--within", "-1"}, "--within must not be negative"},
		{[]string{"anchor", "--channel", "national", "--ref", "X", "--file", "/nonexistent/doc"}, "--file"},
		{[]string{"show", "--bogus"}, "flag provided but not defined: -bogus"},
	} {
		r := cli(t, env, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	for _, rq := range g.requests() {
		t.Errorf("a usage error still called the gateway: %s %s", rq.method, rq.path)
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	r := cli(t, nil, "help")
	if r.code != 0 {
		t.Fatalf("help: exit %d", r.code)
	}
	for _, c := range commands() {
		if !strings.Contains(r.stdout, c.name) {
			t.Errorf("overview lacks %q", c.name)
		}
		args := append(strings.Fields(c.name), "-h")
		h := cli(t, nil, args...)
		if h.code != 0 || !strings.Contains(h.stdout, "usage: caseledger "+c.name) || !strings.Contains(h.stdout, c.summary) {
			t.Errorf("%s -h: exit %d\n%s", c.name, h.code, h.stdout)
		}
		if h2 := cli(t, nil, append([]string{"help"}, strings.Fields(c.name)...)...); h2.stdout != h.stdout {
			t.Errorf("help %s differs from %s -h", c.name, c.name)
		}
	}
	if r := cli(t, nil, "help", "record"); !strings.Contains(r.stdout, "--code") || !strings.Contains(r.stdout, "eurodacHit=CATEGORY_1") {
		t.Errorf("record help lacks its flags or example:\n%s", r.stdout)
	}
}

func TestRecordSendsTheEventWithTodayInTheMemberState(t *testing.T) {
	g := newFakeGateway(t)
	g.answer["POST /v1/cases/events"] = func([]byte) (int, any) {
		return 200, api.WriteResponse{Channel: "national", Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Seq: 2,
			Code: "IDENTITY_CHECKED", Status: "IDENTITY_CHECKED", TxID: "abcdef0123456789", BlockNumber: 9}
	}
	// Flags after the positional field, too.
	r := cli(t, envFor(g), "record", "--channel", "national", "--ref", "BAMF-1", "eurodacHit=CATEGORY_1", "--code", "IDENTITY_CHECKED",
		"--idempotency-key", "k-1")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rq := g.last("/v1/cases/events")
	ev, _ := rq.body["event"].(map[string]any)
	wantDay := Today(time.Now(), "DE")
	if rq.body["channel"] != "national" || rq.body["localRef"] != "BAMF-1" || ev["code"] != "IDENTITY_CHECKED" ||
		ev["eurodacHit"] != "CATEGORY_1" || ev["occurredOn"] != wantDay || rq.key != "k-1" || rq.auth != "Bearer clg_env" {
		t.Fatalf("request %+v (event %v), want day %s", rq, ev, wantDay)
	}
	if !strings.Contains(r.stdout, "recorded IDENTITY_CHECKED on national case 6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6: seq 2") ||
		!strings.Contains(r.stdout, "block 9") {
		t.Errorf("output %q", r.stdout)
	}
	// An explicit date needs no whoami.
	before := len(g.requests())
	r = cli(t, envFor(g), "--output", "json", "record", "--channel", "national", "--pseudonym", "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6",
		"--code", "APPEAL_FILED", "--date", "2026-11-02", "suspensive=true")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := len(g.requests()) - before; n != 1 {
		t.Errorf("%d requests, want only the write", n)
	}
	ev = g.last("/v1/cases/events").body["event"].(map[string]any)
	if ev["suspensive"] != true || ev["occurredOn"] != "2026-11-02" {
		t.Errorf("event %v", ev)
	}
	var wr api.WriteResponse
	if err := json.Unmarshal([]byte(r.stdout), &wr); err != nil || wr.BlockNumber != 9 {
		t.Errorf("--output json: %q (%v)", r.stdout, err)
	}
}

// --after-block makes every call of the command wait for that block.
func TestAfterBlockTravelsWithTheCommand(t *testing.T) {
	g := newFakeGateway(t)
	g.answer["POST /v1/cases/events"] = func([]byte) (int, any) {
		return 200, api.WriteResponse{Channel: "national", Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Seq: 3, Code: "FILE_CREATED"}
	}
	args := []string{"record", "--channel", "national", "--pseudonym", "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", "--code", "FILE_CREATED", "--date", "2026-11-27"}
	if r := cli(t, envFor(g), append([]string{"--after-block", "41"}, args...)...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := g.last("/v1/cases/events").minBlock; got != "41" {
		t.Fatalf("%s %q, want 41", api.HeaderMinBlock, got)
	}
	if r := cli(t, envFor(g), args...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := g.last("/v1/cases/events").minBlock; got != "" {
		t.Fatalf("without --after-block: %s %q", api.HeaderMinBlock, got)
	}
}

func TestRefusalsMapToExitCodes(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		exit   int
		word   string
	}{
		{409, "INVALID_TRANSITION", exitRefused, "refused"},
		{422, "DEADLINE_PASSED", exitRefused, "refused"},
		{404, "UNKNOWN_LOCAL_REF", exitRefused, "refused"},
		{401, "UNAUTHENTICATED", exitAuth, "not allowed"},
		{403, "FORBIDDEN", exitAuth, "not allowed"},
		{503, "LEDGER_UNAVAILABLE", exitUnavailable, "unavailable"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			g := newFakeGateway(t)
			g.answer["POST /v1/cases/state"] = func([]byte) (int, any) { return tc.status, problemBody(tc.status, tc.code, "why it failed") }
			r := cli(t, envFor(g), "show", "--channel", "national", "--ref", "BAMF-1", "--timeout", "3s")
			if r.code != tc.exit {
				t.Fatalf("exit %d, want %d (%s)", r.code, tc.exit, r.stderr)
			}
			for _, want := range []string{tc.word, tc.code, "why it failed", "req-42"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q: %s", want, r.stderr)
				}
			}
			r = cli(t, envFor(g), "--output", "json", "show", "--channel", "national", "--ref", "BAMF-1", "--timeout", "3s")
			var p map[string]any
			if err := json.Unmarshal([]byte(r.stderr), &p); err != nil || p["code"] != tc.code || p["exitCode"] != float64(tc.exit) {
				t.Errorf("json problem on stderr: %q (%v)", r.stderr, err)
			}
		})
	}
}

func TestUnreachableGatewayExitsThree(t *testing.T) {
	g := newFakeGateway(t)
	env := envFor(g)
	g.srv.Close()
	r := cli(t, env, "whoami", "--timeout", "5s", "--retries", "0")
	if r.code != exitUnavailable || !strings.Contains(r.stderr, "unavailable") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

func TestVerifyFailsWithFiveWhenNotAnchored(t *testing.T) {
	g := newFakeGateway(t)
	anchored := false
	g.answer["POST /v1/documents/verify"] = func(b []byte) (int, any) {
		return 200, api.VerifyResponse{DocumentHash: strings.Repeat("ab", 32), Anchored: anchored}
	}
	doc := filepath.Join(t.TempDir(), "decision.pdf")
	if err := os.WriteFile(doc, []byte("%PDF decision"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, envFor(g), "verify", "--channel", "national", "--ref", "BAMF-1", "--file", doc)
	if r.code != exitCheckFailed || !strings.Contains(r.stdout, "NOT anchored") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sent := g.last("/v1/documents/verify").body["document"]
	if sent != "JVBERiBkZWNpc2lvbg==" { // base64 of the file
		t.Errorf("document sent as %v", sent)
	}
	anchored = true
	if r := cli(t, envFor(g), "verify", "--channel", "national", "--ref", "BAMF-1", "--file", doc); r.code != 0 {
		t.Fatalf("anchored: exit %d %s", r.code, r.stderr)
	}
}

func TestConnectionFilePicksURLCAAndTokenOfTheRole(t *testing.T) {
	g := newFakeGateway(t)
	root := t.TempDir()
	info := api.APIInfo{Org: "asylum-office", MSPID: "AsylumOfficeMSP", URL: g.srv.URL, CAFile: g.caFile,
		Tokens: map[string]string{"admin": "clg_admin", "caseworker": "clg_cw", "dublin-officer": "clg_dub"}}
	b, _ := json.Marshal(info)
	if err := os.MkdirAll(filepath.Join(root, "connection"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ProfilePath(root, "asylum-office"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, map[string]string{"CASELEDGER_ROOT": root}, "whoami", "--org", "asylum-office", "--role", "dublin-officer")
	if r.code != 0 || g.last("/v1/whoami").auth != "Bearer clg_dub" {
		t.Fatalf("exit %d %s; auth %q", r.code, r.stderr, g.last("/v1/whoami").auth)
	}
	// Environment works as well as flags; the token from the environment wins.
	r = cli(t, map[string]string{"CASELEDGER_ROOT": root, "CASELEDGER_ORG": "asylum-office", "CASELEDGER_ROLE": "caseworker", "CASELEDGER_TOKEN": "clg_mine"}, "whoami")
	if r.code != 0 || g.last("/v1/whoami").auth != "Bearer clg_mine" {
		t.Fatalf("exit %d %s; auth %q", r.code, r.stderr, g.last("/v1/whoami").auth)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"whoami", "--org", "asylum-office", "--role", "auditor"}, `no token for role "auditor"`},
		{[]string{"whoami", "--org", "nobody"}, "make demo"},
		{[]string{"whoami"}, "no gateway given"},
	} {
		r := cli(t, map[string]string{"CASELEDGER_ROOT": root}, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// A single non-admin role needs no --role.
	info.Tokens = map[string]string{"admin": "clg_admin", "auditor": "clg_aud"}
	b, _ = json.Marshal(info)
	_ = os.WriteFile(ProfilePath(root, "auditor"), b, 0o600)
	if r := cli(t, map[string]string{"CASELEDGER_ROOT": root}, "whoami", "--org", "auditor"); r.code != 0 || g.last("/v1/whoami").auth != "Bearer clg_aud" {
		t.Fatalf("single role: exit %d %s", r.code, r.stderr)
	}
}

func TestEventsPrintsLinesAndStopsAfterCount(t *testing.T) {
	g := newFakeGateway(t)
	ev := func(pos, code string, held bool) string {
		b, _ := json.Marshal(api.EventView{Position: pos, Channel: "national", Block: 5, Name: "caseledger.case",
			Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Code: code, Seq: 1, Held: held, LocalRefs: map[bool][]string{true: {"BAMF-1"}}[held]})
		return fmt.Sprintf("id: %s\nevent: caseledger.case\ndata: %s\n\n", pos, b)
	}
	g.answer["GET /v1/events"] = func([]byte) (int, any) {
		return 200, "SSE:" + ev("e-1", "CASE_REGISTERED", false) + ": keepalive\n\n" + ev("e-2", "FILE_CREATED", true) + ev("e-3", "ALLOCATED", true)
	}
	r := cli(t, envFor(g), "events", "--channel", "national", "--count", "2", "--after", "e-0")
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "CASE_REGISTERED (not held by you)") || !strings.Contains(lines[1], "FILE_CREATED (yours: BAMF-1)") {
		t.Fatalf("lines %q", lines)
	}
	if q := g.last("/v1/events").query; q != "channel=national" {
		t.Errorf("query %q", q)
	}
	r = cli(t, envFor(g), "--output", "json", "events", "--channel", "national", "--count", "3")
	var n int
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for {
		var v api.EventView
		if err := dec.Decode(&v); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if r.code != 0 || n != 3 {
		t.Fatalf("json lines: exit %d, %d events", r.code, n)
	}
}

func TestParseInterleaved(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		pos      string
		code, ch string
	}{
		{[]string{"--code", "X", "a=1", "b=2"}, "[a=1 b=2]", "X", ""},
		{[]string{"a=1", "--code", "X", "b=2", "--channel", "national"}, "[a=1 b=2]", "X", "national"},
		{[]string{"--code", "X", "--", "--channel=1"}, "[--channel=1]", "X", ""},
		{[]string{}, "[]", "", ""},
	} {
		fs := newTestFlagSet()
		pos, err := parseInterleaved(fs.fs, tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(pos) != tc.pos || *fs.code != tc.code || *fs.channel != tc.ch {
			t.Errorf("%q: pos %v code %q channel %q", tc.args, pos, *fs.code, *fs.channel)
		}
	}
}

// The three dated Dublin steps send their fields, the act's date and the idempotency key, and
// check their flags before they call the gateway.
func TestDublinStepsSendTheirFields(t *testing.T) {
	g := newFakeGateway(t)
	ok := func([]byte) (int, any) {
		return 200, api.WriteResponse{Channel: "dublin", Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Seq: 3, TxID: "abcdef0123456789", BlockNumber: 4}
	}
	for _, p := range []string{"/v1/dublin/requests", "/v1/dublin/replies", "/v1/dublin/transfers"} {
		g.answer["POST "+p] = ok
	}
	for _, tc := range []struct {
		args []string
		path string
		want map[string]any
	}{
		{[]string{"dublin", "request", "--ref", "D-1", "--to", "AT", "--received", "2026-11-10", "--application-registered", "2026-11-09",
			"--evidence", "EURODAC_HIT", "--evidence-received", "2026-11-08", "--urgent-reply-due", "2026-11-20", "--date", "2026-11-10", "--idempotency-key", "k-r"},
			"/v1/dublin/requests", map[string]any{"localRef": "D-1", "kind": "TAKE_CHARGE", "requestedMemberState": "AT", "receivedOn": "2026-11-10",
				"applicationRegisteredOn": "2026-11-09", "evidence": "EURODAC_HIT", "evidenceReceivedOn": "2026-11-08", "urgent": true,
				"urgentReplyDue": "2026-11-20", "occurredOn": "2026-11-10"}},
		{[]string{"dublin", "reply", "--pseudonym", "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", "--reply", "REJECTED", "--received", "2026-11-12",
			"--date", "2026-11-12", "--idempotency-key", "k-p"},
			"/v1/dublin/replies", map[string]any{"pseudonym": "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", "reply": "REJECTED", "receivedOn": "2026-11-12", "occurredOn": "2026-11-12"}},
		{[]string{"dublin", "transfer", "--ref", "D-1", "--step", "DEADLINE_EXTENDED", "--reason", "ABSCONDING", "--date", "2026-11-13", "--idempotency-key", "k-t"},
			"/v1/dublin/transfers", map[string]any{"localRef": "D-1", "step": "DEADLINE_EXTENDED", "extensionReason": "ABSCONDING", "occurredOn": "2026-11-13"}},
	} {
		r := cli(t, envFor(g), tc.args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, r.code, r.stderr)
		}
		rq := g.last(tc.path)
		for k, v := range tc.want {
			if rq.body[k] != v {
				t.Errorf("%v: %s = %v, want %v (body %v)", tc.args, k, rq.body[k], v, rq.body)
			}
		}
		if rq.key != tc.args[len(tc.args)-1] {
			t.Errorf("%v: Idempotency-Key %q", tc.args, rq.key)
		}
	}
	// A missing required flag is a usage error before any request.
	before := len(g.requests())
	if r := cli(t, envFor(g), "dublin", "request", "--ref", "D-1", "--to", "AT"); r.code != 1 {
		t.Fatalf("missing flags: exit %d", r.code)
	}
	if n := len(g.requests()) - before; n != 0 {
		t.Errorf("%d requests sent for a usage error", n)
	}
}
