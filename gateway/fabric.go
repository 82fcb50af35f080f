package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/fabricconn"
)

// Timeouts bound each stage of a ledger call. Short stages matter: when a
// Raft leader dies, in-flight transactions are dropped silently (FABRIC.md),
// and a long commit wait would stall the caller for nothing.
type Timeouts struct {
	Evaluate     time.Duration // one query
	Endorse      time.Duration // one endorsement round
	Submit       time.Duration // handing the signed transaction to the orderer
	CommitStatus time.Duration // one wait for the commit status
	// Write bounds a whole write, retries and resubmissions included.
	Write time.Duration
	// MaxRetries bounds new transactions after an MVCC conflict or an
	// endorsement that could not be collected.
	MaxRetries int
	// MaxResubmits bounds resubmissions of the same signed transaction.
	MaxResubmits int
	// LagWait bounds the wait for another organisation's endorser that
	// refused a write while behind the agency's own peer (see lag.go's
	// endorserLag): a refusal is final only once it holds at the height the
	// agency's peer endorsed at.
	LagWait time.Duration
	// ClockSkewPersist: a CLOCK_SKEW refusal that one endorser keeps giving
	// for this long is answered as that endorser's lasting fault
	// (ENDORSER_CLOCK_SKEW), no longer as a transient one.
	ClockSkewPersist time.Duration
}

// DefaultTimeouts are the production defaults. CommitStatus is short because
// a transaction the orderers dropped (forwarded to a Raft leader that froze)
// never commits and only the resubmission after this wait brings it in; a
// commit takes 0.3-0.6 s under the fault tests' load (2.3 s at the p99 of a
// saturated network), and a late one resubmitted is harmless (same
// transaction id). 8 s kept writes waiting up to 8 s after a new leader was
// elected (docs/performance.md, "Grey failures").
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Evaluate: 5 * time.Second, Endorse: 10 * time.Second, Submit: 5 * time.Second,
		CommitStatus: 2 * time.Second, Write: 45 * time.Second, MaxRetries: 5, MaxResubmits: 4,
		LagWait: 10 * time.Second, ClockSkewPersist: time.Minute,
	}
}

// withDefaults fills fields left zero.
func (t Timeouts) withDefaults() Timeouts {
	if t == (Timeouts{}) {
		return DefaultTimeouts()
	}
	d := DefaultTimeouts()
	if t.LagWait <= 0 {
		t.LagWait = d.LagWait
	}
	if t.ClockSkewPersist <= 0 {
		t.ClockSkewPersist = d.ClockSkewPersist
	}
	return t
}

// LedgerMetrics receives what the ledger layer does (nil-safe).
type LedgerMetrics interface {
	LedgerCall(kind, outcome string, d time.Duration)
	LedgerRetry(reason string)
	// EndorserRefused counts a chaincode refusal by the endorser's MSP id.
	EndorserRefused(mspID, kind string)
	// EndorserClockSkew is how long an endorser has refused for clock skew
	// without interruption (0: not, or no longer).
	EndorserClockSkew(mspID string, d time.Duration)
}

// FabricLedger implements Ledger with one fabric-gateway connection per
// role, all to the org's own peer.
type FabricLedger struct {
	// mspID is the agency's own organisation: its peer is the one the
	// gateway endorses through first.
	mspID     string
	chaincode string
	t         Timeouts
	log       *slog.Logger
	metrics   LedgerMetrics
	gateways  map[domain.Role]*client.Gateway
	grpcConns []*grpc.ClientConn
	roles     []domain.Role
	channels  []api.ChannelInfo
	skew      skewTracker
	orgs      orgCache
	// now is the clock of the clock-skew tracker (time.Now; fake in tests).
	now func() time.Time
}

// FabricOptions configure NewFabricLedger.
type FabricOptions struct {
	Timeouts Timeouts
	Logger   *slog.Logger
	Metrics  LedgerMetrics
}

