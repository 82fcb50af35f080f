package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	gwproto "github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	mspproto "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

const (
	ownMSP     = "BorderPoliceMSP" // fabricOver's identity
	partnerMSP = "PartnerStateMSP"
)

// refusalBy is the error Fabric's gateway answers when an endorser's
// chaincode refused: the endorser is named in the status details.
func refusalBy(mspID, kindAndMessage string) error {
	msg := "failed to collect enough transaction endorsements, see attached details for more info"
	if mspID == ownMSP {
		msg = "failed to endorse transaction, see attached details for more info"
	}
	st, _ := status.New(codes.Aborted, msg).WithDetails(&gwproto.ErrorDetail{
		Address: "peer0." + strings.ToLower(strings.TrimSuffix(mspID, "MSP")) + ":7051", MspId: mspID,
		Message: "chaincode response 500, " + kindAndMessage})
	return st.Err()
}

// heights is a scripted chain height per organisation's peer.
type orgHeights struct {
	mu    sync.Mutex
	h     map[string]uint64
	polls map[string]int
	// onPoll, if set, may move heights on each poll of an organisation.
	onPoll func(org string, n int, h map[string]uint64)
}

func (o *orgHeights) evaluateOn(orgs []string, fn string, args []string) ([]byte, error) {
	if fn == "GetChannelConfig" && len(orgs) == 1 && orgs[0] == ownMSP {
		return channelConfig(ownMSP, partnerMSP), nil
	}
	if fn != "GetChainInfo" || len(orgs) != 1 {
		return nil, status.Error(codes.Unknown, "unexpected query "+fn)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.polls[orgs[0]]++
	if o.onPoll != nil {
		o.onPoll(orgs[0], o.polls[orgs[0]], o.h)
	}
	return proto.Marshal(&common.BlockchainInfo{Height: o.h[orgs[0]]})
}

func (o *orgHeights) pollsOf(org string) int { o.mu.Lock(); defer o.mu.Unlock(); return o.polls[org] }

func (o *orgHeights) heightOf(org string) uint64 { o.mu.Lock(); defer o.mu.Unlock(); return o.h[org] }

func newOrgHeights(own, partner uint64) *orgHeights {
	return &orgHeights{h: map[string]uint64{ownMSP: own, partnerMSP: partner}, polls: map[string]int{}}
}

func validCommit(int, string) (peer.TxValidationCode, bool) {
	return peer.TxValidationCode_VALID, false
}

// TestSubmitWaitsForALaggingEndorser: issue 12 finding 1. The partner
// state's endorser, one block behind the agency's own peer, refuses the next
// step of a case it has not seen (NOT_FOUND). The gateway waits until that
// endorser has reached the height the agency's peer endorsed at, endorses
// again and the write commits — the refusal never becomes the answer.
func TestSubmitWaitsForALaggingEndorser(t *testing.T) {
	hs := newOrgHeights(2969, 2968)
	hs.onPoll = func(org string, n int, h map[string]uint64) {
		if org == partnerMSP && n == 3 {
			h[partnerMSP] = 2969 // commits block 2968 after a while
		}
	}
	var partnerHeightAtSecond int
	f := &fakePeer{commit: validCommit, evaluateOn: hs.evaluateOn}
	f.endorse = func(n int, txID string, _ []string) ([]byte, error) {
		if n == 1 {
			return nil, refusalBy(partnerMSP, "NOT_FOUND: case not found")
		}
		partnerHeightAtSecond = int(hs.heightOf(partnerMSP))
		return writeResult(txID), nil
	}
	l := fabricOver(t, f)
	m, _ := NewMetrics()
	l.metrics = m
	rec, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "dublin", api.FnRecordEvent, reqID, "p", "{}")
	if err != nil {
		t.Fatalf("a lagging endorser's refusal became the answer: %v", err)
	}
	if e, _ := f.counts(); e != 2 || rec.Attempts != 2 {
		t.Fatalf("%d endorsements (attempts %d), want 2", e, rec.Attempts)
	}
	if partnerHeightAtSecond != 2969 || hs.pollsOf(partnerMSP) != 3 {
		t.Fatalf("endorsed again at partner height %d after %d polls; want 2969 after 3", partnerHeightAtSecond, hs.pollsOf(partnerMSP))
	}
	if got := metricValue(m.retries.WithLabelValues("lag")); got != 1 {
		t.Fatalf("lag retries %v", got)
	}
	if got := metricValue(m.refusals.WithLabelValues(partnerMSP, "NOT_FOUND")); got != 1 {
		t.Fatalf("refusals counted %v", got)
	}
}

