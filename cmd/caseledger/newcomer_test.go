package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/network"
)

// writeProfile writes an org's generated API details under root.
func writeProfile(t *testing.T, root string, info network.APIInfo) {
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
	g.answer["POST /v1/rights/rectify"] = func([]byte) (int, any) { return 200, api.RectifyResponse{Channel: "national"} }
	root := t.TempDir()
	writeProfile(t, root, network.APIInfo{Org: "asylum-office", MSPID: "AsylumOfficeMSP", URL: g.srv.URL, CAFile: g.caFile,
		Tokens: map[string]string{"admin": "clg_admin", "caseworker": "clg_cw", "dublin-officer": "clg_dub"}})
	writeProfile(t, root, network.APIInfo{Org: "partner-state", MSPID: "PartnerMSP", URL: g.srv.URL, CAFile: g.caFile,
		Tokens: map[string]string{"admin": "clg_ps_admin", "dublin-officer": "clg_ps_dub"}})
	writeProfile(t, root, network.APIInfo{Org: "lonely", MSPID: "LonelyMSP", URL: g.srv.URL, CAFile: g.caFile,
		Tokens: map[string]string{"caseworker": "clg_lonely"}})
	env := map[string]string{"CASELEDGER_ROOT": root}
	for _, tc := range []struct {
		args           []string
		path, wantAuth string
		note           string // "" = no note on stderr
	}{
		{[]string{"--org", "asylum-office", "whoami"}, "/v1/whoami", "Bearer clg_cw", "asylum-office as caseworker (it also has admin, dublin-officer: choose with --role)"},
		{[]string{"--org", "asylum-office", "deadlines"}, "/v1/dublin/deadlines", "Bearer clg_dub", "asylum-office as dublin-officer (it also has admin, caseworker"},
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
