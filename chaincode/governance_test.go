package chaincode

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	mspproto "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/fakestub"
)

// Identities of the governance tests besides the harness's: the admins of every organisation, and
// a second immigration authority that is not a member yet (its caseworker and its admin).
var govIdentities = map[string]fakestub.Identity{
	"bp-admin":       {MSPID: "BorderPoliceMSP", Attrs: map[string]string{"role": "admin"}},
	"ia-admin":       {MSPID: "ImmigrationAuthorityMSP", Attrs: map[string]string{"role": "admin"}},
	"at-admin":       {MSPID: "PartnerStateMSP", Attrs: map[string]string{"role": "admin"}},
	"aud-admin":      {MSPID: "AuditorMSP", Attrs: map[string]string{"role": "admin"}},
	"stranger-admin": {MSPID: "StrangerMSP", Attrs: map[string]string{"role": "admin"}},
	"ia2":            {MSPID: "ImmigrationAuthority2MSP", Attrs: map[string]string{"role": "caseworker"}},
	"ia2-admin":      {MSPID: "ImmigrationAuthority2MSP", Attrs: map[string]string{"role": "admin"}},
}

func govNet(t testing.TB) *net {
	t.Helper()
	n := newNet(t, t0)
	for name, id := range govIdentities {
		b, err := id.Creator()
		if err != nil {
			t.Fatal(err)
		}
		n.ids[name] = b
	}
	return n
}

// grown is the configuration's membership with a second immigration authority on the national
// channel, governing with the others (a majority of four is three), as its canonical document.
func grown(t testing.TB, n *net) (domain.Membership, string) {
	t.Helper()
	m := cloneMembership(t, n.cc.c.cfg.Membership)
	m.Members = append(m.Members, domain.Member{MSPID: "ImmigrationAuthority2MSP", Kind: domain.AgencyImmigrationAuthority, MemberState: "DE"})
	for i := range m.Channels {
		if m.Channels[i].Name == "national" {
			ch := &m.Channels[i]
			ch.Members = append(ch.Members, "ImmigrationAuthority2MSP")
			ch.Governance = &domain.Governance{OutOf: 3, Orgs: append(slices.Clone(ch.Governance.Orgs), "ImmigrationAuthority2MSP")}
		}
	}
	return m, document(t, m)
}

