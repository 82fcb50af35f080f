//go:build integration

package test

import (
	"net/http"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/network"
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
			key: uuid.NewString(), header: http.Header{api.HeaderMinBlock: {strconv.FormatUint(idc.BlockNumber, 10)}}})
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
		header: http.Header{api.HeaderMinBlock: {strconv.FormatUint(reg.BlockNumber+1_000_000, 10)}}})
	if p := r.problem(t); r.status != http.StatusServiceUnavailable || p.Code != api.CodeLedgerBehind || r.header.Get("Retry-After") == "" {
		t.Fatalf("block far ahead: %d %+v", r.status, p)
	}
}

// TestGatewayHandOverToALaggingEndorser (issue 12 finding 1): the asylum office registers a Dublin
// case, endorsed by both member states; the partner state's peer is then frozen before it commits
// that block, behind a few more blocks (transactions endorsed by the asylum office alone: ordered,
// invalid). The asylum office's next step goes through its gateway at once, with
// Caseledger-Min-Block naming the registration's block; the partner's peer is thawed 300 ms later and
// endorses while it is still catching up. Its refusal ("case not found") must not be the answer: the
// gateway waits for that peer to reach its own peer's height and endorses again — the step is
// recorded, and the same Idempotency-Key replays the success.
func TestGatewayHandOverToALaggingEndorser(t *testing.T) {
	const org, partner = "asylum-office", "partner-state"
	ao := gatewayOf(t, org)
	cc := contractFor(t, org, "dublin-officer", "dublin")
	conn, err := itNet.Connection(org)
	if err != nil {
		t.Fatal(err)
	}
	pid, ok := itNet.Supervisor().Running(network.PeerNode(partner))
	if !ok {
		t.Fatalf("%s is not running", network.PeerNode(partner))
	}
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGCONT) })
	lagBefore := gatewayCounter(t, ao, `gateway_ledger_retries_total{reason="lag"}`)

	pseudonym := uuid.NewString()
	prop, err := cc.NewProposal("cases:RegisterCase", client.WithArguments(uuid.NewString(), pseudonym, today()))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := prop.Endorse() // both member states endorse
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	const junk = 12
	for range junk {
		p, err := cc.NewProposal("cases:RegisterCase", client.WithArguments(uuid.NewString(), uuid.NewString(), today()),
			client.WithEndorsingOrganizations(conn.MSPID))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := p.Endorse()
		if err != nil {
			t.Fatal(err)
		}
		commit, err := tx.Submit()
		if err != nil {
			t.Fatal(err)
		}
		if st, err := commit.Status(); err != nil || st.Code != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE {
			t.Fatalf("a transaction endorsed by one member state: %v %v", st, err)
		}
	}
	commit, err := reg.Submit()
	if err != nil {
		t.Fatal(err)
	}
	st, err := commit.Status()
	if err != nil || !st.Successful {
		t.Fatalf("registration: %+v %v", st, err)
	}
	go func() { time.Sleep(300 * time.Millisecond); _ = syscall.Kill(-pid, syscall.SIGCONT) }()
	key := uuid.NewString()
	call := rawCall{token: ao.info.Tokens["dublin-officer"], method: "POST", path: "/v1/dublin/requests", contentType: "application/json",
		body: mustJSON(t, map[string]any{"pseudonym": pseudonym, "kind": "TAKE_CHARGE", "occurredOn": today(), "requestedMemberState": "AT",
			"receivedOn": today(), "applicationRegisteredOn": today(), "evidence": "OTHER"}),
		key: key, header: http.Header{api.HeaderMinBlock: {strconv.FormatUint(st.BlockNumber, 10)}}}
	start := time.Now()
	r := ao.raw(call)
	took := time.Since(start)
	if r.status != http.StatusOK {
		t.Fatalf("the step after the registration (block %d), the partner's peer frozen %d blocks behind: %d %s", st.BlockNumber, junk+1, r.status, r.body)
	}
	lag := gatewayCounter(t, ao, `gateway_ledger_retries_total{reason="lag"}`) - lagBefore
	t.Logf("recorded in %s; %v endorsement round(s) waited for the partner's peer", took.Round(time.Millisecond), lag)
	if lag < 1 {
		t.Fatalf("the partner's peer was never found behind: the test did not exercise the lag path")
	}
	again := ao.raw(call)
	if again.status != http.StatusOK || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(r.body) {
		t.Fatalf("the same key: %d %q %s", again.status, again.header.Get("Idempotent-Replayed"), again.body)
	}
}

// gatewayCounter reads one series of a gateway's metrics (admin token on the API port; 0 when absent).
func gatewayCounter(t *testing.T, g *gwAPI, series string) float64 {
	t.Helper()
	r := g.do("admin", "GET", "/metrics", nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("metrics: %d", r.status)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(r.body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestGatewayHandOverWithoutMinBlockToItsOwnLaggingPeer: the same hand-over as
// TestGatewayHandOverAtOnce, but the asylum office's system sends no Caseledger-Min-Block, and the
// asylum office's own peer is the one behind — frozen before ten more writes and then the border
// police's identity check were committed, thawed 300 ms after the step was sent. Its refusal must not be
// the answer: another organisation's peer is ahead, so the gateway waits for its own peer and
// endorses again.
func TestGatewayHandOverWithoutMinBlockToItsOwnLaggingPeer(t *testing.T) {
	const org = "asylum-office"
	bp, ao := gatewayOf(t, "border-police"), gatewayOf(t, org)
	pid, ok := itNet.Supervisor().Running(network.PeerNode(org))
	if !ok {
		t.Fatalf("%s is not running", network.PeerNode(org))
	}
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGCONT) })
	lagBefore := gatewayCounter(t, ao, `gateway_ledger_retries_total{reason="lag"}`)
	ref := gwRef("BPL")
	var reg, idc gwWrite
	bp.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": ref, "occurredOn": today()}, &reg)
	if err := syscall.Kill(-pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Endorsed by the border police and the immigration authority (a majority without the frozen
	// peer): blocks the frozen peer must commit before the one that holds the identity check.
	for range 10 {
		bp.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": gwRef("BPL"), "occurredOn": today()}, nil)
	}
	bp.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/events", map[string]any{"channel": "national", "localRef": ref,
		"event": map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": today(), "eurodacHit": "NONE"}}, &idc)
	go func() { time.Sleep(300 * time.Millisecond); _ = syscall.Kill(-pid, syscall.SIGCONT) }()
	call := rawCall{token: ao.info.Tokens["caseworker"], method: "POST", path: "/v1/cases/events", contentType: "application/json",
		body: mustJSON(t, map[string]any{"channel": "national", "pseudonym": idc.Pseudonym,
			"event": map[string]any{"code": "FILE_CREATED", "occurredOn": today()}}),
		key: uuid.NewString()}
	start := time.Now()
	r := ao.raw(call)
	took := time.Since(start)
	if r.status != http.StatusOK {
		t.Fatalf("the step after the identity check (block %d), the asylum office's own peer frozen before it: %d %s", idc.BlockNumber, r.status, r.body)
	}
	lag := gatewayCounter(t, ao, `gateway_ledger_retries_total{reason="lag"}`) - lagBefore
	t.Logf("recorded in %s; %v endorsement round(s) waited for the own peer", took.Round(time.Millisecond), lag)
	if lag < 1 {
		t.Fatalf("the own peer was never found behind: the test did not exercise the lag path")
	}
	again := ao.raw(call)
	if again.status != http.StatusOK || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the same key: %d %q %s", again.status, again.header.Get("Idempotent-Replayed"), again.body)
	}
}
