package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/fabricconn"
)

// TxInvalidError is a transaction that was ordered but that the peers marked invalid.
type TxInvalidError struct {
	TxID string
	Code peer.TxValidationCode
}

func (e *TxInvalidError) Error() string {
	return fmt.Sprintf("transaction %s committed as invalid: %s", e.TxID, e.Code)
}

// StageTimeouts bound each stage of a ledger call made with the fabric-gateway client.
type StageTimeouts struct {
	Evaluate, Endorse, Submit, CommitStatus time.Duration
	// Resubmits bounds how often the same signed transaction is handed to the orderer again when
	// its commit status did not arrive in time (FABRIC.md: a dying Raft leader drops in-flight
	// transactions silently; a duplicate transaction id can never commit twice).
	Resubmits int
}

// DefaultStageTimeouts are short, so that a lost transaction costs seconds, not minutes.
func DefaultStageTimeouts() StageTimeouts {
	return StageTimeouts{Evaluate: 5 * time.Second, Endorse: 10 * time.Second, Submit: 5 * time.Second,
		CommitStatus: 8 * time.Second, Resubmits: 3}
}

// LoadConnections reads every org's connection details under <root>/connection/ (the files the
// network generates, not the gateways' *-api.json).
func LoadConnections(root string) ([]api.Connection, error) {
	files, err := filepath.Glob(filepath.Join(root, "connection", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []api.Connection
	for _, f := range files {
		if strings.HasSuffix(f, "-api.json") {
			continue
		}
		c, err := api.LoadConnection(f)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no connection details under %s: %w", filepath.Join(root, "connection"), os.ErrNotExist)
	}
	return out, nil
}

// Bare is the reference driver: the fabric-gateway client straight to each agency's own peer,
// signing as the agency's enrolled identity for the operation's role. It submits exactly the
// transactions a gateway would (same functions, same arguments).
type Bare struct {
	t         StageTimeouts
	conns     map[string]api.Connection // by org name
	mu        sync.Mutex
	gateways  map[Actor]*client.Gateway
	grpcConns []*grpc.ClientConn
	// public sends withheld details as public arguments (DriverBarePublic).
	public bool
}

// NewBare prepares the driver; connections are dialled on first use. Every peer must be on the
// loopback interface.
func NewBare(conns []api.Connection, t StageTimeouts) (*Bare, error) {
	b := &Bare{t: t, conns: map[string]api.Connection{}, gateways: map[Actor]*client.Gateway{}}
	for _, c := range conns {
		if err := CheckLoopback(c.Peer.Address); err != nil {
			return nil, fmt.Errorf("org %s: %w", c.Org, err)
		}
		b.conns[c.Org] = c
	}
	return b, nil
}

// NewBarePublic is NewBare sending every detail as a public argument, as clients did before the
// visibility policy (DriverBarePublic; the chaincode must not refuse them).
func NewBarePublic(conns []api.Connection, t StageTimeouts) (*Bare, error) {
	b, err := NewBare(conns, t)
	if err != nil {
		return nil, err
	}
	b.public = true
	return b, nil
}

// Name implements Driver.
func (b *Bare) Name() string {
	if b.public {
		return DriverBarePublic
	}
	return "bare"
}

// Close implements Driver.
func (b *Bare) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, gw := range b.gateways {
		gw.Close()
	}
	var errs []error
	for _, c := range b.grpcConns {
		errs = append(errs, c.Close())
	}
	b.gateways, b.grpcConns = map[Actor]*client.Gateway{}, nil
	return errors.Join(errs...)
}

func (b *Bare) contract(a Actor, channel string) (*client.Contract, error) {
	nw, err := b.network(a, channel)
	if err != nil {
		return nil, err
	}
	return nw.GetContract(b.conns[a.Org].Chaincode), nil
}

// network returns the channel as seen through the actor's own peer, dialling on first use.
func (b *Bare) network(a Actor, channel string) (*client.Network, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.conns[a.Org]
	if !ok {
		return nil, fmt.Errorf("no connection details for org %s", a.Org)
	}
	gw, ok := b.gateways[a]
	if !ok {
		var gc *grpc.ClientConn
		var err error
		gw, gc, err = fabricconn.Dial(c, a.Role, fabricconn.Options{
			EvaluateTimeout: b.t.Evaluate, EndorseTimeout: b.t.Endorse, SubmitTimeout: b.t.Submit, CommitStatusTimeout: b.t.CommitStatus,
		})
		if err != nil {
			return nil, err
		}
		b.gateways[a] = gw
		b.grpcConns = append(b.grpcConns, gc)
	}
	return gw.GetNetwork(channel), nil
}

// Do implements Driver.
func (b *Bare) Do(ctx context.Context, op Op) (Ack, error) {
	c := op.Case
	switch op.Kind {
	case OpTimeline:
		entries, err := b.Timeline(ctx, op.Actor, c.Channel, c.Pseudonym)
		return Ack{Events: len(entries)}, err
	case OpRegister:
		return b.write(ctx, op, api.FnRegisterCase, nil, op.RequestID, c.Pseudonym, op.Event.OccurredOn)
	case OpEvent:
		// Withheld details travel in the transient map, never as arguments (docs/visibility.md),
		// except in the "before" driver.
		payload, details, err := eventArgs(op.Event, domain.Procedure(c.Procedure), b.public)
		if err != nil {
			return Ack{}, fmt.Errorf("bare driver: %s: %w", op.Event.Code, err)
		}
		return b.write(ctx, op, api.FnRecordEvent, details, op.RequestID, c.Pseudonym, payload)
	case OpResolve:
		return b.write(ctx, op, api.FnResolveDeadlines, nil, op.RequestID, c.Pseudonym)
	}
	return Ack{}, fmt.Errorf("bare driver: unknown operation %v", op.Kind)
}

func (b *Bare) write(ctx context.Context, op Op, fn string, details []byte, args ...string) (Ack, error) {
	contract, err := b.contract(op.Actor, op.Case.Channel)
	if err != nil {
		return Ack{}, err
	}
	opts := []client.ProposalOption{client.WithArguments(args...)}
	if details != nil {
		opts = append(opts, client.WithTransient(map[string][]byte{domain.TransientDetailsKey: details}))
	}
	res, err := b.SubmitProposal(ctx, contract, fn, opts...)
	if err != nil {
		return Ack{}, err
	}
	var w api.WriteResult
	if err := json.Unmarshal(res, &w); err != nil {
		return Ack{}, fmt.Errorf("%s result: %w", fn, err)
	}
	return Ack{TxID: w.TxID, Seq: w.Seq}, nil
}

// Submit endorses, submits and waits for the commit of one transaction, with a timeout per
// stage. A missing commit status is ambiguous (the orderer may have dropped the transaction):
// the same signed transaction is submitted again, up to Resubmits times.
func (b *Bare) Submit(ctx context.Context, contract *client.Contract, fn string, args ...string) ([]byte, error) {
	return b.SubmitProposal(ctx, contract, fn, client.WithArguments(args...))
}

// SubmitProposal is Submit with any proposal options (arguments, transient data).
func (b *Bare) SubmitProposal(ctx context.Context, contract *client.Contract, fn string, opts ...client.ProposalOption) ([]byte, error) {
	prop, err := contract.NewProposal(fn, opts...)
	if err != nil {
		return nil, err
	}
	ectx, cancel := context.WithTimeout(ctx, b.t.Endorse)
	tx, err := prop.EndorseWithContext(ectx)
	cancel()
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		var st *client.Status
		sctx, cancel := context.WithTimeout(ctx, b.t.Submit)
		commit, err := tx.SubmitWithContext(sctx)
		cancel()
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, b.t.CommitStatus)
			st, err = commit.StatusWithContext(cctx)
			cancel()
		}
		if err == nil {
			if !st.Successful {
				return nil, &TxInvalidError{TxID: tx.TransactionID(), Code: st.Code}
			}
			return tx.Result(), nil
		}
		if attempt >= b.t.Resubmits || ctx.Err() != nil {
			return nil, err
		}
	}
}

