package network

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/caseledger/caseledger/api"
)

// Private data collections (issue 15, docs/visibility.md): one per audience of the channel's
// procedure, generated from the description and the visibility policy the chaincode is given, and
// passed in the chaincode definition (approve, checkcommitreadiness and commit must all name the
// same collections).

// CollectionConfig is one entry of the peer CLI's --collections-config document.
type CollectionConfig struct {
	Name              string `json:"name"`
	Policy            string `json:"policy"`
	RequiredPeerCount int    `json:"requiredPeerCount"`
	MaxPeerCount      int    `json:"maxPeerCount"`
	BlockToLive       uint64 `json:"blockToLive"`
	MemberOnlyRead    bool   `json:"memberOnlyRead"`
	MemberOnlyWrite   bool   `json:"memberOnlyWrite"`
	EndorsementPolicy struct {
		SignaturePolicy string `json:"signaturePolicy"`
	} `json:"endorsementPolicy"`
}

// Collections lists the collections of a channel as the network defines them.
func (d Description) Collections(ch Channel) ([]CollectionConfig, error) {
	return collectionsOf(d.ChaincodeConfig(), ch.Name)
}

// collectionsOf derives a channel's collections from the chaincode configuration: the membership
// and the visibility choice the chaincode itself applies.
func collectionsOf(cfg api.ChaincodeConfig, channel string) ([]CollectionConfig, error) {
	v, err := cfg.Visibility.Policy()
	if err != nil {
		return nil, err
	}
	m := cfg.Membership
	dch, ok := m.Channel(channel)
	if !ok {
		return nil, fmt.Errorf("collections: channel %s not in the membership", channel)
	}
	var out []CollectionConfig
	for _, c := range v.Collections(m, dch) {
		cc := CollectionConfig{
			Name: c.Name,
			// Distribution: members only; who reads through the chaincode: members only.
			Policy:            "OR(" + principals(c.Members, "member") + ")",
			RequiredPeerCount: 0,
			MaxPeerCount:      len(c.Members) - 1,
			BlockToLive:       0, // kept until an erasure purges it
			MemberOnlyRead:    true,
			// Not memberOnlyWrite: the erasure confirmation that completes an erasure purges
			// every collection of the case, and its creator may be a holder outside an audience
			// (the border police confirming last). Writes of details stay the audience's: the
			// chaincode refuses details from a caller outside it (FORBIDDEN, on every endorser),
			// and the collection's endorsement policy below makes every write — a purge too —
			// need the audience's own peers.
			MemberOnlyWrite: false,
		}
		// A write must be endorsed by its audience: every writer where there are at most two, a
		// majority otherwise (the same rule as the channel's endorsement policy).
		need := len(c.Writers)
		if need > 2 {
			need = len(c.Writers)/2 + 1
		}
		cc.EndorsementPolicy.SignaturePolicy = fmt.Sprintf("OutOf(%d,%s)", need, principals(c.Writers, "peer"))
		out = append(out, cc)
	}
	return out, nil
}

func principals(mspIDs []string, role string) string {
	ps := make([]string, len(mspIDs))
	for i, id := range mspIDs {
		ps[i] = "'" + id + "." + role + "'"
	}
	return strings.Join(ps, ",")
}

// CollectionsConfigPath is the generated --collections-config file of a channel.
func (n *Network) CollectionsConfigPath(ch Channel) string {
	return filepath.Join(n.root, "collections-"+ch.Name+".json")
}

// collectionsArgs writes the channel's collections file and returns the CLI arguments naming it
// (none when the channel has no collection).
func (n *Network) collectionsArgs(ch Channel) ([]string, error) {
	cs, err := n.desc.Collections(ch)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	b, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(n.CollectionsConfigPath(ch), b, 0o644); err != nil {
		return nil, err
	}
	return []string{"--collections-config", n.CollectionsConfigPath(ch)}, nil
}

// PrivateDataMembers lists the MSP ids whose peers hold each collection of a channel (tests compare
// them with what each peer holds).
func (d Description) PrivateDataMembers(ch Channel) (map[string][]string, error) {
	cfg := d.ChaincodeConfig()
	v, err := cfg.Visibility.Policy()
	if err != nil {
		return nil, err
	}
	dch, _ := cfg.Membership.Channel(ch.Name)
	out := map[string][]string{}
	for _, c := range v.Collections(cfg.Membership, dch) {
		out[c.Name] = c.Members
	}
	return out, nil
}
