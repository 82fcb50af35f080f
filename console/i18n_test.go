package console

import (
	"testing"

	"github.com/caseledger/caseledger/domain"
)

// TestEveryCodeHasALabel keeps the console's catalog in step with the
// vocabulary: an event code or status added to domain without a German and
// an English label would show as the bare code to caseworkers.
func TestEveryCodeHasALabel(t *testing.T) {
	m := newCatalog()
	var codes []string
	for _, s := range domain.Vocabulary() {
		codes = append(codes, string(s.Code))
	}
	for _, p := range []domain.Procedure{domain.ProcedureNational, domain.ProcedureDublin} {
		for _, st := range domain.Statuses(p) {
			codes = append(codes, string(st))
		}
	}
	for _, c := range codes {
		e, ok := m["code."+c]
		if !ok {
			t.Errorf("no label for %s", c)
			continue
		}
		if e[0] == "" || e[1] == "" {
			t.Errorf("label of %s is empty in one language: %q", c, e)
		}
	}
}
