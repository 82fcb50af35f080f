package load

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
	"github.com/caseledger/caseledger/network"
)

func demoDesc(t testing.TB) network.Description {
	t.Helper()
	d, err := network.LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fixedClock(s string) func() time.Time {
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return tm }
}

type noHolidays struct{}

func (noHolidays) Holidays(string, int) (deadline.Holidays, bool, error) {
	return deadline.Holidays{}, false, nil
}

// TestScriptsFollowTheWorkflow walks many generated cases through the chaincode's own rules
// (domain.Apply / domain.ResolveDeadlines, with the membership and configuration the network
// generates): every write of every script must be accepted by the agency and role that makes it.
func TestScriptsFollowTheWorkflow(t *testing.T) {
	desc := demoDesc(t)
	n, err := network.New(desc, network.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := n.ChaincodeConfig()
	if !cfg.Visibility.RefusePublicDetails {
		t.Fatal("the generated chaincode configuration accepts withheld details as arguments")
	}
	vis, err := cfg.Visibility.Policy()
	if err != nil {
		t.Fatal(err)
	}
	withheld := map[string]int{}
	for _, now := range []string{"2026-11-27T12:00:00Z", "2027-01-01T11:00:00Z", "2027-03-01T12:30:00Z", "2027-08-15T10:00:00Z"} {
		t.Run(now, func(t *testing.T) {
			clock := fixedClock(now)
			w, err := NewWorkload(desc, Mix{DublinShare: 0.5, LateDublinShare: 0.5, ReadShare: 0.3}, "t", clock)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			kinds := map[string]int{}
			for id := range 300 {
				c := w.NewCase(rng, id)
				ch, ok := cfg.Membership.Channel(c.Channel)
				if !ok || string(ch.Procedure) != c.Procedure {
					t.Fatalf("case %d on channel %q procedure %q", id, c.Channel, c.Procedure)
				}
				env := domain.Env{Membership: cfg.Membership, Channel: ch, TxTime: clock(),
					Today:          func(string) deadline.Date { return deadline.DateOf(clock()) },
					LateWindowDays: cfg.LateRecordingDays, Deadlines: cfg.Deadlines, Holidays: noHolidays{},
					TxID: strings.Repeat("ab", 32)}
				var state *domain.CaseState
				for i, op := range c.Ops {
					if op.Case != c {
						t.Fatalf("case %d op %d points to another case", id, i)
					}
					if !op.Kind.Write() {
						if i == 0 || c.Ops[i-1].Actor != op.Actor {
							t.Fatalf("case %d: read %d is not by the agency that just wrote", id, i)
						}
						continue
					}
					kinds[op.Kind.String()]++
					mem, ok := cfg.Membership.Member(op.Actor.MSPID)
					if !ok {
						t.Fatalf("unknown member %s", op.Actor.MSPID)
					}
					actor := domain.Actor{Member: mem, Role: domain.Role(op.Actor.Role)}
					env.RequestID = op.RequestID
					var next domain.CaseState
					var ev domain.Event
					switch op.Kind {
					case OpResolve:
						next, ev, err = domain.ResolveDeadlines(state, actor, env)
					default:
						in := domain.EventInput{VocabularyVersion: 1, Code: domain.EventCode(op.Event.Code), OccurredOn: op.Event.OccurredOn}
						if op.Kind == OpEvent {
							// What the bare driver sends, checked as the chaincode checks it
							// (withheld details refused as arguments, as the network configures it).
							pl, det, err := op.Event.Split(ch.Procedure)
							if err != nil {
								t.Fatalf("case %d %s split: %v", id, op.Event.Code, err)
							}
							var d *domain.DetailsInput
							in, d, _, err = vis.DecodeEvent(cfg.Membership, ch, []byte(pl), det, cfg.Visibility.RefusePublicDetails)
							if err != nil {
								t.Fatalf("case %d %s payload %s details %s: %v", id, op.Event.Code, pl, det, err)
							}
							if want := len(vis.PrivateFields(ch.Procedure, in.Code)) > 0 && len(op.Event.Fields) > 0; (d != nil) != want {
								t.Fatalf("case %d %s: details %s", id, op.Event.Code, det)
							}
							if d != nil {
								withheld[d.Collection]++
							}
						}
						next, ev, err = domain.Apply(state, c.Pseudonym, in, actor, env)
					}
					if err != nil {
						t.Fatalf("case %d (%s) step %d %s %s by %s/%s from %v: %v", id, c.Procedure, i, op.Kind, op.Event.Code, op.Actor.MSPID, op.Actor.Role, statusOf(state), err)
					}
					if string(ev.Code) != op.Event.Code {
						t.Fatalf("case %d step %d recorded %s, script expects %s", id, i, ev.Code, op.Event.Code)
					}
					state = &next
				}
				if state == nil || state.Seq != uint64(len(c.Codes())) {
					t.Fatalf("case %d ends at %+v, want seq %d", id, state, len(c.Codes()))
				}
				if len(c.Refs) == 0 {
					t.Fatalf("case %d has no local references", id)
				}
				for org, ref := range c.Refs {
					if !strings.HasPrefix(ref, "LG-t-") {
						t.Fatalf("case %d ref of %s = %q", id, org, ref)
					}
				}
			}
			for _, k := range []string{"register", "event", "resolve-deadlines"} {
				if kinds[k] == 0 {
					t.Fatalf("no %s operation in 300 cases: %v", k, kinds)
				}
			}
		})
	}
	// The script's withheld details reach both national audiences in the transient map.
	if withheld["national-agencies"] == 0 || withheld["national-decision"] == 0 {
		t.Fatalf("transient details by collection: %v", withheld)
	}
}

// TestEventSplit: the bare driver's transient details are the canonical {collection, salt,
// fields} of the event's audience with the operation's own 64-hex salt, the same for a retry of
// the operation, and the public payload keeps the rest.
func TestEventSplit(t *testing.T) {
	e := Event{Code: "DECISION_ISSUED", OccurredOn: "2027-01-04", Fields: map[string]any{"outcome": "REJECTED"}, Salt: newSalt()}
	pl, det, err := e.Split("national")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"vocabularyVersion":1,"code":"DECISION_ISSUED","occurredOn":"2027-01-04"}`; pl != want {
		t.Fatalf("payload %s, want %s", pl, want)
	}
	if want := `{"collection":"national-decision","salt":"` + e.Salt + `","outcome":"REJECTED"}`; string(det) != want {
		t.Fatalf("details %s, want %s", det, want)
	}
	if !domain.IsHash64(e.Salt) {
		t.Fatalf("salt %q", e.Salt)
	}
	if _, again, _ := e.Split("national"); string(again) != string(det) {
		t.Fatal("a retry of the operation sends other details")
	}
	if newSalt() == e.Salt {
		t.Fatal("salts repeat")
	}
	// No withheld field: no details. On the Dublin channel the scheduled date stays public.
	for _, c := range []struct {
		p string
		e Event
	}{
		{"national", Event{Code: "HEARING_HELD", OccurredOn: "2027-01-04", Salt: newSalt()}},
		{"dublin", Event{Code: "TRANSFER_SCHEDULED", OccurredOn: "2027-01-04", Fields: map[string]any{"scheduledFor": "2027-01-20"}, Salt: newSalt()}},
	} {
		pl, det, err := c.e.Split(domain.Procedure(c.p))
		if err != nil || det != nil || pl != c.e.Payload() {
			t.Fatalf("%s %s: %s %s %v", c.p, c.e.Code, pl, det, err)
		}
	}
}

func statusOf(s *domain.CaseState) string {
	if s == nil {
		return "(new)"
	}
	return string(s.Status)
}

// TestMixShares checks that the drawn shares follow the mix.
func TestMixShares(t *testing.T) {
	desc := demoDesc(t)
	for _, m := range []Mix{DefaultMix(), {DublinShare: 0, ReadShare: 0}, {DublinShare: 1, LateDublinShare: 1, ReadShare: 1}, {DublinShare: 0.5, LateDublinShare: 0, ReadShare: 0.5}} {
		w, err := NewWorkload(desc, m, "x", time.Now)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		const cases = 4000
		var dublin, late, writes, reads int
		for i := range cases {
			c := w.NewCase(rng, i)
			if c.Procedure == "dublin" {
				dublin++
				for _, op := range c.Ops {
					if op.Kind == OpResolve {
						late++
					}
				}
			}
			for _, op := range c.Ops {
				if op.Kind.Write() {
					writes++
				} else {
					reads++
				}
			}
		}
		near := func(what string, got, want float64) {
			if math.Abs(got-want) > 0.03 {
				t.Errorf("mix %+v: %s %.3f, want %.2f", m, what, got, want)
			}
		}
		near("Dublin share", float64(dublin)/cases, m.DublinShare)
		if dublin > 0 {
			near("late Dublin share", float64(late)/float64(dublin), m.LateDublinShare)
		}
		near("reads per write", float64(reads)/float64(writes), m.ReadShare)
	}
}

func TestNewWorkloadRefusesUnfitTopologies(t *testing.T) {
	tests := []struct {
		name string
		edit func(*network.Description)
		mix  Mix
	}{
		{"no national channel", func(d *network.Description) { d.Channels = d.Channels[1:] }, DefaultMix()},
		{"no Dublin channel but Dublin share", func(d *network.Description) { d.Channels = d.Channels[:1] }, DefaultMix()},
		{"no border police", func(d *network.Description) { d.Orgs[1].Kind = "reception-centre" }, DefaultMix()},
		{"partner in the same state", func(d *network.Description) { d.Orgs[3].MemberState = "DE" }, DefaultMix()},
		{"no dublin officer", func(d *network.Description) { d.Orgs[3].Users = nil }, DefaultMix()},
		{"share out of range", func(*network.Description) {}, Mix{DublinShare: 1.5}},
		{"negative share", func(*network.Description) {}, Mix{ReadShare: -0.1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := demoDesc(t)
			tc.edit(&d)
			if _, err := NewWorkload(d, tc.mix, "x", time.Now); err == nil {
				t.Fatal("accepted")
			} else if !errors.Is(err, ErrTopology) && !strings.Contains(err.Error(), "want 0..1") {
				t.Fatalf("error %v", err)
			}
		})
	}
	// Without Dublin cases a national-only network is enough.
	d := demoDesc(t)
	d.Channels = d.Channels[:1]
	w, err := NewWorkload(d, Mix{ReadShare: 0.1}, "x", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Channels(); len(got) != 1 || got[0] != "national" {
		t.Fatalf("channels %v", got)
	}
}

func FuzzMixValidate(f *testing.F) {
	f.Add(0.2, 0.0, 0.2)
	f.Add(1.0, 1.0, 1.0)
	f.Add(-0.1, 0.5, 2.0)
	f.Fuzz(func(t *testing.T, dublin, late, reads float64) {
		m := Mix{DublinShare: dublin, LateDublinShare: late, ReadShare: reads}
		if m.Validate() != nil {
			return
		}
		for _, v := range []float64{dublin, late, reads} {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("accepted %+v", m)
			}
		}
	})
}
