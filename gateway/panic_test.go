package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain"
)

// TestWritePanicReleasesTheKey: a write handler that panics answers 500
// INTERNAL, and a retry with the same Idempotency-Key runs the write again
// rather than finding the key in progress for ever.
func TestWritePanicReleasesTheKey(t *testing.T) {
	clock := newTestClock()
	a := newAgency(t, newTestNet(t, clock.Now), clock, bp, nil)
	calls := 0
	h := a.srv.wrap(route{method: "POST", path: "/v1/test-panic", write: true, h: func(*call) (int, any, error) {
		calls++
		if calls == 1 {
			panic("handler bug")
		}
		return http.StatusOK, map[string]string{"ok": "yes"}, nil
	}})
	send := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/test-panic", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+a.tokens[domain.RoleCaseworker])
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "panic-key-1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	if w := send(); w.Code != http.StatusInternalServerError {
		t.Fatalf("panicking handler answered %d %s", w.Code, w.Body)
	}
	if w := send(); w.Code != http.StatusOK || calls != 2 {
		t.Fatalf("retry after a panic: %d %s (handler ran %d times)", w.Code, w.Body, calls)
	}
	if w := send(); w.Code != http.StatusOK || w.Header().Get("Idempotent-Replayed") != "true" || calls != 2 {
		t.Fatalf("second retry: %d replayed=%q (handler ran %d times)", w.Code, w.Header().Get("Idempotent-Replayed"), calls)
	}
}
