package chaincode

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	mspproto "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// Membership governance (issue 16, docs/operations.md). Which MSP ids are which agency kind on
// which channel is the channel's state, not a file of each chaincode server: the configuration's
// membership is only the starting value (sequence 0) while the state holds none. A change is a
// canonical membership document that the channel's governing organisations approve by its
// SHA-256, each with its own admin's identity (gov:ApproveMembership), for the next sequence; once
// the approvals meet the channel's governance rule (domain.Governance, a majority of the agencies
// unless the document says more), gov:SetMembership writes it.
//
// Every transaction reads the membership key (the gate does, once; gatedStub carries the value to
// the contracts), so a transaction endorsed under the old membership and committed after the
// change fails MVCC validation, and every endorser applies the same rules without a file edited or
// a server restarted. Approvals are keyed by the sequence they are for: after a change, approvals
// recorded for it (or for a competing document) can never count again. And an approval counts
// only for the rule's ApprovalDays after its own transaction's timestamp, judged at the setting
// transaction's timestamp: consent given months ago for a document is not consent today.

// maxSequence bounds the sequence argument (ten decimal digits, as seqText keys it).
const maxSequence = 1<<31 - 1

// membershipInForce is the membership a transaction runs under.
type membershipInForce struct {
	seq  uint64
	hash string // api.MembershipHash of doc
	doc  []byte // canonical document
	m    domain.Membership
	// fromLedger: set by gov:SetMembership (setBy, txID); otherwise the configuration's.
	fromLedger  bool
	setBy, txID string
}

// membershipRecord is the value under the membership key.
type membershipRecord struct {
	Sequence uint64 `json:"sequence"`
	Hash     string `json:"hash"`
	// Document holds the canonical document as a string, so its bytes come back exactly.
	Document string `json:"document"`
	SetBy    string `json:"setBy"`
	TxID     string `json:"txId"`
}

// gatedStub is one transaction's stub with the membership the gate read from the state: a cache
// of one transaction (nothing outlives the invocation).
type gatedStub struct {
	shim.ChaincodeStubInterface
	ms *membershipInForce
}

// startingMembership is the configuration's membership as sequence 0.
func startingMembership(m domain.Membership) (*membershipInForce, error) {
	doc, err := api.MembershipDocument(m)
	if err != nil {
		return nil, err
	}
	return &membershipInForce{seq: 0, hash: api.MembershipHash(doc), doc: doc, m: m}, nil
}

// loadMembership reads the membership in force from the state.
func (c *core) loadMembership(stub shim.ChaincodeStubInterface) (*membershipInForce, error) {
	b, err := stub.GetState(membershipKey())
	if err != nil {
		return nil, domain.Errorf(domain.KindInternal, "ledger read failed")
	}
	if b == nil {
		return c.start, nil
	}
	// Written by SetMembership after strict validation, so decoded leniently here (as every stored
	// value): this runs in every transaction.
	var rec membershipRecord
	var m domain.Membership
	if json.Unmarshal(b, &rec) != nil || json.Unmarshal([]byte(rec.Document), &m) != nil || api.MembershipHash([]byte(rec.Document)) != rec.Hash {
		return nil, domain.Errorf(domain.KindInternal, "stored membership is corrupt")
	}
	return &membershipInForce{seq: rec.Sequence, hash: rec.Hash, doc: []byte(rec.Document), m: m,
		fromLedger: true, setBy: rec.SetBy, txID: rec.TxID}, nil
}

// membershipOf is the membership of the transaction: the one the gate read, or (a stub that did
// not pass the gate) read now.
func (c *core) membershipOf(stub shim.ChaincodeStubInterface) (*membershipInForce, error) {
	if g, ok := stub.(*gatedStub); ok && g.ms != nil {
		return g.ms, nil
	}
	return c.loadMembership(stub)
}

// parseSequence reads a membership sequence argument: canonical decimal, at least 1.
func parseSequence(s string) (uint64, error) {
	n, err := domain.ParseDecimal("sequence", s, maxSequence)
	if err != nil || n < 1 {
		return 0, domain.Errorf(domain.KindInvalidArgument, "sequence: must be a decimal number 1..%d", maxSequence)
	}
	return uint64(n), nil
}

// GovContract governs the channel's membership.
type GovContract struct {
	contractapi.Contract
	c *core
}

// GetEvaluateTransactions marks the queries.
func (gc *GovContract) GetEvaluateTransactions() []string { return []string{"GetMembership"} }

