package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	gwproto "github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/fabricconn"
)

// Refusals by other organisations' endorsers.
//
// A write is endorsed first by the agency's own peer, then by the peers the
// endorsement policy needs (on dublin: both member states). Each endorses on
// its own copy of the ledger. Caseledger-Min-Block makes the agency's own
// peer wait for the block a hand-over depends on; another organisation's
// peer may still be a block behind, and refuse the next step of a case it
// has not seen yet ("NOT_FOUND: case not found"). Such a refusal is not the
// ledger's answer: the same write endorsed one block later succeeds. So a
// refusal that lag can explain (a state-dependent kind, given by another
// organisation's endorser while the agency's own peer approved) is final
// only once that endorser has reached the height the agency's peer endorsed
// at — the gateway asks that peer for its height (qscc GetChainInfo
// evaluated on that organisation), waits for it, and endorses again. Only a
// refusal that holds at that height reaches the client, and only such a
// refusal is stored under the Idempotency-Key. If the endorser does not catch
// up within LagWait, the answer is 503 ENDORSER_BEHIND (not final: a retry
// with the same key runs again).
//
// Fabric's gateway reports every endorser that failed in the gRPC status
// details (gateway.ErrorDetail: address, MSP id, message); that is how the
// gateway learns which endorser refused.

// EndorserRefusal is a chaincode refusal and the endorser that gave it. It
// unwraps to the *domain.Error.
type EndorserRefusal struct {
	MSPID, Address string
	Err            *domain.Error
}

func (e *EndorserRefusal) Error() string {
	return fmt.Sprintf("endorser %s (%s) refused: %v", e.MSPID, e.Address, e.Err)
}

// Unwrap exposes the domain error.
func (e *EndorserRefusal) Unwrap() error { return e.Err }

// classifyEndorse is classify for a failed endorsement, naming the endorser
// whose answer decided it.
func classifyEndorse(err error) error {
	for _, ce := range fabricconn.ChaincodeErrors(err) {
		if ce.FromPeer {
			return &EndorserRefusal{MSPID: ce.MSPID, Address: ce.Address, Err: ce.Err}
		}
	}
	return classify(err)
}

// lagKinds are the refusals a peer that has not seen the case's latest
// steps can give: the case or the step's precondition is missing, or the
// state it sees is older (a holder not yet recorded, an extension not yet
// seen). A lagging peer sees less, never more, so ALREADY_EXISTS is not
// among them; argument, personal-data and authentication refusals do not
// depend on the ledger at all.
var lagKinds = map[domain.Kind]bool{
	domain.KindNotFound: true, domain.KindInvalidTransition: true, domain.KindConflict: true,
	domain.KindForbidden: true, domain.KindDeadlinePassed: true, domain.KindDeadlineNotReached: true,
}

// mayLag: the refusal came from another organisation's endorser (so the
// agency's own peer, asked first, approved) and is of a kind lag can cause.
func (l *FabricLedger) mayLag(er *EndorserRefusal) bool {
	return l.mspID != "" && er.MSPID != "" && er.MSPID != l.mspID && lagKinds[er.Err.Kind]
}

// lagWait is the state of one write's wait for lagging endorsers.
type lagWait struct {
	until  time.Time
	rounds int
	// height, target: the refusing endorser's last known height and the
	// height both it and the agency's peer must reach.
	height, target uint64
	// ownRecheck: the own peer refused and no peer was ahead when asked, but
	// the heights are read after the refusal, so the own peer may have
	// caught up in between; it has been asked once more at a height at
	// least every other peer's.
	ownRecheck bool
}

// EndorserBehind: another organisation's endorser refused while it had not
// reached the height the agency's own peer endorsed at, and did not catch
// up within LagWait (or, at that height, still disagreed with the agency's
// peer). Nothing was recorded; the write may be retried. Not a domain
// refusal: it unwraps to ErrLedgerUnavailable only.
type EndorserBehind struct {
	MSPID, Address string
	Refusal        *domain.Error
	Height, Target uint64
	// Disagree: the endorser had reached the target and still refused what
	// the agency's peer approved.
	Disagree bool
}

func (e *EndorserBehind) Error() string {
	return fmt.Sprintf("endorser %s refused (%v) at height %d, below %d", e.MSPID, e.Refusal, e.Height, e.Target)
}

// Unwrap makes errors.Is(err, ErrLedgerUnavailable) true.
func (e *EndorserBehind) Unwrap() error { return ErrLedgerUnavailable }

