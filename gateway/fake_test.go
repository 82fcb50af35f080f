package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// fakeNet is an in-process ledger shared by several agencies' fake ledgers.
// It applies the real domain rules (domain.Apply / ResolveDeadlines) and
// mirrors the chaincode's idempotency by (MSP id, requestID), its indexes
// and its one chaincode event per write. Hooks let tests inject failures.
type fakeNet struct {
	mu         sync.Mutex
	membership domain.Membership
	now        func() time.Time
	cases      map[string]map[string]*domain.CaseState // channel → pseudonym → state
	events     map[string]map[string][]domain.Event    // channel → pseudonym → events
	anchors    map[string]api.Anchor                   // channel/pseudonym/hash
	requests   map[string]fakeRequest                  // msp/requestID
	log        map[string][]ChainEvent                 // channel → events
	blocks     map[string]uint64                       // channel → height
	notify     chan struct{}
	// submits counts transactions that committed, per function.
	submits map[string]int
	evals   map[string]int
	// requestIDs lists the requestIDs submitted, in order.
	requestIDs []string
	// failSubmit, if set, is asked before every submit; a non-nil error
	// fails it before anything is written.
	failSubmit func(fn string) error
	// blockSubmit, if set, is waited on inside every submit.
	blockSubmit chan struct{}
	// blockChains are prepared block chains (audit tests).
	blockChains map[string][]*common.Block
}

type fakeRequest struct {
	fn, argsHash string
	result       []byte
	txID         string
}

func newFakeNet(now func() time.Time) *fakeNet {
	b, err := os.ReadFile("../domain/testdata/membership.json")
	if err != nil {
		panic(err)
	}
	m, err := domain.DecodeMembership(b)
	if err != nil {
		panic(err)
	}
	return &fakeNet{
		membership: m, now: now,
		cases:   map[string]map[string]*domain.CaseState{},
		events:  map[string]map[string][]domain.Event{},
		anchors: map[string]api.Anchor{}, requests: map[string]fakeRequest{},
		log: map[string][]ChainEvent{}, blocks: map[string]uint64{}, notify: make(chan struct{}),
		submits: map[string]int{}, evals: map[string]int{},
	}
}

// fakeLedger is one agency's view of the fake network.
type fakeLedger struct {
	n     *fakeNet
	msp   string
	roles []domain.Role
}

func (n *fakeNet) ledger(msp string, roles ...domain.Role) *fakeLedger {
	return &fakeLedger{n: n, msp: msp, roles: roles}
}

func (l *fakeLedger) Roles() []domain.Role { return slices.Clone(l.roles) }

func (l *fakeLedger) Channels() []ChannelInfo {
	var out []ChannelInfo
	for _, ch := range l.n.membership.Channels {
		if ch.OnChannel(l.msp) {
			out = append(out, ChannelInfo{Name: ch.Name, Procedure: ch.Procedure})
		}
	}
	return out
}

func (l *fakeLedger) Ping(context.Context) error { return nil }

