package gateway

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// TestErasurePlanSurvivesRestart (issue 12 finding 3): the gateway stops
// with an erasure plan half done — before its first submission reached the
// ledger, or between the national and the Dublin request — and finishes it
// by itself after the restart, without the client. A new request (new
// Idempotency-Key, any reference of the case) then reports the plan instead
// of UNKNOWN_LOCAL_REF, and each channel's request was recorded once.
func TestErasurePlanSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		failAt int64 // the RequestErasure submission that finds the ledger gone
	}{
		{"stopped before the first submission", 1},
		{"stopped between the two submissions", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			n := newTestNet(t, clock.Now)
			var down atomic.Bool
			var calls atomic.Int64
			n.failSubmit = func(fn string) error {
				if fn == api.FnRequestErasure && down.Load() && calls.Add(1) >= tc.failAt {
					return ErrLedgerUnavailable
				}
				return nil
			}
			aoA := newAgency(t, n, clock, ao, nil)
			nat := aoA.register(domain.RoleCaseworker, "national", "AO-P1", "2026-11-27").Pseudonym
			var dub api.WriteResponse
			aoA.must(201, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/cases", api.RegisterRequest{Channel: "dublin", LocalRef: "AO-PD1",
				OccurredOn: "2026-11-27", LinkFrom: &api.CaseRef{Channel: "national", LocalRef: "AO-P1"}}, ""), &dub)

			down.Store(true)
			req := api.ErasureRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: "AO-P1"}, OccurredOn: "2026-11-27"}
			r := aoA.call(domain.RoleCaseworker, "POST", "/v1/erasures", req, "erase-key-1")
			if r.status != http.StatusServiceUnavailable {
				t.Fatalf("erasure with the ledger gone: %d %s", r.status, r.body)
			}
			aoA.stop()
			natSt, dubSt := n.state("national", nat), n.state("dublin", dub.Pseudonym)
			if (natSt.Erasure != nil) != (tc.failAt == 2) || dubSt.Erasure != nil {
				t.Fatalf("before the restart: national %+v, dublin %+v", natSt.Erasure, dubSt.Erasure)
			}

			down.Store(false)
			aoA.start() // no client call from here on until both are done
			for _, c := range []struct{ ch, p string }{{"national", nat}, {"dublin", dub.Pseudonym}} {
				waitFor(t, "erasure requested and confirmed on "+c.ch, func() bool {
					s := n.state(c.ch, c.p)
					return s.Erasure != nil && !s.Erasure.Open()
				})
			}
			for _, c := range []struct{ ch, ref string }{{"national", "AO-P1"}, {"dublin", "AO-PD1"}} {
				if _, err := aoA.vault.ResolveRef(t.Context(), c.ch, c.ref); !errors.Is(err, privacy.ErrNotFound) {
					t.Fatalf("%s still resolves on %s: %v", c.ref, c.ch, err)
				}
			}
			if got := n.submitted(api.FnRequestErasure); got != 2 {
				t.Fatalf("RequestErasure committed %d times, want 2", got)
			}

			// Whoever asks again — the same key, a new key, by another
			// reference or by pseudonym — gets the plan, not UNKNOWN_LOCAL_REF.
			var first api.ErasureResponse
			for i, x := range []struct {
				role domain.Role
				ref  api.CaseRef
				key  string
			}{
				{domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "AO-P1"}, "erase-key-1"},
				{domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "AO-P1"}, "erase-key-2"},
				{domain.RoleDublinOfficer, api.CaseRef{Channel: "dublin", LocalRef: "AO-PD1"}, "erase-key-3"},
				{domain.RoleCaseworker, api.CaseRef{Channel: "national", Pseudonym: nat}, "erase-key-4"},
			} {
				var got api.ErasureResponse
				aoA.must(http.StatusOK, aoA.call(x.role, "POST", "/v1/erasures", api.ErasureRequest{CaseRef: x.ref, OccurredOn: "2026-11-27"}, x.key), &got)
				if len(got.Items) != 2 || !got.Items[0].Requested || !got.Items[1].Requested ||
					got.Items[0].Pseudonym != nat || got.Items[1].Pseudonym != dub.Pseudonym || got.Plan == "" {
					t.Fatalf("request %d: %+v", i, got)
				}
				if i == 0 {
					first = got
				} else if got.Plan != first.Plan {
					t.Fatalf("request %d reports plan %s, want %s", i, got.Plan, first.Plan)
				}
			}
			if got := n.submitted(api.FnRequestErasure); got != 2 {
				t.Fatalf("RequestErasure committed %d times after the reports, want 2", got)
			}
		})
	}
}