// governor authenticates a governance write: an admin (role attribute "admin") of an organisation
// that governs the channel under the membership in force.
func (c *core) governor(ctx contractapi.TransactionContextInterface) (*tx, domain.Actor, domain.Governance, error) {
	t, err := c.begin(ctx)
	if err != nil {
		return nil, domain.Actor{}, domain.Governance{}, err
	}
	if err := t.checkClock(); err != nil {
		return nil, domain.Actor{}, domain.Governance{}, err
	}
	a, err := t.actor()
	if err != nil {
		return nil, domain.Actor{}, domain.Governance{}, err
	}
	if a.Role != domain.RoleAdmin {
		return nil, domain.Actor{}, domain.Governance{}, domain.Errorf(domain.KindForbidden, "membership governance is for admins of the governing organisations")
	}
	g := t.membership.GovernanceOf(t.channel)
	if !slices.Contains(g.Orgs, a.Member.MSPID) {
		return nil, domain.Actor{}, domain.Governance{}, domain.Errorf(domain.KindForbidden, "%s does not govern channel %s", a.Member.MSPID, t.channel.Name)
	}
	return t, a, g, nil
}

// ApproveMembership records the caller's organisation's approval of the membership document with
// the given hash as the channel's membership at sequence (the one after the membership in force).
// One approval per organisation and sequence: approving another document for the same sequence
// replaces the organisation's earlier approval (as Fabric's lifecycle does); approving the same
// one again renews it (its timestamp becomes this transaction's), since an approval counts only
// for the governance rule's ApprovalDays.
func (gc *GovContract) ApproveMembership(ctx contractapi.TransactionContextInterface, sequence, membershipHash string) (string, error) {
	t, a, g, err := gc.c.governor(ctx)
	if err != nil {
		return "", wire(err)
	}
	seq, err := parseSequence(sequence)
	if err != nil {
		return "", wire(err)
	}
	cur := t.inForce
	if seq != cur.seq+1 {
		return "", wire(domain.Errorf(domain.KindConflict, "the membership in force is at sequence %d: a change is approved for sequence %d", cur.seq, cur.seq+1))
	}
	if membershipHash == cur.hash {
		return "", wire(domain.Errorf(domain.KindAlreadyExists, "that document is the membership in force"))
	}
	key := approvalKey(seq, a.Member.MSPID)
	var prev api.MembershipApproval
	found, err := t.getJSON(key, &prev)
	if err != nil {
		return "", wire(err)
	}
	action := "approved"
	if found && prev.Hash == membershipHash {
		action = "renewed"
	}
	rec := api.MembershipApproval{MSPID: a.Member.MSPID, Sequence: seq, Hash: membershipHash,
		TxID: t.ctx.GetStub().GetTxID(), ApprovedAt: t.txTime.UTC().Format(time.RFC3339)}
	if err := t.putJSON(key, rec); err != nil {
		return "", wire(err)
	}
	if err := t.emit(api.EventMembership, api.MembershipEvent{Action: action, MSPID: a.Member.MSPID, Sequence: seq, Hash: membershipHash}); err != nil {
		return "", wire(err)
	}
	if _, err := judge(&rec, g, t.txTime); err != nil {
		return "", wire(err)
	}
	return marshalResult(rec)
}

// SetMembership makes document (canonical, validated by the gate) the channel's membership at the
// next sequence, once the governing organisations' approvals of its hash for that sequence meet
// the governance rule in force.
func (gc *GovContract) SetMembership(ctx contractapi.TransactionContextInterface, document string) (string, error) {
	t, a, g, err := gc.c.governor(ctx)
	if err != nil {
		return "", wire(err)
	}
	next, err := domain.ParseMembershipDocument([]byte(document))
	if err != nil {
		return "", wire(err)
	}
	cur := t.inForce
	hash := api.MembershipHash([]byte(document))
	if hash == cur.hash {
		return "", wire(domain.Errorf(domain.KindAlreadyExists, "that document is the membership in force"))
	}
	if err := cur.m.CheckSuccessor(next, t.channel.Name); err != nil {
		return "", wire(err)
	}
	seq := cur.seq + 1
	approvals, err := t.approvals(seq, g)
	if err != nil {
		return "", wire(err)
	}
	n, expired := 0, 0
	for _, ap := range approvals {
		if ap.Hash != hash {
			continue
		}
		if ap.Expired {
			expired++
		} else {
			n++
		}
	}
	if n < g.OutOf {
		more := ""
		if expired > 0 {
			more = fmt.Sprintf(" (%d more expired: an approval counts for %d days; approve again)", expired, g.ApprovalValidity()/(24*time.Hour))
		}
		return "", wire(domain.Errorf(domain.KindForbidden, "%d of the %d approvals this change needs are recorded for this document at sequence %d%s", n, g.OutOf, seq, more))
	}
	rec := membershipRecord{Sequence: seq, Hash: hash, Document: document, SetBy: a.Member.MSPID, TxID: t.ctx.GetStub().GetTxID()}
	if err := t.putJSON(membershipKey(), rec); err != nil {
		return "", wire(err)
	}
	// The next change of the key must also be endorsed by the governing organisations' peers as
	// the new rule says (Fabric key-level endorsement), not only by the chaincode's endorsement
	// policy: endorsers that together meet that policy but not the governance rule cannot write
	// a membership even with a modified chaincode.
	nextRule := next.GovernanceOf(mustChannel(next, t.channel.Name))
	ep, err := peerPolicy(nextRule)
	if err != nil {
		return "", wire(err)
	}
	if err := t.ctx.GetStub().SetStateValidationParameter(membershipKey(), ep); err != nil {
		return "", wire(domain.Errorf(domain.KindInternal, "key-level endorsement policy not set"))
	}
	if err := t.emit(api.EventMembership, api.MembershipEvent{Action: "set", MSPID: a.Member.MSPID, Sequence: seq, Hash: hash}); err != nil {
		return "", wire(err)
	}
	return marshalResult(api.MembershipStatus{Channel: t.channel.Name, Sequence: seq, Hash: hash, FromLedger: true, SetBy: rec.SetBy, TxID: rec.TxID,
		Membership: next, Governance: nextRule, Approvals: []api.MembershipApproval{}, At: t.txTime.UTC().Format(time.RFC3339)})
}

