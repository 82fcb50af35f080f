package chaincode

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
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
	names = append(names, api.EventCase, api.EventHolidays)
	for _, name := range names {
		if !strings.Contains(doc, name) {
			t.Errorf("docs/chaincode.md does not mention %s", name)
		}
	}
}

// workflowRows renders the workflow table of a procedure as the Markdown
// rows docs/chaincode.md §6 contains.
func workflowRows(p domain.Procedure) []string {
	var rows []string
	allWriters := []domain.AgencyKind{domain.AgencyAsylumOffice, domain.AgencyBorderPolice, domain.AgencyImmigrationAuthority, domain.AgencyPartnerState}
	for _, tr := range domain.Transitions(p) {
		var from []string
		for _, s := range tr.From {
			switch s {
			case "*":
				from = append(from, "any except CLOSED")
			case "**":
				from = append(from, "any")
			default:
				from = append(from, string(s))
			}
		}
		if len(from) == 0 {
			from = []string{"(new case)"}
		}
		var ag []string
		for _, a := range tr.Agencies {
			ag = append(ag, string(a))
		}
		agencies := strings.Join(ag, ", ")
		if slices.Equal(tr.Agencies, allWriters) {
			agencies = "any writing kind"
		}
		var rs []string
		for _, r := range tr.Roles {
			rs = append(rs, string(r))
		}
		to, guard := string(tr.To), string(tr.Guard)
		if to == "" {
			to = "(unchanged)"
		}
		if guard == "" {
			guard = "–"
		}
		holds := "–"
		if tr.Holds {
			holds = "yes"
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s |",
			tr.Event, strings.Join(from, ", "), to, agencies, strings.Join(rs, ", "), tr.Party, guard, holds))
	}
	return rows
}

func TestDocsWorkflowTables(t *testing.T) {
	b, err := os.ReadFile("../docs/chaincode.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []domain.Procedure{domain.ProcedureNational, domain.ProcedureDublin} {
		for _, row := range workflowRows(p) {
			if !strings.Contains(string(b), row+"\n") {
				t.Errorf("docs/chaincode.md lacks the %s row\n%s", p, row)
			}
		}
	}
}