// NewFabricLedger dials the org's peer once per enrolled role.
func NewFabricLedger(conn api.Connection, o FabricOptions) (*FabricLedger, error) {
	o.Timeouts = o.Timeouts.withDefaults()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	l := &FabricLedger{mspID: conn.MSPID, chaincode: conn.Chaincode, t: o.Timeouts, log: o.Logger, metrics: o.Metrics,
		gateways: map[domain.Role]*client.Gateway{}, now: time.Now}
	for _, ch := range conn.Channels {
		l.channels = append(l.channels, api.ChannelInfo{Name: ch.Name, Procedure: domain.Procedure(ch.Procedure)})
	}
	for _, id := range conn.Identities {
		role := domain.Role(id.Role)
		if !role.Valid() || l.gateways[role] != nil {
			continue
		}
		gw, gc, err := fabricconn.DialIdentity(conn, id, fabricconn.Options{
			EvaluateTimeout: o.Timeouts.Evaluate, EndorseTimeout: o.Timeouts.Endorse,
			SubmitTimeout: o.Timeouts.Submit, CommitStatusTimeout: o.Timeouts.CommitStatus,
			DialOptions: PeerDialOptions(),
		})
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("fabric identity %s: %w", role, err)
		}
		l.gateways[role] = gw
		l.grpcConns = append(l.grpcConns, gc)
		l.roles = append(l.roles, role)
	}
	if len(l.gateways) == 0 {
		return nil, fmt.Errorf("org %s: %w", conn.Org, ErrNoIdentity)
	}
	slices.Sort(l.roles)
	return l, nil
}

// Reconnection to the agency's peer. gRPC's default reconnect backoff grows
// by 1.6 per failed attempt up to 120 s, so a gateway whose peer was down for
// minutes waited up to two minutes after the peer was back (93 s measured)
// while answering 503. The gateway has one peer and nothing else to try:
// attempts every PeerReconnectMaxDelay at most cost one TCP/TLS handshake
// each, and bring it back within that much of its peer. Keepalive pings
// notice a peer that vanished without closing the connection (host down,
// frozen) on an idle connection; their interval respects the peer's
// keepalive enforcement (core.yaml peer.keepalive.minInterval 60 s: pinging
// more often gets the connection closed with "too_many_pings").
const (
	PeerReconnectBaseDelay  = 250 * time.Millisecond
	PeerReconnectMaxDelay   = 2 * time.Second
	PeerMinConnectTimeout   = 3 * time.Second
	PeerKeepaliveTime       = 60 * time.Second
	PeerKeepaliveTimeout    = 10 * time.Second
	peerReconnectMultiplier = 1.6
	peerReconnectJitter     = 0.2
)

// PeerDialOptions are the gRPC options of the gateway's connections to its
// peer (reconnect backoff, keepalive).
func PeerDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: grpcbackoff.Config{BaseDelay: PeerReconnectBaseDelay, Multiplier: peerReconnectMultiplier,
				Jitter: peerReconnectJitter, MaxDelay: PeerReconnectMaxDelay},
			MinConnectTimeout: PeerMinConnectTimeout,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: PeerKeepaliveTime, Timeout: PeerKeepaliveTimeout, PermitWithoutStream: true}),
	}
}

// Close closes every connection.
func (l *FabricLedger) Close() error {
	for _, gw := range l.gateways {
		gw.Close()
	}
	var errs []error
	for _, c := range l.grpcConns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Roles implements Ledger.
func (l *FabricLedger) Roles() []domain.Role { return slices.Clone(l.roles) }

// Channels implements Ledger.
func (l *FabricLedger) Channels() []api.ChannelInfo { return slices.Clone(l.channels) }

func (l *FabricLedger) gateway(role domain.Role) (*client.Gateway, error) {
	gw, ok := l.gateways[role]
	if !ok {
		return nil, fmt.Errorf("role %s: %w", role, ErrNoIdentity)
	}
	return gw, nil
}

// readerGateway is any identity, for events and system queries: every
// member identity may read its channels.
func (l *FabricLedger) readerGateway() *client.Gateway {
	for _, r := range []domain.Role{domain.RoleAuditor, domain.RoleAdmin, domain.RoleCaseworker, domain.RoleDublinOfficer} {
		if gw, ok := l.gateways[r]; ok {
			return gw
		}
	}
	return l.gateways[l.roles[0]]
}

func (l *FabricLedger) observe(kind, outcome string, start time.Time) {
	if l.metrics != nil {
		l.metrics.LedgerCall(kind, outcome, time.Since(start))
	}
}

func (l *FabricLedger) retried(reason string) {
	if l.metrics != nil {
		l.metrics.LedgerRetry(reason)
	}
}

// Evaluate implements Ledger.
func (l *FabricLedger) Evaluate(ctx context.Context, role domain.Role, channel, fn string, args ...string) ([]byte, error) {
	start := time.Now()
	gw, err := l.gateway(role)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, l.t.Evaluate)
	defer cancel()
	res, err := gw.GetNetwork(channel).GetContract(l.chaincode).EvaluateWithContext(ctx, fn, client.WithArguments(args...))
	if err != nil {
		err = classify(err)
		l.observe("evaluate", outcomeOf(err), start)
		return nil, err
	}
	l.observe("evaluate", "ok", start)
	return res, nil
}

