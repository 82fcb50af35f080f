package chaincode

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// 2026-03-02 is a Monday; 10:00 UTC is 11:00 in Berlin.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func TestRegisterRecordGet(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	res := decode[WriteResult](t, n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today()))
	if res.Seq != 1 || res.Status != domain.StRegistered || res.Code != domain.EvCaseRegistered || res.TxID == "" {
		t.Fatalf("register result = %+v", res)
	}
	w := n.record("national", "bp", p, domain.EvIdentityChecked, n.today(), map[string]any{"eurodacHit": "CATEGORY_1"})
	if w.Seq != 2 || w.Status != domain.StIdentityChecked {
		t.Fatalf("record result = %+v", w)
	}
	s := n.getCase("national", p)
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
	if evs[1].Name != EventCase || len(ce) != 4 || ce["pseudonym"] != p || ce["code"] != "IDENTITY_CHECKED" || ce["seq"] != 2.0 || ce["procedure"] != "national" {
		t.Fatalf("event = %s %v", evs[1].Name, ce)
	}
}
