// Package inproc is a Fabric network in one process, for tests: the real
// chaincode (chaincode.New) over an in-memory world state per channel
// (internal/fakestub), with the organisations, channels, roles and
// endorsement rules of a network description (network/topologies). Each
// organisation's view of it implements the gateway's ledger contract
// (package gateway/ledger) the way gateway.FabricLedger does against the real
// peers:
//
//   - a write is a signed proposal, simulated by the chaincode, assembled
//     into a signed envelope with the endorsements the channel's rule asks
//     for, then ordered into a block of its own and validated there: a
//     transaction that read a key another one has written since is
//     invalidated (MVCC_READ_CONFLICT) and, like FabricLedger, Submit tries
//     again as a new transaction (Receipt.Attempts);
//   - a transaction id commits once: a prepared transaction submitted again
//     (from a journal) is answered from the chaincode's record of its
//     requestID, as a DUPLICATE_TXID is;
//   - the answer to a requestID the chaincode had already executed names the
//     original transaction and its block;
//   - blocks are real Fabric blocks (configuration block 0 with the members'
//     MSP roots, hash chain, creator and endorser signatures, validation
//     codes), so the auditor's verification reads them as it reads a peer's;
//   - transaction timestamps and the endorsers' clock are one clock, given
//     (a fake clock in tests).
//
// It is no mock of the domain: every rule, index and idempotency record is
// the chaincode's own.
package inproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/chaincode"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/gateway/ledger"
	"github.com/caseledger/caseledger/internal/fakestub"
	"github.com/caseledger/caseledger/network"
)

// MaxRetries bounds the new transactions Submit creates after an MVCC or
// phantom read conflict (as gateway.Timeouts.MaxRetries does).
const MaxRetries = 5

// Options configure New.
type Options struct {
	// Topology is the network description; the zero value loads the builtin
	// "demo" one.
	Topology network.Description
	// Now is the clock of transaction timestamps and of the endorsers' clock
	// check (time.Now when nil).
	Now func() time.Time
}

// Network is the in-process network: one chaincode, one world state and one
// block chain per channel, the organisations' identities.
type Network struct {
	desc      network.Description
	cfg       api.ChaincodeConfig
	cc        *chaincode.Chaincode
	chaincode string
	now       func() time.Time
	msps      map[string]*msp                    // by MSP id
	peers     map[string]*signer                 // endorsers by MSP id
	ids       map[string]map[domain.Role]*signer // clients by MSP id and role
	channels  map[string]*channel

	mu     sync.Mutex
	writes map[string]int // committed valid transactions that wrote, by function
	evals  map[string]int // evaluations, by function
}

// channel is one channel's world state and block chain. mu serialises
// ordering and commit, as one orderer and one committer would.
type channel struct {
	name       string
	members    []string // MSP ids
	endorsers  []string // MSP ids of the endorsement rule's orgs
	endorseMin int
	state      *fakestub.Ledger

	mu     sync.Mutex
	blocks []*common.Block
	events []ledger.ChainEvent
	txs    map[string]committed // by transaction id
	notify chan struct{}        // closed and replaced on every block
	// pvt: the private writes of endorsed transactions, by transaction id, applied when the
	// transaction commits valid (a peer receives them beside the block, never in it).
	pvt map[string]map[string]map[string][]byte
}

type committed struct {
	block uint64
	code  peer.TxValidationCode
}

