package chaincode

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

const (
	salt1 = "8d1f0c6b2a4e9f3d5c7b1a0e2d4f6a8c9b3e5d7f1a2c4e6b8d0f2a4c6e8b0d2f"
	salt2 = "0f2a4c6e8b0d2f8d1f0c6b2a4e9f3d5c7b1a0e2d4f6a8c9b3e5d7f1a2c4e6b8d"
)

// newLegacyNet is newNet with refusePublicDetails off: withheld details accepted as public
// arguments (no generated configuration does this; TestPublicDetailsAcceptedUntilRefused).
func newLegacyNet(t testing.TB) *net {
	n := newNet(t, t0)
	cfg := n.cc.c.cfg
	cfg.Visibility.RefusePublicDetails = false
	cc, err := New(cfg, WithClock(n.clock))
	if err != nil {
		t.Fatal(err)
	}
	n.cc = cc
	return n
}

// invokeT is invoke with a transient map.
func (n *net) invokeT(channel, identity string, transient map[string][]byte, fn string, args ...string) result {
	n.t.Helper()
	tx := n.ledger[channel].NewTx(n.ids[identity], n.clock(), append([]string{fn}, args...)...)
	tx.SetTransient(transient)
	resp := n.cc.Invoke(tx)
	if resp.Status == 200 {
		tx.Commit()
	}
	return result{status: resp.Status, payload: string(resp.Payload), message: resp.Message, tx: tx}
}

func details(coll, salt, fields string) map[string][]byte {
	return map[string][]byte{domain.TransientDetailsKey: []byte(`{"collection":"` + coll + `","salt":"` + salt + `"` + fields + `}`)}
}

func (n *net) timeline(identity, p string) []domain.Event {
	return decode[api.Page[domain.Event]](n.t, n.must("national", identity, "cases:GetTimeline", p, "", "")).Items
}

