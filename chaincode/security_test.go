package chaincode

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

func TestAuthorization(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	idc := payload(domain.EvIdentityChecked, n.today(), map[string]any{"eurodacHit": "NONE"})
	fileCreated := payload(domain.EvFileCreated, n.today(), nil)
	tests := []struct {
		name, channel, who, fn string
		args                   []string
		kind                   domain.Kind
	}{
		{"wrong agency", "national", "bp", "cases:RecordEvent", []string{newID(), p, idc}, ""}, // control: allowed
		{"wrong agency creates file", "national", "bp", "cases:RecordEvent", []string{newID(), p, fileCreated}, domain.KindForbidden},
		{"wrong role", "national", "ao-do", "cases:RecordEvent", []string{newID(), p, fileCreated}, domain.KindForbidden},
		{"admin role records no process step", "national", "ao-admin", "cases:RecordEvent", []string{newID(), p, fileCreated}, domain.KindForbidden},
		{"auditor writes", "national", "aud", "cases:RecordEvent", []string{newID(), p, fileCreated}, domain.KindForbidden},
		{"auditor org with a caseworker role writes", "national", "aud-cw", "cases:RegisterCase", []string{newID(), newID(), n.today()}, domain.KindForbidden},
		{"no role attribute", "national", "norole", "cases:GetCase", []string{p}, domain.KindForbidden},
		{"unknown role", "national", "badrole", "cases:GetCase", []string{p}, domain.KindForbidden},
		{"unknown organisation", "national", "stranger", "cases:GetCase", []string{p}, domain.KindForbidden},
		{"partner state on the national channel", "national", "at-do", "cases:GetCase", []string{p}, domain.KindForbidden},
		{"out of order", "national", "ao", "cases:RecordEvent", []string{newID(), p, payload(domain.EvHearingHeld, n.today(), nil)}, domain.KindInvalidTransition},
		{"Dublin event on the national channel", "national", "ao-do", "cases:RecordEvent", []string{newID(), p, takeChargePayload(n.today())}, domain.KindInvalidArgument},
		{"register twice", "national", "ao", "cases:RegisterCase", []string{newID(), p, n.today()}, domain.KindAlreadyExists},
		{"unknown case", "national", "ao", "cases:RecordEvent", []string{newID(), newID(), fileCreated}, domain.KindNotFound},
		{"system event submitted", "dublin", "ao-do", "cases:RecordEvent", []string{newID(), newID(), payload(domain.EvImplicitlyAccepted, n.today(), nil)}, domain.KindInvalidArgument},
		{"audit query by a caseworker", "national", "ao", "audit:ListLateEvents", []string{"", "", ""}, domain.KindForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.kind == "" {
				n.must(tc.channel, tc.who, tc.fn, tc.args...)
				return
			}
			n.refuse(tc.kind, tc.channel, tc.who, tc.fn, tc.args...)
		})
	}
	// The auditor reads everything.
	n.must("national", "aud", "cases:GetCase", p)
	n.must("national", "aud", "cases:GetTimeline", p, "", "")
	n.must("national", "aud", "audit:ListLateEvents", "", "", "")
}

