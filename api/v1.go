// The /v1 API of an agency's gateway: requests, responses and problems.

package api

import (
	"encoding/json"
	"time"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// ChannelInfo names a channel and the procedure it runs.
type ChannelInfo struct {
	Name      string           `json:"name"`
	Procedure domain.Procedure `json:"procedure"`
}

// Inconsistency names where verification failed.
type Inconsistency struct {
	Block   uint64 `json:"block"`
	Tx      int    `json:"tx,omitempty"`
	Problem string `json:"problem"`
}

// ChainReport is the verification of one channel.
type ChainReport struct {
	Channel            string         `json:"channel"`
	Blocks             uint64         `json:"blocks"`
	LastBlockHash      string         `json:"lastBlockHash"`
	PeerCurrentHash    string         `json:"peerCurrentHash"`
	Transactions       int            `json:"transactions"`
	SignaturesVerified int            `json:"signaturesVerified"`
	ValidationCodes    map[string]int `json:"validationCodes"`
	// PrivateRecords counts the private records whose hash the verifier's own peer holds as the
	// chain committed it; PrivateRecordsPurged those the chain purged and the peer no longer holds.
	PrivateRecords       int            `json:"privateRecords"`
	PrivateRecordsPurged int            `json:"privateRecordsPurged"`
	Intact               bool           `json:"intact"`
	FirstInconsistency   *Inconsistency `json:"firstInconsistency,omitempty"`
	// NoWrites lists committed VALID transactions with an empty write set
	// (NoWritesTotal counts them; the list stops at maxTxNotes).
	NoWrites      []TxNote `json:"noWrites"`
	NoWritesTotal int      `json:"noWritesTotal"`
	// LateTimestamps lists committed VALID transactions whose timestamp lies
	// more than LateTolerance before the latest write of an earlier block.
	LateTimestamps      []TxNote `json:"lateTimestamps"`
	LateTimestampsTotal int      `json:"lateTimestampsTotal"`
	LateTolerance       string   `json:"lateTolerance"`
	// UnexpectedContent lists committed VALID transactions carrying bytes that
	// no honest client sends and the chaincode never saw (problem says which).
	UnexpectedContent      []TxNote `json:"unexpectedContent"`
	UnexpectedContentTotal int      `json:"unexpectedContentTotal"`
	// Invalid lists committed transactions the peers marked invalid, with the
	// validation code as Problem: their bytes are in the block all the same.
	Invalid      []TxNote  `json:"invalid"`
	InvalidTotal int       `json:"invalidTotal"`
	StartedAt    time.Time `json:"startedAt"`
	FinishedAt   time.Time `json:"finishedAt"`
	Error        string    `json:"error,omitempty"`
}

// TxNote names one committed transaction for the auditor: where it is, who
// signed it and, if it is one the chaincode admits, which function it called.
// Its arguments are never reported.
type TxNote struct {
	Block     uint64    `json:"block"`
	Tx        int       `json:"tx"`
	TxID      string    `json:"txId"`
	Creator   string    `json:"creatorMspId"`
	Function  string    `json:"function,omitempty"`
	Timestamp time.Time `json:"timestamp"`
	// Behind is how far the timestamp lies before the latest earlier write
	// (lateTimestamps only), as a Go duration.
	Behind string `json:"behind,omitempty"`
	// Problem names what is unexpected (unexpectedContent) or the validation
	// code (invalid).
	Problem string `json:"problem,omitempty"`
}

// AuditReport covers all the agency's channels.
type AuditReport struct {
	Intact   bool          `json:"intact"`
	Channels []ChainReport `json:"channels"`
}

// HistoryRequest asks for every version of a case's state.
type HistoryRequest struct {
	Channel   string `json:"channel"`
	Pseudonym string `json:"pseudonym"`
	Bookmark  string `json:"bookmark,omitempty"`
	PageSize  int    `json:"pageSize,omitempty"`
}

// HistoryPage is one page of a case's history (newest first).
type HistoryPage struct {
	Items    []HistoryEntry `json:"items"`
	Bookmark string         `json:"bookmark"`
}

// EventPage is one page of events.
type EventPage struct {
	Items    []domain.Event `json:"items"`
	Bookmark string         `json:"bookmark"`
}

// OverdueErasure is an erasure request not yet confirmed by every holder.
type OverdueErasure struct {
	ErasureStatus
	DaysOpen int `json:"daysOpen"`
}

// CaseRef selects a case on one channel, by the agency's own local reference
// or by pseudonym. Local references only ever travel in request bodies.
type CaseRef struct {
	Channel   string `json:"channel"`
	LocalRef  string `json:"localRef,omitempty"`
	Pseudonym string `json:"pseudonym,omitempty"`
}

// WriteResponse answers every recorded event.
type WriteResponse struct {
	Channel     string           `json:"channel"`
	Pseudonym   string           `json:"pseudonym"`
	Seq         uint64           `json:"seq"`
	Code        domain.EventCode `json:"code"`
	Status      domain.Status    `json:"status"`
	TxID        string           `json:"txId"`
	BlockNumber uint64           `json:"blockNumber"`
	RecordedOn  string           `json:"recordedOn"`
	OccurredOn  string           `json:"occurredOn"`
}

// CaseView is a case's state with the agency's own references to it.
type CaseView struct {
	Case      domain.CaseState `json:"case"`
	LocalRefs []string         `json:"localRefs"`
}

// RegisterRequest registers a case under the agency's local reference.
// With LinkFrom, the case continues a case the agency holds on another
// channel (two-step pseudonymisation: a fresh pseudonym on this channel,
// linked to the other one in the agency's privacy service only).
type RegisterRequest struct {
	Channel    string   `json:"channel"`
	LocalRef   string   `json:"localRef"`
	OccurredOn string   `json:"occurredOn"`
	LinkFrom   *CaseRef `json:"linkFrom,omitempty"`
	// Dublin channel only: the facts that start the limit for sending a
	// request (applicationRegisteredOn with evidence; evidenceReceivedOn
	// with a hit), so the deadline board shows it before any request.
	ApplicationRegisteredOn string          `json:"applicationRegisteredOn,omitempty"`
	Evidence                domain.Evidence `json:"evidence,omitempty"`
	EvidenceReceivedOn      string          `json:"evidenceReceivedOn,omitempty"`
}

// BindRequest attaches the agency's own local reference to a case another
// agency put on the ledger (e.g. a Dublin request received). The agency
// becomes one of the case's holders on the ledger (CASE_BOUND), if the
// workflow lets it take part in the case.
type BindRequest struct {
	Channel   string `json:"channel"`
	Pseudonym string `json:"pseudonym"`
	LocalRef  string `json:"localRef"`
}

// BindResponse answers a bind. Holder is always true on success; Event is
// the CASE_BOUND write when this bind recorded it (absent when the agency
// already held the case: it registered it, bound it or took it over).
type BindResponse struct {
	Channel   string         `json:"channel"`
	Pseudonym string         `json:"pseudonym"`
	Created   bool           `json:"created"`
	Holder    bool           `json:"holder"`
	Event     *WriteResponse `json:"event,omitempty"`
}

// EventRequest records any event of the vocabulary on a case.
type EventRequest struct {
	CaseRef
	Event json.RawMessage `json:"event"`
}

// TimelineRequest pages through a case's events.
type TimelineRequest struct {
	CaseRef
	Bookmark string `json:"bookmark,omitempty"`
	PageSize int    `json:"pageSize,omitempty"`
}

// TimelineResponse is one page of a case's events.
type TimelineResponse struct {
	Channel   string         `json:"channel"`
	Pseudonym string         `json:"pseudonym"`
	LocalRefs []string       `json:"localRefs"`
	Items     []domain.Event `json:"items"`
	Bookmark  string         `json:"bookmark"`
}

// CaseList is one page of cases with the agency's references.
type CaseList struct {
	Items    []CaseView `json:"items"`
	Bookmark string     `json:"bookmark"`
}

// Whoami says who the caller is to the gateway.
type Whoami struct {
	Org         string        `json:"org"`
	MSPID       string        `json:"mspId"`
	MemberState string        `json:"memberState,omitempty"`
	Role        domain.Role   `json:"role"`
	TokenID     string        `json:"tokenId"`
	TokenName   string        `json:"tokenName,omitempty"`
	Channels    []ChannelInfo `json:"channels"`
	Roles       []domain.Role `json:"roles"`
}

// AnchorRequest anchors a document on a case.
type AnchorRequest struct {
	CaseRef
	// Document is the file's bytes (base64 in JSON).
	Document     []byte              `json:"document"`
	DocumentType domain.DocumentType `json:"documentType,omitempty"`
	OccurredOn   string              `json:"occurredOn"`
}

// AnchorResponse answers an anchor.
type AnchorResponse struct {
	WriteResponse
	DocumentHash string `json:"documentHash"`
}

// VerifyRequest checks a document against the anchors of a case.
type VerifyRequest struct {
	CaseRef
	Document []byte `json:"document"`
}

// VerifyResponse says whether the document is anchored, by whom and when.
type VerifyResponse struct {
	DocumentHash string  `json:"documentHash"`
	Anchored     bool    `json:"anchored"`
	Anchor       *Anchor `json:"anchor,omitempty"`
}

// AnchorList is one page of a case's anchors.
type AnchorList struct {
	Items    []Anchor `json:"items"`
	Bookmark string   `json:"bookmark"`
}

// DublinCase names a case on the Dublin channel (the channel is implied).
type DublinCase struct {
	LocalRef  string `json:"localRef,omitempty"`
	Pseudonym string `json:"pseudonym,omitempty"`
}

// DublinRequestRequest sends a take-charge or take-back request (or a
// take-back notification under the AMMR).
type DublinRequestRequest struct {
	DublinCase
	Kind                    domain.RequestKind `json:"kind"`
	OccurredOn              string             `json:"occurredOn"`
	RequestedMemberState    string             `json:"requestedMemberState"`
	ReceivedOn              string             `json:"receivedOn"`
	ApplicationRegisteredOn string             `json:"applicationRegisteredOn"`
	Evidence                domain.Evidence    `json:"evidence"`
	EvidenceReceivedOn      string             `json:"evidenceReceivedOn,omitempty"`
	Urgent                  *bool              `json:"urgent,omitempty"`
	UrgentReplyDue          string             `json:"urgentReplyDue,omitempty"`
}

// DublinReplyRequest answers a request: ACCEPTED, REJECTED, or (by the
// requesting state after a rejection) REEXAMINATION_REQUESTED.
type DublinReplyRequest struct {
	DublinCase
	Reply      string `json:"reply"`
	OccurredOn string `json:"occurredOn"`
	ReceivedOn string `json:"receivedOn,omitempty"`
}

// DublinTransferRequest records a transfer step.
type DublinTransferRequest struct {
	DublinCase
	Step            string                 `json:"step"`
	OccurredOn      string                 `json:"occurredOn"`
	ScheduledFor    string                 `json:"scheduledFor,omitempty"`
	ExtensionReason domain.ExtensionReason `json:"extensionReason,omitempty"`
}

// BoardItem is one running deadline on the board.
type BoardItem struct {
	Pseudonym string          `json:"pseudonym"`
	LocalRefs []string        `json:"localRefs"`
	Status    domain.Status   `json:"status"`
	Deadline  domain.Deadline `json:"deadline"`
	// DaysLeft counts from today to the last day of the deadline (negative:
	// passed).
	DaysLeft int `json:"daysLeft"`
	// Superseded lists the case's consequences superseded by steps dated in
	// time (the deadline was recomputed from them).
	Superseded []domain.Supersession `json:"superseded,omitempty"`
	// Regime: whose criteria apply and whose time limits (the deadline's
	// own regime is the table it was computed with).
	Regime domain.RegimeFacts `json:"regime"`
	// LateRequest is the request limit the pending request missed.
	LateRequest *deadline.Deadline `json:"lateRequest,omitempty"`
}

// Board is one page of the deadline board.
type Board struct {
	Today    string      `json:"today"`
	Before   string      `json:"before"`
	Items    []BoardItem `json:"items"`
	Bookmark string      `json:"bookmark"`
}

// ErasureRequest asks for a case to be erased everywhere: ERASURE_REQUESTED
// is recorded on the named channel and on every other channel where the
// agency's privacy service links the case. Each holder's gateway then erases
// its mapping on that channel and confirms (the erasure executor).
type ErasureRequest struct {
	CaseRef
	OccurredOn string `json:"occurredOn"`
}

// ErasureOutcome is the result on one channel.
type ErasureOutcome struct {
	Channel   string         `json:"channel"`
	Pseudonym string         `json:"pseudonym"`
	Requested bool           `json:"requested"`
	Result    *WriteResponse `json:"result,omitempty"`
	Problem   *Problem       `json:"problem,omitempty"`
}

// ErasureResponse lists the outcome per channel of the case's erasure plan
// (erasure_plan.go). Keep the pseudonyms: once the erasure has run, the
// local reference no longer resolves. A later request for the same case —
// any Idempotency-Key, any of its references — answers this plan again.
type ErasureResponse struct {
	Plan  string           `json:"plan"`
	Items []ErasureOutcome `json:"items"`
}

// ErasureList is one page of erasure statuses.
type ErasureList struct {
	Items    []ErasureStatus `json:"items"`
	Bookmark string          `json:"bookmark"`
}

// EventView is an event as an agency's subscribers see it: case events name
// the pseudonym and, where this agency holds the case, its own references.
type EventView struct {
	Position  string   `json:"position"`
	Channel   string   `json:"channel"`
	Block     uint64   `json:"block"`
	TxID      string   `json:"txId"`
	Name      string   `json:"name"`
	Pseudonym string   `json:"pseudonym,omitempty"`
	Code      string   `json:"code,omitempty"`
	Seq       uint64   `json:"seq,omitempty"`
	Procedure string   `json:"procedure,omitempty"`
	Held      bool     `json:"held"`
	LocalRefs []string `json:"localRefs,omitempty"`
	// Supersedes: this step, dated in time, superseded an automatic
	// consequence (docs/chaincode.md §6.3.2).
	Supersedes *domain.Supersession `json:"supersedes,omitempty"`
	// Holiday calendar changes.
	MemberState string `json:"memberState,omitempty"`
	Year        int    `json:"year,omitempty"`
}

// HolidaysRequest sets the public holidays of the caller's own member state for one year: Dublin
// periods ending on one of them end on the next working day (Reg. 1182/71 Art 3(4)).
type HolidaysRequest struct {
	Year  int      `json:"year"`
	Dates []string `json:"dates"`
}

// ReconcileReport is what one reconciliation did.
type ReconcileReport struct {
	// Generation is the privacy service's store generation it checked
	// ("" when the service does not report one).
	Generation string `json:"generation,omitempty"`
	// Checked mappings (one per pseudonym and channel) read on the ledger.
	Checked int `json:"checked"`
	// Erased mappings: their case's erasure is on the ledger; they were held
	// again and are erased now (and confirmed if the agency's confirmation
	// was still pending).
	Erased int `json:"erased"`
	// Kept: an erasure is on the ledger but the executor's rules leave the
	// mapping (e.g. this agency is not a holder of the case on that channel).
	Kept int `json:"kept"`
	// NotOnLedger: pseudonyms without a case on the ledger (yet).
	NotOnLedger int `json:"notOnLedger"`
}

// AutomationRefusal is one permanent refusal. It holds no local reference:
// a pseudonym, codes and the chaincode's message (which never quotes input).
type AutomationRefusal struct {
	At         time.Time   `json:"at"`
	Automation string      `json:"automation"`
	Channel    string      `json:"channel"`
	Pseudonym  string      `json:"pseudonym"`
	Function   string      `json:"function"`
	Kind       domain.Kind `json:"kind"`
	Message    string      `json:"message"`
}

// RefusalList is what GET /v1/automations/refusals answers.
type RefusalList struct {
	Items []AutomationRefusal `json:"items"`
}

// RectifyRequest replaces one of the agency's local references of a case
// (art. 16). Nothing on the ledger changes: references never reach it.
type RectifyRequest struct {
	Channel     string `json:"channel"`
	LocalRef    string `json:"localRef"`
	NewLocalRef string `json:"newLocalRef"`
}

// RectifyResponse answers a rectification. It holds no reference: the
// answer is stored under the Idempotency-Key, and the gateway's store keeps
// no local reference.
type RectifyResponse struct {
	Channel     string    `json:"channel"`
	Pseudonym   string    `json:"pseudonym"`
	RectifiedAt time.Time `json:"rectifiedAt"`
}

// ExportRequest names the person by the agency's local reference on a
// channel (art. 15).
type ExportRequest struct {
	Channel  string `json:"channel"`
	LocalRef string `json:"localRef"`
}

// SubjectExport is what the agency holds about one person: its references
// and pseudonyms per channel (the whole linked case in its privacy
// service), each case's state and timeline on the ledger as this agency's
// peer shows them, and the value-free history of the mapping.
type SubjectExport struct {
	MSPID      string          `json:"mspId"`
	ExportedAt time.Time       `json:"exportedAt"`
	MappedAt   time.Time       `json:"mappedAt"`
	Cases      []ExportedCase  `json:"cases"`
	History    []ExportHistory `json:"history"`
}

// ExportedCase is the person's case on one channel.
type ExportedCase struct {
	Channel   string    `json:"channel"`
	Pseudonym string    `json:"pseudonym"`
	LocalRefs []string  `json:"localRefs"`
	MappedAt  time.Time `json:"mappedAt"`
	// OnLedger is false when the ledger holds no such case (or the channel
	// is not one this gateway serves); Case and Timeline are then absent.
	OnLedger bool              `json:"onLedger"`
	Case     *domain.CaseState `json:"case,omitempty"`
	Timeline []domain.Event    `json:"timeline"`
}

// ExportHistory is one change of the mapping: when, what, on which channel;
// never the value (a rectification does not say what was replaced).
type ExportHistory struct {
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Channel string    `json:"channel"`
}

// Webhook is a stored subscription.
type Webhook struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	HeldOnly  bool      `json:"heldOnly,omitempty"`
	CreatedBy string    `json:"createdBy"`
	CreatedAt time.Time `json:"createdAt"`
}

// WebhookStatus is a subscription as listed (no secret).
type WebhookStatus struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Channel     string    `json:"channel,omitempty"`
	HeldOnly    bool      `json:"heldOnly"`
	CreatedBy   string    `json:"createdBy"`
	CreatedAt   time.Time `json:"createdAt"`
	Position    string    `json:"position"`
	DeadLetters int       `json:"deadLetters"`
}

// CreateWebhookRequest subscribes a URL.
type CreateWebhookRequest struct {
	URL      string `json:"url"`
	Channel  string `json:"channel,omitempty"`
	HeldOnly bool   `json:"heldOnly,omitempty"`
	// From is where delivery starts: "now" (default), "beginning", or a
	// position from an earlier event.
	From string `json:"from,omitempty"`
}

// CreatedWebhook answers a subscription; the secret is shown only here.
type CreatedWebhook struct {
	Webhook
	Position string `json:"position"`
}

// WebhookList is the answer of GET /v1/webhooks.
type WebhookList struct {
	Items []WebhookStatus `json:"items"`
}

// OverdueErasures is the answer of GET /v1/audit/erasures.
type OverdueErasures struct {
	Items    []OverdueErasure `json:"items"`
	Bookmark string           `json:"bookmark"`
}
