package domain

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestMembershipGovernanceRefuses(t *testing.T) {
	gov := func(outOf int, orgs ...any) map[string]any { return map[string]any{"outOf": outOf, "orgs": orgs} }
	tests := []struct {
		name string
		f    func(doc map[string]any)
		want string
	}{
		{"the auditor governs", func(d map[string]any) {
			channel(d, 0)["governance"] = gov(3, "AsylumOfficeMSP", "BorderPoliceMSP", "ImmigrationAuthorityMSP", "AuditorMSP")
		}, "not an auditor"},
		{"an agency left out", func(d map[string]any) { channel(d, 0)["governance"] = gov(2, "AsylumOfficeMSP", "BorderPoliceMSP") }, "every member"},
		{"an org off the channel", func(d map[string]any) {
			channel(d, 0)["governance"] = gov(2, "AsylumOfficeMSP", "BorderPoliceMSP", "PartnerStateMSP")
		}, "every member"},
		{"an org twice", func(d map[string]any) {
			channel(d, 0)["governance"] = gov(2, "AsylumOfficeMSP", "AsylumOfficeMSP", "BorderPoliceMSP")
		}, "each once"},
		{"a minority", func(d map[string]any) {
			channel(d, 0)["governance"] = gov(1, "AsylumOfficeMSP", "BorderPoliceMSP", "ImmigrationAuthorityMSP")
		}, "majority"},
		{"more than all", func(d map[string]any) {
			channel(d, 0)["governance"] = gov(4, "AsylumOfficeMSP", "BorderPoliceMSP", "ImmigrationAuthorityMSP")
		}, "majority"},
		{"a dublin channel by a majority only", func(d map[string]any) {
			member(d, 1)["dublinUnit"] = true
			channel(d, 1)["members"] = []any{"AsylumOfficeMSP", "PartnerStateMSP", "BorderPoliceMSP"}
			channel(d, 1)["governance"] = gov(2, "AsylumOfficeMSP", "PartnerStateMSP", "BorderPoliceMSP")
		}, "every member state"},
		{"approvals that never expire", func(d map[string]any) {
			g := gov(2, "AsylumOfficeMSP", "BorderPoliceMSP", "ImmigrationAuthorityMSP")
			g["approvalDays"] = MaxApprovalDays + 1
			channel(d, 0)["governance"] = g
		}, "approvalDays"},
		{"a negative approval period", func(d map[string]any) {
			g := gov(2, "AsylumOfficeMSP", "BorderPoliceMSP", "ImmigrationAuthorityMSP")
			g["approvalDays"] = -1
			channel(d, 0)["governance"] = g
		}, "approvalDays"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMembership(mutate(t, tc.f))
			if err == nil || KindOf(err) != KindInvalidArgument || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want INVALID_ARGUMENT mentioning %q", err, tc.want)
			}
		})
	}
}

func TestGovernanceOfDefaults(t *testing.T) {
	m := demoMembership(t)
	for i := range m.Channels {
		m.Channels[i].Governance = nil
	}
	nat, _ := m.Channel("national")
	if g := m.GovernanceOf(nat); g.OutOf != 2 || strings.Join(g.Orgs, ",") != "AsylumOfficeMSP,BorderPoliceMSP,ImmigrationAuthorityMSP" || g.ApprovalDays != DefaultApprovalDays {
		t.Fatalf("national default %+v", g)
	}
	dub, _ := m.Channel("dublin")
	if g := m.GovernanceOf(dub); g.OutOf != 2 || strings.Join(g.Orgs, ",") != "AsylumOfficeMSP,PartnerStateMSP" {
		t.Fatalf("dublin default %+v", g)
	}
}

