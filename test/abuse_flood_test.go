//go:build integration

package test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// TestAbuseFloodPastTheConcurrencyLimit sends many more writes at once than the gateway admits
// (64 in flight, 64 more queued for at most 3 s): the surplus is refused with 503 OVERLOADED and
// Retry-After, the admitted ones are
// recorded, the refused ones leave nothing behind, and a refused request succeeds when retried
// with its key.
func TestAbuseFloodPastTheConcurrencyLimit(t *testing.T) {
	bp := gatewayOf(t, "border-police")
	const n = 200 // the gateways run with the default limit of 64 requests in flight and 64 queued
	type sent struct {
		ref, key string
		r        gwResp
	}
	out := make([]sent, n)
	tok := bp.info.Tokens["caseworker"]
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range out {
		out[i].ref, out[i].key = gwRef("BPF"), uuid.NewString()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i].r = bp.raw(rawCall{token: tok, method: "POST", path: "/v1/cases", contentType: "application/json",
				body: mustJSON(t, map[string]any{"channel": "national", "localRef": out[i].ref, "occurredOn": today()}), key: out[i].key})
		}()
	}
	close(start)
	wg.Wait()
	var admitted, refused []sent
	for _, s := range out {
		switch s.r.status {
		case http.StatusCreated:
			admitted = append(admitted, s)
		case http.StatusServiceUnavailable:
			if p := s.r.problem(t); p.Code != "OVERLOADED" || s.r.header.Get("Retry-After") == "" {
				t.Fatalf("503 without OVERLOADED and Retry-After: %+v %v", p, s.r.header)
			}
			refused = append(refused, s)
		default:
			t.Fatalf("flood answer %d %s", s.r.status, s.r.body)
		}
	}
	t.Logf("%d writes at once: %d admitted, %d refused OVERLOADED", n, len(admitted), len(refused))
	if len(refused) == 0 || len(admitted) == 0 {
		t.Fatalf("%d admitted, %d refused: the limit was not reached or nothing got through", len(admitted), len(refused))
	}
	for _, s := range admitted {
		var w gwWrite
		if err := json.Unmarshal(s.r.body, &w); err != nil {
			t.Fatal(err)
		}
		if c := getCase(t, "auditor", "auditor", "national", w.Pseudonym); c.Seq != 1 {
			t.Fatalf("admitted registration not on the ledger: %+v", c)
		}
	}
	for _, s := range refused[:min(len(refused), 20)] {
		if r := bp.do("caseworker", "POST", "/v1/cases/state", map[string]any{"channel": "national", "localRef": s.ref}, ""); r.status != http.StatusNotFound || r.problem(t).Code != "UNKNOWN_LOCAL_REF" {
			t.Fatalf("refused registration left a trace: %d %s", r.status, r.body)
		}
	}
	// A refused write is retried with the same key and goes through.
	s := refused[0]
	r := bp.raw(rawCall{token: tok, method: "POST", path: "/v1/cases", contentType: "application/json",
		body: mustJSON(t, map[string]any{"channel": "national", "localRef": s.ref, "occurredOn": today()}), key: s.key})
	if r.status != http.StatusCreated {
		t.Fatalf("retry of a refused write: %d %s", r.status, r.body)
	}
}
