package main

import (
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// TestAuditHistoryShowsSupersession (issue 13 §1): the auditor's history
// of a case marks the version of an implicit acceptance that an on-time
// rejection superseded, and the version of the rejection that did.
func TestAuditHistoryShowsSupersession(t *testing.T) {
	g := newFakeGateway(t)
	sup := domain.Supersession{Code: domain.EvImplicitlyAccepted, Seq: 3, ByCode: domain.EvRequestRejected, BySeq: 4, ByOccurred: "2026-11-18"}
	version := func(seq uint64, st domain.Status, last domain.EventCode, sups ...domain.Supersession) api.HistoryEntry {
		return api.HistoryEntry{TxID: strings.Repeat("a", 63) + string(rune('0'+seq)), Timestamp: "2026-12-04T10:00:0" + string(rune('0'+seq)) + "Z",
			State: &domain.CaseState{Status: st, Seq: seq, LastEvent: last, Holders: []string{"AsylumOfficeMSP"}, Dublin: &domain.DublinFacts{Superseded: sups}}}
	}
	g.answer["POST /v1/audit/history"] = func([]byte) (int, any) {
		return 200, api.HistoryPage{Items: []api.HistoryEntry{
			version(4, domain.StRejected, domain.EvRequestRejected, sup),
			version(3, domain.StImplicitlyAccepted, domain.EvImplicitlyAccepted),
			version(2, domain.StTakeChargeRequested, domain.EvTakeChargeRequested),
		}}
	}
	res := cli(t, envFor(g), "audit", "history", "--channel", "dublin", "--pseudonym", "7f2b9f31-1424-42ee-b100-327e72705476")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 3 ||
		!strings.Contains(lines[0], "status REJECTED seq 4") || !strings.Contains(lines[0], "supersedes IMPLICITLY_ACCEPTED seq 3") ||
		!strings.Contains(lines[1], "status IMPLICITLY_ACCEPTED seq 3") || !strings.Contains(lines[1], "[SUPERSEDED by seq 4]") ||
		strings.Contains(lines[2], "SUPERSED") || strings.Contains(lines[2], "supersedes") {
		t.Fatalf("history:\n%s", res.stdout)
	}
}
