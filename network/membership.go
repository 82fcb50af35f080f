package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/fabricconn"
)

// The chaincode's membership governance steps (chaincode gov:*, docs/operations.md "A new agency
// joins a running channel"). Each runs on the organisation's own host, signed by its own admin
// (the enrolled identity with role=admin), through its own peer: nobody holds another's key, and
// every admin derives the document from its own copy of the grown description, so what it
// approves is what it read, not a file somebody sent it.

// MembershipDocument is the canonical membership document the description generates (the bytes
// gov:SetMembership takes) and its hash (what gov:ApproveMembership approves).
func (n *Network) MembershipDocument(channel string) ([]byte, string, error) {
	m := n.desc.Membership()
	if _, ok := m.Channel(channel); !ok {
		return nil, "", fmt.Errorf("membership: the description has no channel %q", channel)
	}
	if err := m.Validate(); err != nil {
		return nil, "", fmt.Errorf("membership generated from the description: %w", err)
	}
	doc, err := api.MembershipDocument(m)
	if err != nil {
		return nil, "", err
	}
	return doc, api.MembershipHash(doc), nil
}

// MembershipStep is what one governance step did.
type MembershipStep struct {
	Sequence uint64
	Hash     string
	// Already: the ledger already held it (the membership in force); nothing was written. A step
	// is safe to run again: an approval run again renews the approval (its period starts anew).
	Already bool
	Took    time.Duration
}

// adminContract connects to org's own peer as org's admin.
func (n *Network) adminContract(org, channel string) (*client.Contract, func(), error) {
	c, err := n.Connection(org)
	if err != nil {
		return nil, nil, err
	}
	gw, conn, err := fabricconn.Dial(c, "admin", fabricconn.Options{})
	if err != nil {
		return nil, nil, err
	}
	return gw.GetNetwork(channel).GetContract(c.Chaincode), func() { gw.Close(); conn.Close() }, nil
}

// MembershipStatus reads the channel's membership in force and the pending approvals (gov:GetMembership).
func (n *Network) MembershipStatus(ctx context.Context, org, channel string) (api.MembershipStatus, error) {
	contract, closeFn, err := n.adminContract(org, channel)
	if err != nil {
		return api.MembershipStatus{}, err
	}
	defer closeFn()
	return membershipStatus(ctx, contract)
}

func membershipStatus(ctx context.Context, contract *client.Contract) (api.MembershipStatus, error) {
	var st api.MembershipStatus
	b, err := contract.EvaluateWithContext(ctx, api.FnGetMembership)
	if err != nil {
		return st, fmt.Errorf("%s: %w", api.FnGetMembership, chaincodeErr(err))
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s: %w", api.FnGetMembership, err)
	}
	return st, nil
}

// ApproveMembership approves, as org's admin, the membership the description generates for the
// sequence after the one in force on the channel.
func (n *Network) ApproveMembership(ctx context.Context, org, channel string) (MembershipStep, error) {
	start := time.Now()
	_, hash, contract, closeFn, err := n.membershipAdmin(org, channel)
	if err != nil {
		return MembershipStep{}, err
	}
	defer closeFn()
	st, err := membershipStatus(ctx, contract)
	if err != nil {
		return MembershipStep{}, err
	}
	step := MembershipStep{Sequence: st.Sequence + 1, Hash: hash}
	if st.Hash == hash {
		step.Sequence, step.Already, step.Took = st.Sequence, true, time.Since(start)
		return step, nil
	}
	_, err = contract.SubmitWithContext(ctx, api.FnApproveMembership, client.WithArguments(strconv.FormatUint(step.Sequence, 10), hash))
	if err != nil {
		if kindOf(err) != domain.KindAlreadyExists {
			return step, fmt.Errorf("%s as the admin of %s: %w", api.FnApproveMembership, org, chaincodeErr(err))
		}
		step.Already = true
	}
	step.Took = time.Since(start)
	return step, nil
}

// SetMembership submits, as org's admin, the membership the description generates; the chaincode
// accepts it once the governing organisations' approvals of its hash meet the channel's rule.
func (n *Network) SetMembership(ctx context.Context, org, channel string) (MembershipStep, error) {
	start := time.Now()
	doc, hash, contract, closeFn, err := n.membershipAdmin(org, channel)
	if err != nil {
		return MembershipStep{}, err
	}
	defer closeFn()
	b, err := contract.SubmitWithContext(ctx, api.FnSetMembership, client.WithArguments(string(doc)))
	if err != nil {
		if kindOf(err) != domain.KindAlreadyExists {
			return MembershipStep{Hash: hash}, fmt.Errorf("%s as the admin of %s: %w", api.FnSetMembership, org, chaincodeErr(err))
		}
		st, serr := membershipStatus(ctx, contract)
		if serr != nil {
			return MembershipStep{Hash: hash}, serr
		}
		return MembershipStep{Sequence: st.Sequence, Hash: hash, Already: true, Took: time.Since(start)}, nil
	}
	var st api.MembershipStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return MembershipStep{Hash: hash}, fmt.Errorf("%s: %w", api.FnSetMembership, err)
	}
	return MembershipStep{Sequence: st.Sequence, Hash: hash, Took: time.Since(start)}, nil
}

// membershipAdmin is what a governance step needs: the document the description generates for
// channel, its hash, and the chaincode as org's admin (closeFn releases the connection).
func (n *Network) membershipAdmin(org, channel string) (doc []byte, hash string, contract *client.Contract, closeFn func(), err error) {
	if doc, hash, err = n.MembershipDocument(channel); err != nil {
		return nil, "", nil, nil, err
	}
	if contract, closeFn, err = n.adminContract(org, channel); err != nil {
		return nil, "", nil, nil, err
	}
	return doc, hash, contract, closeFn, nil
}

// kindOf is the chaincode's error kind in a fabric-gateway error ("" if none).
func kindOf(err error) domain.Kind {
	if ces := fabricconn.ChaincodeErrors(err); len(ces) > 0 {
		return ces[0].Err.Kind
	}
	return ""
}

// chaincodeErr keeps the chaincode's "KIND: message" when the error carries one (a gRPC status
// text alone says "failed to endorse transaction").
func chaincodeErr(err error) error {
	if ces := fabricconn.ChaincodeErrors(err); len(ces) > 0 {
		return errors.Join(ces[0].Err, err)
	}
	return err
}
