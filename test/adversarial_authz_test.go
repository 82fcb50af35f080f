//go:build integration

package test

import (
	"testing"
	"time"

	mspproto "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/domain"
)

// TestAdversarialRolesAndAgencies: with its own valid certificates and straight to the peers, a
// member tries steps that its role, its agency or its kind of organisation may not take — a
// caseworker doing a Dublin officer's step, a Dublin officer doing a caseworker's, an agency
// doing another's step, another state's holiday calendar, and the auditor writing with every
// identity it has. Every endorser refuses with FORBIDDEN and nothing changes.
func TestAdversarialRolesAndAgencies(t *testing.T) {
	f := fixture(t)
	a := newAdversary(t)
	before := f.w.snapshot(t)
	d := today()
	ev := func(code domain.EventCode, fields domain.EventFields) string {
		return canonical(t, domain.EventInput{Code: code, OccurredOn: d, EventFields: fields})
	}
	national := []string{"asylum-office", "border-police"}
	dublin := []string{"asylum-office", "partner-state"}
	cases := []struct {
		name, org, role, ch string
		fn                  string
		args                []string
		endorsers           []string
		kind                string // "" = FORBIDDEN
	}{
		// Wrong role.
		{"caseworker does a Dublin officer's step (reply)", "asylum-office", "caseworker", "dublin", "cases:RecordEvent",
			[]string{newID(), f.dub, ev(domain.EvRequestAccepted, domain.EventFields{})}, dublin, ""},
		{"caseworker opens a Dublin case", "asylum-office", "caseworker", "dublin", "cases:RegisterCase", []string{newID(), newID(), d}, dublin, ""},
		{"caseworker sets holidays", "asylum-office", "caseworker", "dublin", "dublin:SetHolidays", []string{newID(), "DE", "2027", `["2027-01-01"]`}, dublin, ""},
		{"Dublin officer does a caseworker's step", "asylum-office", "dublin-officer", "national", "cases:RecordEvent",
			[]string{newID(), f.nat, ev(domain.EvAllocated, domain.EventFields{RegionCode: "DE-BY"})}, national, ""},
		{"admin records a process step", "asylum-office", "admin", "national", "cases:RecordEvent",
			[]string{newID(), f.nat, ev(domain.EvAllocated, domain.EventFields{RegionCode: "DE-BY"})}, national, ""},
		// Wrong agency.
		{"border police allocate", "border-police", "caseworker", "national", "cases:RecordEvent",
			[]string{newID(), f.nat, ev(domain.EvAllocated, domain.EventFields{RegionCode: "DE-BY"})}, national, ""},
		{"immigration authority lodges the application", "immigration-authority", "caseworker", "national", "cases:RecordEvent",
			[]string{newID(), f.nat, ev(domain.EvApplicationLodged, domain.EventFields{})}, []string{"immigration-authority", "border-police"}, ""},
		{"partner state sets the other state's holidays", "partner-state", "dublin-officer", "dublin", "dublin:SetHolidays",
			[]string{newID(), "DE", "2027", `["2027-01-01"]`}, dublin, ""},
		{"requesting state replies to its own request", "asylum-office", "dublin-officer", "dublin", "cases:RecordEvent",
			[]string{newID(), f.dub, ev(domain.EvRequestAccepted, domain.EventFields{})}, dublin, ""},
		// The auditor writing, with every identity it has.
		{"auditor registers", "auditor", "auditor", "national", "cases:RegisterCase", []string{newID(), newID(), d}, national, ""},
		{"auditor admin registers", "auditor", "admin", "national", "cases:RegisterCase", []string{newID(), newID(), d}, national, ""},
		{"auditor records a step", "auditor", "auditor", "national", "cases:RecordEvent",
			[]string{newID(), f.nat, ev(domain.EvAllocated, domain.EventFields{RegionCode: "DE-BY"})}, national, ""},
		{"auditor requests erasure", "auditor", "admin", "national", "erasure:RequestErasure", []string{newID(), f.nat, d}, national, ""},
		{"auditor anchors", "auditor", "auditor", "national", "anchors:AnchorDocument",
			[]string{newID(), f.nat, randomHex(t, 32), "", d}, national, ""},
		{"auditor resolves deadlines", "auditor", "auditor", "dublin", "dublin:ResolveDeadlines", []string{newID(), f.dub}, dublin, ""},
		{"auditor sets holidays", "auditor", "admin", "dublin", "dublin:SetHolidays", []string{newID(), "AT", "2027", `["2027-01-01"]`}, dublin, ""},
		// A member of one channel on the other: the peers refuse it before the chaincode runs
		// (the channel's Writers policy), so any refusal will do.
		{"partner state on the national channel", "partner-state", "dublin-officer", "national", "cases:RegisterCase", []string{newID(), newID(), d}, national, "-"},
		{"border police on the Dublin channel", "border-police", "caseworker", "dublin", "cases:RegisterCase", []string{newID(), newID(), d}, dublin, "-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := a.in(t)
			s := signerOf(t, c.org, c.role)
			kind := "FORBIDDEN"
			switch c.kind {
			case "-":
				kind = ""
			case "":
			default:
				kind = c.kind
			}
			// Withheld details (the region) go in the transient map, as from any client: sent as
			// arguments they would be refused for that alone (INVALID_ARGUMENT).
			a.expectRefused(a.proposeWithDetails(s, c.ch, time.Now(), c.fn, c.args...), kind, c.endorsers...)
		})
	}

	// Another agency's name on one's own certificate, and another agency's certificate signed with
	// one's own key: the peers refuse both before the chaincode runs.
	bp, ao := signerOf(t, "border-police", "caseworker"), signerOf(t, "asylum-office", "caseworker")
	var id mspproto.SerializedIdentity
	if err := proto.Unmarshal(bp.creator, &id); err != nil {
		t.Fatal(err)
	}
	claimed := *bp
	claimed.creator = mustMarshal(t, &mspproto.SerializedIdentity{Mspid: "AsylumOfficeMSP", IdBytes: id.GetIdBytes()})
	stolen := *ao
	stolen.sign = bp.sign
	for name, s := range map[string]*advSigner{"own certificate, another agency's MSP id": &claimed, "another agency's certificate, own key": &stolen} {
		t.Run(name, func(t *testing.T) {
			a := a.in(t)
			a.expectRefused(a.proposeWithDetails(s, "national", time.Now(), "cases:RecordEvent",
				newID(), f.nat, ev(domain.EvAllocated, domain.EventFields{RegionCode: "DE-BY"})), "", national...)
		})
	}
	f.w.unchanged(t, before, "steps by the wrong role, agency or organisation")
}
