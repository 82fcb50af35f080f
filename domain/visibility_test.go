package domain

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// Every field a code allows on a procedure has exactly one row, with a reason; no row names a
// field the code does not allow; every private row names an audience of its procedure.
func TestVisibilityCoversTheVocabulary(t *testing.T) {
	v := DefaultVisibility()
	seen := map[string]bool{}
	for _, r := range v.Rules {
		k := string(r.Procedure) + "/" + string(r.Code) + "/" + string(r.Field)
		if seen[k] {
			t.Errorf("%s: two rows", k)
		}
		seen[k] = true
		spec, ok := Spec(r.Code)
		if !ok || !spec.OnProcedure(r.Procedure) || !spec.Allows(r.Field) {
			t.Errorf("%s: the vocabulary does not allow this field there", k)
		}
		if strings.TrimSpace(r.Reason) == "" {
			t.Errorf("%s: no reason", k)
		}
		if r.Private() {
			if _, ok := v.Audience(r.Procedure, r.Audience); !ok {
				t.Errorf("%s: unknown audience %q", k, r.Audience)
			}
		}
	}
	for _, s := range Vocabulary() {
		for _, p := range s.Procedures {
			for _, f := range append(slices.Clone(s.Required), s.Optional...) {
				if _, ok := v.Rule(p, s.Code, f); !ok {
					t.Errorf("%s/%s/%s: no visibility row", p, s.Code, f)
				}
			}
		}
	}
	for _, a := range v.Audiences {
		if strings.TrimSpace(a.Reason) == "" || len(a.Kinds) == 0 || slices.Contains(a.Kinds, AgencyAuditor) {
			t.Errorf("audience %s/%s: needs a reason and kinds, never the auditor (that is the configured choice)", a.Procedure, a.Name)
		}
	}
}

// One private record per event: all private fields of a code share one audience.
func TestVisibilityOneAudiencePerEvent(t *testing.T) {
	v := DefaultVisibility()
	for _, s := range Vocabulary() {
		for _, p := range s.Procedures {
			var auds []Audience
			for _, f := range append(slices.Clone(s.Required), s.Optional...) {
				if r, _ := v.Rule(p, s.Code, f); r.Private() && !slices.Contains(auds, r.Audience) {
					auds = append(auds, r.Audience)
				}
			}
			if len(auds) > 1 {
				t.Errorf("%s/%s: private fields in %v", p, s.Code, auds)
			}
		}
	}
}

// Whoever may record an event belongs to the audience of its details: a recorder never writes
// what it may not read, and memberOnlyWrite can hold.
func TestRecordersAreInTheAudience(t *testing.T) {
	v := DefaultVisibility()
	for _, p := range []Procedure{ProcedureNational, ProcedureDublin} {
		for _, tr := range Transitions(p) {
			aud := v.EventAudience(p, tr.Event)
			if aud == AudienceChannel {
				continue
			}
			spec, _ := v.Audience(p, aud)
			for _, k := range tr.Agencies {
				if !slices.Contains(spec.Kinds, k) {
					t.Errorf("%s/%s: %s may record it but is not in audience %s", p, tr.Event, k, aud)
				}
			}
		}
	}
}

// The workflow never depends on a detail an endorser may not read: no guard reads a private
// national fact (the negative-decision guard reads the derived public fact), and on the Dublin
// channel every field that feeds a deadline stays public.
func TestWorkflowFieldsStayOnTheChannel(t *testing.T) {
	v := DefaultVisibility()
	for _, s := range Vocabulary() {
		if !s.OnProcedure(ProcedureDublin) {
			continue
		}
		for _, f := range append(slices.Clone(s.Required), s.Optional...) {
			if f == FieldDocumentType || f == FieldClosureReason {
				continue // the only Dublin details: nothing is computed from them
			}
			if r, _ := v.Rule(ProcedureDublin, s.Code, f); r.Private() {
				t.Errorf("dublin/%s/%s: a deadline fact must stay on the channel", s.Code, f)
			}
		}
	}
}

