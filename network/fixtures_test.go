package network

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// TestMembershipFixturesAreTheDemoTopology: the membership the domain's and
// the chaincode's unit tests read from their testdata is the one the demo
// description generates (they had drifted: the auditor had a member state),
// so a unit test sees the members the network has.
func TestMembershipFixturesAreTheDemoTopology(t *testing.T) {
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(d.Membership())
	if err != nil {
		t.Fatal(err)
	}
	read := func(path string) []byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	m, err := domain.DecodeMembership(read("../domain/testdata/membership.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := api.ParseChaincodeConfig(read("../chaincode/testdata/config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]domain.Membership{"domain/testdata/membership.json": m, "chaincode/testdata/config.json": cfg.Membership} {
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(want) {
			t.Errorf("%s:\n%s\nthe demo description generates\n%s", name, b, want)
		}
	}
	// The chaincode's unit tests run with the visibility choices the network generates
	// (refusePublicDetails on): a test that relied on the old default would not notice.
	if gen := d.ChaincodeConfig().Visibility; cfg.Visibility != gen || !gen.RefusePublicDetails {
		t.Errorf("chaincode/testdata/config.json visibility %+v, the demo description generates %+v", cfg.Visibility, gen)
	}
}