func TestPersonalDataRefused(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	day := n.today()
	identity := payload(domain.EvIdentityChecked, day, nil)
	tests := []struct {
		name      string
		fn        string
		args      []string
		transient map[string][]byte
	}{
		{"name as pseudonym", "cases:RegisterCase", []string{newID(), "Max Mustermann", day}, nil},
		{"file number as pseudonym", "cases:RegisterCase", []string{newID(), "BAMF-7654321-438", day}, nil},
		{"birth date as occurredOn", "cases:RegisterCase", []string{newID(), newID(), "01.02.1990"}, nil},
		{"e-mail as request id", "cases:RegisterCase", []string{"max@example.org", newID(), day}, nil},
		{"name field", "cases:RecordEvent", []string{newID(), p, `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"` + day + `","eurodacHit":"NONE","lastName":"Mustermann"}`}, nil},
		{"free text", "cases:RecordEvent", []string{newID(), p, `Asylum seeker Max Mustermann, born 01.02.1990 in Aleppo`}, nil},
		// Withheld details are checked as strictly in the transient map as in a payload.
		{"name as Eurodac hit", "cases:RecordEvent", []string{newID(), p, identity}, details("national-agencies", salt1, `,"eurodacHit":"Mustermann"`)},
		{"unicode trick", "cases:RecordEvent", []string{newID(), p, identity}, details("national-agencies", salt1, `,"eurodacHit":"NON\u0415"`)},
		{"long string", "cases:RecordEvent", []string{newID(), p, identity}, details("national-agencies", salt1, `,"eurodacHit":"`+strings.Repeat("A", 300)+`"`)},
		{"name as document hash", "anchors:AnchorDocument", []string{newID(), p, "Max Mustermann", "", day}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := n.send("national", "bp", n.clock(), tc.transient, tc.fn, tc.args...)
			if r.kind() != domain.KindPersonalData || len(r.tx.Writes()) != 0 {
				t.Fatalf("got %d %q, want PERSONAL_DATA and no writes", r.status, r.message)
			}
			msg := r.message
			for _, w := range []string{"Max", "Mustermann", "BAMF", "1990", "example", "Aleppo"} {
				if strings.Contains(msg, w) {
					t.Fatalf("error %q echoes %q", msg, w)
				}
			}
		})
	}
	if keys := n.ledger["national"].Keys(); len(keys) != 5 { // case, event, status, agency, request of the registration
		t.Fatalf("ledger has %d keys, want 5", len(keys))
	}
}

func TestIdempotentRetry(t *testing.T) {
	n := newNet(t, t0)
	p, req := newID(), newID()
	first := n.invoke("national", "bp", "cases:RegisterCase", req, p, n.today())
	if first.status != 200 {
		t.Fatal(first.message)
	}
	n.advance(time.Minute)
	retry := n.invoke("national", "bp", "cases:RegisterCase", req, p, n.today())
	if retry.status != 200 || retry.payload != first.payload {
		t.Fatalf("retry: %d %q, want the first result %q", retry.status, retry.payload, first.payload)
	}
	if len(retry.tx.Writes()) != 0 {
		t.Fatalf("retry wrote %v", retry.tx.Writes())
	}
	if _, ok := retry.tx.Event(); ok {
		t.Fatal("retry emitted an event")
	}
	if got := len(n.ledger["national"].Events()); got != 1 {
		t.Fatalf("%d events, want 1", got)
	}
	// Same request id, other arguments: a conflict, not a replay.
	n.refuse(domain.KindConflict, "national", "bp", "cases:RegisterCase", req, newID(), n.today())
	n.refuse(domain.KindConflict, "national", "bp", "cases:RecordEvent", req, p, payload(domain.EvIdentityChecked, n.today(), map[string]any{"eurodacHit": "NONE"}))
	// Request ids are per organisation.
	n.must("national", "ao", "cases:RegisterCase", req, newID(), n.today())
	// A failed write stores nothing: the same id may be used again.
	req2 := newID()
	n.refuse(domain.KindInvalidTransition, "national", "ao", "cases:RecordEvent", req2, p, payload(domain.EvFileCreated, n.today(), nil))
	n.must("national", "bp", "cases:RecordEvent", req2, p, payload(domain.EvIdentityChecked, n.today(), map[string]any{"eurodacHit": "NONE"}))
	// The gateway can look its request up.
	rr := decode[api.RequestResult](t, n.must("national", "bp", "cases:GetRequestResult", req))
	if rr.Function != "cases:RegisterCase" || rr.TxID != first.tx.GetTxID() || string(rr.Result) != first.payload {
		t.Fatalf("request result %+v", rr)
	}
	n.refuse(domain.KindNotFound, "national", "ia", "cases:GetRequestResult", req)
	n.refuse(domain.KindInvalidArgument, "national", "bp", "cases:RegisterCase", "not-a-uuid", newID(), n.today())
}

