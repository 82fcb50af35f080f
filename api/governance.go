package api

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/caseledger/caseledger/domain"
)

// The chaincode's membership on a channel lives in the channel's state, behind a governance
// transaction (chaincode/governance.go): the configuration's membership is the starting value
// (sequence 0); each change gets the next sequence once OutOf of the channel's governing
// organisations' admins approved the SHA-256 of exactly its canonical document
// (domain.EncodeCanonical of the domain.Membership).

// EventMembership follows every gov:ApproveMembership and gov:SetMembership; payload MembershipEvent.
const EventMembership = "caseledger.membership"

// MembershipHash is the hash an approval names: SHA-256 of the canonical document, lowercase hex.
func MembershipHash(document []byte) string {
	sum := sha256.Sum256(document)
	return hex.EncodeToString(sum[:])
}

// MembershipDocument is the canonical document of a membership: the bytes gov:SetMembership takes
// and whose MembershipHash gov:ApproveMembership approves.
func MembershipDocument(m domain.Membership) ([]byte, error) { return domain.EncodeCanonical(m) }

// MembershipApproval is one organisation's approval of a document for a sequence.
type MembershipApproval struct {
	MSPID    string `json:"mspId"`
	Sequence uint64 `json:"sequence"`
	Hash     string `json:"hash"`
	TxID     string `json:"txId"`
	// ApprovedAt is the approving transaction's timestamp (RFC 3339, UTC). A re-approval of the
	// same document renews it.
	ApprovedAt string `json:"approvedAt"`
	// ExpiresAt and Expired are not stored: answers fill them in from the governance rule in force
	// (domain.Governance.ApprovalDays). From ExpiresAt on the approval no longer counts; Expired
	// says whether it had expired at the answering transaction's timestamp.
	ExpiresAt string `json:"expiresAt,omitempty"`
	Expired   bool   `json:"expired,omitempty"`
}

// MembershipStatus is what gov:GetMembership returns: the membership in force on the channel, its
// governance rule and the approvals recorded so far for the next sequence.
type MembershipStatus struct {
	Channel  string `json:"channel"`
	Sequence uint64 `json:"sequence"`
	Hash     string `json:"hash"`
	// FromLedger: set by gov:SetMembership; false: the configuration's starting value.
	FromLedger bool              `json:"fromLedger"`
	SetBy      string            `json:"setBy,omitempty"`
	TxID       string            `json:"txId,omitempty"`
	Membership domain.Membership `json:"membership"`
	// Governance is the rule a change needs now (the channel's, or the default one).
	Governance domain.Governance `json:"governance"`
	// Approvals are those recorded for Sequence+1, one per governing organisation at most, expired
	// ones included (marked) so that an operator sees who must approve again.
	Approvals []MembershipApproval `json:"approvals"`
	// At is the timestamp of the transaction that answered (RFC 3339, UTC): the instant Expired is
	// judged at, and from which an approval's age is counted.
	At string `json:"at,omitempty"`
}

// MembershipEvent is the payload of EventMembership.
type MembershipEvent struct {
	// Action: "approved", "renewed" (the same organisation approved the same document again) or "set".
	Action   string `json:"action"`
	MSPID    string `json:"mspId"`
	Sequence uint64 `json:"sequence"`
	Hash     string `json:"hash"`
}
