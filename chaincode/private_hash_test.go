package chaincode

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// audit:GetPrivateDataHashes answers the hash of each withheld record as the peer holds it, to
// auditors and admins only, and reads hashes only.
func TestGetPrivateDataHashes(t *testing.T) {
	n := newNet(t, t0)
	led := n.ledger["national"]
	p := newID()
	today := n.today()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, today)
	if r := n.invokeT("national", "bp", details("national-agencies", salt1, `,"eurodacHit":"CATEGORY_1"`), "cases:RecordEvent", newID(), p,
		payload(domain.EvIdentityChecked, today, nil)); r.status != 200 {
		t.Fatal(r.message)
	}
	n.must("national", "ao", "cases:RecordEvent", newID(), p, payload(domain.EvFileCreated, today, nil))
	n.must("national", "ao", "cases:RecordEvent", newID(), p, payload(domain.EvApplicationLodged, today, nil))
	if r := n.invokeT("national", "ao", details("national-decision", salt2, `,"outcome":"REJECTED"`), "cases:RecordEvent", newID(), p,
		payload(domain.EvDecisionIssued, today, nil)); r.status != 200 {
		t.Fatal(r.message)
	}
	hashOf := func(coll string, seq uint64) string {
		rec, ok := led.PrivateData(coll, eventKey(p, seq))
		if !ok {
			t.Fatalf("no record %s/%d", coll, seq)
		}
		h := sha256.Sum256(rec)
		return hex.EncodeToString(h[:])
	}
	got := decode[[]api.PrivateDataHash](t, n.must("national", "aud", api.FnGetPrivateDataHashes, p))
	want := []api.PrivateDataHash{{Seq: 2, Collection: "national-agencies", Hash: hashOf("national-agencies", 2)},
		{Seq: 5, Collection: "national-decision", Hash: hashOf("national-decision", 5)}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("hashes %+v, want %+v", got, want)
	}
	for _, c := range []struct {
		name, who string
		args      []string
		want      domain.Kind
	}{
		{"a caseworker", "bp", []string{p}, domain.KindForbidden},
		{"an unknown case", "aud", []string{newID()}, domain.KindNotFound},
		{"not a pseudonym", "aud", []string{"case-17"}, domain.KindInvalidArgument},
		{"two arguments", "aud", []string{p, p}, domain.KindInvalidArgument},
	} {
		if r := n.invoke("national", c.who, api.FnGetPrivateDataHashes, c.args...); r.kind() != c.want {
			t.Errorf("%s: %d %s, want %s", c.name, r.status, r.message, c.want)
		}
	}
}