func TestClockSkew(t *testing.T) {
	n := newNet(t, t0)
	for _, off := range []time.Duration{-6 * time.Minute, 6 * time.Minute, 24 * time.Hour} {
		r := n.invokeAt("national", "bp", t0.Add(off), "cases:RegisterCase", newID(), newID(), n.today())
		if r.kind() != domain.KindClockSkew {
			t.Errorf("offset %s: %d %s", off, r.status, r.message)
		}
	}
	for _, off := range []time.Duration{-4 * time.Minute, 4 * time.Minute} {
		r := n.invokeAt("national", "bp", t0.Add(off), "cases:RegisterCase", newID(), newID(), n.today())
		if r.status != 200 {
			t.Errorf("offset %s: %s", off, r.message)
		}
	}
	// Reads do not depend on the endorser's clock.
	if r := n.invokeAt("national", "aud", t0.Add(time.Hour), "admin:GetVocabulary"); r.status != 200 {
		t.Error(r.message)
	}
}

func TestPagination(t *testing.T) {
	n := newNet(t, t0)
	var want []string
	for range 7 {
		p := newID()
		want = append(want, p)
		n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	}
	slices.Sort(want)
	var got []string
	bookmark := ""
	pages := 0
	for {
		page := decode[api.Page[domain.CaseState]](t, n.must("national", "ao", "cases:ListByStatus", "REGISTERED", bookmark, "3"))
		pages++
		for _, s := range page.Items {
			got = append(got, s.Pseudonym)
		}
		if page.Bookmark == "" {
			break
		}
		bookmark = page.Bookmark
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("%d pages, %v, want %v", pages, got, want)
	}
	// A bookmark only works for its own query.
	first := decode[api.Page[domain.CaseState]](t, n.must("national", "ao", "cases:ListByStatus", "REGISTERED", "", "3"))
	n.refuse(domain.KindInvalidArgument, "national", "ao", "cases:ListByAgency", "BorderPoliceMSP", first.Bookmark, "3")
	n.refuse(domain.KindInvalidArgument, "national", "ao", "cases:ListByStatus", "REGISTERED", "%%%", "3")
	n.refuse(domain.KindInvalidArgument, "national", "ao", "cases:ListByStatus", "REGISTERED", "", "-1")
	// The page size is capped by the configuration.
	n2 := newNet(t, t0)
	n2.cc, _ = New(mustConfig(t, func(c *api.ChaincodeConfig) { c.MaxPageSize = 2 }), WithClock(n2.clock))
	for range 3 {
		n2.must("national", "bp", "cases:RegisterCase", newID(), newID(), n2.today())
	}
	capped := decode[api.Page[domain.CaseState]](t, n2.must("national", "ao", "cases:ListByStatus", "REGISTERED", "", "1000"))
	if len(capped.Items) != 2 || capped.Bookmark == "" {
		t.Fatalf("capped page %d items", len(capped.Items))
	}
}

func mustConfig(t *testing.T, f func(*api.ChaincodeConfig)) api.ChaincodeConfig {
	t.Helper()
	cfg, err := api.LoadChaincodeConfig("testdata/config.json")
	if err != nil {
		t.Fatal(err)
	}
	f(&cfg)
	return cfg
}

