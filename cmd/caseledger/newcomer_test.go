package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
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

func TestHolidaysShow(t *testing.T) {
	g := newFakeGateway(t)
	env := envFor(g)
	var cal api.HolidayCalendar
	g.answer["GET /v1/dublin/holidays"] = func([]byte) (int, any) {
		if g.last("/v1/dublin/holidays").query == "" && cal.MemberState == "" {
			return 400, problemBody(400, "INVALID_ARGUMENT", "memberState: unknown member-state code")
		}
		return 200, cal
	}
	cal = api.HolidayCalendar{MemberState: "AT", Year: 2027}
	r := cli(t, env, "holidays", "show", "--member-state", "AT", "--year", "2027")
	if r.code != exitOK || !strings.Contains(r.stdout, "public holidays of AT in 2027: none recorded") || strings.Contains(r.stdout, "recorded by") {
		t.Errorf("no calendar: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := json.Unmarshal([]byte(`{"memberState":"AT","year":2027,"holidays":["2027-01-01","2027-01-06"],"setBy":"PartnerMSP"}`), &cal); err != nil {
		t.Fatal(err)
	}
	r = cli(t, env, "holidays", "show", "--member-state", "AT", "--year", "2027")
	if r.code != exitOK || !strings.Contains(r.stdout, "public holidays of AT in 2027 (recorded by PartnerMSP): 2") || !strings.Contains(r.stdout, "2027-01-06  Wednesday") {
		t.Errorf("calendar: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The auditor has no member state: the default calendar does not exist.
	cal = api.HolidayCalendar{}
	g.answer["GET /v1/whoami"] = func([]byte) (int, any) {
		return 200, api.Whoami{Org: "auditor", MSPID: "AuditorMSP", Role: "auditor"}
	}
	r = cli(t, env, "holidays", "show")
	if r.code != exitUsage || !strings.Contains(r.stderr, "caseledger holidays show: usage: --member-state is required: auditor has no member state of its own") {
		t.Errorf("auditor: exit %d\n%s", r.code, r.stderr)
	}
	// An agency with a member state gets the gateway's refusal as it is.
	g.answer["GET /v1/whoami"] = func([]byte) (int, any) { return 200, api.Whoami{Org: "asylum-office", MemberState: "DE"} }
	if r = cli(t, env, "holidays", "show"); r.code != exitRefused || !strings.Contains(r.stderr, "INVALID_ARGUMENT") {
		t.Errorf("refusal: exit %d\n%s", r.code, r.stderr)
	}
}
