package test

import (
	"net/http"
	"slices"
	"testing"
)

// TestGatewayRights: data-subject rights through the asylum office's own
// gateway on the real network. The export lists the office's references
// and the person's pseudonyms on both channels, and each case's timeline
// with the border police's steps as the office's peer shows them; a
// rectification replaces the office's national reference (the Dublin one
// and the ledger stay as they are); refusals are problems with stable codes;
// only the admin token may do either.
func TestGatewayRights(t *testing.T) {
	bpGw, aoGw := gatewayOf(t, "border-police"), gatewayOf(t, "asylum-office")
	bpRef, aoRef, aoFixed, dubRef, otherRef := gwRef("BPR"), gwRef("AOR"), gwRef("AORFIX"), gwRef("AORD"), gwRef("AOROTHER")

	var reg gwWrite
	bpGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases",
		map[string]any{"channel": "national", "localRef": bpRef, "occurredOn": today()}, &reg)
	bpGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/events", map[string]any{
		"channel": "national", "localRef": bpRef,
		"event": map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": today(), "eurodacHit": "NONE"},
	}, nil)
	var bound struct {
		Event gwWrite `json:"event"`
	}
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/bind",
		map[string]any{"channel": "national", "pseudonym": reg.Pseudonym, "localRef": aoRef}, &bound)
	var dub gwWrite
	aoGw.ok(http.StatusCreated, "dublin-officer", "POST", "/v1/cases", map[string]any{"channel": "dublin", "localRef": dubRef,
		"occurredOn": today(), "linkFrom": map[string]any{"channel": "national", "localRef": aoRef}}, &dub)
	aoGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases",
		map[string]any{"channel": "national", "localRef": otherRef, "occurredOn": today()}, nil)

	type exportedCase struct {
		Channel   string   `json:"channel"`
		Pseudonym string   `json:"pseudonym"`
		LocalRefs []string `json:"localRefs"`
		OnLedger  bool     `json:"onLedger"`
		Case      struct {
			Holders []string `json:"holders"`
		} `json:"case"`
		Timeline []struct {
			Code  string `json:"code"`
			MSPID string `json:"mspId"`
		} `json:"timeline"`
	}
	type export struct {
		MSPID   string         `json:"mspId"`
		Cases   []exportedCase `json:"cases"`
		History []struct {
			Action  string `json:"action"`
			Channel string `json:"channel"`
		} `json:"history"`
	}
	byChannel := func(ex export) map[string]exportedCase {
		m := map[string]exportedCase{}
		for _, c := range ex.Cases {
			m[c.Channel] = c
		}
		return m
	}
	timeline := func(c exportedCase) []string {
		var out []string
		for _, e := range c.Timeline {
			out = append(out, e.Code+"@"+e.MSPID)
		}
		return out
	}

	// Export (art. 15). The office's own writes came last and were
	// committed on its peer, so the border police's steps are there too.
	var ex export
	aoGw.ok(http.StatusOK, "admin", "POST", "/v1/rights/export", map[string]any{"channel": "national", "localRef": aoRef}, &ex)
	cs := byChannel(ex)
	nat, d := cs["national"], cs["dublin"]
	if ex.MSPID != "AsylumOfficeMSP" || len(ex.Cases) != 2 {
		t.Fatalf("export: %+v", ex)
	}
	if nat.Pseudonym != reg.Pseudonym || !slices.Equal(nat.LocalRefs, []string{aoRef}) || !nat.OnLedger ||
		!slices.Equal(nat.Case.Holders, []string{"AsylumOfficeMSP", "BorderPoliceMSP"}) {
		t.Fatalf("national: %+v", nat)
	}
	if got := timeline(nat); !slices.Equal(got, []string{"CASE_REGISTERED@BorderPoliceMSP", "IDENTITY_CHECKED@BorderPoliceMSP", "CASE_BOUND@AsylumOfficeMSP"}) {
		t.Fatalf("national timeline %v", got)
	}
	if d.Pseudonym != dub.Pseudonym || d.Pseudonym == nat.Pseudonym || !slices.Equal(d.LocalRefs, []string{dubRef}) || !d.OnLedger ||
		len(d.Timeline) == 0 || d.Timeline[0].Code != "CASE_REGISTERED" {
		t.Fatalf("dublin: %+v", d)
	}

	// Only the admin token: a caseworker is refused before anything is read.
	r := aoGw.do("caseworker", "POST", "/v1/rights/export", map[string]any{"channel": "national", "localRef": aoRef}, "")
	if p := r.problem(t); r.status != http.StatusForbidden || p.Code != "FORBIDDEN" {
		t.Fatalf("caseworker export: %d %+v", r.status, p)
	}

	// Rectify (art. 16).
	var rect struct {
		Channel   string `json:"channel"`
		Pseudonym string `json:"pseudonym"`
	}
	aoGw.ok(http.StatusOK, "admin", "POST", "/v1/rights/rectify",
		map[string]any{"channel": "national", "localRef": aoRef, "newLocalRef": aoFixed}, &rect)
	if rect.Pseudonym != reg.Pseudonym || rect.Channel != "national" {
		t.Fatalf("rectify: %+v", rect)
	}
	var v gwCaseView
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/state", map[string]any{"channel": "national", "localRef": aoFixed}, &v)
	if v.Case.Pseudonym != reg.Pseudonym || !slices.Equal(v.LocalRefs, []string{aoFixed}) {
		t.Fatalf("state by the new reference: %+v %v", v.Case, v.LocalRefs)
	}
	for _, tc := range []struct {
		name   string
		role   string
		path   string
		body   map[string]any
		status int
		code   string
	}{
		{"old reference", "caseworker", "/v1/cases/state", map[string]any{"channel": "national", "localRef": aoRef}, 404, "UNKNOWN_LOCAL_REF"},
		{"rectify an unknown reference", "admin", "/v1/rights/rectify", map[string]any{"channel": "national", "localRef": aoRef, "newLocalRef": gwRef("AORX")}, 404, "UNKNOWN_LOCAL_REF"},
		{"rectify onto a taken reference", "admin", "/v1/rights/rectify", map[string]any{"channel": "national", "localRef": aoFixed, "newLocalRef": otherRef}, 409, "CONFLICT"},
		{"rectify to nothing", "admin", "/v1/rights/rectify", map[string]any{"channel": "national", "localRef": aoFixed, "newLocalRef": ""}, 400, "INVALID_ARGUMENT"},
		{"caseworker rectify", "caseworker", "/v1/rights/rectify", map[string]any{"channel": "national", "localRef": aoFixed, "newLocalRef": gwRef("AORY")}, 403, "FORBIDDEN"},
		{"export of the old reference", "admin", "/v1/rights/export", map[string]any{"channel": "national", "localRef": aoRef}, 404, "UNKNOWN_LOCAL_REF"},
	} {
		r := aoGw.do(tc.role, "POST", tc.path, tc.body, "")
		if p := r.problem(t); r.status != tc.status || p.Code != tc.code {
			t.Errorf("%s: %d %+v, want %d %s", tc.name, r.status, p, tc.status, tc.code)
		}
	}

	// The export by the new reference: the Dublin reference unchanged, the
	// rectification in the history, without values.
	ex = export{}
	aoGw.ok(http.StatusOK, "admin", "POST", "/v1/rights/export", map[string]any{"channel": "national", "localRef": aoFixed}, &ex)
	cs = byChannel(ex)
	if !slices.Equal(cs["national"].LocalRefs, []string{aoFixed}) || !slices.Equal(cs["dublin"].LocalRefs, []string{dubRef}) {
		t.Fatalf("after rectify: %+v", ex.Cases)
	}
	rectified := false
	for _, h := range ex.History {
		rectified = rectified || (h.Action == "rectified" && h.Channel == "national")
	}
	if !rectified {
		t.Fatalf("history %+v", ex.History)
	}
	// Nothing of it reached the ledger: the border police's view is the same case, same steps.
	var bv gwCaseView
	bpGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/state", map[string]any{"channel": "national", "localRef": bpRef}, &bv)
	if bv.Case.Seq != bound.Event.Seq || !slices.Equal(bv.LocalRefs, []string{bpRef}) {
		t.Fatalf("border police view: %+v %v", bv.Case, bv.LocalRefs)
	}
}