// New builds the network: a CA, a peer identity and one client identity per
// enrolled role for every organisation, and every channel's genesis block.
func New(o Options) (*Network, error) {
	if o.Topology.Name == "" {
		d, err := network.LoadBuiltin("demo")
		if err != nil {
			return nil, err
		}
		o.Topology = d
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	n := &Network{desc: o.Topology, cfg: o.Topology.ChaincodeConfig(), chaincode: o.Topology.Chaincode.Name, now: o.Now,
		msps: map[string]*msp{}, peers: map[string]*signer{}, ids: map[string]map[domain.Role]*signer{},
		channels: map[string]*channel{}, writes: map[string]int{}, evals: map[string]int{}}
	cc, err := chaincode.New(n.cfg, chaincode.WithClock(o.Now))
	if err != nil {
		return nil, err
	}
	n.cc = cc
	start := o.Now()
	for _, org := range n.desc.Orgs {
		m, err := newMSP(org.MSPID, start)
		if err != nil {
			return nil, err
		}
		n.msps[org.MSPID] = m
		if n.peers[org.MSPID], err = m.issue("peer0."+org.Name, nil); err != nil {
			return nil, err
		}
		n.ids[org.MSPID] = map[domain.Role]*signer{}
		for _, u := range org.Enrolled() {
			role := domain.Role(u.Role)
			if n.ids[org.MSPID][role] != nil {
				continue
			}
			if n.ids[org.MSPID][role], err = m.issue(u.Name, map[string]string{"role": u.Role}); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range n.desc.Channels {
		ch := &channel{name: c.Name, state: fakestub.NewLedger(c.Name), txs: map[string]committed{},
			notify: make(chan struct{}), endorseMin: c.Endorsement.OutOf}
		var members []*msp
		for _, name := range c.Members {
			org, _ := n.desc.Org(name)
			ch.members = append(ch.members, org.MSPID)
			members = append(members, n.msps[org.MSPID])
		}
		for _, name := range c.Endorsement.Orgs {
			org, _ := n.desc.Org(name)
			ch.endorsers = append(ch.endorsers, org.MSPID)
		}
		g, err := genesis(c.Name, members)
		if err != nil {
			return nil, err
		}
		ch.blocks = []*common.Block{g}
		n.channels[c.Name] = ch
	}
	return n, nil
}

// Membership is the chaincode's membership (derived from the description).
func (n *Network) Membership() domain.Membership { return n.cfg.Membership }

// Ledger is organisation mspID's view: what its gateway would reach through
// its own peer, with an identity for every role the description enrols.
func (n *Network) Ledger(mspID string) *Ledger {
	var roles []domain.Role
	for r := range n.ids[mspID] {
		roles = append(roles, r)
	}
	slices.Sort(roles)
	return &Ledger{n: n, msp: mspID, roles: roles}
}

// Writes counts the committed, valid transactions of fn that wrote state
// (an idempotent retry the chaincode answers from its record writes
// nothing).
func (n *Network) Writes(fn string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.writes[fn]
}

// Evaluations counts the queries of fn the organisations' ledgers ran.
func (n *Network) Evaluations(fn string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.evals[fn]
}

// Read runs a query on channel as an auditor of the network (any member
// identity when no auditor sits on it), uncounted: for tests to look at
// what the ledger holds.
func (n *Network) Read(channel, fn string, args ...string) ([]byte, error) {
	ch, ok := n.channels[channel]
	if !ok {
		return nil, fmt.Errorf("inproc: no channel %q", channel)
	}
	var s *signer
	for _, m := range ch.members {
		if a := n.ids[m][domain.RoleAuditor]; a != nil {
			s = a
			break
		}
		if s == nil {
			for _, id := range n.ids[m] {
				s = id
				break
			}
		}
	}
	_, sim, err := n.endorse(s, ch, append([]string{fn}, args...))
	if err != nil {
		return nil, err
	}
	return sim.response.Payload, nil
}

// Case is the committed state of a case (nil when there is none).
func (n *Network) Case(channel, pseudonym string) *domain.CaseState {
	raw, err := n.Read(channel, api.FnGetCase, pseudonym)
	if err != nil {
		return nil
	}
	var s domain.CaseState
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	return &s
}

// endorse simulates args (function first) as s on channel ch: the proposal
// and what the chaincode did, or the chaincode's refusal as *domain.Error.
func (n *Network) endorse(s *signer, ch *channel, args []string) (*proposal, simulation, error) {
	return n.endorseWith(s, ch, args, nil)
}

// endorseWith is endorse with a transient map (private details, docs/visibility.md).
func (n *Network) endorseWith(s *signer, ch *channel, args []string, transient map[string][]byte) (*proposal, simulation, error) {
	p, err := newProposal(s, ch.name, n.chaincode, n.now(), args)
	if err != nil {
		return nil, simulation{}, err
	}
	tx, err := ch.state.NewTxFromProposal(p.signed)
	if err != nil {
		return nil, simulation{}, err
	}
	tx.SetTransient(transient)
	resp := n.cc.Invoke(tx)
	if resp.Status != 200 {
		kind, msg := domain.ParseError(resp.Message)
		return nil, simulation{}, &domain.Error{Kind: kind, Message: msg}
	}
	sim := simulation{rwset: tx.RWSet(), response: &peer.Response{Status: resp.Status, Message: resp.Message, Payload: resp.Payload}}
	if w := tx.PrivateWrites(); len(w) > 0 {
		sim.pvt = w
		ch.mu.Lock()
		if ch.pvt == nil {
			ch.pvt = map[string]map[string]map[string][]byte{}
		}
		ch.pvt[p.txID] = w
		ch.mu.Unlock()
	}
	if ev, ok := tx.Event(); ok {
		sim.event = &peer.ChaincodeEvent{ChaincodeId: n.chaincode, TxId: p.txID, EventName: ev.Name, Payload: ev.Payload}
	}
	return p, sim, nil
}

// endorsersFor are the peers whose endorsements satisfy the channel's rule:
// the submitting organisation's own first when it is one of the rule's.
func (n *Network) endorsersFor(ch *channel, own string) []*signer {
	order := ch.endorsers
	if slices.Contains(order, own) {
		order = append([]string{own}, slices.DeleteFunc(slices.Clone(order), func(m string) bool { return m == own })...)
	}
	var out []*signer
	for _, m := range order {
		if len(out) == ch.endorseMin {
			break
		}
		out = append(out, n.peers[m])
	}
	return out
}

// order puts a prepared transaction into the channel's next block and
// validates it there.
func (n *Network) order(ch *channel, p *prepared) (uint64, peer.TxValidationCode, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if c, dup := ch.txs[p.txID]; dup {
		// A transaction id commits once; its status is the first one's.
		if c.code == peer.TxValidationCode_VALID {
			return c.block, peer.TxValidationCode_DUPLICATE_TXID, nil
		}
		return c.block, c.code, nil
	}
	number := uint64(len(ch.blocks))
	code := ch.state.CommitRWSet(p.txID, p.timestamp, p.rwset, number, 0)
	b, err := newBlock(number, ch.blocks[number-1], p.raw, code)
	if err != nil {
		return 0, 0, err
	}
	ch.blocks = append(ch.blocks, b)
	ch.txs[p.txID] = committed{block: number, code: code}
	if w, ok := ch.pvt[p.txID]; ok {
		delete(ch.pvt, p.txID)
		if code == peer.TxValidationCode_VALID {
			ch.state.CommitPrivate(w)
		}
	}
	if code == peer.TxValidationCode_VALID {
		if p.event != nil {
			ch.events = append(ch.events, ledger.ChainEvent{Channel: ch.name, Block: number, TxID: p.txID, Name: p.event.EventName, Payload: p.event.Payload})
		}
		if len(p.rwset.GetWrites()) > 0 {
			n.mu.Lock()
			n.writes[p.fn]++
			n.mu.Unlock()
		}
	}
	close(ch.notify)
	ch.notify = make(chan struct{})
	return number, code, nil
}

// blockOf is the block of a committed transaction.
func (ch *channel) blockOf(txID string) (uint64, bool) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	c, ok := ch.txs[txID]
	return c.block, ok
}

// Ledger is one organisation's view of the network; it implements
// ledger.Ledger.
type Ledger struct {
	n     *Network
	msp   string
	roles []domain.Role
}

var _ ledger.Ledger = (*Ledger)(nil)

// Network is the network the view belongs to.
func (l *Ledger) Network() *Network { return l.n }

// MSPID is the organisation's MSP id.
func (l *Ledger) MSPID() string { return l.msp }

// Roles implements ledger.Ledger.
func (l *Ledger) Roles() []domain.Role { return slices.Clone(l.roles) }

// Channels implements ledger.Ledger: the organisation's channels.
func (l *Ledger) Channels() []api.ChannelInfo {
	var out []api.ChannelInfo
	for _, c := range l.n.cfg.Membership.Channels {
		if c.OnChannel(l.msp) {
			out = append(out, api.ChannelInfo{Name: c.Name, Procedure: c.Procedure})
		}
	}
	return out
}

// Ping implements ledger.Ledger.
func (l *Ledger) Ping(context.Context) error { return nil }

// caller resolves the identity of role and the channel, which the
// organisation's peer must have joined.
func (l *Ledger) caller(role domain.Role, channel string) (*signer, *channel, error) {
	s := l.n.ids[l.msp][role]
	if s == nil {
		return nil, nil, fmt.Errorf("role %s: %w", role, ledger.ErrNoIdentity)
	}
	ch, err := l.channel(channel)
	return s, ch, err
}

func (l *Ledger) channel(name string) (*channel, error) {
	ch, ok := l.n.channels[name]
	if !ok || !slices.Contains(ch.members, l.msp) {
		return nil, domain.Errorf(domain.KindForbidden, "not a member of the channel")
	}
	return ch, nil
}

// Evaluate implements ledger.Ledger: the chaincode's answer to a proposal
// that is never ordered.
func (l *Ledger) Evaluate(ctx context.Context, role domain.Role, channel, fn string, args ...string) ([]byte, error) {
	s, ch, err := l.caller(role, channel)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ledger.ErrLedgerUnavailable, err)
	}
	l.n.mu.Lock()
	l.n.evals[fn]++
	l.n.mu.Unlock()
	_, sim, err := l.n.endorse(s, ch, append([]string{fn}, args...))
	if err != nil {
		return nil, err
	}
	return sim.response.Payload, nil
}