// Submit implements Ledger: endorse, submit, wait for the commit status.
//
//   - A transaction the journal holds for requestID (fabric-gateway's
//     Transaction.Bytes, read back with Gateway.NewTransaction) is
//     resubmitted first; a new one is endorsed only once it was invalidated.
//   - Every new signed transaction is saved in the journal before it is
//     handed to the orderer (Ledger's contract).
//   - An endorsement that fails for a domain reason is final. One that could
//     not be collected (peer down, timeout) is retried as a new proposal:
//     nothing was ordered.
//   - Once a signed transaction was handed to the orderer, an error or a
//     commit-status timeout is ambiguous: the SAME signed transaction is
//     resubmitted (a duplicate transaction id can never commit twice) and its
//     status awaited again; at the end the chaincode's record of requestID
//     decides.
//   - MVCC_READ_CONFLICT / PHANTOM_READ_CONFLICT or ENDORSEMENT_POLICY_FAILURE
//     (the policy changed between endorsement and validation) invalidated the
//     transaction: a new one with the same requestID is safe because the
//     chaincode executes a requestID once.
func (l *FabricLedger) Submit(ctx context.Context, journal TxJournal, role domain.Role, channel, fn, requestID string, args ...string) (Receipt, error) {
	return l.submit(ctx, journal, role, channel, fn, requestID, nil, args)
}

// SubmitPrivate implements Ledger: the details travel in the transient map (fabric-gateway's
// WithTransient), and the gateway service then endorses only on the collection's members.
func (l *FabricLedger) SubmitPrivate(ctx context.Context, journal TxJournal, role domain.Role, channel, fn, requestID string, details []byte, args ...string) (Receipt, error) {
	return l.submit(ctx, journal, role, channel, fn, requestID, map[string][]byte{domain.TransientDetailsKey: details}, args)
}

