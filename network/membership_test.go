package network

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// TestMembershipDocumentsOfGrowth: the membership document each admin derives from its copy of a
// description is canonical and valid; the running description's is exactly the chaincode
// configuration's starting value (so `netctl membership show` says "in force" before any change);
// a description grown by the join procedure, or shrunk by the leave procedure, generates a document
// the chaincode accepts as the next one; one that drops an organisation from orgs does not.
func TestMembershipDocumentsOfGrowth(t *testing.T) {
	running, _ := demoOnHosts(t)
	docOf := func(d Description) []byte {
		t.Helper()
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		b, err := api.MembershipDocument(d.Membership())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := domain.ParseMembershipDocument(b); err != nil {
			t.Fatalf("generated document refused: %v", err)
		}
		return b
	}
	// The starting value: the configuration file as the chaincode server parses it.
	cfgJSON, err := json.MarshalIndent(running.ChaincodeConfig(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := api.ParseChaincodeConfig(cfgJSON)
	if err != nil {
		t.Fatal(err)
	}
	start, err := api.MembershipDocument(cfg.Membership)
	if err != nil {
		t.Fatal(err)
	}
	if string(start) != string(docOf(running)) {
		t.Fatalf("the configuration's membership is not the description's document:\n%s\n%s", start, docOf(running))
	}

	grown, _ := demoOnHosts(t)
	grown.Orgs = append(grown.Orgs, Org{Name: "immigration-authority-2", MSPID: "ImmigrationAuthority2MSP", Kind: "immigration-authority", MemberState: "DE", Host: "10.99.0.9"})
	for i := range grown.Channels {
		if ch := &grown.Channels[i]; ch.Name == "national" {
			ch.Members = append(slices.Clone(ch.Members), "immigration-authority-2")
			ch.Endorsement.Orgs = append(slices.Clone(ch.Endorsement.Orgs), "immigration-authority-2")
			ch.Governance = Governance{OutOf: 3, Orgs: append(slices.Clone(ch.Governance.Orgs), "immigration-authority-2")}
		}
	}
	shrunk, _ := demoOnHosts(t)
	shrunk.Orgs = grown.Orgs
	for i := range shrunk.Channels {
		if ch := &shrunk.Channels[i]; ch.Name == "national" {
			drop := func(s []string) []string {
				return slices.DeleteFunc(slices.Clone(s), func(o string) bool { return o == "border-police" })
			}
			ch.Members = append(drop(ch.Members), "immigration-authority-2")
			ch.Endorsement = Endorsement{OutOf: 2, Orgs: append(drop(ch.Endorsement.Orgs), "immigration-authority-2")}
			ch.Governance = Governance{OutOf: 2, Orgs: append(drop(ch.Governance.Orgs), "immigration-authority-2")}
		}
	}
	g, s := docOf(grown), docOf(shrunk)
	gm, _ := domain.ParseMembershipDocument(g)
	sm, _ := domain.ParseMembershipDocument(s)
	if err := cfg.Membership.CheckSuccessor(gm, "national"); err != nil {
		t.Errorf("grown: %v", err)
	}
	if nat, _ := gm.Channel("national"); gm.GovernanceOf(nat).OutOf != 3 {
		t.Errorf("grown rule %+v", gm.GovernanceOf(nat))
	}
	if err := gm.CheckSuccessor(sm, "national"); err != nil {
		t.Errorf("shrunk: %v", err)
	}
	// Dropping the organisation from orgs (its cases would lose their author's kind): refused.
	gone := shrunk
	gone.Orgs = slices.DeleteFunc(slices.Clone(shrunk.Orgs), func(o Org) bool { return o.Name == "border-police" })
	if err := gm.CheckSuccessor(gone.Membership(), "national"); err == nil {
		t.Error("a document without the border police's entry was accepted as the next one")
	}
}
