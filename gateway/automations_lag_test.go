package gateway

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// TestErasureExecutorRetriesLag (issue 12 finding 2): a confirmation refused
// the way a peer behind the request's block refuses it is retried until it
// is recorded; one refused for a reason that cannot change is recorded as a
// permanent refusal and the executor moves on to the next request.
func TestErasureExecutorRetriesLag(t *testing.T) {
	for _, tc := range []struct {
		name      string
		refusal   error
		times     int64 // refusals before the ledger accepts (-1: always the first case's)
		confirmed bool
	}{
		{"endorser behind: no erasure requested", domain.Errorf(domain.KindInvalidTransition, "no erasure requested"), 3, true},
		{"endorser behind: case not found", domain.Errorf(domain.KindNotFound, "case not found"), 2, true},
		{"ledger unavailable", ErrLedgerUnavailable, 2, true},
		{"refused for good", domain.Errorf(domain.KindForbidden, "BorderPoliceMSP held no data on this case when erasure was requested"), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			n := newTestNet(t, clock.Now)
			var calls atomic.Int64
			n.failSubmit = func(fn string) error {
				if fn == api.FnConfirmErasure && calls.Add(1) <= tc.times {
					return tc.refusal
				}
				return nil
			}
			bpA := newAgency(t, n, clock, bp, nil)
			p1 := bpA.register(domain.RoleCaseworker, "national", "BP-L1", "2026-11-27").Pseudonym
			bpA.must(200, bpA.call(domain.RoleCaseworker, "POST", "/v1/erasures", api.ErasureRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: "BP-L1"}, OccurredOn: "2026-11-27"}, ""), nil)
			if tc.confirmed {
				waitFor(t, "the confirmation after the lag", func() bool { return !n.state("national", p1).Erasure.Open() })
				if calls.Load() != tc.times+1 {
					t.Fatalf("%d confirmation attempts, want %d", calls.Load(), tc.times+1)
				}
				if rs, _ := bpA.srv.AutomationRefusals(); len(rs) != 0 {
					t.Fatalf("lag recorded as a refusal: %+v", rs)
				}
				return
			}
			// Refused for good: recorded, and the executor moves on.
			p2 := bpA.register(domain.RoleCaseworker, "national", "BP-L2", "2026-11-27").Pseudonym
			bpA.must(200, bpA.call(domain.RoleCaseworker, "POST", "/v1/erasures", api.ErasureRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: "BP-L2"}, OccurredOn: "2026-11-27"}, ""), nil)
			waitFor(t, "the next request executed", func() bool { return !n.state("national", p2).Erasure.Open() })
			if !n.state("national", p1).Erasure.Open() {
				t.Fatal("the refused confirmation is recorded")
			}
			rs, err := bpA.srv.AutomationRefusals()
			if err != nil || len(rs) != 1 || rs[0].Pseudonym != p1 || rs[0].Kind != domain.KindForbidden ||
				rs[0].Automation != "erasure" || rs[0].Function != api.FnConfirmErasure {
				t.Fatalf("refusals %+v, %v", rs, err)
			}
			// The list survives a restart, and an admin reads it over the API
			// (a caseworker does not).
			bpA.restart()
			var list api.RefusalList
			bpA.must(http.StatusOK, bpA.call(domain.RoleAdmin, "GET", "/v1/automations/refusals", nil, ""), &list)
			if len(list.Items) != 1 || list.Items[0].Pseudonym != p1 || list.Items[0].Kind != domain.KindForbidden {
				t.Fatalf("refusals after restart: %+v", list.Items)
			}
			if r := bpA.call(domain.RoleCaseworker, "GET", "/v1/automations/refusals", nil, ""); r.status != http.StatusForbidden {
				t.Fatalf("caseworker reads the refusals: %d", r.status)
			}
		})
	}
}

// TestDeadlineWatcherRetriesLag (issue 12 finding 2): ResolveDeadlines
// refused by an endorser that has not committed the request yet (NOT_FOUND,
// INVALID_TRANSITION) while this agency's peer shows the lapsed deadline is
// tried again within seconds, not at the next poll (an hour here) or the
// next day.
func TestDeadlineWatcherRetriesLag(t *testing.T) {
	for _, kind := range []domain.Kind{domain.KindNotFound, domain.KindInvalidTransition} {
		t.Run(string(kind), func(t *testing.T) {
			clock := newTestClock()
			n := newTestNet(t, clock.Now)
			var calls atomic.Int64
			n.failSubmit = func(fn string) error {
				if fn == api.FnResolveDeadlines && calls.Add(1) <= 2 {
					return domain.Errorf(kind, "refused by a peer behind")
				}
				return nil
			}
			slowPoll := func(c *Config) { c.Automations.DeadlinePoll = time.Hour }
			aoA := newAgency(t, n, clock, ao, slowPoll)
			psA := newAgency(t, n, clock, ps, func(c *Config) { c.Automations.Disabled = true })
			w := dublinCase(t, aoA, "AO-LN1", "AO-LD1", "2026-11-07")
			acknowledge(t, psA, w.Pseudonym, "2026-11-07") // reply deadline already passed
			waitFor(t, "implicit acceptance after the lag", func() bool {
				s := n.state("dublin", w.Pseudonym)
				return s != nil && s.Status == domain.StImplicitlyAccepted
			})
			if rs, _ := aoA.srv.AutomationRefusals(); len(rs) != 0 {
				t.Fatalf("lag recorded as a refusal: %+v", rs)
			}
		})
	}
}