func (l *FabricLedger) submit(ctx context.Context, journal TxJournal, role domain.Role, channel, fn, requestID string, transient map[string][]byte, args []string) (Receipt, error) {
	start := time.Now()
	gw, err := l.gateway(role)
	if err != nil {
		return Receipt{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, l.t.Write)
	defer cancel()
	contract := gw.GetNetwork(channel).GetContract(l.chaincode)
	full := append([]string{requestID}, args...)
	if journal != nil {
		// A transaction prepared by an earlier attempt (before a restart, or
		// one that ended OUTCOME_UNKNOWN) is resubmitted, never replaced,
		// until the ledger has decided it.
		if b := journal.LoadTx(requestID); b != nil {
			if tx, err := gw.NewTransaction(b); err == nil {
				l.retried("journal")
				rec, err := l.commitTx(ctx, gw, channel, requestID, tx)
				var cf *CommitFailure
				if !errors.As(err, &cf) {
					rec.Attempts = 1
					l.observe("submit", outcomeOf(err), start)
					return rec, err
				}
				// Invalidated: its transaction id can never commit, so a new
				// transaction with the same requestID is safe.
			}
		}
	}
	bo := backoff{base: 150 * time.Millisecond, max: 2 * time.Second}
	var lag *lagWait
	for attempt, tx := 1, 1; ; tx++ {
		rec, err := l.submitOnce(ctx, journal, gw, contract, channel, requestID, fn, full, transient)
		rec.Attempts = tx
		if err == nil {
			l.observe("submit", "ok", start)
			return rec, nil
		}
		var er *EndorserRefusal
		if errors.As(err, &er) {
			if l.metrics != nil {
				l.metrics.EndorserRefused(er.MSPID, string(er.Err.Kind))
			}
			if er.Err.Kind == domain.KindClockSkew {
				err = l.skew.refused(l, er)
				l.observe("submit", outcomeOf(err), start)
				return rec, err
			}
			// A refusal by another organisation's endorser that lag can
			// explain is final only once it holds at the height the agency's
			// own peer endorsed at (lag.go).
			if l.mayLag(er) {
				if lag == nil {
					lag = &lagWait{until: time.Now().Add(l.t.LagWait)}
				}
				if werr := l.awaitEndorser(ctx, gw, channel, er, lag); werr != nil {
					l.observe("submit", outcomeOf(werr), start)
					return rec, werr
				}
				l.retried("lag")
				l.log.Debug("retrying a refusal another organisation's endorser gave while behind", "msp", er.MSPID, "kind", string(er.Err.Kind), "height", lag.height, "target", lag.target)
				continue
			}
			if l.ownMayLag(er) {
				if lag == nil {
					lag = &lagWait{until: time.Now().Add(l.t.LagWait)}
				}
				behind, werr := l.awaitOwnPeer(ctx, gw, channel, er, lag)
				if werr != nil {
					l.observe("submit", outcomeOf(werr), start)
					return rec, werr
				}
				if behind {
					l.retried("lag")
					l.log.Debug("retrying a refusal the own peer gave while behind another organisation's", "kind", string(er.Err.Kind), "target", lag.target)
					continue
				}
			}
		}
		var cf *CommitFailure
		retry := ""
		switch {
		case errors.As(err, &cf) && (cf.Code == peer.TxValidationCode_MVCC_READ_CONFLICT.String() || cf.Code == peer.TxValidationCode_PHANTOM_READ_CONFLICT.String()):
			retry = "mvcc"
		case errors.As(err, &cf) && cf.Code == peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE.String():
			// Endorsed under a chaincode definition or membership that changed before
			// it was validated (an agency joined or left): a new proposal is planned
			// against the current policy. Invalidated, it wrote nothing, so the same
			// requestID is safe; a policy the gateway cannot meet stays bounded by
			// MaxRetries and is then reported.
			retry = "policy"
		case errors.Is(err, errEndorseUnavailable):
			retry = "endorse"
		}
		if retry == "" || attempt > l.t.MaxRetries {
			if errors.Is(err, errEndorseUnavailable) {
				err = fmt.Errorf("%w: %w", ErrLedgerUnavailable, err)
			}
			l.observe("submit", outcomeOf(err), start)
			return rec, err
		}
		l.retried(retry)
		l.log.Debug("retrying write as a new transaction", "reason", retry, "attempt", attempt)
		attempt++
		if !bo.sleep(ctx, attempt-1) {
			l.observe("submit", "unavailable", start)
			if retry == "mvcc" {
				return rec, fmt.Errorf("%w: write budget exhausted after MVCC conflicts", ErrLedgerUnavailable)
			}
			return rec, fmt.Errorf("%w: %w", ErrLedgerUnavailable, err)
		}
	}
}

// errEndorseUnavailable marks an endorsement that failed for a reason other
// than the chaincode's answer: retrying with a new proposal is safe.
var errEndorseUnavailable = errors.New("endorsement not collected")

func (l *FabricLedger) submitOnce(ctx context.Context, journal TxJournal, gw *client.Gateway, contract *client.Contract, channel, requestID, fn string, args []string, transient map[string][]byte) (Receipt, error) {
	opts := []client.ProposalOption{client.WithArguments(args...)}
	if transient != nil {
		opts = append(opts, client.WithTransient(transient))
	}
	proposal, err := contract.NewProposal(fn, opts...)
	if err != nil {
		return Receipt{}, fmt.Errorf("build proposal: %w", err)
	}
	ectx, cancel := context.WithTimeout(ctx, l.t.Endorse)
	tx, err := proposal.EndorseWithContext(ectx)
	cancel()
	if err != nil {
		err = classifyEndorse(err)
		var de *domain.Error
		if errors.As(err, &de) {
			return Receipt{}, err
		}
		return Receipt{}, fmt.Errorf("%w: %w", errEndorseUnavailable, err)
	}
	l.skew.endorsed(l, tx)
	if journal != nil {
		// Saved before the orderer sees it: from here on a retry must find
		// the transaction and what the write decided (Ledger's contract).
		b, err := tx.Bytes()
		if err == nil {
			err = journal.SaveTx(requestID, b)
		}
		if err != nil {
			return Receipt{}, fmt.Errorf("%w: journal the prepared transaction: %w", ErrLedgerUnavailable, err)
		}
	}
	return l.commitTx(ctx, gw, channel, requestID, tx)
}

// commitTx submits a prepared transaction and waits for its commit status,
// resubmitting the same transaction while the outcome is unknown.
func (l *FabricLedger) commitTx(ctx context.Context, gw *client.Gateway, channel, requestID string, tx *client.Transaction) (Receipt, error) {
	txID := tx.TransactionID()
	bo := backoff{base: 200 * time.Millisecond, max: 2 * time.Second}
	for round := 0; ; round++ {
		if round > 0 {
			l.retried("resubmit")
			if !bo.sleep(ctx, round) {
				break
			}
		}
		sctx, cancel := context.WithTimeout(ctx, l.t.Submit)
		commit, err := tx.SubmitWithContext(sctx)
		cancel()
		if err != nil {
			l.log.Debug("submit failed; resubmitting the same signed transaction", "tx", txID, "err", err)
			if round >= l.t.MaxResubmits || ctx.Err() != nil {
				break
			}
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, l.t.CommitStatus)
		st, err := commit.StatusWithContext(cctx)
		cancel()
		if err != nil {
			l.log.Debug("commit status unknown; resubmitting the same signed transaction", "tx", txID, "err", err)
			if round >= l.t.MaxResubmits || ctx.Err() != nil {
				break
			}
			continue
		}
		switch {
		case st.Successful:
			rec := Receipt{TxID: txID, BlockNumber: st.BlockNumber, Result: tx.Result()}
			l.originalBlock(ctx, gw, channel, &rec)
			return rec, nil
		case st.Code == peer.TxValidationCode_DUPLICATE_TXID:
			// A resubmitted copy: the first one decided. Ask the chaincode.
			return l.lookup(ctx, gw, channel, requestID, txID)
		default:
			return Receipt{TxID: txID}, &CommitFailure{TxID: txID, Code: st.Code.String()}
		}
	}
	// Ambiguous to the end: the chaincode's record of requestID decides.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.t.Evaluate)
	defer cancel()
	return l.lookup(lctx, gw, channel, requestID, txID)
}

// lookup resolves an ambiguous write from the chaincode's idempotency record.
func (l *FabricLedger) lookup(ctx context.Context, gw *client.Gateway, channel, requestID, txID string) (Receipt, error) {
	raw, err := gw.GetNetwork(channel).GetContract(l.chaincode).EvaluateWithContext(ctx, api.FnGetRequestResult, client.WithArguments(requestID))
	if err != nil {
		// %v, not %w: the chaincode's NOT_FOUND (no committed request yet)
		// must not become the write's answer; the transaction may still
		// commit, so the outcome is unknown and a retry with the key decides.
		return Receipt{TxID: txID}, fmt.Errorf("%w: transaction %s: %v", ErrOutcomeUnknown, txID, classify(err))
	}
	var rr api.RequestResult
	if err := json.Unmarshal(raw, &rr); err != nil {
		return Receipt{TxID: txID}, fmt.Errorf("%w: undecodable request record", ErrOutcomeUnknown)
	}
	rec := Receipt{TxID: rr.TxID, Result: rr.Result}
	if n, err := l.blockOf(ctx, gw, channel, rr.TxID); err == nil {
		rec.BlockNumber = n
	}
	return rec, nil
}

// originalBlock fills the block number of the original transaction when the
// chaincode answered a retried requestID with its stored result.
func (l *FabricLedger) originalBlock(ctx context.Context, gw *client.Gateway, channel string, rec *Receipt) {
	var r struct {
		TxID string `json:"txId"`
	}
	if json.Unmarshal(rec.Result, &r) != nil || r.TxID == "" || r.TxID == rec.TxID {
		return
	}
	if n, err := l.blockOf(ctx, gw, channel, r.TxID); err == nil {
		rec.TxID, rec.BlockNumber = r.TxID, n
	}
}

func (l *FabricLedger) blockOf(ctx context.Context, gw *client.Gateway, channel, txID string) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, l.t.Evaluate)
	defer cancel()
	raw, err := gw.GetNetwork(channel).GetContract("qscc").EvaluateWithContext(ctx, "GetBlockByTxID", client.WithArguments(channel, txID))
	if err != nil {
		return 0, classify(err)
	}
	var b common.Block
	if err := proto.Unmarshal(raw, &b); err != nil || b.Header == nil {
		return 0, fmt.Errorf("undecodable block")
	}
	return b.Header.Number, nil
}