// TestSubmitLagOutcomes: which refusals are final at once, and what is
// answered when a lagging endorser does not catch up in time.
func TestSubmitLagOutcomes(t *testing.T) {
	cases := []struct {
		name             string
		by, refusal      string
		own, partner     uint64
		wantEndorsements int // at least
		check            func(t *testing.T, err error)
	}{
		// Asked once more at a height at least every other peer's (the heights
		// are read after the refusal), then final.
		{"own peer's refusal is final", ownMSP, "NOT_FOUND: case not found", 2969, 2960, 2, func(t *testing.T, err error) {
			var er *EndorserRefusal
			if !errors.As(err, &er) || er.MSPID != ownMSP || domain.KindOf(err) != domain.KindNotFound || problemOf(err).Status != 404 {
				t.Fatalf("%v", err)
			}
		}},
		{"a refusal lag cannot cause is final", partnerMSP, "INVALID_ARGUMENT: payload: not canonical", 2969, 2960, 1, func(t *testing.T, err error) {
			if domain.KindOf(err) != domain.KindInvalidArgument || problemOf(err).Status != 400 {
				t.Fatalf("%v", err)
			}
		}},
		{"an endorser that does not catch up", partnerMSP, "INVALID_TRANSITION: not from REGISTERED", 2969, 2968, 1, func(t *testing.T, err error) {
			var eb *EndorserBehind
			if !errors.As(err, &eb) || eb.MSPID != partnerMSP || eb.Height != 2968 || eb.Target != 2969 || eb.Disagree {
				t.Fatalf("%#v", err)
			}
			var de *domain.Error
			if errors.As(err, &de) || !errors.Is(err, ErrLedgerUnavailable) {
				t.Fatal("a lag answer must not look like the chaincode's refusal")
			}
			p := problemOf(err)
			if p.Code != api.CodeEndorserBehind || p.Status != 503 || p.RetryAfter == 0 || !strings.Contains(p.Detail, partnerMSP) || finalStatus(p.Status) {
				t.Fatalf("problem %+v", p)
			}
		}},
		{"an endorser at the height that keeps refusing", partnerMSP, "FORBIDDEN: not a holder of the case", 2969, 2969, 2, func(t *testing.T, err error) {
			var eb *EndorserBehind
			if !errors.As(err, &eb) || !eb.Disagree {
				t.Fatalf("%#v", err)
			}
			if p := problemOf(err); p.Code != api.CodeEndorsersDisagree || p.Status != 502 || finalStatus(p.Status) || p.RetryAfter != 0 {
				t.Fatalf("problem %+v", p)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs := newOrgHeights(tc.own, tc.partner)
			f := &fakePeer{commit: validCommit, evaluateOn: hs.evaluateOn,
				endorse: func(int, string, []string) ([]byte, error) { return nil, refusalBy(tc.by, tc.refusal) }}
			l := fabricOver(t, f)
			l.t.LagWait = 600 * time.Millisecond
			start := time.Now()
			_, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "dublin", api.FnRecordEvent, reqID, "p", "{}")
			tc.check(t, err)
			if e, _ := f.counts(); e < tc.wantEndorsements {
				t.Fatalf("%d endorsements, want at least %d", e, tc.wantEndorsements)
			}
			if tc.by == ownMSP {
				if e, _ := f.counts(); e != tc.wantEndorsements {
					t.Fatalf("%d endorsements, want %d", e, tc.wantEndorsements)
				}
			}
			if time.Since(start) > l.t.LagWait+3*time.Second {
				t.Fatalf("took %s", time.Since(start))
			}
		})
	}
}