func TestVisibilityTable(t *testing.T) {
	hashes := DefaultVisibility()
	details, err := NewVisibility(AuditorDetails)
	if err != nil {
		t.Fatal(err)
	}
	nat, dub := ProcedureNational, ProcedureDublin
	for _, c := range []struct {
		v    Visibility
		p    Procedure
		code EventCode
		f    Field
		k    AgencyKind
		want bool
	}{
		{hashes, nat, EvDecisionIssued, FieldOutcome, AgencyAsylumOffice, true},
		{hashes, nat, EvDecisionIssued, FieldOutcome, AgencyImmigrationAuthority, true},
		{hashes, nat, EvDecisionIssued, FieldOutcome, AgencyBorderPolice, false},
		{hashes, nat, EvDecisionIssued, FieldOutcome, AgencyAuditor, false},
		{details, nat, EvDecisionIssued, FieldOutcome, AgencyAuditor, true},
		{hashes, nat, EvAllocated, FieldRegionCode, AgencyBorderPolice, false},
		{hashes, nat, EvAppealFiled, FieldSuspensive, AgencyBorderPolice, false},
		{hashes, nat, EvAppealDecided, FieldAppealOutcome, AgencyImmigrationAuthority, true},
		{hashes, nat, EvIdentityChecked, FieldEurodacHit, AgencyBorderPolice, true},
		{hashes, nat, EvIdentityChecked, FieldEurodacHit, AgencyAuditor, false},
		{hashes, nat, EvCaseClosed, FieldClosureReason, AgencyAuditor, false},
		{hashes, nat, EvDocumentAnchored, FieldDocumentType, AgencyAuditor, false},
		{hashes, nat, EvDocumentAnchored, FieldDocumentHash, AgencyAuditor, true},
		{hashes, nat, EvHearingScheduled, FieldScheduledFor, AgencyBorderPolice, true},
		{hashes, dub, EvTransferDeadlineExtended, FieldExtensionReason, AgencyAuditor, true},
		{hashes, dub, EvTakeChargeRequested, FieldEvidence, AgencyAuditor, true},
		{hashes, dub, EvCaseClosed, FieldClosureReason, AgencyPartnerState, true},
		{hashes, dub, EvCaseClosed, FieldClosureReason, AgencyAuditor, false},
		{details, dub, EvDocumentAnchored, FieldDocumentType, AgencyAuditor, true},
	} {
		if got := c.v.MayRead(c.p, c.code, c.f, c.k); got != c.want {
			t.Errorf("auditor=%s %s/%s/%s by %s: MayRead = %v, want %v", c.v.Auditor, c.p, c.code, c.f, c.k, got, c.want)
		}
	}
	if _, err := NewVisibility("everything"); KindOf(err) != KindInvalidArgument {
		t.Errorf("unknown auditor choice: %v", err)
	}
}

func TestCollections(t *testing.T) {
	m := demoMembership(t)
	nat, _ := m.ChannelFor(ProcedureNational)
	dub, _ := m.ChannelFor(ProcedureDublin)
	type want struct{ name, members, writers string }
	render := func(cs []CollectionSpec) []want {
		var out []want
		for _, c := range cs {
			out = append(out, want{c.Name, strings.Join(c.Members, ","), strings.Join(c.Writers, ",")})
		}
		return out
	}
	details, _ := NewVisibility(AuditorDetails)
	for _, c := range []struct {
		v    Visibility
		ch   Channel
		want []want
	}{
		{DefaultVisibility(), nat, []want{
			{"national-agencies", "AsylumOfficeMSP,BorderPoliceMSP,ImmigrationAuthorityMSP", "AsylumOfficeMSP,BorderPoliceMSP,ImmigrationAuthorityMSP"},
			{"national-decision", "AsylumOfficeMSP,ImmigrationAuthorityMSP", "AsylumOfficeMSP,ImmigrationAuthorityMSP"}}},
		{DefaultVisibility(), dub, []want{{"dublin-states", "AsylumOfficeMSP,PartnerStateMSP", "AsylumOfficeMSP,PartnerStateMSP"}}},
		{details, nat, []want{
			{"national-agencies", "AsylumOfficeMSP,AuditorMSP,BorderPoliceMSP,ImmigrationAuthorityMSP", "AsylumOfficeMSP,BorderPoliceMSP,ImmigrationAuthorityMSP"},
			{"national-decision", "AsylumOfficeMSP,AuditorMSP,ImmigrationAuthorityMSP", "AsylumOfficeMSP,ImmigrationAuthorityMSP"}}},
	} {
		if got := render(c.v.Collections(m, c.ch)); !slices.Equal(got, c.want) {
			t.Errorf("%s auditor=%s:\n got %v\nwant %v", c.ch.Name, c.v.Auditor, got, c.want)
		}
	}
}

