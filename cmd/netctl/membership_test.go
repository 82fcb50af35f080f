package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
)

// TestPrintApprovals: `netctl membership show` gives each pending approval's age at the ledger's
// answer (not this host's clock), its expiry and whether it still counts.
func TestPrintApprovals(t *testing.T) {
	st := api.MembershipStatus{At: "2026-03-16T12:00:00Z", Approvals: []api.MembershipApproval{
		{MSPID: "AsylumOfficeMSP", Sequence: 1, Hash: "aa", ApprovedAt: "2026-03-02T10:00:00Z", ExpiresAt: "2026-03-16T10:00:00Z", Expired: true},
		{MSPID: "BorderPoliceMSP", Sequence: 1, Hash: "aa", ApprovedAt: "2026-03-15T09:30:00Z", ExpiresAt: "2026-03-29T09:30:00Z"},
	}}
	var b bytes.Buffer
	printApprovals(&b, st, "aa")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("output:\n%s", b.String())
	}
	for i, want := range [][]string{
		{"AsylumOfficeMSP", "14d2h", "2026-03-16T10:00:00Z", "no, expired: approve again"},
		{"BorderPoliceMSP", "1d2h", "2026-03-29T09:30:00Z", "yes"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("line %q does not say %q", lines[i+1], w)
			}
		}
	}
}