// TimelineEntry is one event of a case's timeline as the chaincode returns it.
type TimelineEntry struct {
	Seq       uint64 `json:"seq"`
	Code      string `json:"code"`
	TxID      string `json:"txId"`
	RequestID string `json:"requestId"`
	MSPID     string `json:"mspId"`
}

// Timeline reads a case's whole timeline (every page) as the actor.
func (b *Bare) Timeline(ctx context.Context, a Actor, channel, pseudonym string) ([]TimelineEntry, error) {
	contract, err := b.contract(a, channel)
	if err != nil {
		return nil, err
	}
	var out []TimelineEntry
	bookmark := ""
	for {
		ectx, cancel := context.WithTimeout(ctx, b.t.Evaluate)
		res, err := contract.EvaluateWithContext(ectx, api.FnGetTimeline, client.WithArguments(pseudonym, bookmark, "100"))
		cancel()
		if err != nil {
			return nil, err
		}
		var page api.Page[TimelineEntry] // the fields of domain.Event the verification reads
		if err := json.Unmarshal(res, &page); err != nil {
			return nil, fmt.Errorf("GetTimeline result: %w", err)
		}
		out = append(out, page.Items...)
		if page.Bookmark == "" {
			return out, nil
		}
		bookmark = page.Bookmark
	}
}