func (l *fakeLedger) actor(role domain.Role) (domain.Actor, error) {
	if !slices.Contains(l.roles, role) {
		return domain.Actor{}, fmt.Errorf("role %s: %w", role, ErrNoIdentity)
	}
	m, _ := l.n.membership.Member(l.msp)
	return domain.Actor{Member: m, Role: role}, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (n *fakeNet) env(ch domain.Channel, txID, requestID string) domain.Env {
	now := n.now().UTC()
	return domain.Env{
		Membership: n.membership, Channel: ch, TxTime: now,
		Today: func(ms string) deadline.Date {
			loc, err := time.LoadLocation(domain.TimeZone(ms))
			if err != nil {
				loc = time.UTC
			}
			t := now.In(loc)
			d, _ := deadline.NewDate(t.Year(), t.Month(), t.Day())
			return d
		},
		LateWindowDays: 30, Deadlines: deadline.DefaultConfig(), Holidays: noHolidays{},
		TxID: txID, RequestID: requestID,
	}
}

type noHolidays struct{}

func (noHolidays) Holidays(string, int) (deadline.Holidays, bool, error) {
	return deadline.Holidays{}, false, nil
}

func argsHash(fn string, args []string) string {
	h := sha256.New()
	for _, s := range append([]string{fn}, args...) {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Submit applies a write like the chaincode would, as one committed block.
func (l *fakeLedger) Submit(ctx context.Context, role domain.Role, channel, fn, requestID string, args ...string) (Receipt, error) {
	n := l.n
	if n.blockSubmit != nil {
		select {
		case <-n.blockSubmit:
		case <-ctx.Done():
			return Receipt{}, ErrLedgerUnavailable
		}
	}
	if n.failSubmit != nil {
		if err := n.failSubmit(fn); err != nil {
			return Receipt{}, err
		}
	}
	a, err := l.actor(role)
	if err != nil {
		return Receipt{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.membership.Channel(channel)
	if !ok || !ch.OnChannel(l.msp) {
		return Receipt{}, domain.Errorf(domain.KindForbidden, "not a member of the channel")
	}
	if a.Member.Kind == domain.AgencyAuditor || role == domain.RoleAuditor {
		return Receipt{}, domain.Errorf(domain.KindForbidden, "auditors read, they never write")
	}
	txID := randHex(32)
	n.requestIDs = append(n.requestIDs, requestID)
	rkey := l.msp + "/" + requestID
	h := argsHash(fn, args)
	if r, ok := n.requests[rkey]; ok {
		if r.fn != fn || r.argsHash != h {
			return Receipt{}, domain.Errorf(domain.KindConflict, "requestId already used for a different request")
		}
		n.blocks[channel]++
		return Receipt{TxID: r.txID, BlockNumber: n.blocks[channel] - 1, Result: r.result, Attempts: 1}, nil
	}
	if n.cases[channel] == nil {
		n.cases[channel] = map[string]*domain.CaseState{}
		n.events[channel] = map[string][]domain.Event{}
	}
	env := n.env(ch, txID, requestID)
	var p string
	var in domain.EventInput
	system := false
	switch fn {
	case "cases:RegisterCase":
		p = args[0]
		in = domain.EventInput{VocabularyVersion: 1, Code: domain.EvCaseRegistered, OccurredOn: args[1]}
	case "cases:RecordEvent":
		p = args[0]
		if in, err = domain.DecodeEventInput([]byte(args[1])); err != nil {
			return Receipt{}, err
		}
	case "anchors:AnchorDocument":
		p = args[0]
		in = domain.EventInput{VocabularyVersion: 1, Code: domain.EvDocumentAnchored, OccurredOn: args[3],
			EventFields: domain.EventFields{DocumentHash: args[1], DocumentType: domain.DocumentType(args[2])}}
	case "erasure:RequestErasure", "erasure:ConfirmErasure":
		p = args[0]
		code := domain.EvErasureRequested
		if fn == "erasure:ConfirmErasure" {
			code = domain.EvErasureConfirmed
		}
		in = domain.EventInput{VocabularyVersion: 1, Code: code, OccurredOn: args[1]}
	case "dublin:ResolveDeadlines":
		p, system = args[0], true
	default:
		return Receipt{}, domain.Errorf(domain.KindInternal, "fake: %s not implemented", fn)
	}
	if err := domain.CheckRequestID(requestID); err != nil {
		return Receipt{}, err
	}
	prev := n.cases[channel][p]
	var next domain.CaseState
	var ev domain.Event
	if system {
		next, ev, err = domain.ResolveDeadlines(prev, a, env)
	} else {
		next, ev, err = domain.Apply(prev, p, in, a, env)
	}
	if err != nil {
		return Receipt{}, err
	}
	if ev.Code == domain.EvDocumentAnchored {
		k := channel + "/" + p + "/" + ev.DocumentHash
		if _, dup := n.anchors[k]; dup {
			return Receipt{}, domain.Errorf(domain.KindAlreadyExists, "document already anchored on this case")
		}
		n.anchors[k] = api.Anchor{Pseudonym: p, DocumentHash: ev.DocumentHash, DocumentType: ev.DocumentType,
			Seq: ev.Seq, MSPID: ev.MSPID, OccurredOn: ev.OccurredOn, RecordedOn: ev.RecordedOn, TxID: txID}
	}
	n.cases[channel][p] = &next
	n.events[channel][p] = append(n.events[channel][p], ev)
	res, _ := json.Marshal(api.WriteResult{Pseudonym: p, Seq: ev.Seq, Code: ev.Code, Status: next.Status,
		TxID: txID, RecordedOn: ev.RecordedOn, OccurredOn: ev.OccurredOn})
	n.requests[rkey] = fakeRequest{fn: fn, argsHash: h, result: res, txID: txID}
	n.submits[fn]++
	block := n.blocks[channel]
	n.blocks[channel]++
	payload, _ := json.Marshal(api.CaseEvent{Pseudonym: p, Code: ev.Code, Seq: ev.Seq, Procedure: next.Procedure, Supersedes: ev.Supersedes})
	n.log[channel] = append(n.log[channel], ChainEvent{Channel: channel, Block: block, TxID: txID, Name: api.EventCase, Payload: payload})
	close(n.notify)
	n.notify = make(chan struct{})
	return Receipt{TxID: txID, BlockNumber: block, Result: res, Attempts: 1}, nil
}

// submitted returns how many transactions of fn committed.
func (n *fakeNet) evaluated(fn string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.evals[fn]
}

func (n *fakeNet) submitted(fn string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.submits[fn]
}

func (n *fakeNet) state(channel, p string) *domain.CaseState {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.cases[channel][p]; s != nil {
		c := *s
		return &c
	}
	return nil
}

// Evaluate answers the queries the gateway uses.
func (l *fakeLedger) Evaluate(_ context.Context, role domain.Role, channel, fn string, args ...string) ([]byte, error) {
	if _, err := l.actor(role); err != nil {
		return nil, err
	}
	n := l.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.evals[fn]++
	ch, ok := n.membership.Channel(channel)
	if !ok || !ch.OnChannel(l.msp) {
		return nil, domain.Errorf(domain.KindForbidden, "not a member of the channel")
	}
	mustCase := func(p string) (*domain.CaseState, error) {
		if err := domain.CheckPseudonym(p); err != nil {
			return nil, err
		}
		s := n.cases[channel][p]
		if s == nil {
			return nil, domain.Errorf(domain.KindNotFound, "case not found")
		}
		return s, nil
	}
	erasure := func(s *domain.CaseState) api.ErasureStatus {
		st := api.ErasureStatus{Pseudonym: s.Pseudonym, Status: s.Status, Pending: []string{}, Confirmed: []string{}}
		if e := s.Erasure; e != nil {
			st.Requested, st.RequestedBy, st.RequestedOn = true, e.RequestedBy, e.RequestedOn
			st.Pending = append(st.Pending, e.Pending...)
			st.Confirmed = append(st.Confirmed, e.Confirmed...)
			st.Complete, st.CompletedOn = len(e.Pending) == 0, e.CompletedOn
		}
		return st
	}
	switch fn {
	case "cases:GetCase":
		s, err := mustCase(args[0])
		if err != nil {
			return nil, err
		}
		return json.Marshal(s)
	case "cases:GetTimeline":
		cs, err := mustCase(args[0])
		if err != nil {
			return nil, err
		}
		items := slices.Clone(n.events[channel][args[0]])
		for i, e := range items { // as the chaincode marks them when read
			if sup, ok := cs.Dublin.SupersededBy(e.Seq); ok && domain.IsWorkflowEvent(e.Code) {
				items[i].SupersededBy = &sup
			}
		}
		return json.Marshal(api.Page[domain.Event]{Items: items})
	case "cases:ListByStatus", "cases:ListByAgency":
		page := api.Page[domain.CaseState]{Items: []domain.CaseState{}}
		for _, s := range n.sortedCases(channel) {
			if (fn == "cases:ListByStatus" && string(s.Status) == args[0]) || (fn == "cases:ListByAgency" && slices.Contains(s.Holders, args[0])) {
				page.Items = append(page.Items, *s)
			}
		}
		return json.Marshal(page)
	case "cases:GetRequestResult":
		r, ok := n.requests[l.msp+"/"+args[0]]
		if !ok {
			return nil, domain.Errorf(domain.KindNotFound, "no committed request with that id")
		}
		return json.Marshal(api.RequestResult{RequestID: args[0], Function: r.fn, TxID: r.txID, Result: r.result})
	case "anchors:VerifyAnchor":
		a, ok := n.anchors[channel+"/"+args[0]+"/"+args[1]]
		if !ok {
			return json.Marshal(api.Verification{})
		}
		return json.Marshal(api.Verification{Anchored: true, Anchor: &a})
	case "erasure:GetErasureStatus":
		s, err := mustCase(args[0])
		if err != nil {
			return nil, err
		}
		return json.Marshal(erasure(s))
	case "erasure:ListOpenErasures":
		page := api.Page[api.ErasureStatus]{Items: []api.ErasureStatus{}}
		for _, s := range n.sortedCases(channel) {
			if s.Erasure.Open() {
				page.Items = append(page.Items, erasure(s))
			}
		}
		return json.Marshal(page)
	case "dublin:DeadlinesDue":
		page := api.Page[api.DueItem]{Items: []api.DueItem{}}
		for _, s := range n.sortedCases(channel) {
			if s.Dublin == nil {
				continue
			}
			for _, dl := range s.Dublin.Deadlines {
				if dl.Due.String() < args[0] {
					page.Items = append(page.Items, api.DueItem{Pseudonym: s.Pseudonym, Status: s.Status, Deadline: dl})
				}
			}
		}
		sort.SliceStable(page.Items, func(i, j int) bool { return page.Items[i].Deadline.Due.Before(page.Items[j].Deadline.Due) })
		return json.Marshal(page)
	}
	return nil, domain.Errorf(domain.KindInternal, "fake: %s not implemented", fn)
}

func (n *fakeNet) sortedCases(channel string) []*domain.CaseState {
	var out []*domain.CaseState
	for _, s := range n.cases[channel] {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return strings.Compare(out[i].Pseudonym, out[j].Pseudonym) < 0 })
	return out
}

// ChaincodeEvents streams the channel's events after the checkpoint.
func (l *fakeLedger) ChaincodeEvents(ctx context.Context, channel string, after Checkpoint) (<-chan ChainEvent, error) {
	out := make(chan ChainEvent)
	go func() {
		defer close(out)
		i := 0
		passed := after.TxID == ""
		for {
			l.n.mu.Lock()
			evs := l.n.log[channel][i:]
			wait := l.n.notify
			l.n.mu.Unlock()
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

// Blocks and ChainInfo serve a prepared chain (audit tests).
func (l *fakeLedger) Blocks(ctx context.Context, channel string, from uint64) (<-chan *common.Block, error) {
	out := make(chan *common.Block)
	chain := l.n.chain(channel)
	go func() {
		defer close(out)
		for _, b := range chain[from:] {
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
		}
		<-ctx.Done()
	}()
	return out, nil
}

func (l *fakeLedger) ChainInfo(_ context.Context, channel string) (uint64, []byte, error) {
	chain := l.n.chain(channel)
	if len(chain) == 0 {
		return 0, nil, nil
	}
	h, err := BlockHeaderHash(chain[len(chain)-1].Header)
	return uint64(len(chain)), h, err
}

var _ Ledger = (*fakeLedger)(nil)

func (n *fakeNet) chain(channel string) []*common.Block {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.blockChains[channel]
}