func TestErasureStatus(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	n.record("national", "bp", p, domain.EvIdentityChecked, n.today(), map[string]any{"eurodacHit": "NONE"})
	n.record("national", "ao", p, domain.EvFileCreated, n.today(), nil)
	other := newID()
	n.must("national", "ao", "cases:RegisterCase", newID(), other, n.today())

	n.refuse(domain.KindForbidden, "national", "ia", "erasure:RequestErasure", newID(), p, n.today()) // holds nothing
	n.must("national", "ao", "erasure:RequestErasure", newID(), p, n.today())
	st := decode[api.ErasureStatus](t, n.must("national", "aud", "erasure:GetErasureStatus", p))
	if !st.Requested || st.Complete || !slices.Equal(st.Pending, []string{"AsylumOfficeMSP", "BorderPoliceMSP"}) || len(st.Confirmed) != 0 {
		t.Fatalf("status %+v", st)
	}
	open := decode[api.Page[api.ErasureStatus]](t, n.must("national", "aud", "erasure:ListOpenErasures", "", ""))
	if len(open.Items) != 1 || open.Items[0].Pseudonym != p {
		t.Fatalf("open erasures %+v", open)
	}
	n.refuse(domain.KindInvalidTransition, "national", "ao", "cases:RecordEvent", newID(), p, payload(domain.EvAllocated, n.today(), map[string]any{"regionCode": "DE-BY"}))
	n.must("national", "bp", "erasure:ConfirmErasure", newID(), p, n.today())
	n.refuse(domain.KindAlreadyExists, "national", "bp", "erasure:ConfirmErasure", newID(), p, n.today())
	n.refuse(domain.KindForbidden, "national", "ia", "erasure:ConfirmErasure", newID(), p, n.today())
	st = decode[api.ErasureStatus](t, n.must("national", "aud", "erasure:GetErasureStatus", p))
	if !slices.Equal(st.Pending, []string{"AsylumOfficeMSP"}) || !slices.Equal(st.Confirmed, []string{"BorderPoliceMSP"}) {
		t.Fatalf("status %+v", st)
	}
	// Confirmation through RecordEvent is the same write.
	n.must("national", "ao", "cases:RecordEvent", newID(), p, payload(domain.EvErasureConfirmed, n.today(), nil))
	st = decode[api.ErasureStatus](t, n.must("national", "aud", "erasure:GetErasureStatus", p))
	if !st.Complete || st.CompletedOn != n.today() || len(st.Pending) != 0 {
		t.Fatalf("status %+v", st)
	}
	if open := decode[api.Page[api.ErasureStatus]](t, n.must("national", "aud", "erasure:ListOpenErasures", "", "")); len(open.Items) != 0 {
		t.Fatalf("open erasures after completion %+v", open)
	}
	if st := decode[api.ErasureStatus](t, n.must("national", "aud", "erasure:GetErasureStatus", other)); st.Requested {
		t.Fatalf("untouched case %+v", st)
	}
}

func TestAnchors(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	h1, h2 := strings.Repeat("1f", 32), strings.Repeat("2e", 32)
	// The document type is a withheld detail: a typed anchor goes through RecordEvent with
	// transient details (the harness sends them as a gateway does), an untyped one either way.
	n.must("national", "bp", "cases:RecordEvent", newID(), p, payload(domain.EvDocumentAnchored, n.today(), map[string]any{"documentHash": h1, "documentType": "OTHER"}))
	n.must("national", "bp", "anchors:AnchorDocument", newID(), p, h2, "", n.today())
	n.refuse(domain.KindAlreadyExists, "national", "bp", "anchors:AnchorDocument", newID(), p, h1, "", n.today())
	n.refuse(domain.KindForbidden, "national", "ia", "anchors:AnchorDocument", newID(), p, h1, "", n.today()) // not a holder
	v := decode[api.Verification](t, n.must("national", "aud", "anchors:VerifyAnchor", p, h1))
	if !v.Anchored || v.Anchor.MSPID != "BorderPoliceMSP" || v.Anchor.Seq != 2 || v.Anchor.DocumentType != "" {
		t.Fatalf("verification %+v (the auditor keeps no document type)", v)
	}
	if v := decode[api.Verification](t, n.must("national", "aud", "anchors:VerifyAnchor", p, strings.Repeat("00", 32))); v.Anchored {
		t.Fatal("unknown hash verified")
	}
	list := decode[api.Page[api.Anchor]](t, n.must("national", "aud", "anchors:ListAnchors", p, "", ""))
	if len(list.Items) != 2 || list.Items[0].DocumentHash != h1 {
		t.Fatalf("anchors %+v", list)
	}
	// Anchoring does not move the workflow.
	if s := n.getCase("national", p); s.Status != domain.StRegistered || s.Seq != 3 {
		t.Fatalf("state %+v", s)
	}
	n.refuse(domain.KindInvalidArgument, "national", "aud", "anchors:VerifyAnchor", p, strings.Repeat("AB", 32))
}