func TestSplitAndMerge(t *testing.T) {
	v := DefaultVisibility()
	yes := true
	f := EventFields{Outcome: OutcomeRejected, Suspensive: &yes, ScheduledFor: "2026-03-02"}
	pub, priv := v.Split(ProcedureNational, EvDecisionIssued, f)
	if pub.Outcome != "" || priv.Outcome != OutcomeRejected || pub.ScheduledFor != "2026-03-02" || priv.ScheduledFor != "" {
		t.Fatalf("split: public %+v private %+v", pub, priv)
	}
	if got := pub.Merge(priv); got.Outcome != OutcomeRejected || got.ScheduledFor != "2026-03-02" {
		t.Fatalf("merge: %+v", got)
	}
	pub, priv = v.Split(ProcedureDublin, EvAppealFiled, EventFields{Suspensive: &yes})
	if pub.Suspensive == nil || len(priv.Present()) != 0 {
		t.Fatalf("dublin suspensive is public: %+v %+v", pub, priv)
	}
}

const testSalt = "8d1f0c6b2a4e9f3d5c7b1a0e2d4f6a8c9b3e5d7f1a2c4e6b8d0f2a4c6e8b0d2f"

func TestDecodeEvent(t *testing.T) {
	m := demoMembership(t)
	nat, _ := m.ChannelFor(ProcedureNational)
	v := DefaultVisibility()
	decision := `{"vocabularyVersion":1,"code":"DECISION_ISSUED","occurredOn":"2026-03-02"}`
	det := func(coll, rest string) []byte {
		return []byte(`{"collection":"` + coll + `","salt":"` + testSalt + `"` + rest + `}`)
	}
	in, d, coll, err := v.DecodeEvent(m, nat, []byte(decision), det("national-decision", `,"outcome":"REJECTED"`), true)
	if err != nil || in.Outcome != OutcomeRejected || d == nil || d.Salt != testSalt || coll.Name != "national-decision" {
		t.Fatalf("valid details: %+v %+v %+v %v", in, d, coll, err)
	}
	for _, c := range []struct {
		name             string
		payload, details string
		refusePublic     bool
		kind             Kind
		msg              string
	}{
		{"detail as public argument", `{"vocabularyVersion":1,"code":"DECISION_ISSUED","occurredOn":"2026-03-02","outcome":"REJECTED"}`, "", true, KindInvalidArgument, "withheld detail sent as a public argument"},
		{"no detail at all", decision, "", true, KindInvalidArgument, "field required"},
		{"unknown collection", decision, string(det("national-everything", `,"outcome":"REJECTED"`)), true, KindInvalidArgument, "no such collection"},
		{"other channel's collection", decision, string(det("dublin-states", `,"outcome":"REJECTED"`)), true, KindInvalidArgument, "no such collection"},
		{"wrong audience", decision, string(det("national-agencies", `,"outcome":"REJECTED"`)), true, KindInvalidArgument, "no details for this collection"},
		{"public field in details", `{"vocabularyVersion":1,"code":"HEARING_SCHEDULED","occurredOn":"2026-03-02"}`, string(det("national-decision", `,"scheduledFor":"2026-03-09"`)), true, KindInvalidArgument, "no details"},
		{"foreign detail", decision, string(det("national-decision", `,"regionCode":"DE-BY","outcome":"REJECTED"`)), true, KindInvalidArgument, "not a withheld detail"},
		{"short salt", decision, `{"collection":"national-decision","salt":"00","outcome":"REJECTED"}`, true, KindInvalidArgument, "salt"},
		{"upper-case salt", decision, `{"collection":"national-decision","salt":"` + strings.ToUpper(testSalt) + `","outcome":"REJECTED"}`, true, KindPersonalData, "salt"},
		{"unknown value", decision, string(det("national-decision", `,"outcome":"MAYBE"`)), true, KindInvalidArgument, "outcome"},
		{"not canonical", decision, `{"salt":"` + testSalt + `","collection":"national-decision","outcome":"REJECTED"}`, true, KindInvalidArgument, "canonical"},
		{"duplicate key with a name", decision, `{"collection":"national-decision","salt":"` + testSalt + `","outcome":"Max Mustermann","outcome":"REJECTED"}`, true, KindPersonalData, "personal"},
		{"unknown key", decision, string(det("national-decision", `,"outcome":"REJECTED","zzz":"x"`)), true, KindInvalidArgument, "canonical"},
		{"unknown personal key", decision, string(det("national-decision", `,"outcome":"REJECTED","name":"x"`)), true, KindPersonalData, "personal"},
		{"no field", decision, string(det("national-decision", ``)), true, KindInvalidArgument, "no field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var details []byte
			if c.details != "" {
				details = []byte(c.details)
			}
			_, _, _, err := v.DecodeEvent(m, nat, []byte(c.payload), details, c.refusePublic)
			var de *Error
			if !errors.As(err, &de) || de.Kind != c.kind || !strings.Contains(de.Message, c.msg) {
				t.Fatalf("err = %v, want %s containing %q", err, c.kind, c.msg)
			}
		})
	}
	// Without refusePublic (the transition before every client sends details in the transient
	// map) a public detail is still accepted.
	if _, _, _, err := v.DecodeEvent(m, nat, []byte(`{"vocabularyVersion":1,"code":"DECISION_ISSUED","occurredOn":"2026-03-02","outcome":"REJECTED"}`), nil, false); err != nil {
		t.Fatal(err)
	}
}