// TestLagRefusalIsNotStoredUnderTheKey: the lag answer is not final for the
// Idempotency-Key — the same key, retried, runs the write again and
// succeeds; a real refusal is stored as before.
func TestLagRefusalIsNotStoredUnderTheKey(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, nil)
	w := a.register(domain.RoleCaseworker, "national", "BP-LAG", "2026-11-27")
	lagging := true
	n.failSubmit = func(fn string) error {
		if lagging {
			return &EndorserBehind{MSPID: ia, Address: "peer0.ia:7051", Refusal: &domain.Error{Kind: domain.KindNotFound, Message: "case not found"}, Height: 7, Target: 8}
		}
		return nil
	}
	ev := map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": "2026-11-27", "eurodacHit": "NONE"}
	body := map[string]any{"channel": "national", "pseudonym": w.Pseudonym, "event": ev}
	r := a.call(domain.RoleCaseworker, "POST", "/v1/cases/events", body, "key-lag-1")
	if p := r.problem(t); r.status != 503 || p.Code != api.CodeEndorserBehind || r.header.Get("Retry-After") == "" {
		t.Fatalf("lagging: %d %+v", r.status, p)
	}
	lagging = false
	r = a.call(domain.RoleCaseworker, "POST", "/v1/cases/events", body, "key-lag-1")
	if r.status != http.StatusCreated && r.status != http.StatusOK || r.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("retry with the same key: %d %s (replayed %q)", r.status, r.body, r.header.Get("Idempotent-Replayed"))
	}
}

// TestClockSkewNamesTheEndorserAndPersists: issue 12 finding 9. A CLOCK_SKEW
// refusal names the endorser; while it lasts less than ClockSkewPersist it is
// the transient 503 CLOCK_SKEW, after that a 502 ENDORSER_CLOCK_SKEW without
// Retry-After and a metric of how long; an approval by that endorser ends it.
func TestClockSkewNamesTheEndorserAndPersists(t *testing.T) {
	skewed := true
	f := &fakePeer{commit: validCommit, endorsers: []string{ownMSP, partnerMSP},
		endorse: func(_ int, txID string, _ []string) ([]byte, error) {
			if skewed {
				return nil, refusalBy(partnerMSP, "CLOCK_SKEW: transaction timestamp differs from the endorser clock by more than 5m0s")
			}
			return writeResult(txID), nil
		}}
	l := fabricOver(t, f)
	m, _ := NewMetrics()
	l.metrics = m
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	submit := func() error {
		_, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "dublin", api.FnRecordEvent, reqID, "p", "{}")
		return err
	}
	check := func(err error, code string, status int, persistent bool) {
		t.Helper()
		var cs *ClockSkewError
		if !errors.As(err, &cs) || cs.MSPID != partnerMSP || cs.Persistent != persistent {
			t.Fatalf("%#v", err)
		}
		if domain.KindOf(err) == domain.KindClockSkew {
			t.Fatal("a clock error must not look like the chaincode's refusal of the write")
		}
		p := problemOf(err)
		if p.Code != code || p.Status != status || !strings.Contains(p.Detail, partnerMSP) || finalStatus(p.Status) || (p.RetryAfter > 0) == persistent {
			t.Fatalf("problem %+v", p)
		}
	}
	check(submit(), "CLOCK_SKEW", 503, false)
	now = now.Add(30 * time.Second)
	check(submit(), "CLOCK_SKEW", 503, false)
	now = now.Add(31 * time.Second)
	check(submit(), api.CodeEndorserClockSkew, 502, true)
	if got := metricValue(m.clockSkew.WithLabelValues(partnerMSP)); got != 61 {
		t.Fatalf("clock skew gauge %v, want 61", got)
	}
	if e, _ := f.counts(); e != 3 {
		t.Fatalf("%d endorsements: a clock refusal is answered, not retried inside the write", e)
	}
	// The clock is fixed: an approval by that endorser ends the streak.
	skewed = false
	if err := submit(); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(m.clockSkew.WithLabelValues(partnerMSP)); got != 0 {
		t.Fatalf("clock skew gauge %v after an approval", got)
	}
	skewed = true
	now = now.Add(time.Second)
	check(submit(), "CLOCK_SKEW", 503, false)
}

