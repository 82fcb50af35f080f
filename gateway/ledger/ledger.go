// Package ledger is the contract between a gateway and its organisation's
// peer: what the gateway asks of the ledger (Ledger), what it gets back
// (Receipt, ChainEvent) and how a write can fail. gateway.FabricLedger
// implements it with the fabric-gateway client; internal/inproc implements it
// in process over the real chaincode, for tests. It is a package of its own
// so that the in-process implementation can be used by the gateway's tests
// without an import cycle.
package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// Ledger is what the gateway needs from its own peer.
type Ledger interface {
	// Evaluate runs a query on the org's own peer, signed by the identity
	// enrolled for role.
	Evaluate(ctx context.Context, role domain.Role, channel, fn string, args ...string) ([]byte, error)
	// Submit runs a write once: endorse, order, commit. requestID is the
	// chaincode's idempotency key and the first argument of every write; it
	// is passed separately so an ambiguous outcome can be looked up by it.
	//
	// journal, when not nil, keeps the write's prepared transaction across
	// attempts and restarts (TxJournal). Submit then
	//   - first resubmits the transaction journal.LoadTx(requestID) returns,
	//     if any, and endorses a new one only once that one is invalidated:
	//     never two transactions of one write whose fates are open;
	//   - hands every new signed transaction to journal.SaveTx before it can
	//     reach the orderer, and fails with ErrLedgerUnavailable, nothing
	//     ordered, when SaveTx fails.
	// With a nil journal a retry endorses anew, which the chaincode's
	// requestID check makes safe but which may leave a transaction of the
	// first attempt in flight.
	Submit(ctx context.Context, journal TxJournal, role domain.Role, channel, fn, requestID string, args ...string) (Receipt, error)
	// SubmitPrivate is Submit with an event's private details in the proposal's transient map
	// (domain.TransientDetailsKey), never in the arguments, which the block stores for every
	// member (docs/visibility.md).
	SubmitPrivate(ctx context.Context, journal TxJournal, role domain.Role, channel, fn, requestID string, details []byte, args ...string) (Receipt, error)
	// ChaincodeEvents streams the chaincode's events on channel after the
	// checkpoint (from block 0 when the checkpoint is zero). The channel
	// closes when ctx ends or the stream breaks; callers reconnect.
	ChaincodeEvents(ctx context.Context, channel string, after Checkpoint) (<-chan ChainEvent, error)
	// Blocks streams full blocks of channel from block number from.
	Blocks(ctx context.Context, channel string, from uint64) (<-chan *common.Block, error)
	// ChainInfo returns the channel's height and the hash of its last block.
	ChainInfo(ctx context.Context, channel string) (height uint64, currentHash []byte, err error)
	// Roles lists the roles the gateway holds a Fabric identity for.
	Roles() []domain.Role
	// Channels lists the org's channels with their procedures.
	Channels() []api.ChannelInfo
	// Ping checks that the peer answers.
	Ping(ctx context.Context) error
}

// TxJournal is a write's durable record of its prepared transaction: the
// signed envelope, as fabric-gateway's Transaction.Bytes gives it and
// Gateway.NewTransaction reads it back. A retry (after OUTCOME_UNKNOWN, or
// after a restart) resubmits it instead of endorsing a second transaction
// while the first one's fate is unknown.
type TxJournal interface {
	// LoadTx returns the prepared transaction saved for requestID (nil:
	// none).
	LoadTx(requestID string) []byte
	// SaveTx stores the prepared transaction of requestID. Submit calls it
	// before the transaction may reach the ledger, so it is the moment from
	// which a retry must find everything the write has decided: an
	// implementation stores that with it, atomically (the gateway stores the
	// Idempotency-Key's record with its memos in the same Badger
	// transaction, idempotency.go).
	SaveTx(requestID string, prepared []byte) error
}

// Receipt is the outcome of a committed write.
type Receipt struct {
	// TxID is the transaction that committed. For a request the chaincode
	// had already executed (an idempotent retry) Result names the original
	// transaction; BlockNumber is then that transaction's block when known.
	TxID        string
	BlockNumber uint64
	Result      []byte
	// Attempts counts the transactions created (MVCC retries are new ones;
	// resubmissions of the same signed transaction are not counted).
	Attempts int
}

// Checkpoint is a position in a channel's event stream: the block in which
// the next event is expected and the last transaction processed in it.
type Checkpoint struct {
	Block uint64 `json:"block"`
	TxID  string `json:"txId"`
}

// IsZero reports whether nothing has been processed yet.
func (c Checkpoint) IsZero() bool { return c.Block == 0 && c.TxID == "" }

// ChainEvent is one chaincode event of a committed, valid transaction.
type ChainEvent struct {
	Channel string `json:"channel"`
	Block   uint64 `json:"block"`
	TxID    string `json:"txId"`
	Name    string `json:"name"`
	Payload []byte `json:"payload"`
}

// Ledger failures that are not domain errors. Domain errors from the
// chaincode arrive as *domain.Error (errors.As).
var (
	// ErrLedgerUnavailable: nothing was committed (the peer did not answer,
	// endorsement could not be collected); the request may be retried.
	ErrLedgerUnavailable = errors.New("ledger unavailable")
	// ErrOutcomeUnknown: the transaction was sent but its commit could not be
	// confirmed within the write budget. Retrying with the same requestID is
	// safe (the chaincode executes a requestID once).
	ErrOutcomeUnknown = errors.New("transaction outcome unknown")
	// ErrCommitFailed: the transaction was ordered but invalidated for a
	// reason a retry does not cure (e.g. endorsement policy failure).
	ErrCommitFailed = errors.New("transaction invalidated")
	// ErrNoIdentity: the gateway holds no Fabric identity for the role.
	ErrNoIdentity = errors.New("no Fabric identity for this role")
)

// CommitFailure details ErrCommitFailed with the validation code.
type CommitFailure struct {
	TxID string
	Code string
}

func (e *CommitFailure) Error() string {
	return fmt.Sprintf("transaction %s invalidated: %s", e.TxID, e.Code)
}

// Unwrap makes errors.Is(err, ErrCommitFailed) true.
func (e *CommitFailure) Unwrap() error { return ErrCommitFailed }
