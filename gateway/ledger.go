package gateway

import (
	"github.com/caseledger/caseledger/gateway/ledger"
)

// The gateway's contract with its peer lives in package ledger (so that the
// in-process ledger of the tests can implement it without importing the
// gateway); these names keep the gateway's code and API unchanged.
type (
	Ledger    = ledger.Ledger
	TxJournal = ledger.TxJournal

	Receipt       = ledger.Receipt
	Checkpoint    = ledger.Checkpoint
	ChainEvent    = ledger.ChainEvent
	CommitFailure = ledger.CommitFailure
)

// Ledger failures that are not domain errors (see package ledger).
var (
	ErrLedgerUnavailable = ledger.ErrLedgerUnavailable
	ErrOutcomeUnknown    = ledger.ErrOutcomeUnknown
	ErrCommitFailed      = ledger.ErrCommitFailed
	ErrNoIdentity        = ledger.ErrNoIdentity
)
