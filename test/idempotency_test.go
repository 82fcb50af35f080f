package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestIdempotentRetry: one Idempotency-Key, one transaction. A retry with the same key and body
// answers the stored first outcome (marked Idempotent-Replayed), also after the gateway restarted;
// the same key with another body or on another route is refused; keys belong to their token; and
// the ledger holds exactly the two writes (the history of the case, and no block added by any
// retry or refusal).
func TestIdempotentRetry(t *testing.T) {
	ctx := context.Background()
	const org = "border-police"
	gw, aud := gatewayOf(t, org), gatewayOf(t, "auditor")
	ref := gwRef("BPR")
	reg := map[string]any{"channel": "national", "localRef": ref, "occurredOn": today()}
	key := "retry-" + uuid.NewString()
	first := gw.do("caseworker", "POST", "/v1/cases", reg, key)
	second := gw.do("caseworker", "POST", "/v1/cases", reg, key)
	if first.status != http.StatusCreated || second.status != http.StatusCreated || string(first.body) != string(second.body) {
		t.Fatalf("registration retried: %d %s, then %d %s", first.status, first.body, second.status, second.body)
	}
	if first.header.Get("Idempotent-Replayed") != "" || second.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay marks: first %q, second %q", first.header.Get("Idempotent-Replayed"), second.header.Get("Idempotent-Replayed"))
	}
	var w gwWrite
	if err := json.Unmarshal(first.body, &w); err != nil {
		t.Fatal(err)
	}
	ev := func(hit string) map[string]any {
		return map[string]any{"channel": "national", "localRef": ref, "event": map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": today(), "eurodacHit": hit}}
	}
	evKey := key + "-ev"
	a := gw.do("caseworker", "POST", "/v1/cases/events", ev("CATEGORY_2"), evKey)
	b := gw.do("caseworker", "POST", "/v1/cases/events", ev("CATEGORY_2"), evKey)
	if a.status != http.StatusOK || b.status != http.StatusOK || string(a.body) != string(b.body) || b.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("event retried: %d %s, then %d %s", a.status, a.body, b.status, b.body)
	}
	// One registration and one identity check: the history (every committed version of the
	// case) has exactly two entries, as the auditor's peer has them.
	history := func() int {
		var hist struct {
			Items []struct {
				TxID string `json:"txId"`
			} `json:"items"`
		}
		aud.ok(http.StatusOK, "auditor", "POST", "/v1/audit/history", map[string]any{"channel": "national", "pseudonym": w.Pseudonym}, &hist)
		return len(hist.Items)
	}
	eventually(t, 30*time.Second, "the auditor's peer has both writes", func(context.Context) error {
		if n := history(); n != 2 {
			return fmt.Errorf("%d committed versions, want 2", n)
		}
		return nil
	})
	before, err := cluster.Height(ctx, "auditor", "national")
	if err != nil {
		t.Fatal(err)
	}

	// The same key with another body, or on another route, is another request: refused.
	for _, other := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/cases/events", ev("CATEGORY_1")}, // another event under the key
		{"/v1/cases/events", reg},              // another operation's body
		{"/v1/cases", map[string]any{"channel": "national", "localRef": ref + "-OTHER", "occurredOn": today()}}, // another registration
	} {
		r := gw.do("caseworker", "POST", other.path, other.body, evKey)
		if other.path == "/v1/cases/events" {
			if p := r.problem(t); r.status != http.StatusUnprocessableEntity || p.Code != "IDEMPOTENCY_KEY_REUSED" {
				t.Fatalf("same key, other body: %d %+v", r.status, p)
			}
		} else if r.status == http.StatusCreated || r.status == http.StatusOK {
			t.Fatalf("same key on another route was accepted: %d %s", r.status, r.body)
		}
	}
	// Keys belong to their token: the admin's request with the same key is a request of its own
	// (the workflow refuses the admin role; a reused key would be 422).
	if r := gw.do("admin", "POST", "/v1/cases/events", ev("NONE"), evKey); r.status != http.StatusForbidden || r.problem(t).Code != "FORBIDDEN" {
		t.Fatalf("admin with the caseworker's key: %d %s", r.status, r.body)
	}
	// A retry after the gateway restarted still answers the first outcome.
	if err := cluster.StopGateway(org); err != nil {
		t.Fatal(err)
	}
	if err := cluster.StartGateway(ctx, org); err != nil {
		t.Fatal(err)
	}
	again := gw.do("caseworker", "POST", "/v1/cases/events", ev("CATEGORY_2"), evKey)
	if again.status != http.StatusOK || string(again.body) != string(a.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after the restart: %d %s (replayed %q), first %s", again.status, again.body, again.header.Get("Idempotent-Replayed"), a.body)
	}

	if n := history(); n != 2 {
		t.Fatalf("%d committed versions after the retries, want 2", n)
	}
	after, err := cluster.Height(ctx, "auditor", "national")
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("retries and refusals changed the ledger: height %d -> %d", before, after)
	}
}
