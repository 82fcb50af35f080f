package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
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

// Issue 13 §3: a request the chaincode recorded as sent after its limit is
// reported as such right after the write (text output), with the rule's
// consequence; one sent in time gets no such line; JSON output stays the
// write's answer alone.
func TestDublinRequestSaysWhenSentLate(t *testing.T) {
	limit := deadline.Deadline{Regime: deadline.AMMR, Step: deadline.TakeChargeRequestHit, Article: "2024/1351 Art 39(1)",
		Period: deadline.MonthsPeriod(1), OnLapse: deadline.RequestingStateResponsible, Verification: deadline.Verified}
	limit.Due, _ = deadline.ParseDate("2026-12-03")
	for _, c := range []struct {
		name   string
		late   bool
		output string
		want   string // "" : no late line
	}{
		{"late", true, "text", "request sent after its time limit: TAKE_CHARGE_REQUEST_HIT due 2026-12-03 (1M 2024/1351 Art 39(1), AMMR): the request was sent after it — REQUESTING_STATE_RESPONSIBLE: silence is no acceptance"},
		{"in time", false, "text", ""},
		{"late, JSON", true, "json", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newFakeGateway(t)
			g.answer["POST /v1/dublin/requests"] = func([]byte) (int, any) {
				return 200, api.WriteResponse{Channel: "dublin", Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Seq: 2,
					Code: "TAKE_CHARGE_REQUESTED", Status: "TAKE_CHARGE_REQUESTED", TxID: "abcdef0123456789", BlockNumber: 4}
			}
			g.answer["POST /v1/cases/state"] = func([]byte) (int, any) {
				return 200, api.CaseView{Case: domain.CaseState{Pseudonym: "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6", Procedure: domain.ProcedureDublin,
					Dublin: &domain.DublinFacts{RequestLimit: &limit, RequestLate: c.late}}}
			}
			r := cli(t, envFor(g), "--output", c.output, "dublin", "request", "--ref", "BAMF-D-2", "--kind", "TAKE_CHARGE", "--to", "AT",
				"--received", "2026-12-04", "--application-registered", "2026-11-02", "--evidence", "EURODAC_HIT", "--evidence-received", "2026-11-03", "--date", "2026-12-04")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			switch {
			case c.want != "" && !strings.Contains(r.stdout, c.want):
				t.Fatalf("stdout lacks %q:\n%s", c.want, r.stdout)
			case c.want == "" && strings.Contains(r.stdout, "sent after"):
				t.Fatalf("stdout:\n%s", r.stdout)
			}
			if c.output == "json" {
				var w api.WriteResponse
				if err := json.Unmarshal([]byte(r.stdout), &w); err != nil || w.Seq != 2 {
					t.Fatalf("JSON output %q: %v", r.stdout, err)
				}
			}
		})
	}
}
