package main

import (
	"testing"

	"github.com/caseledger/caseledger/api"
)

// Issue 13 §3: register on the Dublin channel with the facts that start the
// request limit; the flags go together.
func TestRegisterSendsDublinRequestFacts(t *testing.T) {
	g := newFakeGateway(t)
	g.answer["POST /v1/cases"] = func([]byte) (int, any) {
		return 201, api.WriteResponse{Channel: "dublin", Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Seq: 1,
			Code: "CASE_REGISTERED", Status: "REGISTERED", TxID: "abcdef0123456789", BlockNumber: 3}
	}
	r := cli(t, envFor(g), "register", "--channel", "dublin", "--ref", "BAMF-D-2", "--date", "2026-08-06",
		"--application-registered", "2026-08-03", "--evidence", "EURODAC_HIT", "--evidence-received", "2026-08-05")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	rq := g.last("/v1/cases")
	if rq.body["applicationRegisteredOn"] != "2026-08-03" || rq.body["evidence"] != "EURODAC_HIT" || rq.body["evidenceReceivedOn"] != "2026-08-05" ||
		rq.body["channel"] != "dublin" || rq.body["occurredOn"] != "2026-08-06" {
		t.Fatalf("request %+v", rq.body)
	}
	before := len(g.requests())
	for _, args := range [][]string{
		{"register", "--channel", "dublin", "--ref", "X", "--date", "2026-08-06", "--application-registered", "2026-08-03"},
		{"register", "--channel", "dublin", "--ref", "X", "--date", "2026-08-06", "--evidence", "OTHER"},
		{"register", "--channel", "dublin", "--ref", "X", "--date", "2026-08-06", "--evidence-received", "2026-08-05"},
	} {
		if r := cli(t, envFor(g), args...); r.code != exitUsage {
			t.Errorf("%q: exit %d, stderr %q; want a usage error", args, r.code, r.stderr)
		}
	}
	if len(g.requests()) != before {
		t.Error("a usage error still called the gateway")
	}
}