func TestPrivateDetails(t *testing.T) {
	n := newNet(t, t0)
	led := n.ledger["national"]
	p := newID()
	today := n.today()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, today)
	ok := func(identity string, tr map[string][]byte, fn string, args ...string) {
		t.Helper()
		if r := n.invokeT("national", identity, tr, fn, args...); r.status != 200 {
			t.Fatalf("%s as %s: %s", fn, identity, r.message)
		}
	}
	refuse := func(want domain.Kind, msg, identity string, tr map[string][]byte, fn string, args ...string) {
		t.Helper()
		r := n.invokeT("national", identity, tr, fn, args...)
		if r.status == 200 || r.kind() != want || !strings.Contains(r.message, msg) {
			t.Fatalf("%s as %s: %d %s, want %s containing %q", fn, identity, r.status, r.message, want, msg)
		}
		if len(r.tx.Writes()) != 0 || len(r.tx.PrivateWrites()) != 0 {
			t.Fatalf("%s as %s: a refused transaction left writes", fn, identity)
		}
	}
	check := payload(domain.EvIdentityChecked, today, nil)

	// Refusals, each without a trace.
	refuse(domain.KindInvalidArgument, "withheld detail sent as a public argument", "bp", nil,
		"cases:RecordEvent", newID(), p, payload(domain.EvIdentityChecked, today, map[string]any{"eurodacHit": "CATEGORY_1"}))
	refuse(domain.KindInvalidArgument, "no such collection", "bp", details("national-everything", salt1, `,"eurodacHit":"CATEGORY_1"`), "cases:RecordEvent", newID(), p, check)
	refuse(domain.KindInvalidArgument, "no details for this collection", "bp", details("national-decision", salt1, `,"eurodacHit":"CATEGORY_1"`), "cases:RecordEvent", newID(), p, check)
	refuse(domain.KindInvalidArgument, "salt", "bp", details("national-agencies", "abc", `,"eurodacHit":"CATEGORY_1"`), "cases:RecordEvent", newID(), p, check)
	refuse(domain.KindPersonalData, "", "bp", map[string][]byte{"details": []byte(`{"collection":"national-agencies","salt":"` + salt1 + `","eurodacHit":"Max Mustermann","eurodacHit":"CATEGORY_1"}`)}, "cases:RecordEvent", newID(), p, check)
	refuse(domain.KindInvalidArgument, "only the key", "bp", map[string][]byte{"details": nil, "name": []byte("Max")}, "cases:RecordEvent", newID(), p, check)
	refuse(domain.KindInvalidArgument, "accepted by cases:RecordEvent only", "bp", details("national-agencies", salt1, `,"eurodacHit":"CATEGORY_1"`), "cases:GetCase", p)
	refuse(domain.KindInvalidArgument, "accepted by cases:RecordEvent only", "bp", details("national-agencies", salt1, `,"eurodacHit":"CATEGORY_1"`), "cases:RegisterCase", newID(), newID(), today)

	// The identity check: details to national-agencies, a marker on the public event.
	ok("bp", details("national-agencies", salt1, `,"eurodacHit":"CATEGORY_1"`), "cases:RecordEvent", newID(), p, check)
	pub, _ := led.Get(eventKey(p, 2))
	if strings.Contains(string(pub), "CATEGORY_1") || !strings.Contains(string(pub), `"withheld":"national-agencies"`) {
		t.Fatalf("public event: %s", pub)
	}
	rec, _ := led.PrivateData("national-agencies", eventKey(p, 2))
	if string(rec) != `{"pseudonym":"`+p+`","seq":2,"code":"IDENTITY_CHECKED","salt":"`+salt1+`","eurodacHit":"CATEGORY_1"}` {
		t.Fatalf("private record: %s", rec)
	}

	n.must("national", "ao", "cases:RecordEvent", newID(), p, payload(domain.EvFileCreated, today, nil))
	n.must("national", "ao", "cases:RecordEvent", newID(), p, payload(domain.EvApplicationLodged, today, nil))
	decision := payload(domain.EvDecisionIssued, today, nil)
	// The border police is not in the decision's audience (nor may it decide).
	refuse(domain.KindForbidden, "not in the audience", "bp", details("national-decision", salt2, `,"outcome":"REJECTED"`), "cases:RecordEvent", newID(), p, decision)
	req := newID()
	ok("ao", details("national-decision", salt2, `,"outcome":"REJECTED"`), "cases:RecordEvent", req, p, decision)
	// A retry with other details under the same request id is a conflict, not a second record.
	refuse(domain.KindConflict, "", "ao", details("national-decision", salt2, `,"outcome":"INADMISSIBLE"`), "cases:RecordEvent", req, p, decision)

	st := n.getCase("national", p)
	if st.National == nil || st.National.Outcome != "" || st.National.EurodacHit != "" || !st.National.NegativeDecision {
		t.Fatalf("public state: %+v", st.National)
	}
	raw, _ := led.Get(caseKey(p))
	if strings.Contains(string(raw), "REJECTED") {
		t.Fatalf("public state holds the outcome: %s", raw)
	}

	// Each agency's timeline: details where it is in the audience, the marker otherwise.
	for _, c := range []struct {
		who          string
		outcome, hit string
	}{
		{"ao", "REJECTED", "CATEGORY_1"}, {"ia", "REJECTED", "CATEGORY_1"}, {"bp", "", "CATEGORY_1"}, {"aud", "", ""},
	} {
		evs := n.timeline(c.who, p)
		if len(evs) != 5 || evs[4].Withheld != "national-decision" || string(evs[4].Outcome) != c.outcome ||
			evs[1].Withheld != "national-agencies" || string(evs[1].EurodacHit) != c.hit {
			b, _ := json.Marshal(evs)
			t.Errorf("timeline as %s: %s", c.who, b)
		}
	}

	// Each agency's case view: the facts it is entitled to, from its own peer's private data.
	for _, c := range []struct{ who, outcome, hit string }{
		{"ao", "REJECTED", "CATEGORY_1"}, {"ia", "REJECTED", "CATEGORY_1"}, {"bp", "", "CATEGORY_1"}, {"aud", "", ""},
	} {
		st := decode[domain.CaseState](t, n.must("national", c.who, "cases:GetCase", p))
		if string(st.National.Outcome) != c.outcome || string(st.National.EurodacHit) != c.hit || !st.National.NegativeDecision {
			t.Errorf("case as %s: %+v", c.who, st.National)
		}
	}

	// Return counselling follows on the derived public fact.
	n.must("national", "ia", "cases:RecordEvent", newID(), p, payload(domain.EvReturnCounselling, today, nil))

	// Erasure: details stay until every holder confirmed, then are purged; hashes remain.
	n.must("national", "bp", "erasure:RequestErasure", newID(), p, today)
	n.must("national", "bp", "erasure:ConfirmErasure", newID(), p, today)
	n.must("national", "ao", "erasure:ConfirmErasure", newID(), p, today)
	if len(led.PrivateKeys("national-decision")) != 1 {
		t.Fatal("details purged before every holder confirmed")
	}
	n.must("national", "ia", "erasure:ConfirmErasure", newID(), p, today)
	for _, coll := range []string{"national-agencies", "national-decision"} {
		if keys := led.PrivateKeys(coll); len(keys) != 0 {
			t.Errorf("%s after erasure: %q", coll, keys)
		}
	}
	// The purge deletes the hashed key from the state as well (Fabric 2.5); the hash stays in the
	// block (the auditor's verification, gateway/audit_private.go).
	probe := led.NewTx(nil, n.clock(), "probe")
	if h, _ := probe.GetPrivateDataHash("national-decision", eventKey(p, 5)); h != nil {
		t.Errorf("the purged record's hash is still in the state: %x", h)
	}
	if evs := n.timeline("ia", p); evs[4].Withheld != "national-decision" || evs[4].Outcome != "" {
		t.Errorf("timeline after purge: %+v", evs[4])
	}
}

