package gateway

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// holderWorld: a national case registered by the border police and taken
// over by the asylum office, continued as a Dublin case (linked only in the
// asylum office's privacy service) that the partner state bound and that
// ended with a completed transfer; the immigration authority's privacy
// service holds a stray mapping of the national pseudonym it never bound
// on the ledger.
type holderWorld struct {
	n                  *testNet
	bpA, aoA, iaA, psA *agency
	nat, dub           string
}

func newHolderWorld(t *testing.T) *holderWorld {
	clock := newTestClock()
	w := &holderWorld{n: newTestNet(t, clock.Now)}
	w.aoA = newAgency(t, w.n, clock, ao, nil)
	w.bpA = newAgency(t, w.n, clock, bp, nil)
	w.iaA = newAgency(t, w.n, clock, ia, nil)
	w.psA = newAgency(t, w.n, clock, ps, nil)
	w.nat = w.bpA.register(domain.RoleCaseworker, "national", "BP-H1", "2026-11-27").Pseudonym
	w.bpA.must(200, w.bpA.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "BP-H1"}, map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": "2026-11-27", "eurodacHit": "NONE"}), nil)
	w.aoA.must(200, w.aoA.call(domain.RoleCaseworker, "POST", "/v1/cases/bind", api.BindRequest{Channel: "national", Pseudonym: w.nat, LocalRef: "AO-H1"}, ""), nil)
	w.aoA.must(200, w.aoA.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "AO-H1"}, map[string]any{"code": "FILE_CREATED", "occurredOn": "2026-11-27"}), nil)
	var reg api.WriteResponse
	w.aoA.must(201, w.aoA.call(domain.RoleDublinOfficer, "POST", "/v1/cases", api.RegisterRequest{Channel: "dublin", LocalRef: "AO-DH1",
		OccurredOn: "2026-11-27", LinkFrom: &api.CaseRef{Channel: "national", LocalRef: "AO-H1"}}, ""), &reg)
	w.dub = reg.Pseudonym
	w.aoA.must(200, w.aoA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/requests", api.DublinRequestRequest{
		DublinCase: api.DublinCase{LocalRef: "AO-DH1"}, Kind: domain.TakeCharge, OccurredOn: "2026-11-27", RequestedMemberState: "AT",
		ReceivedOn: "2026-11-27", ApplicationRegisteredOn: "2026-11-20", Evidence: domain.EvidenceOther}, ""), nil)
	w.psA.must(200, w.psA.call(domain.RoleDublinOfficer, "POST", "/v1/cases/bind", api.BindRequest{Channel: "dublin", Pseudonym: w.dub, LocalRef: "AT-H1"}, ""), nil)
	w.psA.must(200, w.psA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/replies", api.DublinReplyRequest{DublinCase: api.DublinCase{LocalRef: "AT-H1"}, Reply: "ACCEPTED", OccurredOn: "2026-11-27"}, ""), nil)
	for _, step := range []api.DublinTransferRequest{
		{Step: "DECISION_ISSUED"}, {Step: "SCHEDULED", ScheduledFor: "2026-11-27"}, {Step: "COMPLETED"},
	} {
		step.DublinCase, step.OccurredOn = api.DublinCase{LocalRef: "AO-DH1"}, "2026-11-27"
		w.aoA.must(200, w.aoA.call(domain.RoleDublinOfficer, "POST", "/v1/dublin/transfers", step, ""), nil)
	}
	if _, err := w.iaA.vault.Bind(t.Context(), "national", w.nat, "IA-STRAY"); err != nil {
		t.Fatal(err)
	}
	if st := w.n.state("national", w.nat); !slices.Equal(st.Holders, []string{ao, bp}) {
		t.Fatalf("national holders %v", st.Holders)
	}
	if st := w.n.state("dublin", w.dub); !slices.Equal(st.Holders, []string{ao, ps}) || st.Status != domain.StTransferCompleted {
		t.Fatalf("dublin holders %v status %s", st.Holders, st.Status)
	}
	return w
}

// mapping is one agency's reference on one channel and whether it must
// still resolve.
type mapping struct {
	a     *agency
	ch    string
	ref   string
	holds bool
}

func (w *holderWorld) check(t *testing.T, want []mapping) {
	t.Helper()
	for _, m := range want {
		_, err := m.a.vault.ResolveRef(t.Context(), m.ch, m.ref)
		switch {
		case m.holds && err != nil:
			t.Errorf("%s lost %s on %s: %v", m.a.msp, m.ref, m.ch, err)
		case !m.holds && !errors.Is(err, privacy.ErrNotFound):
			t.Errorf("%s still resolves %s on %s (%v)", m.a.msp, m.ref, m.ch, err)
		}
	}
}

func (w *holderWorld) erasureDone(t *testing.T, ch, p string) {
	t.Helper()
	waitFor(t, "erasure confirmed by every holder on "+ch, func() bool {
		s := w.n.state(ch, p)
		return s.Erasure != nil && len(s.Erasure.Pending) == 0
	})
}

