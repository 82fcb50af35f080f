package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// BenchmarkGatewayWrite measures the gateway's own cost of a write — HTTP,
// token check, idempotency record (synced), pseudonymisation in the
// in-process privacy store, strict decoding, response — on the in-process
// ledger (which runs the real chaincode and signs as Fabric does, so its
// cost is included), with 8 concurrent clients.
func BenchmarkGatewayWrite(b *testing.B) {
	clock := newTestClock()
	n := newTestNet(b, clock.Now)
	a := newAgency(b, n, clock, bp, func(c *Config) { c.MaxInFlight = 1024 })
	var seq, failed atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body, _ := json.Marshal(api.RegisterRequest{Channel: "national", LocalRef: fmt.Sprintf("BP-B%d", seq.Add(1)), OccurredOn: "2026-11-27"})
			req, _ := http.NewRequest("POST", a.hs.URL+"/v1/cases", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+a.tokens[domain.RoleCaseworker])
			req.Header.Set("Idempotency-Key", uuid.NewString())
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != http.StatusCreated {
				failed.Add(1)
			}
			if res != nil {
				res.Body.Close()
			}
		}
	})
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d writes failed", failed.Load())
	}
}

// BenchmarkGatewayRead measures a state read by local reference.
func BenchmarkGatewayRead(b *testing.B) {
	clock := newTestClock()
	n := newTestNet(b, clock.Now)
	a := newAgency(b, n, clock, bp, func(c *Config) { c.MaxInFlight = 1024 })
	a.register(domain.RoleCaseworker, "national", "BP-R", "2026-11-27")
	body, _ := json.Marshal(api.CaseRef{Channel: "national", LocalRef: "BP-R"})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := a.call(domain.RoleCaseworker, "POST", "/v1/cases/state", body, ""); r.status != 200 {
			b.Fatal(r.status)
		}
	}
}
