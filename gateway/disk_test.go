package gateway

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// TestReadinessFalseWhenTheDataFolderIsAlmostFull: the data folder's free
// space is exported, and /readyz answers 503 STORAGE_LOW below the threshold
// (and ready again once space is freed); the API itself keeps answering.
func TestReadinessFalseWhenTheDataFolderIsAlmostFull(t *testing.T) {
	var avail atomic.Uint64
	avail.Store(5 << 30)
	var probed atomic.Value
	clock := newTestClock()
	a := newAgency(t, newTestNet(t, clock.Now), clock, bp, func(c *Config) {
		c.DataDir, c.MinFreeBytes = "/data/gateway", 1<<30
		c.StatFS = func(path string) (uint64, uint64, error) { probed.Store(path); return avail.Load(), 100 << 30, nil }
	})
	if r := a.call("", "GET", "/readyz", nil, ""); r.status != 200 {
		t.Fatalf("5 GiB free: %d %s", r.status, r.body)
	}
	if p, _ := probed.Load().(string); p != "/data/gateway" {
		t.Fatalf("probed %q", p)
	}
	avail.Store(512 << 20)
	r := a.call("", "GET", "/readyz", nil, "")
	if p := r.problem(t); r.status != 503 || p.Code != api.CodeStorageLow || r.header.Get("Retry-After") == "" {
		t.Fatalf("512 MiB free: %d %+v", r.status, p)
	}
	m := string(a.call(domain.RoleAdmin, "GET", "/metrics", nil, "").body)
	for _, want := range []string{"gateway_disk_available_bytes 5.36870912e+08", "gateway_disk_size_bytes 1.073741824e+11", "gateway_disk_min_available_bytes 1.073741824e+09"} {
		if !strings.Contains(m, want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
	if r := a.call(domain.RoleCaseworker, "GET", "/v1/whoami", nil, ""); r.status != 200 {
		t.Fatalf("the API while not ready: %d", r.status)
	}
	avail.Store(2 << 30)
	if r := a.call("", "GET", "/readyz", nil, ""); r.status != 200 {
		t.Fatalf("space freed: %d %s", r.status, r.body)
	}
}