// TestErasureExecutorErasesOnlyOwnHoldings: each gateway's executor erases
// what its agency holds for the case on the channel of the request, and
// nothing else: the partner state's Dublin request leaves the asylum
// office's national mapping (and the open national case) alone; a national
// request erases the holders' national mappings but not the stray mapping
// of an agency that never held the case.
func TestErasureExecutorErasesOnlyOwnHoldings(t *testing.T) {
	w := newHolderWorld(t)
	steps := []struct {
		name    string
		by      *agency
		role    domain.Role
		ref     api.CaseRef
		channel string // where the erasure completes
		pseud   string
		want    []mapping
	}{
		{"partner state erases the Dublin case", w.psA, domain.RoleDublinOfficer, api.CaseRef{Channel: "dublin", LocalRef: "AT-H1"}, "dublin", w.dub, []mapping{
			{w.psA, "dublin", "AT-H1", false},
			{w.aoA, "dublin", "AO-DH1", false},
			{w.aoA, "national", "AO-H1", true},
			{w.bpA, "national", "BP-H1", true},
			{w.iaA, "national", "IA-STRAY", true},
		}},
		{"border police erase the national case", w.bpA, domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "BP-H1"}, "national", w.nat, []mapping{
			{w.bpA, "national", "BP-H1", false},
			{w.aoA, "national", "AO-H1", false},
			{w.iaA, "national", "IA-STRAY", true}, // not a holder: not this request's to erase
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var er api.ErasureResponse
			st.by.must(200, st.by.call(st.role, "POST", "/v1/erasures", api.ErasureRequest{CaseRef: st.ref, OccurredOn: "2026-11-27"}, ""), &er)
			if len(er.Items) != 1 || er.Items[0].Channel != st.channel || !er.Items[0].Requested {
				t.Fatalf("erasure %+v", er.Items)
			}
			w.erasureDone(t, st.channel, st.pseud)
			w.check(t, st.want)
		})
		if st.channel == "dublin" {
			// The national case is untouched (and goes on), and the asylum
			// office no longer links it to the erased Dublin case.
			if s := w.n.state("national", w.nat); s.Erasure != nil || s.Status != domain.StFileCreated || !slices.Equal(s.Holders, []string{ao, bp}) {
				t.Fatalf("national case after the Dublin erasure: %s %+v", s.Status, s.Erasure)
			}
			if _, err := w.aoA.vault.Linked(t.Context(), "national", w.nat, "dublin"); !errors.Is(err, privacy.ErrNotFound) {
				t.Fatalf("link after the Dublin erasure: %v", err)
			}
			w.aoA.must(200, w.aoA.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "AO-H1"}, map[string]any{"code": "APPLICATION_LODGED", "occurredOn": "2026-11-27"}), nil)
		}
	}
}

// TestNonHolderRefusedThroughGateway: the immigration authority, through
// its own gateway, cannot anchor on, close or erase a border-police case it
// does not hold; nothing changes on the ledger and every mapping stays.
func TestNonHolderRefusedThroughGateway(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	bpA := newAgency(t, n, clock, bp, nil)
	iaA := newAgency(t, n, clock, ia, nil)
	p := bpA.register(domain.RoleCaseworker, "national", "BP-V1", "2026-11-27").Pseudonym
	ref := api.CaseRef{Channel: "national", Pseudonym: p}
	before := *n.state("national", p)
	for _, tc := range []struct {
		name string
		path string
		body any
		code string
	}{
		{"anchor junk", "/v1/cases/events", api.EventRequest{CaseRef: ref, Event: []byte(`{"code":"DOCUMENT_ANCHORED","occurredOn":"2026-11-27","documentHash":"` + hash64hex('e') + `"}`)}, "FORBIDDEN"},
		{"close early", "/v1/cases/events", api.EventRequest{CaseRef: ref, Event: []byte(`{"code":"CASE_CLOSED","occurredOn":"2026-11-27","closureReason":"NO_APPLICATION"}`)}, "FORBIDDEN"},
		{"request erasure", "/v1/erasures", api.ErasureRequest{CaseRef: ref, OccurredOn: "2026-11-27"}, "FORBIDDEN"},
		{"bind itself in", "/v1/cases/bind", api.BindRequest{Channel: "national", Pseudonym: p, LocalRef: "IA-V1"}, "INVALID_TRANSITION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := iaA.call(domain.RoleCaseworker, "POST", tc.path, tc.body, "")
			if pr := r.problem(t); pr.Code != tc.code || r.status == http.StatusOK {
				t.Fatalf("%d %+v, want %s", r.status, pr, tc.code)
			}
		})
	}
	if after := n.state("national", p); after.Seq != before.Seq || after.Erasure != nil || !slices.Equal(after.Holders, []string{bp}) {
		t.Fatalf("case changed: %+v", after)
	}
	for _, m := range []mapping{{bpA, "national", "BP-V1", true}, {iaA, "national", "IA-V1", false}} {
		_, err := m.a.vault.ResolveRef(t.Context(), m.ch, m.ref)
		if (err == nil) != m.holds {
			t.Fatalf("%s %s: %v", m.a.msp, m.ref, err)
		}
	}
}

func hash64hex(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