// The public state keeps no private fact, and return counselling still follows a negative
// decision recorded on it (the guard reads the derived fact, never the outcome).
func TestPublicStateKeepsWhatTheWorkflowNeeds(t *testing.T) {
	v := DefaultVisibility()
	no := false
	s := CaseState{National: &NationalFacts{EurodacHit: EurodacCategory1, RegionCode: "DE-BY", Outcome: OutcomeRejected,
		AppealSuspensive: &no, AppealOutcome: AppealDismissed, NegativeDecision: true}}
	p := v.PublicState(s)
	if n := p.National; n.EurodacHit != "" || n.RegionCode != "" || n.Outcome != "" || n.AppealSuspensive != nil || n.AppealOutcome != "" || !n.NegativeDecision {
		t.Fatalf("public state: %+v", n)
	}
	if s.National.Outcome != OutcomeRejected {
		t.Fatal("PublicState changed its argument")
	}
	if err := checkGuard(&p, GuardNegativeDecision, Actor{}, Env{}, date(t, "2026-03-02")); err != nil {
		t.Fatalf("guard on the public state: %v", err)
	}
	p.National.NegativeDecision = false
	if err := checkGuard(&p, GuardNegativeDecision, Actor{}, Env{}, date(t, "2026-03-02")); KindOf(err) != KindInvalidTransition {
		t.Fatalf("guard without a negative decision: %v", err)
	}
}

func TestNegativeDecisionIsDerived(t *testing.T) {
	for _, c := range []struct {
		outcome Outcome
		appeal  AppealOutcome
		want    bool
	}{
		{OutcomeRejected, "", true}, {OutcomeRefugeeStatus, "", false},
		{OutcomeInadmissible, AppealDismissed, true}, {OutcomeRejected, AppealUpheld, false},
	} {
		s := CaseState{}
		applyNational(&s, EventInput{Code: EvDecisionIssued, EventFields: EventFields{Outcome: c.outcome}})
		if c.appeal != "" {
			applyNational(&s, EventInput{Code: EvAppealDecided, EventFields: EventFields{AppealOutcome: c.appeal}})
		}
		if s.National.NegativeDecision != c.want {
			t.Errorf("%s then %q: NegativeDecision = %v", c.outcome, c.appeal, s.National.NegativeDecision)
		}
	}
}

func FuzzDecodeCanonicalDetails(f *testing.F) {
	f.Add([]byte(`{"collection":"national-decision","salt":"` + testSalt + `","outcome":"REJECTED"}`))
	f.Add([]byte(`{"collection":"x","salt":"","outcome":"Max"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeCanonicalDetails(b)
		if err != nil {
			return
		}
		again, err := EncodeCanonical(d)
		if err != nil || string(again) != string(b) {
			t.Fatalf("accepted non-canonical details: %q", b)
		}
		if rawLooksPersonal(b) {
			t.Fatalf("accepted personal-looking details: %q", b)
		}
	})
}
