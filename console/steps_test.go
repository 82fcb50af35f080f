package console

import (
	"slices"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// The next steps offered come from the workflow table: agency kind, role,
// party (holder, requesting or requested state) and status.
func TestNextStepsFollowTheWorkflowTable(t *testing.T) {
	gw := newRealGateway(t, time.Now, &lockedBuffer{})
	nat, dub := gw.vocabulary("national"), gw.vocabulary("dublin")
	if nat.Procedure != domain.ProcedureNational || dub.Procedure != domain.ProcedureDublin {
		t.Fatalf("vocabularies of %s and %s", nat.Procedure, dub.Procedure)
	}
	dublinCase := func(status domain.Status, holders ...string) domain.CaseState {
		return domain.CaseState{Procedure: domain.ProcedureDublin, Status: status, Holders: holders,
			Dublin: &domain.DublinFacts{RequestingMemberState: "DE", RequestedMemberState: "AT"}}
	}
	for _, tc := range []struct {
		name     string
		kind     domain.AgencyKind
		msp, ms  string
		role     domain.Role
		national bool
		cs       domain.CaseState
		want     []domain.EventCode
		wantBind bool
	}{
		{"asylum office, registered case of another agency: take part", domain.AgencyAsylumOffice, "AsylumOfficeMSP", "DE", domain.RoleCaseworker, true,
			domain.CaseState{Status: domain.StRegistered, Holders: []string{"BorderPoliceMSP"}}, nil, true},
		{"asylum office holding it: identity check or close", domain.AgencyAsylumOffice, "AsylumOfficeMSP", "DE", domain.RoleCaseworker, true,
			domain.CaseState{Status: domain.StRegistered, Holders: []string{"AsylumOfficeMSP", "BorderPoliceMSP"}},
			[]domain.EventCode{domain.EvIdentityChecked, domain.EvCaseClosed}, false},
		{"border police after the identity check: nothing of theirs but closing", domain.AgencyBorderPolice, "BorderPoliceMSP", "DE", domain.RoleCaseworker, true,
			domain.CaseState{Status: domain.StIdentityChecked, Holders: []string{"BorderPoliceMSP"}}, []domain.EventCode{domain.EvCaseClosed}, false},
		{"an auditor records nothing", domain.AgencyAuditor, "AuditorMSP", "", domain.RoleAuditor, true,
			domain.CaseState{Status: domain.StRegistered}, nil, false},
		{"requested state: reply, acknowledge, take part", domain.AgencyPartnerState, "PartnerStateMSP", "AT", domain.RoleDublinOfficer, false,
			dublinCase(domain.StTakeChargeRequested, "AsylumOfficeMSP"),
			[]domain.EventCode{domain.EvReceiptAcknowledged, domain.EvRequestAccepted, domain.EvRequestRejected}, true},
		{"requesting state waits for the reply", domain.AgencyAsylumOffice, "AsylumOfficeMSP", "DE", domain.RoleDublinOfficer, false,
			dublinCase(domain.StTakeChargeRequested, "AsylumOfficeMSP"), nil, false},
		{"an erasure freezes the case", domain.AgencyAsylumOffice, "AsylumOfficeMSP", "DE", domain.RoleCaseworker, true,
			domain.CaseState{Status: domain.StRegistered, Holders: []string{"AsylumOfficeMSP"}, Erasure: &domain.ErasureFacts{}}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Console{cfg: Config{Kind: tc.kind, MSPID: tc.msp, MemberState: tc.ms}}
			v := dub
			if tc.national {
				v = nat
			}
			steps, bind := c.nextSteps(v, tc.cs, tc.role)
			slices.Sort(steps)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(steps, want) || bind != tc.wantBind {
				t.Fatalf("steps %v bind %v, want %v bind %v", steps, bind, want, tc.wantBind)
			}
		})
	}
}