// Submit implements ledger.Ledger: endorse, order, validate; a new
// transaction after a read conflict. With a journal it keeps the contract
// as FabricLedger does: the journaled transaction of requestID is
// resubmitted first, and every new one is saved before it is ordered.
func (l *Ledger) Submit(ctx context.Context, journal ledger.TxJournal, role domain.Role, channel, fn, requestID string, args ...string) (ledger.Receipt, error) {
	return l.submit(ctx, journal, role, channel, fn, requestID, nil, args)
}

// SubmitPrivate implements ledger.Ledger: Submit with private details in the transient map.
func (l *Ledger) SubmitPrivate(ctx context.Context, journal ledger.TxJournal, role domain.Role, channel, fn, requestID string, details []byte, args ...string) (ledger.Receipt, error) {
	return l.submit(ctx, journal, role, channel, fn, requestID, map[string][]byte{domain.TransientDetailsKey: details}, args)
}

func (l *Ledger) submit(ctx context.Context, journal ledger.TxJournal, role domain.Role, channel, fn, requestID string, transient map[string][]byte, args []string) (ledger.Receipt, error) {
	s, ch, err := l.caller(role, channel)
	if err != nil {
		return ledger.Receipt{}, err
	}
	if journal != nil {
		if raw := journal.LoadTx(requestID); raw != nil {
			if _, err := parseEnvelope(raw); err == nil {
				rec, err := l.commit(ctx, s, ch, requestID, raw)
				var cf *ledger.CommitFailure
				if !errors.As(err, &cf) {
					rec.Attempts = 1
					return rec, err
				}
				// Invalidated: its transaction id can never commit, so a new
				// transaction with the same requestID is safe.
			}
		}
	}
	full := append([]string{fn, requestID}, args...)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return ledger.Receipt{Attempts: attempt - 1}, fmt.Errorf("%w: %w", ledger.ErrLedgerUnavailable, err)
		}
		p, sim, err := l.n.endorseWith(s, ch, full, transient)
		if err != nil {
			return ledger.Receipt{Attempts: attempt}, err
		}
		raw, err := envelope(p, sim, l.n.chaincode, s, l.n.endorsersFor(ch, l.msp))
		if err != nil {
			return ledger.Receipt{Attempts: attempt}, err
		}
		if journal != nil {
			if err := journal.SaveTx(requestID, raw); err != nil {
				return ledger.Receipt{Attempts: attempt}, fmt.Errorf("%w: journal the prepared transaction: %w", ledger.ErrLedgerUnavailable, err)
			}
		}
		rec, err := l.commit(ctx, s, ch, requestID, raw)
		rec.Attempts = attempt
		var cf *ledger.CommitFailure
		if errors.As(err, &cf) && attempt <= MaxRetries &&
			(cf.Code == peer.TxValidationCode_MVCC_READ_CONFLICT.String() || cf.Code == peer.TxValidationCode_PHANTOM_READ_CONFLICT.String()) {
			continue
		}
		return rec, err
	}
}