// TestEndorsersOf reads the MSP ids of a prepared transaction's endorsements.
func TestEndorsersOf(t *testing.T) {
	f := &fakePeer{commit: validCommit, endorsers: []string{ownMSP, partnerMSP},
		endorse: func(_ int, txID string, _ []string) ([]byte, error) { return writeResult(txID), nil }}
	l := fabricOver(t, f)
	tx, err := l.gateways[domain.RoleCaseworker].GetNetwork("dublin").GetContract("caseledger").NewProposal(api.FnRecordEvent)
	if err != nil {
		t.Fatal(err)
	}
	prepared, err := tx.Endorse()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := prepared.Bytes()
	if got := endorsersOf(b); len(got) != 2 || got[0] != ownMSP || got[1] != partnerMSP {
		t.Fatalf("endorsers %v", got)
	}
	if got := endorsersOf([]byte("not a transaction")); got != nil {
		t.Fatalf("garbage: %v", got)
	}
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	_ = m.Write(&d)
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

// TestSubmitChecksARefusalOfAPeerAhead: the other endorser may be ahead
// (it committed a step the agency's own peer has not yet) and refuse
// rightly. The gateway then waits for its own peer to reach that height and
// endorses again; its own peer, now seeing the step, refuses too — the
// refusal holds at that height on both and is final.
func TestSubmitChecksARefusalOfAPeerAhead(t *testing.T) {
	hs := newOrgHeights(2968, 2969)
	hs.onPoll = func(org string, n int, h map[string]uint64) {
		if org == ownMSP && n == 2 {
			h[ownMSP] = 2969
		}
	}
	var ownHeightAtSecond uint64
	f := &fakePeer{commit: validCommit, evaluateOn: hs.evaluateOn}
	f.endorse = func(n int, _ string, _ []string) ([]byte, error) {
		if n == 1 {
			return nil, refusalBy(partnerMSP, "INVALID_TRANSITION: the case is closed")
		}
		ownHeightAtSecond = hs.heightOf(ownMSP)
		return nil, refusalBy(ownMSP, "INVALID_TRANSITION: the case is closed")
	}
	l := fabricOver(t, f)
	_, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "dublin", api.FnRecordEvent, reqID, "p", "{}")
	var er *EndorserRefusal
	if !errors.As(err, &er) || er.MSPID != ownMSP || domain.KindOf(err) != domain.KindInvalidTransition || problemOf(err).Status != 409 {
		t.Fatalf("%v", err)
	}
	if e, _ := f.counts(); e != 2 || ownHeightAtSecond != 2969 {
		t.Fatalf("%d endorsements, the second at own height %d; want 2 at 2969", e, ownHeightAtSecond)
	}
}

// channelConfig is a channel configuration (cscc GetChannelConfig) whose
// application organisations are msps.
func channelConfig(msps ...string) []byte {
	mk := func(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }
	orgs := map[string]*common.ConfigGroup{}
	for _, m := range msps {
		orgs[strings.TrimSuffix(m, "MSP")] = &common.ConfigGroup{Values: map[string]*common.ConfigValue{
			"MSP": {Value: mk(&mspproto.MSPConfig{Config: mk(&mspproto.FabricMSPConfig{Name: m})})}}}
	}
	return mk(&common.Config{ChannelGroup: &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{
		"Application": {Groups: orgs}, "Orderer": {Groups: map[string]*common.ConfigGroup{"OrdererOrg": {Values: map[string]*common.ConfigValue{
			"MSP": {Value: mk(&mspproto.MSPConfig{Config: mk(&mspproto.FabricMSPConfig{Name: "OrdererMSP"})})}}}}},
	}}})
}

