package chaincode

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// 2026-03-02 is a Monday; 10:00 UTC is 11:00 in Berlin.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func TestRegisterRecordGet(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	res := decode[api.WriteResult](t, n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today()))
	if res.Seq != 1 || res.Status != domain.StRegistered || res.Code != domain.EvCaseRegistered || res.TxID == "" {
		t.Fatalf("register result = %+v", res)
	}
	w := n.record("national", "bp", p, domain.EvIdentityChecked, n.today(), map[string]any{"eurodacHit": "CATEGORY_1"})
	if w.Seq != 2 || w.Status != domain.StIdentityChecked {
		t.Fatalf("record result = %+v", w)
	}
	s := n.getCaseAs("national", "bp", p) // the Eurodac hit is national-agencies' detail
	if s.Status != domain.StIdentityChecked || s.Seq != 2 || s.National == nil || s.National.EurodacHit != domain.EurodacCategory1 {
		t.Fatalf("state = %+v", s)
	}
	if len(s.Holders) != 1 || s.Holders[0] != "BorderPoliceMSP" {
		t.Fatalf("holders = %v", s.Holders)
	}
	// The event carries only pseudonym, code, seq and procedure.
	evs := n.ledger["national"].Events()
	if len(evs) != 2 {
		t.Fatalf("events = %d, want 2", len(evs))
	}
	var ce map[string]any
	if err := json.Unmarshal(evs[1].Payload, &ce); err != nil {
		t.Fatal(err)
	}
	if evs[1].Name != api.EventCase || len(ce) != 4 || ce["pseudonym"] != p || ce["code"] != "IDENTITY_CHECKED" || ce["seq"] != 2.0 || ce["procedure"] != "national" {
		t.Fatalf("event = %s %v", evs[1].Name, ce)
	}
}

func TestNationalProcedure(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	steps := []struct {
		who    string
		code   domain.EventCode
		fields map[string]any
		want   domain.Status
	}{
		{"bp", domain.EvIdentityChecked, map[string]any{"eurodacHit": "NONE"}, domain.StIdentityChecked},
		{"ao", domain.EvFileCreated, nil, domain.StFileCreated},
		{"ao", domain.EvAllocated, map[string]any{"regionCode": "DE-BE"}, domain.StAllocated},
		{"ao", domain.EvApplicationLodged, nil, domain.StApplicationLodged},
		{"ao", domain.EvHearingScheduled, map[string]any{"scheduledFor": "2026-03-20"}, domain.StHearingScheduled},
		{"ao", domain.EvHearingHeld, nil, domain.StHearingHeld},
		{"ao", domain.EvDecisionIssued, map[string]any{"outcome": "REJECTED"}, domain.StDecisionIssued},
		{"ao", domain.EvAppealFiled, map[string]any{"suspensive": true}, domain.StAppealFiled},
		{"ao", domain.EvAppealDecided, map[string]any{"appealOutcome": "DISMISSED"}, domain.StAppealDecided},
		{"ia", domain.EvReturnCounselling, nil, domain.StReturnCounselling},
		{"ia", domain.EvCaseClosed, map[string]any{"closureReason": "DEPARTED"}, domain.StClosed},
	}
	for i, st := range steps {
		n.advance(24 * time.Hour)
		w := n.record("national", st.who, p, st.code, n.today(), st.fields)
		if w.Status != st.want || w.Seq != uint64(i+2) {
			t.Fatalf("%s: %+v", st.code, w)
		}
	}
	s := n.getCaseAs("national", "ao", p) // outcome and region are national-decision's details
	if s.Status != domain.StClosed || s.Seq != 12 || s.National.Outcome != domain.OutcomeRejected || s.National.RegionCode != "DE-BE" {
		t.Fatalf("final state %+v", s)
	}
	if want := []string{"AsylumOfficeMSP", "BorderPoliceMSP", "ImmigrationAuthorityMSP"}; !slices.Equal(s.Holders, want) {
		t.Fatalf("holders %v", s.Holders)
	}

	// Timeline in pages of 5: 5 + 5 + 2, sequence order, bookmarks chain.
	var all []domain.Event
	bookmark := ""
	for pages := 0; ; pages++ {
		page := decode[api.Page[domain.Event]](t, n.must("national", "aud", "cases:GetTimeline", p, bookmark, "5"))
		all = append(all, page.Items...)
		if page.Bookmark == "" {
			if pages != 2 || len(page.Items) != 2 {
				t.Fatalf("last page %d has %d items", pages, len(page.Items))
			}
			break
		}
		bookmark = page.Bookmark
	}
	if len(all) != 12 {
		t.Fatalf("timeline has %d events", len(all))
	}
	for i, ev := range all {
		if ev.Seq != uint64(i+1) || ev.Pseudonym != p {
			t.Fatalf("event %d: seq %d", i, ev.Seq)
		}
	}
	if all[0].Code != domain.EvCaseRegistered || all[0].MSPID != "BorderPoliceMSP" || all[0].Role != domain.RoleCaseworker || all[11].Code != domain.EvCaseClosed {
		t.Fatalf("timeline ends %+v %+v", all[0], all[11])
	}

	// History: newest first, paged by transaction id.
	h1 := decode[api.Page[api.HistoryEntry]](t, n.must("national", "ao", "cases:GetHistory", p, "", "10"))
	if len(h1.Items) != 10 || h1.Bookmark == "" || h1.Items[0].State.Seq != 12 || h1.Items[9].State.Seq != 3 {
		t.Fatalf("history page 1: %d items, bookmark %q", len(h1.Items), h1.Bookmark)
	}
	h2 := decode[api.Page[api.HistoryEntry]](t, n.must("national", "ao", "cases:GetHistory", p, h1.Bookmark, "10"))
	if len(h2.Items) != 2 || h2.Bookmark != "" || h2.Items[1].State.Seq != 1 || h2.Items[1].State.Status != domain.StRegistered {
		t.Fatalf("history page 2: %+v", h2)
	}
	n.refuse(domain.KindInvalidArgument, "national", "ao", "cases:GetHistory", p, "bm90LWEtdHhpZA", "10")
	n.refuse(domain.KindNotFound, "national", "ao", "cases:GetHistory", newID(), "", "10")

	// Indexes.
	closed := decode[api.Page[domain.CaseState]](t, n.must("national", "aud", "cases:ListByStatus", "CLOSED", "", ""))
	if len(closed.Items) != 1 || closed.Items[0].Pseudonym != p {
		t.Fatalf("closed cases %+v", closed)
	}
	reg := decode[api.Page[domain.CaseState]](t, n.must("national", "aud", "cases:ListByStatus", "REGISTERED", "", ""))
	if len(reg.Items) != 0 {
		t.Fatalf("registered cases %+v", reg)
	}
	byIA := decode[api.Page[domain.CaseState]](t, n.must("national", "aud", "cases:ListByAgency", "ImmigrationAuthorityMSP", "", ""))
	if len(byIA.Items) != 1 {
		t.Fatalf("cases of the immigration authority %+v", byIA)
	}
	n.refuse(domain.KindInvalidArgument, "national", "aud", "cases:ListByStatus", "TRANSFER_SCHEDULED", "", "")
	n.refuse(domain.KindInvalidArgument, "national", "aud", "cases:ListByAgency", "GhostMSP", "", "")
	n.refuse(domain.KindNotFound, "national", "aud", "cases:GetCase", newID())
}