// awaitEndorser waits until both the refusing endorser and the agency's
// own peer have reached the higher of their heights at the refusal — so the
// next endorsement sees, on both, every block either had seen: the usual
// case is the other peer behind, but it may be ahead (a step the own peer
// has not committed yet), and then its refusal must be checked against the
// own peer at that height too. Nil when the write should be endorsed again,
// an *EndorserBehind when the wait is over.
func (l *FabricLedger) awaitEndorser(ctx context.Context, gw *client.Gateway, channel string, er *EndorserRefusal, w *lagWait) error {
	w.rounds++
	behind := func(disagree bool) error {
		return &EndorserBehind{MSPID: er.MSPID, Address: er.Address, Refusal: er.Err, Height: w.height, Target: w.target, Disagree: disagree}
	}
	const pollEvery = 100 * time.Millisecond
	// The target is fixed by the first poll that reaches both peers in
	// this round (a peer that does not answer cannot be judged).
	for set := false; ; {
		own, oerr := l.heightOn(ctx, gw, channel, l.mspID)
		other, rerr := l.heightOn(ctx, gw, channel, er.MSPID)
		if rerr == nil {
			w.height = other
		}
		if oerr == nil && rerr == nil {
			if !set {
				w.target, set = max(w.target, own, other), true
			}
			if own >= w.target && other >= w.target {
				break
			}
		}
		if time.Now().After(w.until) || !sleepCtx(ctx, pollEvery) {
			return behind(false)
		}
	}
	// Both at the target and the endorser refused what the agency's peer
	// approved more than once: not lag (unless blocks keep coming), so back
	// off between rounds and give up when the budget is spent.
	if w.rounds > 1 {
		bo := backoff{base: 100 * time.Millisecond, max: time.Second}
		if time.Now().After(w.until) || !bo.sleep(ctx, w.rounds-1) {
			return behind(true)
		}
	}
	return nil
}

// Own peer behind. Without Caseledger-Min-Block (a client told of another
// agency's step by other means than this gateway's events) the agency's own
// peer may refuse a step it has not seen. So a lag-kind refusal by the own
// peer is checked too: the other organisations of the channel (from its
// configuration, cscc GetChannelConfig, cached) are asked for their heights;
// if one is ahead, the own peer is waited for up to that height and the
// write endorsed again. With no peer ahead, the own peer is asked once more
// (the heights are read after its refusal, which may have been given below
// them); only that answer is final.

// unreadHeightWait bounds how long other organisations' heights are asked
// again when unreadable (about how long a restarted peer's discovery took to
// find the others again on the test network: 3 s); stateSettle is the pause
// before the own peer is asked the final time.
const (
	unreadHeightWait = 3 * time.Second
	stateSettle      = 200 * time.Millisecond
)

// ownMayLag: the own peer refused, with a kind lag can cause.
func (l *FabricLedger) ownMayLag(er *EndorserRefusal) bool {
	return l.mspID != "" && er.MSPID == l.mspID && lagKinds[er.Err.Kind]
}

// awaitOwnPeer reports whether another organisation's peer was ahead of the
// own peer when it refused (then the own peer has now reached it: endorse
// again), or an *EndorserBehind when it did not get there in time.
func (l *FabricLedger) awaitOwnPeer(ctx context.Context, gw *client.Gateway, channel string, er *EndorserRefusal, w *lagWait) (bool, error) {
	own, err := l.heightOn(ctx, gw, channel, l.mspID)
	if err != nil {
		return false, nil // cannot judge: the refusal stands
	}
	orgs, err := l.orgs.of(ctx, l, gw, channel)
	if err != nil {
		return false, nil
	}
	// Another organisation's height may be unreadable for a few seconds
	// after the own peer thawed or restarted: its gossip view of the others
	// expired while it stood still, and discovery finds them again only
	// once it hears from them. "No peer is ahead" must not be concluded
	// from that, so unread heights are asked again for a short while.
	ahead, unread := own, 0
	for askUntil := time.Now().Add(unreadHeightWait); ; {
		var mu sync.Mutex
		var wg sync.WaitGroup
		unread = 0
		for _, org := range orgs {
			if org == l.mspID {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, err := l.heightOn(ctx, gw, channel, org)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					unread++
					return
				}
				ahead = max(ahead, h)
			}()
		}
		wg.Wait()
		if unread == 0 || ahead > own || time.Now().After(askUntil) || !sleepCtx(ctx, 200*time.Millisecond) {
			break
		}
	}
	if ahead <= own {
		// No peer has seen more now. The refusal was given at some earlier
		// height, though (a peer thawed or reconnected catches up within
		// milliseconds), so it holds only once given again at this height.
		// Not needed when this endorsement was made after a wait that
		// brought the own peer to the height it still has.
		if w.ownRecheck || (w.target != 0 && own <= w.target) {
			return false, nil
		}
		w.ownRecheck = true
		w.rounds++
		w.target = max(w.target, own)
		// A peer reports a block's height once the block is stored, a moment
		// before its world state holds the block's writes: let it apply them
		// before the answer that will be final.
		if !sleepCtx(ctx, stateSettle) {
			return false, ctx.Err()
		}
		return true, nil
	}
	w.rounds++
	w.target = max(w.target, ahead)
	for {
		h, err := l.heightOn(ctx, gw, channel, l.mspID)
		if err == nil {
			w.height = h
			if h >= w.target {
				return true, nil
			}
		}
		if time.Now().After(w.until) || !sleepCtx(ctx, 100*time.Millisecond) {
			return false, &EndorserBehind{MSPID: er.MSPID, Address: er.Address, Refusal: er.Err, Height: w.height, Target: w.target}
		}
	}
}