// ChaincodeEvents implements Ledger.
func (l *FabricLedger) ChaincodeEvents(ctx context.Context, channel string, after Checkpoint) (<-chan ChainEvent, error) {
	var opt client.ChaincodeEventsOption
	if after.IsZero() {
		opt = client.WithStartBlock(0)
	} else {
		opt = client.WithCheckpoint(fabricCheckpoint(after))
	}
	src, err := l.readerGateway().GetNetwork(channel).ChaincodeEvents(ctx, l.chaincode, opt)
	if err != nil {
		return nil, classify(err)
	}
	out := make(chan ChainEvent)
	go func() {
		defer close(out)
		for ev := range src {
			select {
			case out <- ChainEvent{Channel: channel, Block: ev.BlockNumber, TxID: ev.TransactionID, Name: ev.EventName, Payload: ev.Payload}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

type fabricCheckpoint Checkpoint

func (c fabricCheckpoint) BlockNumber() uint64   { return c.Block }
func (c fabricCheckpoint) TransactionID() string { return c.TxID }

// Blocks implements Ledger.
func (l *FabricLedger) Blocks(ctx context.Context, channel string, from uint64) (<-chan *common.Block, error) {
	ch, err := l.readerGateway().GetNetwork(channel).BlockEvents(ctx, client.WithStartBlock(from))
	if err != nil {
		return nil, classify(err)
	}
	return ch, nil
}

// ChainInfo implements Ledger.
func (l *FabricLedger) ChainInfo(ctx context.Context, channel string) (uint64, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, l.t.Evaluate)
	defer cancel()
	raw, err := l.readerGateway().GetNetwork(channel).GetContract("qscc").EvaluateWithContext(ctx, "GetChainInfo", client.WithArguments(channel))
	if err != nil {
		return 0, nil, classify(err)
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(raw, &info); err != nil {
		return 0, nil, fmt.Errorf("undecodable chain info: %w", err)
	}
	return info.Height, info.CurrentBlockHash, nil
}

// Ping implements Ledger: a cheap query on the first channel.
func (l *FabricLedger) Ping(ctx context.Context) error {
	if len(l.channels) == 0 {
		return fmt.Errorf("%w: the org sits on no channel", ErrLedgerUnavailable)
	}
	_, _, err := l.ChainInfo(ctx, l.channels[0].Name)
	return err
}

// classify turns a fabric-gateway/gRPC error into a *domain.Error when the
// chaincode answered with one of its kinds ("KIND: message" in the status
// message or in a peer's error detail), else ErrLedgerUnavailable for
// transport failures, else the error itself.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if ces := fabricconn.ChaincodeErrors(err); len(ces) > 0 {
		return ces[0].Err
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.ResourceExhausted, codes.Aborted:
			return fmt.Errorf("%w: %s", ErrLedgerUnavailable, st.Code())
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: %w", ErrLedgerUnavailable, err)
	}
	return fmt.Errorf("%w: %s", ErrLedgerUnavailable, err.Error())
}

func outcomeOf(err error) string {
	var de *domain.Error
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &de):
		return "refused"
	case errors.Is(err, ErrOutcomeUnknown):
		return "unknown"
	case errors.Is(err, ErrCommitFailed):
		return "invalidated"
	default:
		return "unavailable"
	}
}

// backoff is bounded exponential backoff.
type backoff struct{ base, max time.Duration }

func (b backoff) delay(attempt int) time.Duration {
	d := b.base
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	return min(d, b.max)
}

// sleep waits for the attempt's delay; false when ctx ended first.
func (b backoff) sleep(ctx context.Context, attempt int) bool {
	t := time.NewTimer(b.delay(attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