func TestLateEvents(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, "2026-02-20") // 10 days late
	n.record("national", "bp", p, domain.EvIdentityChecked, n.today(), map[string]any{"eurodacHit": "NONE"})
	n.refuse(domain.KindInvalidArgument, "national", "bp", "cases:RegisterCase", newID(), newID(), "2026-01-20") // beyond 30 days
	late := decode[api.Page[domain.Event]](t, n.must("national", "aud", "audit:ListLateEvents", "", "", ""))
	if len(late.Items) != 1 || late.Items[0].LateDays != 10 || late.Items[0].OccurredOn != "2026-02-20" || late.Items[0].RecordedOn != "2026-03-02" {
		t.Fatalf("late events %+v", late)
	}
	if l := decode[api.Page[domain.Event]](t, n.must("national", "ao-admin", "audit:ListLateEvents", "AsylumOfficeMSP", "", "")); len(l.Items) != 0 {
		t.Fatalf("late events of the asylum office %+v", l)
	}
}

// TestEvaluateMetadata: queries are tagged "evaluate", writes "submit", and
// no helper is callable.
func TestEvaluateMetadata(t *testing.T) {
	n := newNet(t, t0)
	var md struct {
		Contracts map[string]struct {
			Transactions []struct {
				Name string   `json:"name"`
				Tag  []string `json:"tag"`
			} `json:"transactions"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal([]byte(n.must("national", "aud", "org.hyperledger.fabric:GetMetadata")), &md); err != nil {
		t.Fatal(err)
	}
	submits := map[string]bool{
		"cases:RegisterCase": true, "cases:RecordEvent": true, "dublin:ResolveDeadlines": true, "dublin:SetHolidays": true,
		"anchors:AnchorDocument": true, "erasure:RequestErasure": true, "erasure:ConfirmErasure": true,
		"gov:ApproveMembership": true, "gov:SetMembership": true,
	}
	var exposed []string
	for cname, c := range md.Contracts {
		if cname == "org.hyperledger.fabric" {
			continue
		}
		for _, tr := range c.Transactions {
			full := cname + ":" + tr.Name
			exposed = append(exposed, full)
			want := "evaluate"
			if submits[full] {
				want = "submit"
			}
			if !slices.Contains(tr.Tag, want) {
				t.Errorf("%s tagged %v, want %s", full, tr.Tag, want)
			}
		}
	}
	slices.Sort(exposed)
	want := []string{
		"admin:GetChaincodeInfo", "admin:GetVocabulary",
		"anchors:AnchorDocument", "anchors:ListAnchors", "anchors:VerifyAnchor",
		"audit:GetPrivateDataHashes", "audit:ListLateEvents",
		"cases:GetCase", "cases:GetHistory", "cases:GetRequestResult", "cases:GetTimeline",
		"cases:ListByAgency", "cases:ListByStatus", "cases:RecordEvent", "cases:RegisterCase",
		"dublin:DeadlinesDue", "dublin:GetHolidays", "dublin:ResolveDeadlines", "dublin:SetHolidays",
		"erasure:ConfirmErasure", "erasure:GetErasureStatus", "erasure:ListOpenErasures", "erasure:RequestErasure",
		"gov:ApproveMembership", "gov:GetMembership", "gov:SetMembership",
	}
	if !slices.Equal(exposed, want) {
		t.Errorf("exposed transactions %v, want %v", exposed, want)
	}
	r := n.invoke("national", "aud", "cases:Write", "x")
	if r.status == 200 || r.kind() != domain.KindInvalidArgument {
		t.Errorf("helper callable: %d %s", r.status, r.message)
	}
}