// Only with RefusePublicDetails explicitly off (no generated configuration) is a public detail
// recorded as before, in the block and the public state for every member.
func TestPublicDetailsAcceptedUntilRefused(t *testing.T) {
	n := newLegacyNet(t)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	r := n.invokeRaw("national", "bp", "cases:RecordEvent", newID(), p, payload(domain.EvIdentityChecked, n.today(), map[string]any{"eurodacHit": "NONE"}))
	if r.status != 200 {
		t.Fatal(r.message)
	}
	if st := n.getCase("national", p); st.National.EurodacHit != domain.EurodacNone {
		t.Fatalf("legacy payload: %+v", st.National)
	}
	n.must("national", "bp", "anchors:AnchorDocument", newID(), p, strings.Repeat("ab", 32), "DECISION", n.today())
}

// TestPublicDetailsRefusedByDefault: with the configuration the network generates
// (testdata/config.json, tied to it by network's TestMembershipFixturesAreTheDemoTopology), every
// withheld detail of the visibility table sent as a public argument by a client calling the peers
// directly is refused with INVALID_ARGUMENT and leaves no trace: no public or private write, no
// event; the message names the field, never the value. The same detail in the transient map is
// recorded.
func TestPublicDetailsRefusedByDefault(t *testing.T) {
	n := newNet(t, t0)
	if !n.cc.c.cfg.Visibility.RefusePublicDetails {
		t.Fatal("refusePublicDetails is off in the default configuration")
	}
	// A valid value for every withheld field, and the public fields its event needs.
	samples := map[domain.Field]any{
		"eurodacHit": "CATEGORY_2", "regionCode": "DE-HH", "outcome": "INADMISSIBLE", "suspensive": true,
		"appealOutcome": "UPHELD", "closureReason": "DEPARTED", "documentType": "HEARING_MINUTES",
	}
	needs := map[domain.EventCode]map[string]any{domain.EvDocumentAnchored: {"documentHash": strings.Repeat("9c", 32)}}
	who := map[domain.Procedure]struct{ channel, id string }{"national": {"national", "ao"}, "dublin": {"dublin", "ao-do"}}
	cases := map[domain.Procedure]string{"national": newID(), "dublin": newID()}
	n.must("national", "bp", "cases:RegisterCase", newID(), cases["national"], n.today())
	n.must("dublin", "ao-do", "cases:RegisterCase", newID(), cases["dublin"], n.today())
	tried := 0
	for _, rule := range domain.DefaultVisibility().Rules {
		if !rule.Private() {
			continue
		}
		t.Run(string(rule.Procedure)+"/"+string(rule.Code)+"/"+string(rule.Field), func(t *testing.T) {
			value, ok := samples[rule.Field]
			if !ok {
				t.Fatalf("no sample value for the withheld field %s: add one", rule.Field)
			}
			c := who[rule.Procedure]
			fields := map[string]any{string(rule.Field): value}
			for k, v := range needs[rule.Code] {
				fields[k] = v
			}
			led := n.ledger[c.channel]
			before := len(led.Keys())
			events := len(led.Events())
			r := n.invokeRaw(c.channel, c.id, "cases:RecordEvent", newID(), cases[rule.Procedure], payload(rule.Code, n.today(), fields))
			if r.status == 200 || r.kind() != domain.KindInvalidArgument || !strings.Contains(r.message, "withheld detail sent as a public argument") {
				t.Fatalf("public %s: %d %s, want INVALID_ARGUMENT", rule.Field, r.status, r.message)
			}
			if s := fmt.Sprint(value); s != "true" && strings.Contains(r.message, s) {
				t.Fatalf("the refusal echoes the value: %s", r.message)
			}
			if len(r.tx.Writes()) != 0 || len(r.tx.PrivateWrites()) != 0 || len(led.Keys()) != before || len(led.Events()) != events {
				t.Fatal("a refused transaction left a trace")
			}
		})
		tried++
	}
	if tried < 9 {
		t.Fatalf("only %d withheld fields in the table", tried)
	}
	// AnchorDocument's documentType is the same detail under another function.
	r := n.invokeRaw("national", "bp", "anchors:AnchorDocument", newID(), cases["national"], strings.Repeat("7a", 32), "DECISION", n.today())
	if r.kind() != domain.KindInvalidArgument || len(r.tx.Writes()) != 0 {
		t.Fatalf("AnchorDocument with a public documentType: %d %s", r.status, r.message)
	}
	// The same detail in the transient map is what an honest client sends: recorded, withheld.
	ok := n.invokeT("national", "bp", details("national-agencies", salt1, `,"eurodacHit":"CATEGORY_2"`), "cases:RecordEvent", newID(), cases["national"],
		payload(domain.EvIdentityChecked, n.today(), nil))
	if ok.status != 200 {
		t.Fatal(ok.message)
	}
	if pub, _ := n.ledger["national"].Get(eventKey(cases["national"], 2)); strings.Contains(string(pub), "CATEGORY_2") {
		t.Fatalf("public event holds the detail: %s", pub)
	}
}

