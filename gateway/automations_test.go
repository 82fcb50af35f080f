package gateway

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// dublinCase opens a Dublin case at the asylum office, linked to its
// national case, and sends a take-charge request to the partner state
// received on receivedOn (Eurodac hit, AMMR: reply within two weeks).
func dublinCase(t *testing.T, aoA *agency, natRef, dubRef, receivedOn string) api.WriteResponse {
	t.Helper()
	aoA.register(domain.RoleCaseworker, "national", natRef, receivedOn)
	var reg api.WriteResponse
	aoA.must(201, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/cases", api.RegisterRequest{Channel: "dublin", LocalRef: dubRef,
		OccurredOn: receivedOn, LinkFrom: &api.CaseRef{Channel: "national", LocalRef: natRef}}, ""), &reg)
	var w api.WriteResponse
	aoA.must(200, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/requests", api.DublinRequestRequest{
		DublinCase: api.DublinCase{LocalRef: dubRef}, Kind: domain.TakeCharge, OccurredOn: receivedOn,
		RequestedMemberState: "AT", ReceivedOn: receivedOn, ApplicationRegisteredOn: "2026-10-20",
		Evidence: domain.EvidenceEurodacHit, EvidenceReceivedOn: "2026-10-21",
	}, ""), &w)
	if w.Status != domain.StTakeChargeRequested || w.Pseudonym != reg.Pseudonym {
		t.Fatalf("request: %+v", w)
	}
	return w
}

// acknowledge records the requested state's acknowledgement of receipt on
// day (its gateway may have acknowledged today's date already).
func acknowledge(t *testing.T, psA *agency, pseudonym, day string) {
	t.Helper()
	waitFor(t, "receipt acknowledged", func() bool {
		r := psA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/replies",
			api.DublinReplyRequest{DublinCase: api.DublinCase{Pseudonym: pseudonym}, Reply: "RECEIPT_ACKNOWLEDGED", OccurredOn: day}, "")
		return r.status == 200
	})
}

