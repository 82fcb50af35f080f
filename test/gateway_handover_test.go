package test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/gateway"
)

// TestGatewayHandOverAtOnce: the border police registers a case and checks the identity through its
// gateway; the asylum office records the next step the same instant through its own gateway, naming
// the block of the identity check in Caseledger-Min-Block. Every hand-over is recorded: the asylum
// office's gateway waits for its peer to commit that block instead of letting a peer that is one
// block behind refuse the step (INVALID_TRANSITION). On an idle network the peer is rarely behind, so
// this shows the header end to end on real peers; gateway.TestMinBlockWaitsForThePeer pins the wait.
func TestGatewayHandOverAtOnce(t *testing.T) {
	bp, ao := gatewayOf(t, "border-police"), gatewayOf(t, "asylum-office")
	const n = 5
	for i := range n {
		ref := gwRef("BPH")
		var reg, idc gwWrite
		bp.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": ref, "occurredOn": today()}, &reg)
		bp.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/events", map[string]any{"channel": "national", "localRef": ref,
			"event": map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": today(), "eurodacHit": "NONE"}}, &idc)
		r := ao.raw(rawCall{token: ao.info.Tokens["caseworker"], method: "POST", path: "/v1/cases/events", contentType: "application/json",
			body: mustJSON(t, map[string]any{"channel": "national", "pseudonym": idc.Pseudonym,
				"event": map[string]any{"code": "FILE_CREATED", "occurredOn": today()}}),
			key: uuid.NewString(), header: http.Header{gateway.MinBlockHeader: {strconv.FormatUint(idc.BlockNumber, 10)}}})
		if r.status != http.StatusOK {
			t.Fatalf("hand-over %d of %d (identity check in block %d): %d %s", i+1, n, idc.BlockNumber, r.status, r.body)
		}
	}
	// A block far ahead is not waited for forever: 503 LEDGER_BEHIND with Retry-After, nothing recorded.
	ref := gwRef("BPH")
	var reg gwWrite
	bp.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": ref, "occurredOn": today()}, &reg)
	r := ao.raw(rawCall{token: ao.info.Tokens["caseworker"], method: "POST", path: "/v1/cases/state", contentType: "application/json",
		body:   mustJSON(t, map[string]any{"channel": "national", "pseudonym": reg.Pseudonym}),
		header: http.Header{gateway.MinBlockHeader: {strconv.FormatUint(reg.BlockNumber+1_000_000, 10)}}})
	if p := r.problem(t); r.status != http.StatusServiceUnavailable || p.Code != gateway.CodeLedgerBehind || r.header.Get("Retry-After") == "" {
		t.Fatalf("block far ahead: %d %+v", r.status, p)
	}
}