func TestCheckSuccessor(t *testing.T) {
	cur := demoMembership(t)
	grow := func(f func(m *Membership)) Membership {
		var m Membership
		b, _ := EncodeCanonical(cur)
		if err := DecodeStrict(b, &m); err != nil {
			t.Fatal(err)
		}
		f(&m)
		return m
	}
	ok := grow(func(m *Membership) {
		m.Members = append(m.Members, Member{MSPID: "NewMSP", Kind: AgencyImmigrationAuthority, MemberState: "DE"})
		m.Channels[0].Members = append(m.Channels[0].Members, "NewMSP")
	})
	if err := cur.CheckSuccessor(ok, "national"); err != nil {
		t.Fatal(err)
	}
	// Leaving: off the channel, still a member.
	left := grow(func(m *Membership) {
		m.Channels[0].Members = []string{"AsylumOfficeMSP", "BorderPoliceMSP", "AuditorMSP"}
	})
	if err := cur.CheckSuccessor(left, "national"); err != nil {
		t.Fatal(err)
	}
	for name, next := range map[string]Membership{
		"member dropped":  grow(func(m *Membership) { m.Members = m.Members[1:]; m.Channels[0].Members = m.Channels[0].Members[1:] }),
		"member recast":   grow(func(m *Membership) { m.Members[2].Kind = AgencyBorderPolice }),
		"channel dropped": grow(func(m *Membership) { m.Channels = m.Channels[:1] }),
		"ungovernable":    grow(func(m *Membership) { m.Channels[0].Members = []string{"AuditorMSP"}; m.Channels[0].Governance = nil }),
		"channel renamed": grow(func(m *Membership) { m.Channels[0].Name = "national2" }),
		"state moved":     grow(func(m *Membership) { m.Members[3].MemberState = "FR" }),
		"Dublin unit lost": grow(func(m *Membership) {
			m.Members[0].DublinUnit = false
			m.Channels[1].Members = m.Channels[1].Members[1:]
		}),
	} {
		if err := cur.CheckSuccessor(next, "national"); err == nil || KindOf(err) != KindInvalidArgument {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", name, err)
		}
	}
}

// FuzzParseMembershipDocument: whatever the bytes, the parser of gov:SetMembership's argument
// returns INVALID_ARGUMENT or a valid membership whose canonical encoding is exactly the input, so
// the hash an approval names covers the only bytes that decode to that membership.
func FuzzParseMembershipDocument(f *testing.F) {
	canon, err := EncodeCanonical(demoMembership(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(canon)
	f.Add(demoMembershipJSON(f))
	f.Add(bytes.Replace(canon, []byte(`"version":1,`), []byte(`"version":1,"version":1,`), 1))
	f.Add(bytes.Replace(canon, []byte(`"governance":`), []byte(`"Governance":`), 1))
	f.Add(bytes.Replace(canon, []byte(`"PartnerStateMSP"]}`), []byte(`"PartnerStateMSP"],"approvalDays":7}`), 1))
	f.Add(bytes.Replace(canon, []byte(`"PartnerStateMSP"]}`), []byte(`"PartnerStateMSP"],"approvalDays":0}`), 1))
	f.Add([]byte(`{"version":1,"members":[{"mspId":"A","kind":"auditor","memberState":"","dublinUnit":false}],"channels":[{"name":"a","procedure":"dublin","members":["A"]}]}`))
	f.Add([]byte(`{"version":1,"members":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMembershipDocument(data)
		if err != nil {
			if KindOf(err) != KindInvalidArgument {
				t.Fatalf("error kind %s: %v", KindOf(err), err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted but invalid: %v", err)
		}
		b, err := EncodeCanonical(m)
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("accepted a document that is not its canonical encoding")
		}
		for _, ch := range m.Channels {
			g := m.GovernanceOf(ch)
			if g.OutOf < 1 && len(g.Orgs) > 0 || g.OutOf > len(g.Orgs) && len(g.Orgs) > 0 {
				t.Fatalf("governance %+v", g)
			}
			if g.ApprovalDays < 1 || g.ApprovalDays > MaxApprovalDays {
				t.Fatalf("approval period %+v", g)
			}
		}
	})
}

// TestApprovalCounts: an approval counts from its timestamp up to, not including, its expiry; the
// period is the rule's ApprovalDays or the default.
func TestApprovalCounts(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name  string
		days  int
		now   time.Time
		count bool
	}{
		{"at once", 0, at, true},
		{"default, a second inside", 0, at.Add(14*day - time.Second), true},
		{"default, at the expiry", 0, at.Add(14 * day), false},
		{"default, long after", 0, at.Add(200 * day), false},
		{"one day, a second inside", 1, at.Add(day - time.Second), true},
		{"one day, at the expiry", 1, at.Add(day), false},
		{"a year, inside", 366, at.Add(365 * day), true},
		{"judged before the approval (clock skew between transactions)", 0, at.Add(-time.Minute), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := Governance{OutOf: 1, Orgs: []string{"AsylumOfficeMSP"}, ApprovalDays: tc.days}
			if got := g.ApprovalCounts(at, tc.now); got != tc.count {
				t.Fatalf("ApprovalCounts = %v, want %v (expiry %s)", got, tc.count, g.ApprovalExpiry(at))
			}
		})
	}
}
