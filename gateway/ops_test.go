package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain"
)

// TestMetricsNotPublicOnTheAPIPort: on the API port /metrics answers only an
// admin token; the operations handler serves it (and health) without one,
// and nothing of the API.
func TestMetricsNotPublicOnTheAPIPort(t *testing.T) {
	clock := newTestClock()
	a := newAgency(t, newTestNet(t, clock.Now), clock, bp, nil)
	if r := a.call("", "GET", "/metrics", nil, ""); r.status != 401 || r.problem(t).Code != "UNAUTHENTICATED" {
		t.Fatalf("anonymous /metrics on the API port: %d %s", r.status, r.body)
	}
	if r := a.call(domain.RoleCaseworker, "GET", "/metrics", nil, ""); r.status != 403 {
		t.Fatalf("caseworker /metrics on the API port: %d", r.status)
	}
	if r := a.call(domain.RoleAdmin, "GET", "/metrics", nil, ""); r.status != 200 || !strings.Contains(string(r.body), "gateway_http_requests_total") {
		t.Fatalf("admin /metrics on the API port: %d", r.status)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := a.call("", "GET", p, nil, ""); r.status != 200 {
			t.Fatalf("%s on the API port: %d", p, r.status)
		}
	}
	ops := httptest.NewServer(a.srv.OpsHandler())
	defer ops.Close()
	for path, want := range map[string]int{"/metrics": 200, "/healthz": 200, "/readyz": 200, "/v1/whoami": 404, "/v1/openapi.yaml": 404} {
		res, err := http.Get(ops.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("ops %s: %d, want %d", path, res.StatusCode, want)
		}
	}
}
