package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

func TestRectifySendsBothReferencesInTheBody(t *testing.T) {
	g := newFakeGateway(t)
	g.answer["POST /v1/rights/rectify"] = func(b []byte) (int, any) {
		var req api.RectifyRequest
		if err := json.Unmarshal(b, &req); err != nil || req.LocalRef == "BAMF-404" {
			return 404, problemBody(404, "UNKNOWN_LOCAL_REF", "localRef: not a reference of this agency on the channel")
		}
		return 200, api.RectifyResponse{Channel: req.Channel, Pseudonym: "6f1c0d9e-5a8b-4c1e-9f3a-2b7d4e6a8c10", RectifiedAt: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	}
	res := cli(t, envFor(g), "rectify", "--channel", "national", "--ref", "BAMF-1", "--new-ref", "BAMF-2", "--idempotency-key", "k-1")
	if res.code != 0 || !strings.Contains(res.stdout, "rectified") || !strings.Contains(res.stdout, "6f1c0d9e-5a8b-4c1e-9f3a-2b7d4e6a8c10") {
		t.Fatalf("exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	got := g.last("/v1/rights/rectify")
	if got.method != "POST" || got.query != "" || got.key != "k-1" || got.body["channel"] != "national" ||
		got.body["localRef"] != "BAMF-1" || got.body["newLocalRef"] != "BAMF-2" {
		t.Fatalf("request %+v", got)
	}
	res = cli(t, envFor(g), "rectify", "--channel", "national", "--ref", "BAMF-404", "--new-ref", "BAMF-2")
	if res.code != 2 || !strings.Contains(res.stderr, "UNKNOWN_LOCAL_REF") {
		t.Fatalf("unknown reference: exit %d: %s", res.code, res.stderr)
	}
	for _, args := range [][]string{
		{"rectify", "--channel", "national", "--ref", "BAMF-1"},
		{"rectify", "--channel", "national", "--ref", "BAMF-1", "--new-ref", "BAMF-1"},
		{"export", "--channel", "national"},
	} {
		if res := cli(t, envFor(g), args...); res.code != 1 {
			t.Errorf("%v: exit %d, want 1 (usage): %s", args, res.code, res.stderr)
		}
	}
}

func TestExportPrintsReferencesPseudonymsAndTimelines(t *testing.T) {
	g := newFakeGateway(t)
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	ex := api.SubjectExport{MSPID: "AsylumOfficeMSP", ExportedAt: at, MappedAt: at, Cases: []api.ExportedCase{
		{Channel: "national", Pseudonym: "11111111-1111-4111-8111-111111111111", LocalRefs: []string{"BAMF-1"}, OnLedger: true,
			Case:     &domain.CaseState{Status: "FILE_CREATED", Holders: []string{"AsylumOfficeMSP", "BorderPoliceMSP"}},
			Timeline: []domain.Event{{Seq: 1, Code: domain.EvCaseRegistered, MSPID: "BorderPoliceMSP", OccurredOn: "2026-11-27"}}},
		{Channel: "dublin", Pseudonym: "22222222-2222-4222-8222-222222222222", LocalRefs: []string{"BAMF-D-1"}, Timeline: []domain.Event{}},
	}, History: []api.ExportHistory{{At: at, Action: "rectified", Channel: "national"}}}
	g.answer["POST /v1/rights/export"] = func([]byte) (int, any) { return 200, ex }
	res := cli(t, envFor(g), "export", "--channel", "national", "--ref", "BAMF-1")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"AsylumOfficeMSP", "BAMF-1", "BAMF-D-1", "11111111-1111-4111-8111-111111111111",
		"22222222-2222-4222-8222-222222222222", "CASE_REGISTERED", "BorderPoliceMSP", "not on your agency's ledger", "rectified"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	got := g.last("/v1/rights/export")
	if got.key != "" || got.query != "" || got.body["localRef"] != "BAMF-1" {
		t.Fatalf("request %+v", got)
	}
	res = cli(t, envFor(g), "--output", "json", "export", "--channel", "national", "--ref", "BAMF-1")
	var back api.SubjectExport
	if err := json.Unmarshal([]byte(res.stdout), &back); err != nil || len(back.Cases) != 2 || back.Cases[1].LocalRefs[0] != "BAMF-D-1" {
		t.Fatalf("json: %v %s", err, res.stdout)
	}
}
