package domain

import (
	"time"

	"github.com/caseledger/caseledger/domain/deadline"
)

// Event is one recorded process step as stored on the ledger: the submitted
// payload plus what the transaction says about who recorded it and when.
type Event struct {
	VocabularyVersion int       `json:"vocabularyVersion"`
	Pseudonym         string    `json:"pseudonym"`
	Seq               uint64    `json:"seq"`
	Code              EventCode `json:"code"`
	OccurredOn        string    `json:"occurredOn"`
	// RecordedOn is the transaction's date in the recording member state's
	// time zone; RecordedAt the transaction timestamp (UTC).
	RecordedOn string `json:"recordedOn"`
	RecordedAt string `json:"recordedAt"`
	// LateDays is RecordedOn minus OccurredOn in days (0 when recorded the
	// same day), so auditors can list late entries.
	LateDays  int    `json:"lateDays"`
	MSPID     string `json:"mspId"`
	Role      Role   `json:"role"`
	TxID      string `json:"txId"`
	RequestID string `json:"requestId"`
	// Supersedes names the automatic consequence this step supersedes (a
	// step dated on or before the lapsed deadline, recorded late).
	Supersedes *Supersession `json:"supersedes,omitempty"`
	// SupersededBy is set only in timeline answers, never stored: the later
	// step that superseded this event (or the consequence it built on).
	SupersededBy *Supersession `json:"supersededBy,omitempty"`
	// Withheld names the private data collection that holds this event's coded details
	// ("details withheld: <collection>", docs/visibility.md); the public record keeps none of
	// their values. A timeline answer to a member of that collection carries them.
	Withheld string `json:"withheld,omitempty"`
	EventFields
}

// CaseState is the current state of one case on one channel.
type CaseState struct {
	Pseudonym string    `json:"pseudonym"`
	Procedure Procedure `json:"procedure"`
	Status    Status    `json:"status"`
	Seq       uint64    `json:"seq"` // sequence number of the last event (1 = registration)
	LastEvent EventCode `json:"lastEvent"`
	// RegisteredBy is the MSP id that registered the case; RegisteredOn the
	// day the registration was recorded (its ledger day), and
	// RegistrationOccurredOn the day it took place (CASE_REGISTERED's
	// occurredOn; empty in states recorded before it was kept).
	RegisteredBy           string `json:"registeredBy"`
	RegisteredOn           string `json:"registeredOn"`
	RegistrationOccurredOn string `json:"registrationOccurredOn,omitempty"`
	UpdatedOn              string `json:"updatedOn"`
	// LastOccurredOn is the occurredOn of the last workflow event; later
	// workflow events may not be dated before it.
	LastOccurredOn string `json:"lastOccurredOn"`
	// Holders are the MSP ids that hold the case, sorted: the registrar, and
	// those that bound their own reference to it (CASE_BOUND) or took it over
	// (the workflow rows marked Holds). Writing any other event does not make
	// an agency a holder. Only holders anchor, close and request erasure;
	// each of them must confirm an erasure.
	Holders []string `json:"holders"`

	National *NationalFacts `json:"national,omitempty"`
	Dublin   *DublinFacts   `json:"dublin,omitempty"`
	Erasure  *ErasureFacts  `json:"erasure,omitempty"`
}

// NationalFacts are the national procedure's facts a transition may depend on.
type NationalFacts struct {
	EurodacHit       EurodacHit    `json:"eurodacHit,omitempty"`
	RegionCode       string        `json:"regionCode,omitempty"`
	Outcome          Outcome       `json:"outcome,omitempty"`
	AppealSuspensive *bool         `json:"appealSuspensive,omitempty"`
	AppealOutcome    AppealOutcome `json:"appealOutcome,omitempty"`
	// NegativeDecision: the last decision obliges the person to leave and no appeal annulled
	// it. Derived on every endorser from the outcome it was given, and kept on the public
	// record, because return counselling depends on it and its endorsers may not read the
	// outcome's collection (docs/visibility.md).
	NegativeDecision bool `json:"negativeDecision,omitempty"`
}

// RequestKind distinguishes the Dublin request types.
type RequestKind string

const (
	TakeCharge         RequestKind = "TAKE_CHARGE"
	TakeBack           RequestKind = "TAKE_BACK"
	TakeBackNotifyKind RequestKind = "TAKE_BACK_NOTIFICATION"
)