func cloneMembership(t testing.TB, m domain.Membership) domain.Membership {
	t.Helper()
	b, err := domain.EncodeCanonical(m)
	if err != nil {
		t.Fatal(err)
	}
	var c domain.Membership
	if err := domain.DecodeStrict(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func document(t testing.TB, m domain.Membership) string {
	t.Helper()
	b, err := api.MembershipDocument(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hashOfDoc(doc string) string { return api.MembershipHash([]byte(doc)) }

func (n *net) membershipStatus(channel string) api.MembershipStatus {
	n.t.Helper()
	return decode[api.MembershipStatus](n.t, n.must(channel, "aud", api.FnGetMembership))
}

// TestMembershipGrowsByGovernance: the new agency's writes are refused until a majority of the
// governing organisations' admins approved the grown document and one set it; then they are
// accepted by the same chaincode (no new configuration), and the rule that governs the next
// change is the grown document's.
func TestMembershipGrowsByGovernance(t *testing.T) {
	n := govNet(t)
	st := n.membershipStatus("national")
	start := document(t, n.cc.c.cfg.Membership)
	if st.Sequence != 0 || st.FromLedger || st.Hash != hashOfDoc(start) || st.Governance.OutOf != 2 || len(st.Governance.Orgs) != 3 || len(st.Approvals) != 0 {
		t.Fatalf("starting membership %+v", st)
	}
	n.refuse(domain.KindForbidden, "national", "ia2", api.FnRegisterCase, newID(), newID(), n.today())
	if ep := n.ledger["national"].ValidationParameter(membershipKey()); ep != nil {
		t.Fatal("a key-level policy before any change")
	}

	_, doc := grown(t, n)
	h := hashOfDoc(doc)
	ap := decode[api.MembershipApproval](t, n.must("national", "ao-admin", api.FnApproveMembership, "1", h))
	if ap.MSPID != "AsylumOfficeMSP" || ap.Sequence != 1 || ap.Hash != h || ap.TxID == "" || ap.ApprovedAt != t0.Format("2006-01-02T15:04:05Z07:00") {
		t.Fatalf("approval %+v", ap)
	}
	if ev := n.ledger["national"].Events(); ev[len(ev)-1].Name != api.EventMembership {
		t.Fatalf("event %+v", ev[len(ev)-1])
	}
	n.refuse(domain.KindForbidden, "national", "ao-admin", api.FnSetMembership, doc)
	n.must("national", "bp-admin", api.FnApproveMembership, "1", h)
	if st := n.membershipStatus("national"); len(st.Approvals) != 2 || st.Sequence != 0 {
		t.Fatalf("before the change %+v", st)
	}
	set := decode[api.MembershipStatus](t, n.must("national", "bp-admin", api.FnSetMembership, doc))
	if set.Sequence != 1 || set.Hash != h || set.SetBy != "BorderPoliceMSP" {
		t.Fatalf("set %+v", set)
	}

	// The next change of the membership key needs 3 of the 4 governing organisations' peers too
	// (key-level endorsement policy); before the change the key had none (the chaincode's policy).
	var env common.SignaturePolicyEnvelope
	if err := proto.Unmarshal(n.ledger["national"].ValidationParameter(membershipKey()), &env); err != nil {
		t.Fatal(err)
	}
	var principals []string
	for _, id := range env.Identities {
		var role mspproto.MSPRole
		if err := proto.Unmarshal(id.Principal, &role); err != nil || id.PrincipalClassification != mspproto.MSPPrincipal_ROLE || role.Role != mspproto.MSPRole_PEER {
			t.Fatalf("principal %v", id)
		}
		principals = append(principals, role.MspIdentifier)
	}
	if nout := env.Rule.GetNOutOf(); nout.GetN() != 3 || len(nout.GetRules()) != 4 ||
		!slices.Equal(principals, []string{"AsylumOfficeMSP", "BorderPoliceMSP", "ImmigrationAuthorityMSP", "ImmigrationAuthority2MSP"}) {
		t.Fatalf("key-level policy %v over %v", env.Rule, principals)
	}

	// The joiner writes and reads now, with the kind the document gives it.
	p := newID()
	n.must("national", "ia2", api.FnRegisterCase, newID(), p, n.today())
	if c := n.getCase("national", p); c.Seq != 1 {
		t.Fatalf("case %+v", c)
	}
	info := decode[api.ChaincodeInfo](t, n.must("national", "ia2", api.FnGetChaincodeInfo))
	if info.Caller.Kind != domain.AgencyImmigrationAuthority || !slices.Contains(func() []string { ch, _ := info.Config.Membership.Channel("national"); return ch.Members }(), "ImmigrationAuthority2MSP") {
		t.Fatalf("chaincode info %+v", info)
	}
	st = n.membershipStatus("national")
	if st.Sequence != 1 || !st.FromLedger || st.Hash != h || st.Governance.OutOf != 3 || len(st.Governance.Orgs) != 4 || len(st.Approvals) != 0 {
		t.Fatalf("membership after the change %+v", st)
	}
	// The other channel's membership is its own: unchanged there.
	if st := n.membershipStatus("dublin"); st.Sequence != 0 || st.FromLedger {
		t.Fatalf("dublin %+v", st)
	}
	// Retried, the change is ALREADY_EXISTS (nothing written twice).
	n.refuse(domain.KindAlreadyExists, "national", "bp-admin", api.FnSetMembership, doc)
}

// TestMembershipGovernanceRefusals: dishonest members, each sending straight to a peer with its
// own valid certificate. Every attempt is refused with a stable kind and leaves no state.
func TestMembershipGovernanceRefusals(t *testing.T) {
	n := govNet(t)
	m, doc := grown(t, n)
	h := hashOfDoc(doc)
	other := cloneMembership(t, m)
	other.Members[len(other.Members)-1].Kind = domain.AgencyBorderPolice // the joiner as border police
	otherDoc := document(t, other)
	dropped := cloneMembership(t, m)
	dropped.Members = slices.DeleteFunc(dropped.Members, func(x domain.Member) bool { return x.MSPID == "PartnerStateMSP" })
	dropped.Channels = slices.DeleteFunc(dropped.Channels, func(c domain.Channel) bool { return c.Name == "dublin" })
	recast := cloneMembership(t, m)
	recast.Members[1].Kind = domain.AgencyImmigrationAuthority // the border police recast
	pretty := strings.ReplaceAll(doc, ",", ", ")
	dupKey := `{"version":1,"version":1,` + doc[len(`{"version":1,`):]

	// Approvals of the grown document by two governing admins (the rule: 2 of 3) for what needs them.
	approve := func(t *testing.T, n *net, d string, who ...string) {
		t.Helper()
		for _, w := range who {
			n.must("national", w, api.FnApproveMembership, "1", hashOfDoc(d))
		}
	}
	tests := []struct {
		name     string
		prepare  func(t *testing.T, n *net)
		who, fn  string
		args     []string
		want     domain.Kind
		wantText string
	}{
		{"a caseworker approves", nil, "ao", api.FnApproveMembership, []string{"1", h}, domain.KindForbidden, "admins"},
		{"a Dublin officer approves", nil, "ao-do", api.FnApproveMembership, []string{"1", h}, domain.KindForbidden, "admins"},
		{"an identity without a role approves", nil, "norole", api.FnApproveMembership, []string{"1", h}, domain.KindForbidden, "attribute"},
		{"the auditor's admin approves", nil, "aud-admin", api.FnApproveMembership, []string{"1", h}, domain.KindForbidden, "does not govern"},
		{"an organisation outside the membership approves", nil, "stranger-admin", api.FnApproveMembership, []string{"1", h}, domain.KindForbidden, "not a member"},
		{"the joiner approves its own admission", nil, "ia2-admin", api.FnApproveMembership, []string{"1", h}, domain.KindForbidden, "not a member"},
		{"a member of another channel approves", nil, "at-admin", api.FnApproveMembership, []string{"1", h}, domain.KindForbidden, "not a member"},
		{"approval for a later sequence", nil, "ao-admin", api.FnApproveMembership, []string{"2", h}, domain.KindConflict, "sequence 0"},
		{"approval for sequence 0", nil, "ao-admin", api.FnApproveMembership, []string{"0", h}, domain.KindInvalidArgument, "sequence"},
		{"approval of the membership in force", nil, "ao-admin", api.FnApproveMembership, []string{"1", hashOfDoc(document(t, n.cc.c.cfg.Membership))}, domain.KindAlreadyExists, "in force"},
		{"set without any approval", nil, "ao-admin", api.FnSetMembership, []string{doc}, domain.KindForbidden, "0 of the 2 approvals"},
		{"set with one approval of two", func(t *testing.T, n *net) { approve(t, n, doc, "ao-admin") }, "ao-admin", api.FnSetMembership, []string{doc}, domain.KindForbidden, "1 of the 2 approvals"},
		{"set of a document other than the approved one", func(t *testing.T, n *net) { approve(t, n, doc, "ao-admin", "bp-admin") }, "ao-admin", api.FnSetMembership, []string{otherDoc}, domain.KindForbidden, "0 of the 2 approvals"},
		{"set with approvals split between two documents", func(t *testing.T, n *net) {
			approve(t, n, doc, "ao-admin")
			approve(t, n, otherDoc, "bp-admin")
		}, "ao-admin", api.FnSetMembership, []string{doc}, domain.KindForbidden, "1 of the 2 approvals"},
		{"an approval replaced by one for another document no longer counts", func(t *testing.T, n *net) {
			approve(t, n, doc, "ao-admin", "bp-admin")
			approve(t, n, otherDoc, "bp-admin")
		}, "ao-admin", api.FnSetMembership, []string{doc}, domain.KindForbidden, "1 of the 2 approvals"},
		{"set by a caseworker with the approvals met", func(t *testing.T, n *net) { approve(t, n, doc, "ao-admin", "bp-admin") }, "bp", api.FnSetMembership, []string{doc}, domain.KindForbidden, "admins"},
		{"set by the joiner's admin with the approvals met", func(t *testing.T, n *net) { approve(t, n, doc, "ao-admin", "bp-admin") }, "ia2-admin", api.FnSetMembership, []string{doc}, domain.KindForbidden, "not a member"},
		{"set of a non-canonical document (whitespace)", func(t *testing.T, n *net) { approve(t, n, pretty, "ao-admin", "bp-admin") }, "ao-admin", api.FnSetMembership, []string{pretty}, domain.KindInvalidArgument, "canonical"},
		{"set of a non-canonical document (duplicate key)", nil, "ao-admin", api.FnSetMembership, []string{dupKey}, domain.KindInvalidArgument, "canonical"},
		{"set of an invalid document", nil, "ao-admin", api.FnSetMembership, []string{`{"version":1,"members":[],"channels":[]}`}, domain.KindInvalidArgument, "members"},
		{"set of a document that drops a member and a channel", func(t *testing.T, n *net) { approve(t, n, document(t, dropped), "ao-admin", "bp-admin") }, "ao-admin", api.FnSetMembership, []string{document(t, dropped)}, domain.KindInvalidArgument, "must stay"},
		{"set of a document that recasts a member's kind", func(t *testing.T, n *net) { approve(t, n, document(t, recast), "ao-admin", "bp-admin") }, "ao-admin", api.FnSetMembership, []string{document(t, recast)}, domain.KindInvalidArgument, "must stay"},
		{"set of the membership in force", nil, "ao-admin", api.FnSetMembership, []string{document(t, n.cc.c.cfg.Membership)}, domain.KindAlreadyExists, "in force"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := govNet(t)
			if tc.prepare != nil {
				tc.prepare(t, n)
			}
			before := n.ledger["national"].Keys()
			events := len(n.ledger["national"].Events())
			msg := n.refuse(tc.want, "national", tc.who, tc.fn, tc.args...)
			if !strings.Contains(msg, tc.wantText) {
				t.Errorf("message %q does not say %q", msg, tc.wantText)
			}
			if !slices.Equal(before, n.ledger["national"].Keys()) || len(n.ledger["national"].Events()) != events {
				t.Fatal("a refused governance transaction changed the ledger")
			}
			if st := n.membershipStatus("national"); st.Sequence != 0 || st.FromLedger {
				t.Fatalf("membership changed: %+v", st)
			}
			n.refuse(domain.KindForbidden, "national", "ia2", api.FnRegisterCase, newID(), newID(), n.today())
		})
	}
}

// TestMembershipApprovalsBindToTheSequence: approvals recorded for one sequence never count for
// the next, and the rule in force after a change is the new document's (3 of 4, the joiner
// governing with the others).
func TestMembershipApprovalsBindToTheSequence(t *testing.T) {
	n := govNet(t)
	m, doc := grown(t, n)
	// A second change, prepared early: the border police's admin approves it for sequence 1.
	next := cloneMembership(t, m)
	for i := range next.Channels {
		if next.Channels[i].Name == "national" {
			next.Channels[i].Governance.OutOf = 4
		}
	}
	nextDoc := document(t, next)
	n.must("national", "ia-admin", api.FnApproveMembership, "1", hashOfDoc(nextDoc))
	n.must("national", "ao-admin", api.FnApproveMembership, "1", hashOfDoc(doc))
	n.must("national", "bp-admin", api.FnApproveMembership, "1", hashOfDoc(doc))
	n.must("national", "ao-admin", api.FnSetMembership, doc)

	// Sequence 1 is taken: an approval for it is a CONFLICT; the stale approval does not count.
	n.refuse(domain.KindConflict, "national", "ia-admin", api.FnApproveMembership, "1", hashOfDoc(nextDoc))
	n.must("national", "ao-admin", api.FnApproveMembership, "2", hashOfDoc(nextDoc))
	n.must("national", "ia2-admin", api.FnApproveMembership, "2", hashOfDoc(nextDoc))
	n.refuse(domain.KindForbidden, "national", "ao-admin", api.FnSetMembership, nextDoc)
	n.must("national", "bp-admin", api.FnApproveMembership, "2", hashOfDoc(nextDoc))
	st := decode[api.MembershipStatus](t, n.must("national", "ia2-admin", api.FnSetMembership, nextDoc))
	if st.Sequence != 2 || st.Governance.OutOf != 4 {
		t.Fatalf("second change %+v", st)
	}
}

// TestMembershipChangeInvalidatesInFlight: a transaction endorsed under the old membership and
// committed after the change is invalid (MVCC_READ_CONFLICT on the membership key), so no write
// commits under rules no endorser applies any more; the gateway's bounded retry endorses it again.
func TestMembershipChangeInvalidatesInFlight(t *testing.T) {
	n := govNet(t)
	l := n.ledger["national"]
	inflight := l.NewTx(n.ids["bp"], n.clock(), api.FnRegisterCase, newID(), newID(), n.today())
	if r := n.cc.Invoke(inflight); r.Status != 200 {
		t.Fatal(r.Message)
	}
	_, doc := grown(t, n)
	n.must("national", "ao-admin", api.FnApproveMembership, "1", hashOfDoc(doc))
	n.must("national", "bp-admin", api.FnApproveMembership, "1", hashOfDoc(doc))
	// An approval in flight across the change is invalidated too.
	lateApproval := l.NewTx(n.ids["ia-admin"], n.clock(), api.FnApproveMembership, "1", hashOfDoc(doc))
	if r := n.cc.Invoke(lateApproval); r.Status != 200 {
		t.Fatal(r.Message)
	}
	n.must("national", "ao-admin", api.FnSetMembership, doc)
	for name, tx := range map[string]*fakestub.Tx{"case write": inflight, "approval": lateApproval} {
		if code := l.CommitRWSet(tx.GetTxID(), n.clock(), tx.RWSet(), 1000, 0); code != peer.TxValidationCode_MVCC_READ_CONFLICT {
			t.Errorf("%s endorsed under the old membership: %s, want MVCC_READ_CONFLICT", name, code)
		}
	}
	// Endorsed again under the new membership, the write commits.
	again := l.NewTx(n.ids["bp"], n.clock(), api.FnRegisterCase, newID(), newID(), n.today())
	if r := n.cc.Invoke(again); r.Status != 200 {
		t.Fatal(r.Message)
	}
	if code := l.CommitRWSet(again.GetTxID(), n.clock(), again.RWSet(), 1001, 0); code != peer.TxValidationCode_VALID {
		t.Fatalf("re-endorsed: %s", code)
	}
}

// membershipVariants: spellings of a canonical membership document that decode to the same value
// (or carry a name in a duplicate key).
func membershipVariants(canonical string) []variant {
	first := `{"version":1,`
	rest := canonical[len(first):]
	return []variant{
		{"whitespace after a colon", strings.Replace(canonical, ":", ": ", 1), true},
		{"pretty printed", strings.ReplaceAll(canonical, ",", ",\n  "), true},
		{"key order", `{` + rest[:len(rest)-1] + `,"version":1}`, true},
		{"duplicate key, name first", first + `"members":"Max Mustermann",` + rest, false},
		{"duplicate key, same value", first + `"version":1,` + rest, true},
		{"escaped key", strings.Replace(canonical, `"version"`, `"\u0076ersion"`, 1), true},
		{"key case", strings.Replace(canonical, `"version"`, `"Version"`, 1), true},
		{"trailing whitespace", canonical + " ", true},
	}
}

// BenchmarkLoadMembership measures what every transaction now adds: reading the membership in
// force from the state (absent: the configuration's; set: decoded and validated).
func BenchmarkLoadMembership(b *testing.B) {
	for _, set := range []bool{false, true} {
		name := map[bool]string{false: "configuration", true: "ledger"}[set]
		b.Run(name, func(b *testing.B) {
			n := govNet(b)
			if set {
				_, doc := grown(b, n)
				n.must("national", "ao-admin", api.FnApproveMembership, "1", hashOfDoc(doc))
				n.must("national", "bp-admin", api.FnApproveMembership, "1", hashOfDoc(doc))
				n.must("national", "ao-admin", api.FnSetMembership, doc)
			}
			tx := n.ledger["national"].NewTx(n.ids["aud"], n.clock(), api.FnGetMembership)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := n.cc.c.loadMembership(tx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMembershipDublinNeedsEveryState: the rule is the document's data: on the dublin channel a
// change needs every member state's Dublin unit (2 of 2 here), and a new state joins only so.
func TestMembershipDublinNeedsEveryState(t *testing.T) {
	n := govNet(t)
	b, err := (fakestub.Identity{MSPID: "PartnerState2MSP", Attrs: map[string]string{"role": "dublin-officer"}}).Creator()
	if err != nil {
		t.Fatal(err)
	}
	n.ids["fr-do"] = b
	m := cloneMembership(t, n.cc.c.cfg.Membership)
	m.Members = append(m.Members, domain.Member{MSPID: "PartnerState2MSP", Kind: domain.AgencyPartnerState, MemberState: "FR", DublinUnit: true})
	for i := range m.Channels {
		if ch := &m.Channels[i]; ch.Name == "dublin" {
			ch.Members = append(ch.Members, "PartnerState2MSP")
			ch.Governance = &domain.Governance{OutOf: 3, Orgs: append(slices.Clone(ch.Governance.Orgs), "PartnerState2MSP")}
		}
	}
	doc := document(t, m)
	if st := n.membershipStatus("dublin"); st.Governance.OutOf != 2 || len(st.Governance.Orgs) != 2 {
		t.Fatalf("dublin rule %+v", st.Governance)
	}
	n.must("dublin", "ao-admin", api.FnApproveMembership, "1", hashOfDoc(doc))
	n.refuse(domain.KindForbidden, "dublin", "ao-admin", api.FnSetMembership, doc)
	n.refuse(domain.KindForbidden, "dublin", "fr-do", api.FnGetVocabulary)
	n.must("dublin", "at-admin", api.FnApproveMembership, "1", hashOfDoc(doc))
	n.must("dublin", "at-admin", api.FnSetMembership, doc)
	n.must("dublin", "fr-do", api.FnGetVocabulary)
	if st := n.membershipStatus("dublin"); st.Sequence != 1 || st.Governance.OutOf != 3 {
		t.Fatalf("dublin after the change %+v", st)
	}
	// The national channel's membership is its own: unchanged.
	if st := n.membershipStatus("national"); st.Sequence != 0 {
		t.Fatalf("national %+v", st)
	}
}

// TestMembershipApprovalsExpire: an approval counts only for the governance rule's ApprovalDays
// after its transaction's timestamp, judged at the timestamp of the transaction that sets the
// change (the chaincode has no other clock); a re-approval of the same document renews it;
// gov:GetMembership shows each approval's expiry and whether it has expired. The steps run in time
// order: the endorser's clock moves with the transaction timestamps.
func TestMembershipApprovalsExpire(t *testing.T) {
	const day = 24 * time.Hour
	week2 := domain.DefaultApprovalDays * day
	type step struct {
		at  time.Duration // after t0
		who string        // an admin approving the grown document
	}
	tests := []struct {
		name        string
		approvals   []step
		setAt       time.Duration
		wantExpired map[string]bool // by MSP id, at setAt
		wantSet     bool
		wantText    string
	}{
		{"both fresh", []step{{0, "ao-admin"}, {time.Hour, "bp-admin"}}, 2 * time.Hour,
			map[string]bool{"AsylumOfficeMSP": false, "BorderPoliceMSP": false}, true, ""},
		{"the older one a second inside the window", []step{{0, "ao-admin"}, {day, "bp-admin"}}, week2 - time.Second,
			map[string]bool{"AsylumOfficeMSP": false, "BorderPoliceMSP": false}, true, ""},
		{"the older one just outside the window", []step{{0, "ao-admin"}, {day, "bp-admin"}}, week2,
			map[string]bool{"AsylumOfficeMSP": true, "BorderPoliceMSP": false}, false, "1 of the 2 approvals this change needs are recorded for this document at sequence 1 (1 more expired: an approval counts for 14 days"},
		{"both expired", []step{{0, "ao-admin"}, {time.Hour, "bp-admin"}}, 90 * day,
			map[string]bool{"AsylumOfficeMSP": true, "BorderPoliceMSP": true}, false, "0 of the 2 approvals this change needs are recorded for this document at sequence 1 (2 more expired"},
		{"an expired approval renewed", []step{{0, "ao-admin"}, {20 * day, "ao-admin"}, {20*day + time.Hour, "bp-admin"}}, 21 * day,
			map[string]bool{"AsylumOfficeMSP": false, "BorderPoliceMSP": false}, true, ""},
		{"a renewal moves the window", []step{{0, "ao-admin"}, {10 * day, "ao-admin"}, {10 * day, "bp-admin"}}, 10*day + week2 - time.Second,
			map[string]bool{"AsylumOfficeMSP": false, "BorderPoliceMSP": false}, true, ""},
		{"a renewal of another organisation does not help", []step{{0, "ao-admin"}, {10 * day, "bp-admin"}, {11 * day, "bp-admin"}}, week2,
			map[string]bool{"AsylumOfficeMSP": true, "BorderPoliceMSP": false}, false, "1 of the 2 approvals"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := govNet(t)
			moveTo := func(d time.Duration) { n.advance(t0.Add(d).Sub(n.clock())) }
			_, doc := grown(t, n)
			h := hashOfDoc(doc)
			approved := map[string]bool{}
			for _, s := range tc.approvals {
				moveTo(s.at)
				ap := decode[api.MembershipApproval](t, n.must("national", s.who, api.FnApproveMembership, "1", h))
				if want := t0.Add(s.at).Add(week2).Format(time.RFC3339); ap.ApprovedAt != t0.Add(s.at).Format(time.RFC3339) || ap.ExpiresAt != want || ap.Expired {
					t.Fatalf("approval %+v, want expiry %s", ap, want)
				}
				ev := n.ledger["national"].Events()
				got := decode[api.MembershipEvent](t, string(ev[len(ev)-1].Payload))
				if want := map[bool]string{false: "approved", true: "renewed"}[approved[s.who]]; got.Action != want {
					t.Errorf("%s: event %+v, want action %s", s.who, got, want)
				}
				approved[s.who] = true
			}
			moveTo(tc.setAt)
			st := n.membershipStatus("national")
			if st.At != t0.Add(tc.setAt).Format(time.RFC3339) || st.Governance.ApprovalDays != domain.DefaultApprovalDays || len(st.Approvals) != len(tc.wantExpired) {
				t.Fatalf("status %+v", st)
			}
			for _, ap := range st.Approvals {
				approvedAt, err := time.Parse(time.RFC3339, ap.ApprovedAt)
				if err != nil || ap.Expired != tc.wantExpired[ap.MSPID] || ap.ExpiresAt != approvedAt.Add(week2).Format(time.RFC3339) {
					t.Errorf("%s: approval %+v, want expired %v", ap.MSPID, ap, tc.wantExpired[ap.MSPID])
				}
			}
			if tc.wantSet {
				if set := decode[api.MembershipStatus](t, n.must("national", "ao-admin", api.FnSetMembership, doc)); set.Sequence != 1 || set.Hash != h {
					t.Fatalf("set %+v", set)
				}
				return
			}
			before := n.ledger["national"].Keys()
			if msg := n.refuse(domain.KindForbidden, "national", "ao-admin", api.FnSetMembership, doc); !strings.Contains(msg, tc.wantText) {
				t.Errorf("message %q does not say %q", msg, tc.wantText)
			}
			if !slices.Equal(before, n.ledger["national"].Keys()) || n.membershipStatus("national").Sequence != 0 {
				t.Fatal("a refused change changed the ledger")
			}
		})
	}
}

// TestMembershipApprovalPeriodIsData: the period is the rule's ApprovalDays in the membership in
// force. The first change sets 2 days on the national channel; approvals of the next change then
// expire after 2 days, not 14.
func TestMembershipApprovalPeriodIsData(t *testing.T) {
	n := govNet(t)
	m, _ := grown(t, n)
	for i := range m.Channels {
		if m.Channels[i].Name == "national" {
			m.Channels[i].Governance.ApprovalDays = 2
		}
	}
	doc := document(t, m)
	if !strings.Contains(doc, `"approvalDays":2`) {
		t.Fatalf("document %s", doc)
	}
	for _, who := range []string{"ao-admin", "bp-admin"} {
		n.must("national", who, api.FnApproveMembership, "1", hashOfDoc(doc))
	}
	n.must("national", "ao-admin", api.FnSetMembership, doc)
	if st := n.membershipStatus("national"); st.Governance.ApprovalDays != 2 {
		t.Fatalf("rule in force %+v", st.Governance)
	}

	next := cloneMembership(t, m)
	for i := range next.Channels {
		if next.Channels[i].Name == "national" {
			next.Channels[i].Governance.OutOf = 4
		}
	}
	nextDoc := document(t, next)
	for _, who := range []string{"ao-admin", "bp-admin", "ia-admin"} {
		n.must("national", who, api.FnApproveMembership, "2", hashOfDoc(nextDoc))
	}
	n.advance(2*24*time.Hour - time.Second)
	n.must("national", "ia2-admin", api.FnApproveMembership, "2", hashOfDoc(nextDoc))
	n.advance(time.Second)
	msg := n.refuse(domain.KindForbidden, "national", "ia2-admin", api.FnSetMembership, nextDoc)
	if want := "1 of the 3 approvals this change needs are recorded for this document at sequence 2 (3 more expired: an approval counts for 2 days"; !strings.Contains(msg, want) {
		t.Fatalf("message %q does not say %q", msg, want)
	}
}

// TestMembershipApprovalDaysIsCanonical: the period is part of the document the approvals hash, so
// the argument gate's canonical parsing covers it: out of range, an explicit default of 0 (not
// the canonical spelling of absent) or a non-integer are refused before anything runs.
func TestMembershipApprovalDaysIsCanonical(t *testing.T) {
	n := govNet(t)
	m, _ := grown(t, n)
	for i := range m.Channels {
		if m.Channels[i].Name == "national" {
			m.Channels[i].Governance.ApprovalDays = 7
		}
	}
	doc := document(t, m)
	for _, bad := range []string{"0", "-1", fmt.Sprint(domain.MaxApprovalDays + 1), "7.0", "7e0", `"7"`, "07"} {
		t.Run(bad, func(t *testing.T) {
			d := strings.Replace(doc, `"approvalDays":7`, `"approvalDays":`+bad, 1)
			if d == doc {
				t.Fatal("no approvalDays in the document")
			}
			n.refuse(domain.KindInvalidArgument, "national", "ao-admin", api.FnSetMembership, d)
		})
	}
	n.must("national", "ao-admin", api.FnApproveMembership, "1", hashOfDoc(doc))
}