// TestErasurePlanReopensRefusedChannel: a channel whose request was refused
// (here: the Dublin request while the partner state's reply deadline runs)
// is asked again by a later request for the case, once the refusal no
// longer holds; the national mapping erased by the first request is not
// needed for that, and the Dublin mapping stayed until then.
func TestErasurePlanReopensRefusedChannel(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	aoA := newAgency(t, n, clock, ao, nil)
	psA := newAgency(t, n, clock, ps, nil)
	nat := aoA.register(domain.RoleCaseworker, "national", "AO-R1", "2026-11-27").Pseudonym
	var dub api.WriteResponse
	aoA.must(201, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/cases", api.RegisterRequest{Channel: "dublin", LocalRef: "AO-RD1",
		OccurredOn: "2026-11-27", LinkFrom: &api.CaseRef{Channel: "national", LocalRef: "AO-R1"}}, ""), &dub)
	aoA.must(200, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/requests", api.DublinRequestRequest{
		DublinCase: api.DublinCase{LocalRef: "AO-RD1"}, Kind: domain.TakeCharge, OccurredOn: "2026-11-27", RequestedMemberState: "AT",
		ReceivedOn: "2026-11-27", ApplicationRegisteredOn: "2026-11-20", Evidence: domain.EvidenceOther}, ""), nil)
	psA.must(200, psA.call(domain.RoleDublinOfficer, "POST", "/v1/cases/bind", api.BindRequest{Channel: "dublin", Pseudonym: dub.Pseudonym, LocalRef: "AT-R1"}, ""), nil)

	var first api.ErasureResponse
	aoA.must(200, aoA.call(domain.RoleCaseworker, "POST", "/v1/erasures", api.ErasureRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: "AO-R1"}, OccurredOn: "2026-11-27"}, ""), &first)
	if len(first.Items) != 2 || !first.Items[0].Requested || first.Items[1].Requested || first.Items[1].Problem == nil ||
		first.Items[1].Problem.Code != "INVALID_TRANSITION" {
		t.Fatalf("first request: %+v", first)
	}
	waitFor(t, "the national erasure", func() bool { return !n.state("national", nat).Erasure.Open() })
	if _, err := aoA.vault.ResolveRef(t.Context(), "dublin", "AO-RD1"); err != nil {
		t.Fatalf("the Dublin mapping went with the national request: %v", err)
	}
	// The partner state replies: the procedure is at rest, erasure may go on.
	psA.must(200, psA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/replies", api.DublinReplyRequest{DublinCase: api.DublinCase{LocalRef: "AT-R1"},
		Reply: "REJECTED", OccurredOn: "2026-11-27", ReceivedOn: "2026-11-27"}, ""), nil)
	var again api.ErasureResponse
	aoA.must(200, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/erasures", api.ErasureRequest{CaseRef: api.CaseRef{Channel: "dublin", LocalRef: "AO-RD1"}, OccurredOn: "2026-11-27"}, ""), &again)
	if again.Plan != first.Plan || len(again.Items) != 2 || !again.Items[0].Requested || !again.Items[1].Requested {
		t.Fatalf("second request: %+v (first plan %s)", again, first.Plan)
	}
	waitFor(t, "the Dublin erasure by both holders", func() bool {
		s := n.state("dublin", dub.Pseudonym)
		return s.Erasure != nil && !s.Erasure.Open()
	})
	if got := n.submitted(api.FnRequestErasure); got != 2 {
		t.Fatalf("RequestErasure committed %d times, want 2", got)
	}
}
