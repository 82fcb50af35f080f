package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// writeProfile writes an org's generated API details under root.
func writeProfile(t *testing.T, root string, info api.APIInfo) {
	t.Helper()
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "connection"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ProfilePath(root, info.Org), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// With --org and no --role, a command takes the role it needs if the org
// has it, else the org's most common role, and says which on stderr.
func TestOrgWithoutRoleTakesTheRoleTheCommandNeeds(t *testing.T) {
	g := newFakeGateway(t)
	g.answer["GET /v1/dublin/deadlines"] = func([]byte) (int, any) { return 200, api.Board{Today: "2026-12-04"} }
	g.answer["POST /v1/cases/state"] = func([]byte) (int, any) { return 200, api.CaseView{} }
	g.answer["POST /v1/rights/rectify"] = func([]byte) (int, any) { return 200, api.RectifyResponse{Channel: "national"} }
	root := t.TempDir()
	writeProfile(t, root, api.APIInfo{Org: "asylum-office", MSPID: "AsylumOfficeMSP", URL: g.srv.URL, CAFile: g.caFile,
		Tokens: map[string]string{"admin": "clg_admin", "caseworker": "clg_cw", "dublin-officer": "clg_dub"}})
	writeProfile(t, root, api.APIInfo{Org: "partner-state", MSPID: "PartnerMSP", URL: g.srv.URL, CAFile: g.caFile,
		Tokens: map[string]string{"admin": "clg_ps_admin", "dublin-officer": "clg_ps_dub"}})
	writeProfile(t, root, api.APIInfo{Org: "lonely", MSPID: "LonelyMSP", URL: g.srv.URL, CAFile: g.caFile,
		Tokens: map[string]string{"caseworker": "clg_lonely"}})
	env := map[string]string{"CASELEDGER_ROOT": root}
	for _, tc := range []struct {
		args           []string
		path, wantAuth string
		note           string // "" = no note on stderr
	}{
		{[]string{"--org", "asylum-office", "whoami"}, "/v1/whoami", "Bearer clg_cw", "asylum-office as caseworker (it also has admin, dublin-officer: choose with --role)"},
		{[]string{"--org", "asylum-office", "deadlines"}, "/v1/dublin/deadlines", "Bearer clg_dub", "asylum-office as dublin-officer (it also has admin, caseworker"},
		{[]string{"--org", "asylum-office", "show", "--channel", "dublin", "--ref", "D-1"}, "/v1/cases/state", "Bearer clg_dub", "asylum-office as dublin-officer"},
		{[]string{"--org", "asylum-office", "show", "--channel", "national", "--ref", "N-1"}, "/v1/cases/state", "Bearer clg_cw", "asylum-office as caseworker"},
		{[]string{"--org", "asylum-office", "rectify", "--channel", "national", "--ref", "A", "--new-ref", "B"}, "/v1/rights/rectify", "Bearer clg_admin", "asylum-office as admin"},
		{[]string{"--org", "partner-state", "whoami"}, "/v1/whoami", "Bearer clg_ps_dub", "partner-state as dublin-officer (it also has admin"},
		{[]string{"--org", "asylum-office", "--quiet", "whoami"}, "/v1/whoami", "Bearer clg_cw", ""},
		{[]string{"--org", "lonely", "deadlines"}, "/v1/dublin/deadlines", "Bearer clg_lonely", ""},
		{[]string{"--org", "asylum-office", "--role", "caseworker", "deadlines"}, "/v1/dublin/deadlines", "Bearer clg_cw", ""},
	} {
		r := cli(t, env, tc.args...)
		if r.code != exitOK {
			t.Errorf("%q: exit %d %s", tc.args, r.code, r.stderr)
			continue
		}
		if got := g.last(tc.path).auth; got != tc.wantAuth {
			t.Errorf("%q: sent %q, want %q", tc.args, got, tc.wantAuth)
		}
		if tc.note == "" && r.stderr != "" || !strings.Contains(r.stderr, tc.note) {
			t.Errorf("%q: stderr %q, want note %q", tc.args, r.stderr, tc.note)
		}
	}
}

// holidays show answers like the ledger: no calendar for the year is a
// NOT_FOUND that the command turns into "none recorded" (with the defaults
// filled in), a calendar names no recorder (the query's answer carries none,
// and "(recorded by )" must not show), and the auditor, which has no member
// state, is asked for --member-state.
func TestHolidaysShow(t *testing.T) {
	g := newFakeGateway(t)
	env := envFor(g)
	var cal *api.HolidayCalendar
	own := api.Whoami{Org: "asylum-office", MSPID: "AsylumOfficeMSP", MemberState: "DE", Role: "caseworker"}
	g.answer["GET /v1/whoami"] = func([]byte) (int, any) { return 200, own }
	g.answer["GET /v1/dublin/holidays"] = func([]byte) (int, any) {
		if !strings.Contains(g.last("/v1/dublin/holidays").query, "memberState=") && own.MemberState == "" {
			return 400, problemBody(400, "INVALID_ARGUMENT", "memberState: unknown member-state code")
		}
		if cal == nil {
			return 404, problemBody(404, "NOT_FOUND", "no holidays recorded")
		}
		return 200, *cal
	}
	r := cli(t, env, "holidays", "show", "--member-state", "AT", "--year", "2027")
	if r.code != exitOK || !strings.Contains(r.stdout, "public holidays of AT in 2027: none recorded") || strings.Contains(r.stdout, "recorded by") {
		t.Errorf("no calendar: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The defaults: the agency's own member state (from whoami), this year there.
	r = cli(t, env, "holidays", "show")
	if want := "public holidays of DE in " + Today(time.Now(), "DE")[:4] + ": none recorded"; r.code != exitOK || !strings.Contains(r.stdout, want) {
		t.Errorf("no calendar, defaults: exit %d, want %q\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	cal = &api.HolidayCalendar{}
	if err := json.Unmarshal([]byte(`{"memberState":"AT","year":2027,"holidays":["2027-01-01","2027-01-06"]}`), cal); err != nil {
		t.Fatal(err)
	}
	r = cli(t, env, "holidays", "show", "--member-state", "AT", "--year", "2027")
	if r.code != exitOK || !strings.Contains(r.stdout, "public holidays of AT in 2027: 2") || !strings.Contains(r.stdout, "2027-01-06  Wednesday") ||
		strings.Contains(r.stdout, "recorded by") {
		t.Errorf("calendar: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The auditor has no member state: the default calendar does not exist.
	own = api.Whoami{Org: "auditor", MSPID: "AuditorMSP", Role: "auditor"}
	r = cli(t, env, "holidays", "show")
	if r.code != exitUsage || !strings.Contains(r.stderr, "caseledger holidays show: usage: --member-state is required: auditor has no member state of its own") {
		t.Errorf("auditor: exit %d\n%s", r.code, r.stderr)
	}
	// An agency with a member state gets any other refusal as it is.
	own = api.Whoami{Org: "asylum-office", MemberState: "DE"}
	g.answer["GET /v1/dublin/holidays"] = func([]byte) (int, any) {
		return 400, problemBody(400, "INVALID_ARGUMENT", "year: out of range")
	}
	if r = cli(t, env, "holidays", "show"); r.code != exitRefused || !strings.Contains(r.stderr, "INVALID_ARGUMENT") {
		t.Errorf("refusal: exit %d\n%s", r.code, r.stderr)
	}
}

// audit late marks the consequences a gateway's deadline watcher recorded
// (implicit acceptance) as automatic, not as the state's own late steps.
func TestAuditLateMarksAutomaticConsequences(t *testing.T) {
	g := newFakeGateway(t)
	g.answer["GET /v1/audit/late"] = func([]byte) (int, any) {
		return 200, api.EventPage{Items: []domain.Event{
			{Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Seq: 2, Code: domain.EvTakeChargeRequested, OccurredOn: "2026-11-02", RecordedOn: "2026-11-04",
				LateDays: 2, MSPID: "AsylumOfficeMSP", Role: "dublin-officer"},
			{Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Seq: 4, Code: domain.EvImplicitlyAccepted, OccurredOn: "2026-11-16", RecordedOn: "2026-11-18",
				LateDays: 2, MSPID: "PartnerStateMSP", Role: "dublin-officer"},
		}}
	}
	r := cli(t, envFor(g), "audit", "late", "--channel", "dublin")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var marked []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "[automatic]") && strings.Contains(line, "6f1c2a9e") {
			marked = append(marked, line)
		}
	}
	if len(marked) != 1 || !strings.Contains(marked[0], "IMPLICITLY_ACCEPTED [automatic]") || !strings.Contains(r.stdout, "not a step of the recording agency") {
		t.Errorf("audit late: want only the implicit acceptance marked automatic, with the note:\n%s", r.stdout)
	}
}
