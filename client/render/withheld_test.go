package render

import (
	"testing"

	"github.com/caseledger/caseledger/domain"
)

func TestEventDetailsWithheld(t *testing.T) {
	for _, c := range []struct {
		e    domain.Event
		want string
	}{
		{domain.Event{Code: domain.EvDecisionIssued, Withheld: "national-decision"}, "[details withheld: national-decision]"},
		{domain.Event{Code: domain.EvDecisionIssued, Withheld: "national-decision", EventFields: domain.EventFields{Outcome: domain.OutcomeRejected}}, "outcome=REJECTED"},
		{domain.Event{Code: domain.EvDocumentAnchored, Withheld: "national-agencies", EventFields: domain.EventFields{DocumentHash: "ab"}}, "documentHash=ab [details withheld: national-agencies]"},
		{domain.Event{Code: domain.EvFileCreated}, ""},
	} {
		if got := EventDetails(c.e); got != c.want {
			t.Errorf("%s: %q, want %q", c.e.Code, got, c.want)
		}
	}
}