// DublinFacts are the Dublin procedure's facts and current deadlines.
type DublinFacts struct {
	RequestingMemberState string `json:"requestingMemberState"`
	RequestedMemberState  string `json:"requestedMemberState,omitempty"`
	// Regime is whose time limits govern the pending request and every
	// limit running from it (deadline.ProcedureRegime).
	Regime deadline.Regime `json:"regime,omitempty"`
	// CriteriaRegime is which regime's responsibility criteria apply, by
	// the application's registration date (AMMR Art 84,
	// deadline.RegimeFor); set once that date is on the ledger.
	CriteriaRegime deadline.Regime `json:"criteriaRegime,omitempty"`
	// PendingProcedure is the configured choice that decided Regime for an
	// application under Dublin III criteria (DUBLIN-RULES §0, "Not
	// verified" 7); empty for AMMR applications.
	PendingProcedure deadline.PendingProcedure `json:"pendingProcedure,omitempty"`
	// RequestLimit is the time limit for sending the pending (or, before
	// any, the next take charge) request, under CriteriaRegime's table;
	// RequestLate says the request was dated after it. When the limit's
	// consequence bars a late request (deadline.BarsLateRequest) the reply
	// deadline no longer ends in an implicit acceptance.
	RequestLimit *deadline.Deadline `json:"requestLimit,omitempty"`
	RequestLate  bool               `json:"requestLate,omitempty"`
	RequestKind  RequestKind        `json:"requestKind,omitempty"`
	// Requests counts the requests made on this case (a new one may follow a
	// final rejection).
	Requests                int           `json:"requests"`
	ApplicationRegisteredOn deadline.Date `json:"applicationRegisteredOn,omitzero"`
	Evidence                Evidence      `json:"evidence,omitempty"`
	EvidenceReceivedOn      deadline.Date `json:"evidenceReceivedOn,omitzero"`
	Urgent                  bool          `json:"urgent,omitempty"`
	// UrgentDays is the reply period the requesting state asked for
	// (urgentReplyDue minus its claimed receipt date).
	UrgentDays int `json:"urgentDays,omitempty"`
	// RequestReceivedOn is the receipt date the reply period runs from: the
	// requested state's acknowledged receipt date, else the later of the
	// requesting state's claim and the day the request reached the ledger
	// (in the requested state's zone). One state alone cannot start the
	// other's period before the request was on its ledger.
	RequestReceivedOn deadline.Date `json:"requestReceivedOn,omitzero"`
	// ClaimedReceivedOn is the receipt date the requesting state recorded.
	ClaimedReceivedOn deadline.Date `json:"claimedReceivedOn,omitzero"`
	// RequestOnLedgerOn is the date of the request's transaction in the
	// requested state's time zone.
	RequestOnLedgerOn deadline.Date `json:"requestOnLedgerOn,omitzero"`
	// ReceiptAcknowledgedOn is the receipt date the requested state
	// acknowledged (RECEIPT_ACKNOWLEDGED), if any.
	ReceiptAcknowledgedOn   deadline.Date `json:"receiptAcknowledgedOn,omitzero"`
	ReplyOn                 deadline.Date `json:"replyOn,omitzero"`
	NegativeReplyReceivedOn deadline.Date `json:"negativeReplyReceivedOn,omitzero"`
	Reexamined              bool          `json:"reexamined,omitempty"`
	AcceptedOn              deadline.Date `json:"acceptedOn,omitzero"`
	Implicit                bool          `json:"implicit,omitempty"`
	TransferDecisionOn      deadline.Date `json:"transferDecisionOn,omitzero"`
	AppealSuspensive        bool          `json:"appealSuspensive,omitempty"`
	// AppealDecidedOn is the final decision on a suspensive appeal, from
	// which the transfer period runs anew.
	AppealDecidedOn deadline.Date   `json:"appealDecidedOn,omitzero"`
	ScheduledFor    deadline.Date   `json:"scheduledFor,omitzero"`
	Extension       ExtensionReason `json:"extension,omitempty"`
	// ExtensionNotifiedOn is the day the extension was notified (1560/2003
	// Art 9(2): before the unextended deadline expires).
	ExtensionNotifiedOn deadline.Date `json:"extensionNotifiedOn,omitzero"`
	// Deadlines are the limits currently running, each with the rule it
	// comes from; they are indexed for DeadlinesDue.
	Deadlines []Deadline `json:"deadlines"`
	// Revocable is the last automatic consequence while a step dated on or
	// before its deadline may still supersede it, with the facts it replaced.
	Revocable *Revocable `json:"revocable,omitempty"`
	// Superseded lists the consequences that were superseded, oldest first.
	Superseded []Supersession `json:"superseded,omitempty"`
}

