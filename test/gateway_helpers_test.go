package test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
)

// gwAPI calls one org's gateway over HTTPS with the tokens generated for it.
type gwAPI struct {
	t    *testing.T
	org  string
	info api.APIInfo
	hc   *http.Client
}

func gatewayOf(t *testing.T, org string) *gwAPI {
	t.Helper()
	info, err := cluster.API(org)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(info.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &gwAPI{t: t, org: org, info: info, hc: &http.Client{Transport: tr, Timeout: 90 * time.Second}}
}

type gwResp struct {
	status int
	header http.Header
	body   []byte
}

func (r gwResp) problem(t *testing.T) api.Problem {
	t.Helper()
	if r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, not a problem: %s", r.status, r.body)
	}
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// do sends one request as role. Writes get a fresh Idempotency-Key unless
// key is given.
func (a *gwAPI) do(role, method, path string, body any, key string) gwResp {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.info.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		tok, ok := a.info.Tokens[role]
		if !ok {
			a.t.Fatalf("%s has no token for role %s", a.org, role)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if key == "" && method != http.MethodGet {
		key = uuid.NewString()
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s %s: %v", a.org, method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return gwResp{status: res.StatusCode, header: res.Header, body: b}
}

// ok sends a request that must answer want and decodes the body into out.
func (a *gwAPI) ok(want int, role, method, path string, body, out any) gwResp {
	a.t.Helper()
	r := a.do(role, method, path, body, "")
	if r.status != want {
		a.t.Fatalf("%s %s %s as %s: %d %s (want %d)", a.org, method, path, role, r.status, r.body, want)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			a.t.Fatalf("decode %s: %v", r.body, err)
		}
	}
	return r
}

// Wire shapes (as the API documents them).

type gwWrite struct {
	Channel     string `json:"channel"`
	Pseudonym   string `json:"pseudonym"`
	Seq         uint64 `json:"seq"`
	Code        string `json:"code"`
	Status      string `json:"status"`
	TxID        string `json:"txId"`
	BlockNumber uint64 `json:"blockNumber"`
}

type gwCaseView struct {
	Case struct {
		Pseudonym string   `json:"pseudonym"`
		Status    string   `json:"status"`
		Seq       uint64   `json:"seq"`
		Holders   []string `json:"holders"`
	} `json:"case"`
	LocalRefs []string `json:"localRefs"`
}

type gwEvent struct {
	Position  string   `json:"position"`
	Channel   string   `json:"channel"`
	Name      string   `json:"name"`
	Pseudonym string   `json:"pseudonym"`
	Code      string   `json:"code"`
	Seq       uint64   `json:"seq"`
	TxID      string   `json:"txId"`
	Held      bool     `json:"held"`
	LocalRefs []string `json:"localRefs"`
	// Supersedes: the consequence a step dated in time superseded.
	Supersedes *struct {
		Code  string `json:"code"`
		Seq   uint64 `json:"seq"`
		BySeq uint64 `json:"bySeq"`
	} `json:"supersedes"`
}

// gwStream is an open server-sent event stream.
type gwStream struct {
	events chan gwEvent
	cancel context.CancelFunc
	done   chan struct{}
}

// stream opens GET /v1/events with Last-Event-ID after (may be "").
func (a *gwAPI) stream(role, query, after string) *gwStream {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.info.URL+"/v1/events"+query, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.info.Tokens[role])
	if after != "" {
		req.Header.Set("Last-Event-ID", after)
	}
	hc := &http.Client{Transport: a.hc.Transport} // no timeout: a stream
	res, err := hc.Do(req)
	if err != nil {
		cancel()
		a.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		a.t.Fatalf("events: %d %s", res.StatusCode, b)
	}
	s := &gwStream{events: make(chan gwEvent, 1024), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var id, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && data != "":
				var v gwEvent
				if json.Unmarshal([]byte(data), &v) == nil && v.Position == id {
					s.events <- v
				}
				id, data = "", ""
			}
		}
	}()
	a.t.Cleanup(s.close)
	return s
}

func (s *gwStream) close() { s.cancel(); <-s.done }

// until reads events until match returns true (or the timeout passes) and
// returns every event read.
func (s *gwStream) until(t *testing.T, timeout time.Duration, what string, match func(gwEvent) bool) []gwEvent {
	t.Helper()
	var got []gwEvent
	deadline := time.After(timeout)
	for {
		select {
		case v, ok := <-s.events:
			if !ok {
				t.Fatalf("%s: stream ended", what)
			}
			got = append(got, v)
			if match(v) {
				return got
			}
		case <-deadline:
			t.Fatalf("%s: not within %s (%d events read)", what, timeout, len(got))
		}
	}
}

// gwRef draws a local reference (a file number) and notes it for the final
// ledger scan, which proves it never reached the chain.
func gwRef(prefix string) string {
	ref := prefix + "-" + strings.ToUpper(uuid.NewString()[:8]) + "-2026"
	noteRealIdentifiers(ref)
	return ref
}