// commit orders a prepared transaction (raw envelope) and answers its
// outcome as FabricLedger.commitTx does.
func (l *Ledger) commit(ctx context.Context, s *signer, ch *channel, requestID string, raw []byte) (ledger.Receipt, error) {
	p, err := parseEnvelope(raw)
	if err != nil {
		return ledger.Receipt{}, err
	}
	if p.channel != ch.name {
		return ledger.Receipt{}, fmt.Errorf("inproc: transaction of channel %s submitted on %s", p.channel, ch.name)
	}
	number, code, err := l.n.order(ch, p)
	switch {
	case err != nil:
		return ledger.Receipt{TxID: p.txID}, fmt.Errorf("%w: %w", ledger.ErrLedgerUnavailable, err)
	case code == peer.TxValidationCode_DUPLICATE_TXID:
		return l.lookup(ctx, s, ch, requestID, p.txID)
	case code != peer.TxValidationCode_VALID:
		return ledger.Receipt{TxID: p.txID}, &ledger.CommitFailure{TxID: p.txID, Code: code.String()}
	}
	rec := ledger.Receipt{TxID: p.txID, BlockNumber: number, Result: p.response.GetPayload()}
	// A requestID the chaincode had executed before: its stored result names
	// the original transaction.
	var r struct {
		TxID string `json:"txId"`
	}
	if json.Unmarshal(rec.Result, &r) == nil && r.TxID != "" && r.TxID != rec.TxID {
		if b, ok := ch.blockOf(r.TxID); ok {
			rec.TxID, rec.BlockNumber = r.TxID, b
		}
	}
	return rec, nil
}

