// Ledger results and event payloads: what the chaincode returns and emits.

package api

import (
	"encoding/json"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// Vocabulary is what GetVocabulary returns.
type Vocabulary struct {
	Version     int                 `json:"version"`
	Procedure   domain.Procedure    `json:"procedure"`
	Events      []EventSpec         `json:"events"`
	Transitions []domain.Transition `json:"transitions"`
	Statuses    []domain.Status     `json:"statuses"`
	Values      map[string][]string `json:"values"`
}

// EventSpec is the JSON form of domain.EventSpec.
type EventSpec struct {
	Code     domain.EventCode `json:"code"`
	Required []domain.Field   `json:"required"`
	Optional []domain.Field   `json:"optional"`
	// System events are recorded by dublin:ResolveDeadlines only.
	System bool `json:"system"`
}

// Verification is what VerifyAnchor returns.
type Verification struct {
	Anchored bool    `json:"anchored"`
	Anchor   *Anchor `json:"anchor,omitempty"`
}

// Page is one page of a paginated query. Bookmark is "" on the last page;
// otherwise pass it back unchanged to get the next page.
type Page[T any] struct {
	Items    []T    `json:"items"`
	Bookmark string `json:"bookmark"`
}

// HistoryEntry is one modification of a case's state.
type HistoryEntry struct {
	TxID      string            `json:"txId"`
	Timestamp string            `json:"timestamp"`
	IsDelete  bool              `json:"isDelete"`
	State     *domain.CaseState `json:"state,omitempty"`
}

// RequestResult is what GetRequestResult returns.
type RequestResult struct {
	RequestID string          `json:"requestId"`
	Function  string          `json:"function"`
	TxID      string          `json:"txId"`
	Result    json.RawMessage `json:"result"`
}

// DueItem is one entry of the deadline board.
type DueItem struct {
	Pseudonym string          `json:"pseudonym"`
	Status    domain.Status   `json:"status"`
	Deadline  domain.Deadline `json:"deadline"`
	// Superseded lists the case's automatic consequences that steps dated
	// in time superseded (the deadline shown was recomputed from them).
	Superseded []domain.Supersession `json:"superseded,omitempty"`
	// Regime: whose criteria apply and whose time limits.
	Regime domain.RegimeFacts `json:"regime"`
	// LateRequest is the request limit the pending request missed.
	LateRequest *deadline.Deadline `json:"lateRequest,omitempty"`
}

// HolidayCalendar is what GetHolidays returns and SetHolidays records.
type HolidayCalendar struct {
	MemberState string            `json:"memberState"`
	Year        int               `json:"year"`
	Holidays    deadline.Holidays `json:"holidays"`
	SetBy       string            `json:"setBy,omitempty"`
	TxID        string            `json:"txId,omitempty"`
}

// ErasureStatus is what the erasure queries return.
type ErasureStatus struct {
	Pseudonym   string        `json:"pseudonym"`
	Status      domain.Status `json:"status"`
	Requested   bool          `json:"requested"`
	RequestedBy string        `json:"requestedBy,omitempty"`
	RequestedOn string        `json:"requestedOn,omitempty"`
	Pending     []string      `json:"pending"`
	Confirmed   []string      `json:"confirmed"`
	Complete    bool          `json:"complete"`
	CompletedOn string        `json:"completedOn,omitempty"`
}

// Chaincode event names. Every write emits exactly one event.
const (
	// EventCase follows every case write; payload CaseEvent.
	EventCase = "caseledger.case"
	// EventHolidays follows SetHolidays; payload HolidaysEvent.
	EventHolidays = "caseledger.holidays"
)

// CaseEvent is the payload of EventCase: just enough for a subscriber to
// fetch what it may see (pseudonym, code, sequence number, procedure).
type CaseEvent struct {
	Pseudonym string           `json:"pseudonym"`
	Code      domain.EventCode `json:"code"`
	Seq       uint64           `json:"seq"`
	Procedure domain.Procedure `json:"procedure"`
	// Supersedes, on a step dated in time and recorded late, names the
	// automatic consequence (and the steps after it) it superseded, so a
	// subscriber knows to refresh what it showed of them.
	Supersedes *domain.Supersession `json:"supersedes,omitempty"`
}

// HolidaysEvent is the payload of EventHolidays.
type HolidaysEvent struct {
	MemberState string `json:"memberState"`
	Year        int    `json:"year"`
}

// WriteResult is returned by every case write (and, unchanged, by its
// idempotent retries).
type WriteResult struct {
	Pseudonym  string           `json:"pseudonym"`
	Seq        uint64           `json:"seq"`
	Code       domain.EventCode `json:"code"`
	Status     domain.Status    `json:"status"`
	TxID       string           `json:"txId"`
	RecordedOn string           `json:"recordedOn"`
	OccurredOn string           `json:"occurredOn"`
}

// Anchor is stored under anchor keys.
type Anchor struct {
	Pseudonym    string              `json:"pseudonym"`
	DocumentHash string              `json:"documentHash"`
	DocumentType domain.DocumentType `json:"documentType,omitempty"`
	Seq          uint64              `json:"seq"`
	MSPID        string              `json:"mspId"`
	OccurredOn   string              `json:"occurredOn"`
	RecordedOn   string              `json:"recordedOn"`
	TxID         string              `json:"txId"`
}

// ChaincodeInfo is what GetChaincodeInfo returns.
type ChaincodeInfo struct {
	ChaincodeVersion  string            `json:"chaincodeVersion"`
	VocabularyVersion int               `json:"vocabularyVersion"`
	Channel           string            `json:"channel"`
	Procedure         domain.Procedure  `json:"procedure"`
	Config            ChaincodeConfig   `json:"config"`
	Caller            domain.Member     `json:"caller"`
	CallerRole        domain.Role       `json:"callerRole"`
	Rules             [][]deadline.Rule `json:"rules,omitempty"`
}
