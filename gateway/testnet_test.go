package gateway

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/inproc"
)

// testNet is the ledger of the gateway's tests: the in-process network
// (internal/inproc: the real chaincode over in-memory world states, the
// builtin topology's members and roles) with the faults a test injects in
// front of it. It decides nothing itself.
type testNet struct {
	*inproc.Network
	// failSubmit, if set, is asked before every submit; a non-nil error
	// fails it before anything is endorsed.
	failSubmit func(fn string) error
	// blockSubmit, if set, is waited on inside every submit.
	blockSubmit chan struct{}
	// failJournal, if set, fails every SaveTx after the journal kept the
	// transaction: a gateway that stops right after journaling.
	failJournal error
	mu          sync.Mutex
	// blockChains, if set for a channel, replace its blocks and chain info
	// (prepared or tampered chains for the audit tests); set under mu by a
	// test that changes it while gateways run.
	blockChains map[string][]*common.Block
	// requestIDs lists the requestIDs submitted past the faults, in order.
	requestIDs []string
	// journaled lists the transactions saved while failJournal was set.
	journaled [][]byte
}

func newTestNet(t testing.TB, now func() time.Time) *testNet {
	t.Helper()
	n, err := inproc.New(inproc.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &testNet{Network: n}
}

// ledger is organisation msp's view, behind the injected faults.
func (n *testNet) ledger(msp string) *testLedger {
	return &testLedger{Ledger: n.Ledger(msp), n: n}
}

// submitted counts the committed transactions of fn that wrote.
func (n *testNet) submitted(fn string) int { return n.Writes(fn) }

// evaluated counts the queries of fn.
func (n *testNet) evaluated(fn string) int { return n.Evaluations(fn) }

// state is the committed state of a case (nil: none).
func (n *testNet) state(channel, p string) *domain.CaseState { return n.Case(channel, p) }

// submittedIDs returns the requestIDs submitted so far.
func (n *testNet) submittedIDs() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.requestIDs...)
}

// chain is the prepared chain of channel, if the test set one.
func (n *testNet) chain(channel string) ([]*common.Block, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	c, ok := n.blockChains[channel]
	return c, ok
}

// testLedger decorates an organisation's in-process ledger with testNet's
// faults.
type testLedger struct {
	*inproc.Ledger
	n *testNet
}

var _ Ledger = (*testLedger)(nil)

func (l *testLedger) Submit(ctx context.Context, journal TxJournal, role domain.Role, channel, fn, requestID string, args ...string) (Receipt, error) {
	journal, err := l.faults(ctx, journal, fn, requestID)
	if err != nil {
		return Receipt{}, err
	}
	return l.Ledger.Submit(ctx, journal, role, channel, fn, requestID, args...)
}

// SubmitPrivate is Submit with transient details, under the same faults.
func (l *testLedger) SubmitPrivate(ctx context.Context, journal TxJournal, role domain.Role, channel, fn, requestID string, details []byte, args ...string) (Receipt, error) {
	journal, err := l.faults(ctx, journal, fn, requestID)
	if err != nil {
		return Receipt{}, err
	}
	return l.Ledger.SubmitPrivate(ctx, journal, role, channel, fn, requestID, details, args...)
}

// faults applies the test's injected faults to a write and notes its requestID.
func (l *testLedger) faults(ctx context.Context, journal TxJournal, fn, requestID string) (TxJournal, error) {
	n := l.n
	if n.blockSubmit != nil {
		select {
		case <-n.blockSubmit:
		case <-ctx.Done():
			return nil, ErrLedgerUnavailable
		}
	}
	if n.failSubmit != nil {
		if err := n.failSubmit(fn); err != nil {
			return nil, err
		}
	}
	n.mu.Lock()
	n.requestIDs = append(n.requestIDs, requestID)
	n.mu.Unlock()
	if n.failJournal != nil && journal != nil {
		journal = failingJournal{journal, n}
	}
	return journal, nil
}

// failingJournal keeps what it is given (and shows it in n.journaled),
// then fails with n.failJournal.
type failingJournal struct {
	TxJournal
	n *testNet
}

func (j failingJournal) SaveTx(requestID string, prepared []byte) error {
	if err := j.TxJournal.SaveTx(requestID, prepared); err != nil {
		return err
	}
	j.n.mu.Lock()
	j.n.journaled = append(j.n.journaled, prepared)
	j.n.mu.Unlock()
	return j.n.failJournal
}

// Blocks serves a prepared chain where the test set one.
func (l *testLedger) Blocks(ctx context.Context, channel string, from uint64) (<-chan *common.Block, error) {
	chain, ok := l.n.chain(channel)
	if !ok {
		return l.Ledger.Blocks(ctx, channel, from)
	}
	out := make(chan *common.Block)
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

// ChainInfo answers for a prepared chain where the test set one.
func (l *testLedger) ChainInfo(ctx context.Context, channel string) (uint64, []byte, error) {
	chain, ok := l.n.chain(channel)
	if !ok {
		return l.Ledger.ChainInfo(ctx, channel)
	}
	if len(chain) == 0 {
		return 0, nil, nil
	}
	h, err := BlockHeaderHash(chain[len(chain)-1].Header)
	return uint64(len(chain)), h, err
}