// lookup answers a transaction id that had committed before from the
// chaincode's record of requestID.
func (l *Ledger) lookup(_ context.Context, s *signer, ch *channel, requestID, txID string) (ledger.Receipt, error) {
	_, sim, err := l.n.endorse(s, ch, []string{api.FnGetRequestResult, requestID})
	if err != nil {
		return ledger.Receipt{TxID: txID}, fmt.Errorf("%w: transaction %s: %v", ledger.ErrOutcomeUnknown, txID, err)
	}
	var rr api.RequestResult
	if err := json.Unmarshal(sim.response.Payload, &rr); err != nil {
		return ledger.Receipt{TxID: txID}, fmt.Errorf("%w: undecodable request record", ledger.ErrOutcomeUnknown)
	}
	rec := ledger.Receipt{TxID: rr.TxID, Result: rr.Result}
	if b, ok := ch.blockOf(rr.TxID); ok {
		rec.BlockNumber = b
	}
	return rec, nil
}

// ChaincodeEvents implements ledger.Ledger: the events of valid
// transactions after the checkpoint, then each new one as it commits.
func (l *Ledger) ChaincodeEvents(ctx context.Context, channel string, after ledger.Checkpoint) (<-chan ledger.ChainEvent, error) {
	ch, err := l.channel(channel)
	if err != nil {
		return nil, err
	}
	out := make(chan ledger.ChainEvent)
	go func() {
		defer close(out)
		i := 0
		passed := after.TxID == ""
		for {
			ch.mu.Lock()
			evs := ch.events[i:]
			wait := ch.notify
			ch.mu.Unlock()
			for _, ev := range evs {
				i++
				if ev.Block < after.Block {
					continue
				}
				if ev.Block == after.Block && !passed {
					passed = ev.TxID == after.TxID
					continue
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-wait:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Blocks implements ledger.Ledger: the blocks from number from on, then
// each new one.
func (l *Ledger) Blocks(ctx context.Context, channel string, from uint64) (<-chan *common.Block, error) {
	ch, err := l.channel(channel)
	if err != nil {
		return nil, err
	}
	out := make(chan *common.Block)
	go func() {
		defer close(out)
		next := from
		for {
			ch.mu.Lock()
			var bs []*common.Block
			if next < uint64(len(ch.blocks)) {
				bs = ch.blocks[next:]
			}
			wait := ch.notify
			ch.mu.Unlock()
			for _, b := range bs {
				select {
				case out <- b:
					next++
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-wait:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// ChainInfo implements ledger.Ledger.
func (l *Ledger) ChainInfo(_ context.Context, channel string) (uint64, []byte, error) {
	ch, err := l.channel(channel)
	if err != nil {
		return 0, nil, err
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	h, err := headerHash(ch.blocks[len(ch.blocks)-1].Header)
	return uint64(len(ch.blocks)), h, err
}
