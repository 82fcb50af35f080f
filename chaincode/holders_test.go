package chaincode

import (
	"slices"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// TestHoldersAgainstDirectCalls: issue 11 finding 2 against the chaincode,
// as a member calling the peers directly with its own valid identity. The
// immigration authority cannot become a holder of a border-police case by
// anchoring, cannot close it or request its erasure; the partner state
// cannot drop a running Dublin deadline by requesting erasure. Every
// refusal leaves no writes (net.refuse checks it).
func TestHoldersAgainstDirectCalls(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	hash := strings.Repeat("ab", 32)
	for _, c := range []struct {
		name string
		kind domain.Kind
		fn   string
		args []string
	}{
		{"anchor junk", domain.KindForbidden, "anchors:AnchorDocument", []string{newID(), p, hash, "", n.today()}},
		{"anchor junk via RecordEvent", domain.KindForbidden, "cases:RecordEvent", []string{newID(), p, payload(domain.EvDocumentAnchored, n.today(), map[string]any{"documentHash": hash})}},
		{"close early", domain.KindForbidden, "cases:RecordEvent", []string{newID(), p, payload(domain.EvCaseClosed, n.today(), map[string]any{"closureReason": "NO_APPLICATION"})}},
		{"request erasure", domain.KindForbidden, "erasure:RequestErasure", []string{newID(), p, n.today()}},
		{"bind itself in", domain.KindInvalidTransition, "cases:RecordEvent", []string{newID(), p, payload(domain.EvCaseBound, n.today(), nil)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n.refuse(c.kind, "national", "ia", c.fn, c.args...)
		})
	}
	if st := n.getCase("national", p); st.Seq != 1 || !slices.Equal(st.Holders, []string{"BorderPoliceMSP"}) || st.Erasure != nil {
		t.Fatalf("case after the refused writes: %+v", st)
	}
	// The asylum office binds itself in; anchoring by it does not change
	// the holders, and the agency index lists it.
	n.must("national", "ao", "cases:RecordEvent", newID(), p, payload(domain.EvCaseBound, n.today(), nil))
	n.refuse(domain.KindAlreadyExists, "national", "ao", "cases:RecordEvent", newID(), p, payload(domain.EvCaseBound, n.today(), nil))
	n.must("national", "ao", "anchors:AnchorDocument", newID(), p, hash, "", n.today())
	if st := n.getCase("national", p); !slices.Equal(st.Holders, []string{"AsylumOfficeMSP", "BorderPoliceMSP"}) {
		t.Fatalf("holders %v", st.Holders)
	}
	page := decode[api.Page[domain.CaseState]](t, n.must("national", "aud", "cases:ListByAgency", "AsylumOfficeMSP", "", ""))
	if len(page.Items) != 1 || page.Items[0].Pseudonym != p {
		t.Fatalf("agency index %+v", page.Items)
	}

	// Dublin: the asylum office asks the partner state; the partner state
	// binds its file; neither may drop the reply deadline by erasure.
	d := newID()
	n.must("dublin", "ao-do", "cases:RegisterCase", newID(), d, n.today())
	n.must("dublin", "ao-do", "cases:RecordEvent", newID(), d, payload(domain.EvTakeChargeRequested, n.today(), map[string]any{
		"requestedMemberState": "AT", "receivedOn": n.today(), "applicationRegisteredOn": n.today(), "evidence": "OTHER"}))
	n.refuse(domain.KindForbidden, "dublin", "at-do", "erasure:RequestErasure", newID(), d, n.today()) // not a holder yet
	n.must("dublin", "at-do", "cases:RecordEvent", newID(), d, payload(domain.EvCaseBound, n.today(), nil))
	n.refuse(domain.KindInvalidTransition, "dublin", "at-do", "erasure:RequestErasure", newID(), d, n.today())
	n.refuse(domain.KindInvalidTransition, "dublin", "ao-do", "erasure:RequestErasure", newID(), d, n.today())
	st := n.getCase("dublin", d)
	if st.Erasure != nil || len(st.Dublin.Deadlines) != 1 || st.Dublin.Deadlines[0].Kind != domain.DeadlineReply ||
		!slices.Equal(st.Holders, []string{"AsylumOfficeMSP", "PartnerStateMSP"}) {
		t.Fatalf("dublin case %+v", st)
	}
	board := decode[api.Page[api.DueItem]](t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2099-01-01", "", ""))
	if len(board.Items) != 1 || board.Items[0].Pseudonym != d {
		t.Fatalf("board %+v", board.Items)
	}
}