// TestSubmitWaitsForTheOwnPeerBehindAnother: without Caseledger-Min-Block
// the agency's own peer may refuse a step it has not committed yet. Another
// organisation's peer (found in the channel's configuration) is ahead, so
// the gateway waits for its own peer to get there and endorses again; the
// write commits. With no peer ahead, the own peer is asked once more (it may
// have caught up between its refusal and the height check) and its refusal is
// then final.
func TestSubmitWaitsForTheOwnPeerBehindAnother(t *testing.T) {
	hs := newOrgHeights(2968, 2969)
	hs.onPoll = func(org string, n int, h map[string]uint64) {
		if org == ownMSP && n == 3 {
			h[ownMSP] = 2969
		}
	}
	var ownHeightAtSecond uint64
	f := &fakePeer{commit: validCommit, evaluateOn: hs.evaluateOn}
	f.endorse = func(n int, txID string, _ []string) ([]byte, error) {
		if n == 1 {
			return nil, refusalBy(ownMSP, "INVALID_TRANSITION: not from REGISTERED")
		}
		ownHeightAtSecond = hs.heightOf(ownMSP)
		return writeResult(txID), nil
	}
	l := fabricOver(t, f)
	if _, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "national", api.FnRecordEvent, reqID, "p", "{}"); err != nil {
		t.Fatalf("the own peer's refusal while behind became the answer: %v", err)
	}
	if e, _ := f.counts(); e != 2 || ownHeightAtSecond != 2969 {
		t.Fatalf("%d endorsements, the second at own height %d; want 2 at 2969", e, ownHeightAtSecond)
	}
	if got := endorsersAsked(hs); got[partnerMSP] == 0 {
		t.Fatal("the partner's height was not asked")
	}

	// Nobody ahead: asked once more at that height, then final.
	hs = newOrgHeights(2969, 2969)
	f = &fakePeer{commit: validCommit, evaluateOn: hs.evaluateOn,
		endorse: func(int, string, []string) ([]byte, error) {
			return nil, refusalBy(ownMSP, "INVALID_TRANSITION: not from REGISTERED")
		}}
	l = fabricOver(t, f)
	_, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "national", api.FnRecordEvent, reqID, "p", "{}")
	if domain.KindOf(err) != domain.KindInvalidTransition {
		t.Fatalf("%v", err)
	}
	if e, _ := f.counts(); e != 2 {
		t.Fatalf("%d endorsements, want 2", e)
	}

	// The own peer refused while behind, but had caught up with everybody by the
	// time the heights were read (a peer thawed or reconnected catches up within
	// milliseconds): asked again, it endorses. Before, that refusal was final.
	hs = newOrgHeights(2969, 2969)
	f = &fakePeer{commit: validCommit, evaluateOn: hs.evaluateOn}
	f.endorse = func(n int, txID string, _ []string) ([]byte, error) {
		if n == 1 {
			return nil, refusalBy(ownMSP, "INVALID_TRANSITION: FILE_CREATED may not follow status REGISTERED")
		}
		return writeResult(txID), nil
	}
	l = fabricOver(t, f)
	if _, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "national", api.FnRecordEvent, reqID, "p", "{}"); err != nil {
		t.Fatalf("the own peer's refusal given before it caught up became the answer: %v", err)
	}
	if e, _ := f.counts(); e != 2 {
		t.Fatalf("%d endorsements, want 2", e)
	}
}

func endorsersAsked(o *orgHeights) map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]int{}
	for k, v := range o.polls {
		out[k] = v
	}
	return out
}

// TestApplicationMSPs reads the application organisations of a channel
// configuration (and not the orderer's).
func TestApplicationMSPs(t *testing.T) {
	got, err := applicationMSPs(channelConfig(ownMSP, partnerMSP))
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{ownMSP, partnerMSP}) {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := applicationMSPs([]byte("junk")); err == nil {
		t.Fatal("junk accepted")
	}
	if _, err := applicationMSPs(channelConfig()); err == nil {
		t.Fatal("a configuration without organisations accepted")
	}
}
