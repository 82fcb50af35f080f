package gateway

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// Need to know (docs/visibility.md): an event's coded details leave this gateway in the
// proposal's transient map, never as arguments. What each agency then reads back is what its own
// peer answers its own identity (the chaincode completes withheld events for members of the
// collection and leaves the marker for everyone else), so the gateway's views follow the policy
// without filtering of their own.

// withholdDetails splits a canonical RecordEvent payload into the public payload and the
// transient details of the event's audience (nil when it has none). The salt is memoised with
// the Idempotency-Key's record, so a retry sends byte-identical details.
func (c *call) withholdDetails(ch api.ChannelInfo, payload string) (string, []byte, error) {
	pub, details, err := domain.DefaultVisibility().SplitPayload(ch.Procedure, []byte(payload), func() (string, error) {
		return c.memo("details-salt/"+ch.Name, newSalt)
	})
	if err != nil {
		return "", nil, err
	}
	return string(pub), details, nil
}

// newSalt draws the 32 random bytes that make a private record's on-chain hash unguessable.
func newSalt() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", domain.Errorf(domain.KindInternal, "no randomness")
	}
	return hex.EncodeToString(b), nil
}