// GetMembership returns the membership in force on the channel, its governance rule and the
// approvals recorded for the next sequence.
func (gc *GovContract) GetMembership(ctx contractapi.TransactionContextInterface) (string, error) {
	t, _, err := gc.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	cur := t.inForce
	g := t.membership.GovernanceOf(t.channel)
	approvals, err := t.approvals(cur.seq+1, g)
	if err != nil {
		return "", wire(err)
	}
	return marshalResult(api.MembershipStatus{Channel: t.channel.Name, Sequence: cur.seq, Hash: cur.hash, FromLedger: cur.fromLedger,
		SetBy: cur.setBy, TxID: cur.txID, Membership: cur.m, Governance: g, Approvals: approvals, At: t.txTime.UTC().Format(time.RFC3339)})
}

// approvals reads the governing organisations' approvals for seq (point reads: an approval by
// anybody else is never even looked at), each judged against the rule's approval period at this
// transaction's timestamp (ExpiresAt, Expired).
func (t *tx) approvals(seq uint64, g domain.Governance) ([]api.MembershipApproval, error) {
	out := []api.MembershipApproval{}
	for _, org := range g.Orgs {
		var ap api.MembershipApproval
		found, err := t.getJSON(approvalKey(seq, org), &ap)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		if _, err := judge(&ap, g, t.txTime); err != nil {
			return nil, err
		}
		out = append(out, ap)
	}
	return out, nil
}

// judge fills in an approval's expiry under rule g and whether it had expired at now (a
// transaction timestamp), and reports whether it still counts.
func judge(ap *api.MembershipApproval, g domain.Governance, now time.Time) (bool, error) {
	at, err := time.Parse(time.RFC3339, ap.ApprovedAt)
	if err != nil {
		return false, domain.Errorf(domain.KindInternal, "stored approval is corrupt")
	}
	ap.ExpiresAt = g.ApprovalExpiry(at).UTC().Format(time.RFC3339)
	ap.Expired = !g.ApprovalCounts(at, now)
	return !ap.Expired, nil
}

// peerPolicy is a governance rule as a Fabric signature policy over the governing organisations'
// peers: OutOf(outOf, 'Org1.peer', …), serialised as a key's validation parameter.
func peerPolicy(g domain.Governance) ([]byte, error) {
	env := &common.SignaturePolicyEnvelope{}
	var rules []*common.SignaturePolicy
	for i, org := range g.Orgs {
		role, err := proto.Marshal(&mspproto.MSPRole{MspIdentifier: org, Role: mspproto.MSPRole_PEER})
		if err != nil {
			return nil, domain.Errorf(domain.KindInternal, "encoding failed")
		}
		env.Identities = append(env.Identities, &mspproto.MSPPrincipal{PrincipalClassification: mspproto.MSPPrincipal_ROLE, Principal: role})
		rules = append(rules, &common.SignaturePolicy{Type: &common.SignaturePolicy_SignedBy{SignedBy: int32(i)}})
	}
	env.Rule = &common.SignaturePolicy{Type: &common.SignaturePolicy_NOutOf_{NOutOf: &common.SignaturePolicy_NOutOf{N: int32(g.OutOf), Rules: rules}}}
	b, err := proto.Marshal(env)
	if err != nil {
		return nil, domain.Errorf(domain.KindInternal, "encoding failed")
	}
	return b, nil
}

// mustChannel is a channel of a validated document that CheckSuccessor found.
func mustChannel(m domain.Membership, name string) domain.Channel {
	ch, _ := m.Channel(name)
	return ch
}

// Argument checks of the governance transactions.
func sequenceArg(s string) func() error {
	return func() error { _, err := parseSequence(s); return err }
}

func membershipHashArg(s string) func() error {
	return func() error { return domain.CheckHash64("membershipHash", s) }
}

func membershipDocArg(s string) func() error {
	return func() error { _, err := domain.ParseMembershipDocument([]byte(s)); return err }
}