func TestAnchorDocumentTypeIsADetail(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	hash := strings.Repeat("cd", 32)
	n.refuse(domain.KindInvalidArgument, "national", "bp", "anchors:AnchorDocument", newID(), p, hash, "DECISION", n.today())
	n.must("national", "bp", "anchors:AnchorDocument", newID(), p, hash, "", n.today())
	// With its type as a detail, through RecordEvent.
	hash2 := strings.Repeat("ef", 32)
	r := n.invokeT("national", "bp", details("national-agencies", salt1, `,"documentType":"DECISION"`), "cases:RecordEvent", newID(), p,
		payload(domain.EvDocumentAnchored, n.today(), map[string]any{"documentHash": hash2}))
	if r.status != 200 {
		t.Fatal(r.message)
	}
	v := decode[api.Verification](t, n.must("national", "aud", "anchors:VerifyAnchor", p, hash2))
	if !v.Anchored || v.Anchor == nil || v.Anchor.DocumentType != "" {
		t.Fatalf("public anchor: %+v", v)
	}
	if evs := n.timeline("ia", p); evs[2].DocumentType != "DECISION" || evs[2].Withheld != "national-agencies" {
		t.Fatalf("timeline as a member: %+v", evs[2])
	}
}

// BenchmarkRecordEventDetails: one endorsement of a DOCUMENT_ANCHORED write with its type as a
// public payload field (before need to know) and as transient details (salted private record,
// marker on the public event, docs/performance.md).
func BenchmarkRecordEventDetails(b *testing.B) {
	for _, private := range []bool{false, true} {
		name := "public"
		if private {
			name = "private"
		}
		b.Run(name, func(b *testing.B) {
			// "public" is the cost before the policy: the detail as an argument, which only a
			// configuration with the refusal switched off accepts.
			var n *net
			if private {
				n = newNet(b, t0)
			} else {
				n = newLegacyNet(b)
			}
			p := newID()
			n.must("national", "ao", "cases:RegisterCase", newID(), p, n.today())
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fields := map[string]any{"documentHash": hashOf(i)}
				var tr map[string][]byte
				if private {
					tr = details("national-agencies", salt1, `,"documentType":"DECISION"`)
				} else {
					fields["documentType"] = "DECISION"
				}
				tx := n.ledger["national"].NewTx(n.ids["ao"], n.clock(), "cases:RecordEvent", newID(), p,
					payload(domain.EvDocumentAnchored, n.today(), fields))
				tx.SetTransient(tr)
				if resp := n.cc.Invoke(tx); resp.Status != 200 {
					b.Fatal(resp.Message)
				}
			}
		})
	}
}
