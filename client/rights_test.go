package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
)

// TestRectifyRetriesWithOneKeyAndMapsProblems: a rectification is a write:
// a 503 is retried with the same Idempotency-Key and body, the references
// travel only in the body, and the gateway's refusals map to the sentinels.
func TestRectifyRetriesWithOneKeyAndMapsProblems(t *testing.T) {
	type seen struct {
		path, rawQuery, key string
		body                api.RectifyRequest
	}
	var mu sync.Mutex
	var got []seen
	answer := 0
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s seen
		s.path, s.rawQuery, s.key = r.URL.Path, r.URL.RawQuery, r.Header.Get("Idempotency-Key")
		if err := json.NewDecoder(r.Body).Decode(&s.body); err != nil {
			t.Error(err)
		}
		mu.Lock()
		got = append(got, s)
		n := len(got)
		mu.Unlock()
		switch {
		case answer == 0 && n == 1:
			problem(w, http.StatusServiceUnavailable, api.CodePrivacyUnavailable, "")
		case answer == 0:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(api.RectifyResponse{Channel: "national", Pseudonym: "6f1c0d9e-5a8b-4c1e-9f3a-2b7d4e6a8c10", RectifiedAt: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)})
		case answer == 404:
			problem(w, http.StatusNotFound, api.CodeUnknownLocalRef, "localRef: not a reference of this agency on the channel")
		case answer == 409:
			problem(w, http.StatusConflict, "CONFLICT", "newLocalRef: already names a case of this agency on the channel")
		}
	}))
	ctx := context.Background()
	req := api.RectifyRequest{Channel: "national", LocalRef: "BAMF-1", NewLocalRef: "BAMF-2"}
	res, err := c.Rectify(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pseudonym != "6f1c0d9e-5a8b-4c1e-9f3a-2b7d4e6a8c10" || res.Channel != "national" || res.RectifiedAt.IsZero() {
		t.Fatalf("answer %+v", res)
	}
	if len(got) != 2 || got[0].key == "" || got[0].key != got[1].key {
		t.Fatalf("want one retry with the same key: %+v", got)
	}
	for _, s := range got {
		if s.path != "/v1/rights/rectify" || s.rawQuery != "" || s.body != req {
			t.Fatalf("request %+v", s)
		}
	}
	for _, tc := range []struct {
		status   int
		code     string
		sentinel error
	}{
		{404, api.CodeUnknownLocalRef, ErrNotFound},
		{409, "CONFLICT", ErrRefused},
	} {
		answer = tc.status
		_, err := c.Rectify(ctx, req, WithIdempotencyKey("k-"+tc.code))
		if !errors.Is(err, tc.sentinel) || CodeOf(err) != tc.code {
			t.Errorf("%d: %v (code %q), want %v", tc.status, err, CodeOf(err), tc.sentinel)
		}
	}
}

// TestExportIsAReadWithTheReferenceInTheBody: no Idempotency-Key, the
// reference only in the body, the answer decoded.
func TestExportIsAReadWithTheReferenceInTheBody(t *testing.T) {
	var key, query string
	var body api.ExportRequest
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, query = r.Header.Get("Idempotency-Key"), r.URL.RawQuery
		if r.URL.Path != "/v1/rights/export" || r.Method != http.MethodPost {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(api.SubjectExport{MSPID: "AsylumOfficeMSP", Cases: []api.ExportedCase{
			{Channel: "national", Pseudonym: "p1", LocalRefs: []string{"BAMF-1"}, OnLedger: true},
			{Channel: "dublin", Pseudonym: "p2", LocalRefs: []string{}},
		}})
	}))
	ex, err := c.Export(context.Background(), api.ExportRequest{Channel: "national", LocalRef: "BAMF-1"})
	if err != nil {
		t.Fatal(err)
	}
	if key != "" || query != "" || body.LocalRef != "BAMF-1" || body.Channel != "national" {
		t.Fatalf("key %q query %q body %+v", key, query, body)
	}
	if ex.MSPID != "AsylumOfficeMSP" || len(ex.Cases) != 2 || !ex.Cases[0].OnLedger || ex.Cases[0].LocalRefs[0] != "BAMF-1" || ex.Cases[1].Channel != "dublin" {
		t.Fatalf("export %+v", ex)
	}
}
