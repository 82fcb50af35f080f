package chaincode

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain"
)

// TestDocsCoverInterface keeps docs/chaincode.md in step with the code: every
// exposed transaction, event code, field, status, error kind and event name
// must be documented.
func TestDocsCoverInterface(t *testing.T) {
	b, err := os.ReadFile("../docs/chaincode.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var names []string
	n := newNet(t, t0)
	var md struct {
		Contracts map[string]struct {
			Transactions []struct {
				Name string `json:"name"`
			} `json:"transactions"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal([]byte(n.must("national", "aud", "org.hyperledger.fabric:GetMetadata")), &md); err != nil {
		t.Fatal(err)
	}
	for cname, c := range md.Contracts {
		if cname == "org.hyperledger.fabric" {
			continue
		}
		names = append(names, "`"+cname+"`")
		for _, tr := range c.Transactions {
			names = append(names, "`"+tr.Name+"`")
		}
	}
	for _, s := range domain.Vocabulary() {
		names = append(names, string(s.Code))
		for _, f := range append(append([]domain.Field{}, s.Required...), s.Optional...) {
			names = append(names, "`"+string(f)+"`")
		}
	}
	for _, p := range []domain.Procedure{domain.ProcedureNational, domain.ProcedureDublin} {
		for _, s := range domain.Statuses(p) {
			names = append(names, string(s))
		}
	}
	for _, k := range domain.Kinds() {
		names = append(names, "`"+string(k)+"`")
	}
	for _, l := range valueLists() {
		for _, v := range l {
			if !strings.HasPrefix(v, "AT-") || v == "AT-1" || v == "AT-9" {
				names = append(names, v)
			}
		}
	}
	names = append(names, EventCase, EventHolidays)
	for _, name := range names {
		if !strings.Contains(doc, name) {
			t.Errorf("docs/chaincode.md does not mention %s", name)
		}
	}
}
