//go:build integration

package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/caseledger/caseledger/domain"

	"github.com/caseledger/caseledger/test/framework"
)

// TestAdversarialHolders (issue 11, finding 2): holding a case is an explicit relation, never a
// side effect of a write.
//   - The immigration authority anchors junk on a border-police case it has nothing to do with,
//     then tries to close the case and to request its erasure, straight through the peers: both
//     refused; it never becomes a holder; the border police's mapping stays.
//   - The partner state requests the erasure of a Dublin case whose reply deadline it owes: the
//     deadline is not dropped, and the asylum office's national mapping and case stay.
//   - A valid erasure request on the Dublin channel alone (by the partner state, a holder of a
//     finished Dublin case) is carried out on that channel only: the asylum office's gateway
//     erases its Dublin mapping and keeps its national one.
func TestAdversarialHolders(t *testing.T) {
	f := fixture(t)
	a := newAdversary(t)
	bpGw, aoGw, psGw := gatewayOf(t, "border-police"), gatewayOf(t, "asylum-office"), gatewayOf(t, "partner-state")
	ia := signerOf(t, "immigration-authority", "caseworker")
	ps := signerOf(t, "partner-state", "dublin-officer")
	d := today()

	t.Run("immigration authority on a border-police case", func(t *testing.T) {
		a := a.in(t)
		ref := gwRef("ADV-BPH")
		var reg gwWrite
		bpGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": ref, "occurredOn": d}, &reg)
		bpGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/events", map[string]any{"channel": "national", "localRef": ref,
			"event": map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": d, "eurodacHit": "NONE"}}, nil)
		w := world{cases: slices.Clone(f.w.cases), refs: slices.Clone(f.w.refs)}
		w.add("national", reg.Pseudonym)
		w.addRef("border-police", "caseworker", "national", ref, reg.Pseudonym)
		endorsers := []string{"immigration-authority", "border-police"}

		// The anchor: refused, or recorded without making the authority a holder.
		prop := a.propose(ia, "national", time.Now(), "anchors:AnchorDocument", strArgs(newID(), reg.Pseudonym, randomHex(t, 32), "", d)...)
		ends := a.endorse(prop, endorsers...)
		if ends[0].ok() && ends[1].ok() {
			a.mustBroadcast(a.envelope(prop, ends))
			code, _ := a.commitStatus(prop)
			t.Logf("junk anchor by the immigration authority: %s", code)
		} else {
			t.Logf("junk anchor refused: %s / %s", ends[0].text(), ends[1].text())
		}
		if holds(t, "national", reg.Pseudonym, "ImmigrationAuthorityMSP") {
			t.Errorf("anchoring made the immigration authority a holder: %v", caseHolders(t, "national", reg.Pseudonym))
		}
		before := w.snapshot(t)
		closeEv := canonical(t, domain.EventInput{Code: domain.EvCaseClosed, OccurredOn: d, EventFields: domain.EventFields{ClosureReason: "NO_APPLICATION"}})
		eraseEv := canonical(t, domain.EventInput{Code: domain.EvErasureRequested, OccurredOn: d})
		for name, p := range map[string]*rawProposal{
			"close":                          a.proposeWithDetails(ia, "national", time.Now(), "cases:RecordEvent", newID(), reg.Pseudonym, closeEv),
			"request erasure":                a.propose(ia, "national", time.Now(), "erasure:RequestErasure", strArgs(newID(), reg.Pseudonym, d)...),
			"request erasure as RecordEvent": a.propose(ia, "national", time.Now(), "cases:RecordEvent", strArgs(newID(), reg.Pseudonym, eraseEv)...),
			"confirm an erasure":             a.propose(ia, "national", time.Now(), "erasure:ConfirmErasure", strArgs(newID(), reg.Pseudonym, d)...),
		} {
			t.Run(name, func(t *testing.T) { a.in(t).expectRefused(p, "FORBIDDEN|INVALID_TRANSITION", endorsers...) })
		}
		w.unchanged(t, before, "the immigration authority's attempts on a border-police case")
		if holds(t, "national", reg.Pseudonym, "ImmigrationAuthorityMSP") {
			t.Errorf("the immigration authority became a holder")
		}
	})

	t.Run("partner state erases a Dublin case whose deadline it owes", func(t *testing.T) {
		a := a.in(t)
		before := f.w.snapshot(t)
		due := dueOf(t, f.dub)
		if len(due) == 0 {
			t.Fatalf("the fixture's Dublin case has no running deadline")
		}
		for name, p := range map[string]*rawProposal{
			"request erasure": a.propose(ps, "dublin", time.Now(), "erasure:RequestErasure", strArgs(newID(), f.dub, d)...),
			"request erasure as RecordEvent": a.propose(ps, "dublin", time.Now(), "cases:RecordEvent",
				strArgs(newID(), f.dub, canonical(t, domain.EventInput{Code: domain.EvErasureRequested, OccurredOn: d}))...),
			"close the case": a.proposeWithDetails(ps, "dublin", time.Now(), "cases:RecordEvent",
				newID(), f.dub, canonical(t, domain.EventInput{Code: domain.EvCaseClosed, OccurredOn: d, EventFields: domain.EventFields{ClosureReason: "WITHDRAWN"}})),
		} {
			t.Run(name, func(t *testing.T) {
				a := a.in(t)
				a.expectRefused(p, "FORBIDDEN|INVALID_TRANSITION", "asylum-office", "partner-state")
			})
		}
		f.w.unchanged(t, before, "the partner state's erasure request")
		if got := dueOf(t, f.dub); !slices.Equal(got, due) {
			t.Errorf("the running deadlines changed: %v -> %v", due, got)
		}
	})

	t.Run("a Dublin erasure erases Dublin mappings only", func(t *testing.T) {
		a := a.in(t)
		natRef, dubRef, atRef := gwRef("ADV-AON"), gwRef("ADV-AOD"), gwRef("ADV-ATD")
		var nat, dub gwWrite
		aoGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": natRef, "occurredOn": d}, &nat)
		aoGw.ok(http.StatusCreated, "dublin-officer", "POST", "/v1/cases", map[string]any{"channel": "dublin", "localRef": dubRef, "occurredOn": d,
			"linkFrom": map[string]any{"channel": "national", "localRef": natRef}}, &dub)
		aoGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/requests", map[string]any{"localRef": dubRef, "kind": "TAKE_CHARGE",
			"occurredOn": d, "requestedMemberState": "AT", "receivedOn": d, "applicationRegisteredOn": d, "evidence": "OTHER"}, nil)
		eventually(t, 20*time.Second, "partner state binds", func(context.Context) error {
			if r := psGw.do("dublin-officer", "POST", "/v1/cases/bind", map[string]any{"channel": "dublin", "pseudonym": dub.Pseudonym, "localRef": atRef}, ""); r.status != http.StatusOK {
				return fmt.Errorf("bind: %d %s", r.status, r.body)
			}
			return nil
		})
		psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/replies", map[string]any{"localRef": atRef, "reply": "ACCEPTED", "occurredOn": d}, nil)
		for _, step := range []map[string]any{
			{"step": "DECISION_ISSUED"}, {"step": "SCHEDULED", "scheduledFor": d}, {"step": "COMPLETED"},
		} {
			step["localRef"], step["occurredOn"] = dubRef, d
			aoGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/transfers", step, nil)
		}
		w := world{cases: slices.Clone(f.w.cases), refs: slices.Clone(f.w.refs)}
		w.add("national", nat.Pseudonym)
		w.addRef("asylum-office", "caseworker", "national", natRef, nat.Pseudonym)
		before := w.snapshot(t)

		// The partner state, a holder of the finished Dublin case, requests its erasure straight
		// through the peers: a valid request on the Dublin channel only.
		prop := a.propose(ps, "dublin", time.Now(), "erasure:RequestErasure", strArgs(newID(), dub.Pseudonym, d)...)
		ends := a.endorse(prop, "asylum-office", "partner-state")
		if !ends[0].ok() || !ends[1].ok() {
			t.Fatalf("a holder's erasure request of a finished Dublin case was refused: %s / %s", ends[0].text(), ends[1].text())
		}
		a.mustBroadcast(a.envelope(prop, ends))
		if code, _ := a.commitStatus(prop); code != peer.TxValidationCode_VALID {
			t.Fatalf("erasure request: %s", code)
		}
		// Wait for the asylum office's gateway to carry it out (its confirmation on the ledger).
		eventually(t, 90*time.Second, "the asylum office confirms the Dublin erasure", func(context.Context) error {
			b, err := contractFor(t, "auditor", "auditor", "dublin").EvaluateTransaction("erasure:GetErasureStatus", dub.Pseudonym)
			if err != nil {
				return err
			}
			var st struct {
				Confirmed []string `json:"confirmed"`
			}
			if err := json.Unmarshal(b, &st); err != nil {
				return err
			}
			if !slices.Contains(st.Confirmed, "AsylumOfficeMSP") {
				return fmt.Errorf("status %s", b)
			}
			return nil
		})
		if r := aoGw.do("dublin-officer", "POST", "/v1/cases/state", map[string]any{"channel": "dublin", "localRef": dubRef}, ""); r.status != http.StatusNotFound {
			t.Errorf("the asylum office still resolves its Dublin reference after confirming: %d %s", r.status, r.body)
		}
		// The national side: same case, same mapping, not frozen.
		w.unchanged(t, before, "an erasure on the Dublin channel")
	})
}

// dueOf lists the running deadlines of a Dublin case ("kind due") from the deadline board, read as
// the auditor.
func dueOf(t *testing.T, pseudonym string) []string {
	t.Helper()
	contract := contractFor(t, "auditor", "auditor", "dublin")
	before := time.Now().UTC().AddDate(1, 0, 0).Format(time.DateOnly)
	var out []string
	bookmark := ""
	for {
		b, err := contract.EvaluateTransaction("dublin:DeadlinesDue", before, bookmark, "100")
		if err != nil {
			t.Fatalf("DeadlinesDue: %s", framework.ErrorText(err))
		}
		var page struct {
			Items []struct {
				Pseudonym string `json:"pseudonym"`
				Deadline  struct {
					Kind string `json:"kind"`
					Due  string `json:"due"`
				} `json:"deadline"`
			} `json:"items"`
			Bookmark string `json:"bookmark"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			if it.Pseudonym == pseudonym {
				out = append(out, it.Deadline.Kind+" "+it.Deadline.Due)
			}
		}
		if page.Bookmark == "" {
			return out
		}
		bookmark = page.Bookmark
	}
}