// TestDeadlineWatcher: a take-charge request recorded late is already past
// its reply deadline; the watchers of both Dublin units race to record the
// implicit acceptance, and it is recorded once.
func TestDeadlineWatcher(t *testing.T) {
	clock := newTestClock() // 2026-11-27
	n := newTestNet(t, clock.Now)
	aoA := newAgency(t, n, clock, ao, nil)
	psA := newAgency(t, n, clock, ps, nil)
	w := dublinCase(t, aoA, "AO-N1", "AO-D1", "2026-11-07")
	// The requested state acknowledges the requester's earlier receipt date
	// (without it the period runs from today, docs/chaincode.md §6.3.3).
	acknowledge(t, psA, w.Pseudonym, "2026-11-07")
	waitFor(t, "implicit acceptance", func() bool {
		s := n.state("dublin", w.Pseudonym)
		return s != nil && s.Status == domain.StImplicitlyAccepted
	})
	// Let both watchers sweep a few more times: nothing more is recorded.
	time.Sleep(300 * time.Millisecond)
	if got := n.submitted(api.FnResolveDeadlines); got != 1 {
		t.Fatalf("ResolveDeadlines committed %d times", got)
	}
	// A request received today is on the board, not resolved.
	w2 := dublinCase(t, aoA, "AO-N2", "AO-D2", "2026-11-27")
	var board api.Board
	psA.must(200, psA.call(domain.RoleDublinOfficer, "GET", "/v1/dublin/deadlines?withinDays=30", nil, ""), &board)
	found := false
	for _, it := range board.Items {
		if it.Pseudonym == w2.Pseudonym {
			found = true
			if it.Deadline.Kind != domain.DeadlineReply || it.DaysLeft <= 0 || it.DaysLeft > 16 || len(it.LocalRefs) != 0 {
				t.Fatalf("board item %+v", it)
			}
		}
	}
	if !found {
		t.Fatalf("board lacks the open request: %+v", board.Items)
	}
	// The partner state binds its own file number and sees it on the board.
	psA.must(200, psA.call(domain.RoleDublinOfficer, "POST", "/v1/cases/bind", api.BindRequest{Channel: "dublin", Pseudonym: w2.Pseudonym, LocalRef: "AT-77"}, ""), nil)
	psA.must(200, psA.call(domain.RoleDublinOfficer, "GET", "/v1/dublin/deadlines?withinDays=30", nil, ""), &board)
	for _, it := range board.Items {
		if it.Pseudonym == w2.Pseudonym && (len(it.LocalRefs) != 1 || it.LocalRefs[0] != "AT-77") {
			t.Fatalf("partner's refs %v", it.LocalRefs)
		}
	}
	var rep api.WriteResponse
	psA.must(200, psA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/replies", api.DublinReplyRequest{DublinCase: api.DublinCase{LocalRef: "AT-77"}, Reply: "ACCEPTED", OccurredOn: "2026-11-27"}, ""), &rep)
	if rep.Status != domain.StAccepted {
		t.Fatalf("reply %+v", rep)
	}
	for _, step := range []api.DublinTransferRequest{
		{Step: "DECISION_ISSUED", OccurredOn: "2026-11-27"},
		{Step: "SCHEDULED", OccurredOn: "2026-11-27", ScheduledFor: "2026-12-10"},
	} {
		step.DublinCase = api.DublinCase{LocalRef: "AO-D2"}
		aoA.must(200, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/transfers", step, ""), &rep)
	}
	if rep.Status != domain.StTransferScheduled {
		t.Fatalf("transfer %+v", rep)
	}
	// The partner state may not record the requesting state's transfer.
	r := psA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/transfers", api.DublinTransferRequest{DublinCase: api.DublinCase{LocalRef: "AT-77"}, Step: "COMPLETED", OccurredOn: "2026-11-27"}, "")
	if p := r.problem(t); p.Code != "FORBIDDEN" {
		t.Fatalf("partner transfer: %+v", p)
	}
}

// TestErasureExecutor: an erasure requested by one agency is carried out by
// every holder's gateway on every channel the case is linked to.
func TestErasureExecutor(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	aoA := newAgency(t, n, clock, ao, nil)
	bpA := newAgency(t, n, clock, bp, nil)
	psA := newAgency(t, n, clock, ps, nil)
	// National: registered by the border police, file created by the asylum office.
	natW := bpA.register(domain.RoleCaseworker, "national", "BP-E1", "2026-11-27")
	bpA.must(200, bpA.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "BP-E1"}, map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": "2026-11-27", "eurodacHit": "CATEGORY_1"}), nil)
	aoA.must(200, aoA.call(domain.RoleCaseworker, "POST", "/v1/cases/bind", api.BindRequest{Channel: "national", Pseudonym: natW.Pseudonym, LocalRef: "AO-E1"}, ""), nil)
	aoA.must(200, aoA.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "AO-E1"}, map[string]any{"code": "FILE_CREATED", "occurredOn": "2026-11-27"}), nil)
	// Dublin: opened by the asylum office (linked), accepted by the partner state.
	var dub api.WriteResponse
	aoA.must(201, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/cases", api.RegisterRequest{Channel: "dublin", LocalRef: "AO-E1",
		OccurredOn: "2026-11-27", LinkFrom: &api.CaseRef{Channel: "national", LocalRef: "AO-E1"}}, ""), &dub)
	aoA.must(200, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/requests", api.DublinRequestRequest{
		DublinCase: api.DublinCase{LocalRef: "AO-E1"}, Kind: domain.TakeCharge, OccurredOn: "2026-11-27", RequestedMemberState: "AT",
		ReceivedOn: "2026-11-27", ApplicationRegisteredOn: "2026-11-20", Evidence: domain.EvidenceOther}, ""), nil)
	psA.must(200, psA.call(domain.RoleDublinOfficer, "POST", "/v1/cases/bind", api.BindRequest{Channel: "dublin", Pseudonym: dub.Pseudonym, LocalRef: "AT-E1"}, ""), nil)
	psA.must(200, psA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/replies", api.DublinReplyRequest{DublinCase: api.DublinCase{LocalRef: "AT-E1"}, Reply: "REJECTED", OccurredOn: "2026-11-27", ReceivedOn: "2026-11-27"}, ""), nil)

	var er api.ErasureResponse
	aoA.must(200, aoA.call(domain.RoleCaseworker, "POST", "/v1/erasures", api.ErasureRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: "AO-E1"}, OccurredOn: "2026-11-27"}, ""), &er)
	if len(er.Items) != 2 || !er.Items[0].Requested || !er.Items[1].Requested || er.Items[1].Pseudonym != dub.Pseudonym {
		t.Fatalf("erasure plan %+v", er.Items)
	}
	for _, c := range []struct{ ch, p string }{{"national", natW.Pseudonym}, {"dublin", dub.Pseudonym}} {
		waitFor(t, "erasure complete on "+c.ch, func() bool {
			s := n.state(c.ch, c.p)
			return s.Erasure != nil && len(s.Erasure.Pending) == 0
		})
	}
	for _, c := range []struct {
		a   *agency
		ch  string
		ref string
	}{{aoA, "national", "AO-E1"}, {aoA, "dublin", "AO-E1"}, {bpA, "national", "BP-E1"}, {psA, "dublin", "AT-E1"}} {
		if _, err := c.a.vault.ResolveRef(t.Context(), c.ch, c.ref); !errors.Is(err, privacy.ErrNotFound) {
			t.Fatalf("%s still resolves %s on %s: %v", c.a.msp, c.ref, c.ch, err)
		}
	}
	var st struct {
		Complete  bool     `json:"complete"`
		Confirmed []string `json:"confirmed"`
	}
	aoA.must(200, aoA.call(domain.RoleCaseworker, "POST", "/v1/erasures/status", api.CaseRef{Channel: "national", Pseudonym: natW.Pseudonym}, ""), &st)
	if !st.Complete || len(st.Confirmed) != 2 {
		t.Fatalf("status %+v", st)
	}
	// The case is frozen: the local reference is gone, and by pseudonym a
	// new event is refused.
	r := bpA.call(domain.RoleCaseworker, "POST", "/v1/cases/state", api.CaseRef{Channel: "national", LocalRef: "BP-E1"}, "")
	if r.status != http.StatusNotFound {
		t.Fatalf("erased reference: %d", r.status)
	}
}
