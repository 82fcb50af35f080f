package domain

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func demoMembershipJSON(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/membership.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func demoMembership(t testing.TB) Membership {
	t.Helper()
	m, err := DecodeMembership(demoMembershipJSON(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDecodeMembershipDemo(t *testing.T) {
	m := demoMembership(t)
	ao, ok := m.Member("AsylumOfficeMSP")
	if !ok || ao.Kind != AgencyAsylumOffice || ao.MemberState != "DE" || !ao.DublinUnit {
		t.Fatalf("AsylumOfficeMSP = %+v", ao)
	}
	ch, ok := m.ChannelFor(ProcedureDublin)
	if !ok || ch.Name != "dublin" || !ch.OnChannel("PartnerStateMSP") || ch.OnChannel("BorderPoliceMSP") {
		t.Fatalf("dublin channel = %+v", ch)
	}
	if u, ok := m.DublinUnitOf(ch, "AT"); !ok || u.MSPID != "PartnerStateMSP" {
		t.Fatalf("Dublin unit of AT = %+v", u)
	}
	if _, ok := m.DublinUnitOf(ch, "FR"); ok {
		t.Fatal("no Dublin unit of FR expected")
	}
}

// mutate applies a change to the demo document (as generic JSON).
func mutate(t *testing.T, f func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(demoMembershipJSON(t), &doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func member(doc map[string]any, i int) map[string]any {
	return doc["members"].([]any)[i].(map[string]any)
}

func channel(doc map[string]any, i int) map[string]any {
	return doc["channels"].([]any)[i].(map[string]any)
}

func TestDecodeMembershipRefuses(t *testing.T) {
	tests := []struct {
		name string
		f    func(doc map[string]any)
		want string
	}{
		{"unknown top-level field", func(d map[string]any) { d["extra"] = 1 }, "unknown field"},
		{"unknown member field", func(d map[string]any) { member(d, 0)["name"] = "Max" }, "unknown field"},
		{"version", func(d map[string]any) { d["version"] = 2 }, "version"},
		{"no members", func(d map[string]any) { d["members"] = []any{} }, "members"},
		{"bad msp id", func(d map[string]any) { member(d, 0)["mspId"] = "Asylum Office" }, "mspId"},
		{"duplicate msp id", func(d map[string]any) { member(d, 1)["mspId"] = "AsylumOfficeMSP" }, "duplicate"},
		{"unknown kind", func(d map[string]any) { member(d, 0)["kind"] = "police" }, "kind"},
		{"unknown member state", func(d map[string]any) { member(d, 0)["memberState"] = "XX" }, "memberState"},
		{"lower-case member state", func(d map[string]any) { member(d, 0)["memberState"] = "de" }, "memberState"},
		{"partner state not a Dublin unit", func(d map[string]any) { member(d, 3)["dublinUnit"] = false }, "Dublin unit"},
		{"auditor as Dublin unit", func(d map[string]any) { member(d, 4)["dublinUnit"] = true }, "auditor"},
		{"channel name", func(d map[string]any) { channel(d, 0)["name"] = "National" }, "channel name"},
		{"duplicate channel", func(d map[string]any) { channel(d, 1)["name"] = "national" }, "duplicate"},
		{"unknown procedure", func(d map[string]any) { channel(d, 0)["procedure"] = "asylum" }, "procedure"},
		{"procedure twice", func(d map[string]any) { channel(d, 1)["procedure"] = "national" }, "already runs"},
		{"unknown channel member", func(d map[string]any) {
			channel(d, 0)["members"] = []any{"AsylumOfficeMSP", "GhostMSP"}
		}, "not a member"},
		{"non Dublin unit on dublin channel", func(d map[string]any) {
			channel(d, 1)["members"] = []any{"AsylumOfficeMSP", "BorderPoliceMSP"}
		}, "only Dublin units"},
		{"partner state on national channel", func(d map[string]any) {
			channel(d, 0)["members"] = []any{"AsylumOfficeMSP", "PartnerStateMSP"}
		}, "partner state"},
		{"national channel across states", func(d map[string]any) { member(d, 1)["memberState"] = "AT" }, "one member state"},
		{"duplicate channel member", func(d map[string]any) {
			channel(d, 0)["members"] = []any{"AsylumOfficeMSP", "AsylumOfficeMSP"}
		}, "duplicate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMembership(mutate(t, tc.f))
			if err == nil {
				t.Fatal("accepted")
			}
			if KindOf(err) != KindInvalidArgument || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want INVALID_ARGUMENT mentioning %q", err, tc.want)
			}
		})
	}
	for _, raw := range []string{"", "null", "[]", `{"version":1}`, string(demoMembershipJSON(t)) + "{}"} {
		if _, err := DecodeMembership([]byte(raw)); err == nil {
			t.Errorf("accepted %q", raw)
		}
	}
}

func FuzzDecodeMembership(f *testing.F) {
	f.Add(demoMembershipJSON(f))
	f.Add([]byte(`{"version":1,"members":[{"mspId":"A","kind":"auditor","memberState":"","dublinUnit":false}],"channels":[{"name":"a","procedure":"dublin","members":["A"]}]}`))
	f.Add([]byte(`{"version":1,"members":[],"channels":[]}`))
	f.Add([]byte(`{"version":1,"members":null}`))
	f.Add([]byte(`[1,2,3]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMembership(data)
		if err != nil {
			if KindOf(err) != KindInvalidArgument {
				t.Fatalf("error kind %s", KindOf(err))
			}
			return
		}
		// Accepted documents validate, and survive a round trip unchanged.
		if err := m.Validate(); err != nil {
			t.Fatalf("accepted but invalid: %v", err)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := DecodeMembership(b)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		b2, _ := json.Marshal(m2)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed the document")
		}
		for _, mem := range m.Members {
			if !IsMSPID(mem.MSPID) || !mem.Kind.Valid() {
				t.Fatalf("bad member %q", mem.MSPID)
			}
		}
	})
}