// orgCache remembers the application organisations of each channel.
type orgCache struct {
	mu sync.Mutex
	m  map[string]orgEntry
}

type orgEntry struct {
	msps []string
	at   time.Time
}

// orgCacheTTL: membership changes are rare and deliberate (a channel
// configuration update); a new member is seen within this time.
const orgCacheTTL = 10 * time.Minute

func (c *orgCache) of(ctx context.Context, l *FabricLedger, gw *client.Gateway, channel string) ([]string, error) {
	c.mu.Lock()
	e, ok := c.m[channel]
	c.mu.Unlock()
	if ok && time.Since(e.at) < orgCacheTTL {
		return e.msps, nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.t.Evaluate)
	defer cancel()
	raw, err := gw.GetNetwork(channel).GetContract("cscc").EvaluateWithContext(ctx, "GetChannelConfig",
		client.WithArguments(channel), client.WithEndorsingOrganizations(l.mspID))
	if err != nil {
		return nil, classify(err)
	}
	msps, err := applicationMSPs(raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]orgEntry{}
	}
	c.m[channel] = orgEntry{msps: msps, at: time.Now()}
	c.mu.Unlock()
	return msps, nil
}

// applicationMSPs lists the MSP ids of a channel configuration's
// application organisations.
func applicationMSPs(rawConfig []byte) ([]string, error) {
	var cfg common.Config
	if err := proto.Unmarshal(rawConfig, &cfg); err != nil {
		return nil, fmt.Errorf("undecodable channel configuration: %w", err)
	}
	var out []string
	for _, g := range cfg.GetChannelGroup().GetGroups()["Application"].GetGroups() {
		var mc msp.MSPConfig
		var fc msp.FabricMSPConfig
		if v, ok := g.GetValues()["MSP"]; ok && proto.Unmarshal(v.GetValue(), &mc) == nil && proto.Unmarshal(mc.GetConfig(), &fc) == nil && fc.GetName() != "" {
			out = append(out, fc.GetName())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the channel configuration names no application organisation")
	}
	return out, nil
}

// heightOn asks an organisation's peer for the channel's height (qscc
// GetChainInfo evaluated on that organisation only).
func (l *FabricLedger) heightOn(ctx context.Context, gw *client.Gateway, channel, mspID string) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, l.t.Evaluate)
	defer cancel()
	raw, err := gw.GetNetwork(channel).GetContract("qscc").EvaluateWithContext(ctx, "GetChainInfo",
		client.WithArguments(channel), client.WithEndorsingOrganizations(mspID))
	if err != nil {
		return 0, classify(err)
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(raw, &info); err != nil {
		return 0, fmt.Errorf("undecodable chain info: %w", err)
	}
	return info.Height, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Clock skew. The chaincode refuses a transaction whose timestamp (the
// gateway's clock) is further than its tolerance from the endorser's clock.
// A moment's skew (an NTP step) passes; a clock that stays off refuses every
// write the endorser is asked for — on dublin, where both member states
// endorse, one state's clock halts both. The answer names the endorser (MSP
// id and address, from the endorsement's error details) and, once the same
// endorser has refused for ClockSkewPersist without an approval in between,
// stops presenting it as transient: 502 ENDORSER_CLOCK_SKEW, no Retry-After,
// and gateway_endorser_clock_skew_seconds{msp_id} says for how long, so
// monitoring can page that member's operators. Neither answer is stored
// under the Idempotency-Key: once the clock is fixed the same key works.

// ClockSkewError is a CLOCK_SKEW refusal by one endorser. Not a domain
// refusal (the write was valid; an endorser's or the gateway's clock is
// not): it unwraps to ErrLedgerUnavailable.
type ClockSkewError struct {
	MSPID, Address, Message string
	// For is how long this endorser has refused for clock skew without
	// interruption; Persistent once that reached ClockSkewPersist.
	For        time.Duration
	Persistent bool
}

func (e *ClockSkewError) Error() string {
	return fmt.Sprintf("endorser %s (%s): clock skew for %s: %s", e.MSPID, e.Address, e.For.Round(time.Second), e.Message)
}

// Unwrap makes errors.Is(err, ErrLedgerUnavailable) true.
func (e *ClockSkewError) Unwrap() error { return ErrLedgerUnavailable }

// skewTracker remembers, per endorser MSP id, since when it has refused for
// clock skew without interruption.
type skewTracker struct {
	mu     sync.Mutex
	since  map[string]time.Time
	last   map[string]time.Time
	active bool
}

// refused records a CLOCK_SKEW refusal and answers it.
func (t *skewTracker) refused(l *FabricLedger, er *EndorserRefusal) error {
	now := l.now()
	t.mu.Lock()
	if t.since == nil {
		t.since, t.last = map[string]time.Time{}, map[string]time.Time{}
	}
	// A streak is broken by an approval (endorsed) or by a silence longer
	// than the persistence threshold (nobody asked that endorser since).
	if last, ok := t.last[er.MSPID]; !ok || now.Sub(last) > l.t.ClockSkewPersist {
		t.since[er.MSPID] = now
	}
	t.last[er.MSPID] = now
	t.active = true
	d := now.Sub(t.since[er.MSPID])
	t.mu.Unlock()
	if l.metrics != nil {
		l.metrics.EndorserClockSkew(er.MSPID, d)
	}
	e := &ClockSkewError{MSPID: er.MSPID, Address: er.Address, Message: er.Err.Message, For: d, Persistent: d >= l.t.ClockSkewPersist}
	if e.Persistent {
		l.log.Error("an endorser's clock has been off for a while; every write it endorses is refused", "msp", er.MSPID, "endorser", er.Address, "for", d.Round(time.Second).String())
	} else {
		l.log.Warn("clock skew refused by an endorser", "msp", er.MSPID, "endorser", er.Address)
	}
	return e
}

// endorsed ends the streak of every endorser that approved tx. Only decoded
// while some endorser is in a streak, which is rare.
func (t *skewTracker) endorsed(l *FabricLedger, tx *client.Transaction) {
	t.mu.Lock()
	active := t.active
	t.mu.Unlock()
	if !active {
		return
	}
	b, err := tx.Bytes()
	if err != nil {
		return
	}
	msps := endorsersOf(b)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range msps {
		if _, ok := t.since[m]; ok {
			delete(t.since, m)
			delete(t.last, m)
			if l.metrics != nil {
				l.metrics.EndorserClockSkew(m, 0)
			}
		}
	}
	t.active = len(t.since) > 0
}

// endorsersOf lists the MSP ids of the endorsements of a prepared
// transaction (fabric-gateway's PreparedTransaction bytes).
func endorsersOf(prepared []byte) []string {
	var pt gwproto.PreparedTransaction
	var pl common.Payload
	var txn peer.Transaction
	if proto.Unmarshal(prepared, &pt) != nil || proto.Unmarshal(pt.GetEnvelope().GetPayload(), &pl) != nil ||
		proto.Unmarshal(pl.GetData(), &txn) != nil {
		return nil
	}
	var out []string
	for _, a := range txn.GetActions() {
		var ap peer.ChaincodeActionPayload
		if proto.Unmarshal(a.GetPayload(), &ap) != nil {
			continue
		}
		for _, e := range ap.GetAction().GetEndorsements() {
			var id msp.SerializedIdentity
			if proto.Unmarshal(e.GetEndorser(), &id) == nil && id.GetMspid() != "" {
				out = append(out, id.GetMspid())
			}
		}
	}
	return out
}
