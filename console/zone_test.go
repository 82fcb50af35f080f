package console

import (
	"net/http"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// TestTodayIsTheMemberStatesDate: half an hour after midnight in Germany it
// is still the day before in UTC; a German agency's pages (and the date a
// step form proposes) must show the German date, on which the chaincode
// records the step, or every step recorded then would be a day late.
func TestTodayIsTheMemberStatesDate(t *testing.T) {
	at := time.Date(2026, 12, 4, 23, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		memberState string
		want        string
	}{
		{"DE", "2026-12-05"},
		{"AT", "2026-12-05"},
		{"PT", "2026-12-04"}, // Lisbon: UTC in winter
		{"", "2026-12-04"},   // the auditor: no member state, UTC
	} {
		t.Run(tc.memberState, func(t *testing.T) {
			c, err := New(Config{API: http.NotFoundHandler(), Tokens: noTokens{}, Users: &Users{}, Org: "x", MSPID: "AsylumOfficeMSP",
				MemberState: tc.memberState, Kind: domain.AgencyAsylumOffice, Now: func() time.Time { return at }})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.today(); got != tc.want {
				t.Fatalf("today at %s for %q: %s, want %s", at, tc.memberState, got, tc.want)
			}
		})
	}
}

// noTokens: this test signs nobody in.
type noTokens struct{}

func (noTokens) MintSessionToken(string, domain.Role) (string, error) { return "", nil }
func (noTokens) RevokeSessionToken(string)                            {}