// Revocable is an automatic consequence (IMPLICITLY_ACCEPTED,
// RESPONSIBILITY_SHIFTED) that a step dated in time and recorded within the
// late-recording window still supersedes. It keeps the case as it was before
// the consequence so the superseding step applies to that, and every clock
// is recomputed from the step that stands.
type Revocable struct {
	Code     EventCode `json:"code"`
	Seq      uint64    `json:"seq"`
	TxID     string    `json:"txId"`
	Deadline Deadline  `json:"deadline"`
	// The case before the consequence.
	PriorStatus         Status       `json:"priorStatus"`
	PriorLastOccurredOn string       `json:"priorLastOccurredOn"`
	PriorDublin         *DublinFacts `json:"priorDublin"`
}

// Supersession records that a consequence (and every step that followed
// it) was superseded by a step dated in time.
type Supersession struct {
	Code       EventCode     `json:"code"`
	Seq        uint64        `json:"seq"`
	TxID       string        `json:"txId"`
	Due        deadline.Date `json:"due"`
	ByCode     EventCode     `json:"byCode"`
	BySeq      uint64        `json:"bySeq"`
	ByTxID     string        `json:"byTxId"`
	ByOccurred string        `json:"byOccurredOn"`
}

// SupersededBy returns the supersession that covers event seq: the
// consequence itself and the steps recorded after it until the superseding
// step.
func (d *DublinFacts) SupersededBy(seq uint64) (Supersession, bool) {
	if d == nil {
		return Supersession{}, false
	}
	for _, s := range d.Superseded {
		if seq >= s.Seq && seq < s.BySeq {
			return s, true
		}
	}
	return Supersession{}, false
}

// DeadlineKind names which running limit a Deadline is.
type DeadlineKind string

const (
	DeadlineReply         DeadlineKind = "REPLY"
	DeadlineReexamination DeadlineKind = "REEXAMINATION_REQUEST"
	DeadlineTransfer      DeadlineKind = "TRANSFER"
	// DeadlineRequest: the limit for sending a take charge request (Dublin
	// III 21(1), which equals the 23(2) take back limit; AMMR 39(1)),
	// shown while no request is pending.
	DeadlineRequest DeadlineKind = "REQUEST"
	// DeadlineTakeBackNotification: the AMMR limit for a take back
	// notification (41(1)), shown alongside DeadlineRequest on a Eurodac hit.
	DeadlineTakeBackNotification DeadlineKind = "TAKE_BACK_NOTIFICATION"
)

// requestLimit: the requesting state's limits for sending a request.
func (k DeadlineKind) requestLimit() bool {
	return k == DeadlineRequest || k == DeadlineTakeBackNotification
}

// Deadline is one running time limit: the deadline engine's result (regime,
// step, article, start, period, due, onLapse, verification) plus which limit
// it is and where the act is to be done.
type Deadline struct {
	Kind DeadlineKind `json:"kind"`
	deadline.Deadline
	// ActingMemberState is the state where the act is to be done: its
	// holidays and time zone decide the deadline.
	ActingMemberState string `json:"actingMemberState"`
	// HolidaysMissing lists years for which no holiday calendar of the acting
	// state was on the ledger when the deadline was computed (only weekends
	// were skipped for those years).
	HolidaysMissing []int `json:"holidaysMissing,omitempty"`
	// RequestLate: a reply deadline of a request sent after its limit whose
	// consequence bars it; OnLapse is then NONE (silence is no longer
	// acceptance) and DublinFacts.RequestLimit names the missed limit.
	RequestLate bool `json:"requestLate,omitempty"`
}

// ErasureFacts follow an erasure request.
type ErasureFacts struct {
	RequestedBy string `json:"requestedBy"`
	RequestedOn string `json:"requestedOn"`
	// Pending are the holders that have not confirmed yet; Confirmed those
	// that have, both sorted.
	Pending     []string `json:"pending"`
	Confirmed   []string `json:"confirmed"`
	CompletedOn string   `json:"completedOn,omitempty"`
}

// Open reports whether holders still have to confirm.
func (e *ErasureFacts) Open() bool { return e != nil && len(e.Pending) > 0 }

// Actor is the authenticated caller of a transaction.
type Actor struct {
	Member Member
	Role   Role
}

// Env is everything Apply needs from outside: the membership, the channel's
// procedure, the transaction's time and the configured rules. It holds no
// I/O; the chaincode fills it from the transaction.
type Env struct {
	Membership Membership
	Channel    Channel
	// TxTime is the transaction timestamp (UTC).
	TxTime time.Time
	// Today returns the transaction's date in a member state's time zone.
	Today func(memberState string) deadline.Date
	// LateWindowDays bounds how far occurredOn may lie before the
	// transaction's date.
	LateWindowDays int
	Deadlines      deadline.Config
	// Holidays reads the member states' public holidays from the ledger.
	Holidays  HolidaySource
	TxID      string
	RequestID string
}
