package network

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain"
)

// The demo network's collections, as the peers are given them in the chaincode definition.
func TestCollectionsOfTheDemoNetwork(t *testing.T) {
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"national": `[{"name":"national-agencies","policy":"OR('AsylumOfficeMSP.member','BorderPoliceMSP.member','ImmigrationAuthorityMSP.member')","requiredPeerCount":0,"maxPeerCount":2,"blockToLive":0,"memberOnlyRead":true,"memberOnlyWrite":false,"endorsementPolicy":{"signaturePolicy":"OutOf(2,'AsylumOfficeMSP.peer','BorderPoliceMSP.peer','ImmigrationAuthorityMSP.peer')"}},` +
			`{"name":"national-decision","policy":"OR('AsylumOfficeMSP.member','ImmigrationAuthorityMSP.member')","requiredPeerCount":0,"maxPeerCount":1,"blockToLive":0,"memberOnlyRead":true,"memberOnlyWrite":false,"endorsementPolicy":{"signaturePolicy":"OutOf(2,'AsylumOfficeMSP.peer','ImmigrationAuthorityMSP.peer')"}}]`,
		"dublin": `[{"name":"dublin-states","policy":"OR('AsylumOfficeMSP.member','PartnerStateMSP.member')","requiredPeerCount":0,"maxPeerCount":1,"blockToLive":0,"memberOnlyRead":true,"memberOnlyWrite":false,"endorsementPolicy":{"signaturePolicy":"OutOf(2,'AsylumOfficeMSP.peer','PartnerStateMSP.peer')"}}]`,
	}
	for _, ch := range d.Channels {
		cs, err := d.Collections(ch)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(cs)
		if string(b) != want[ch.Name] {
			t.Errorf("%s:\n got %s\nwant %s", ch.Name, b, want[ch.Name])
		}
	}
	// The auditor reading details is a member of every collection, never an endorser of one.
	cfg := d.ChaincodeConfig()
	cfg.Visibility.Auditor = domain.AuditorDetails
	cs, err := collectionsOf(cfg, "national")
	if err != nil || len(cs) != 2 {
		t.Fatal(cs, err)
	}
	for _, c := range cs {
		if c.Policy[:4] != "OR('" || !strings.Contains(c.Policy, "AuditorMSP.member") || strings.Contains(c.EndorsementPolicy.SignaturePolicy, "AuditorMSP") {
			t.Errorf("auditor with details: %+v", c)
		}
	}
}
