// The files the network generates for an agency's own services: how to call
// its gateway (APIInfo) and how to reach its peer (Connection).

package api

import (
	"encoding/json"
	"fmt"
	"os"
)

// Connection is what an agency's own services need to reach its part of the network: its peer,
// its enrolled identities (one per role), its channels and its TLS material. It is generated per org
// as <root>/connection/<org>.json.
type Connection struct {
	Org         string            `json:"org"`
	MSPID       string            `json:"mspId"`
	Kind        string            `json:"kind"`
	MemberState string            `json:"memberState,omitempty"`
	Peer        Endpoint          `json:"peer"`
	Chaincode   string            `json:"chaincode"`
	Channels    []ChannelInfo     `json:"channels"`
	Identities  []Identity        `json:"identities"`
	Services    map[string]TLSSet `json:"services"` // "privacy", "gateway", "privacy-client": TLS identities
	Ports       OrgPorts          `json:"ports"`
}

// Endpoint is a TLS gRPC endpoint.
type Endpoint struct {
	Address   string `json:"address"`
	TLSCACert string `json:"tlsCACert"`
}

// Identity is an enrolled Fabric identity (certificate with a role attribute, and its key folder).
type Identity struct {
	User     string `json:"user"`
	Role     string `json:"role"`
	CertFile string `json:"certFile"`
	KeyDir   string `json:"keyDir"`
}

// TLSSet is a TLS certificate, key and trust root.
type TLSSet struct {
	CertFile string `json:"certFile"`
	KeyFile  string `json:"keyFile"`
	CAFile   string `json:"caFile"`
}

// LoadConnection reads an org's generated connection details.
func LoadConnection(path string) (Connection, error) {
	var c Connection
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read connection: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decode connection %s: %w", path, err)
	}
	return c, nil
}

// IdentityFor returns the org's identity with the given role.
func (c Connection) IdentityFor(role string) (Identity, bool) {
	for _, id := range c.Identities {
		if id.Role == role {
			return id, true
		}
	}
	return Identity{}, false
}

// APIInfo is how to call an org's gateway.
type APIInfo struct {
	Org   string `json:"org"`
	MSPID string `json:"mspId"`
	// URL is the gateway's base URL (HTTPS); CAFile the CA of its certificate.
	URL    string `json:"url"`
	CAFile string `json:"caFile"`
	// Tokens holds one API token per role the org has an identity for.
	Tokens map[string]string `json:"tokens"`
}

// LoadAPIInfo reads an org's API details.
func LoadAPIInfo(path string) (APIInfo, error) {
	var a APIInfo
	b, err := os.ReadFile(path)
	if err != nil {
		return a, fmt.Errorf("read API info: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("decode API info %s: %w", path, err)
	}
	return a, nil
}

// OrgPorts are the ports of one organisation's services (derived from the
// network description's BasePort and the org's position).
type OrgPorts struct {
	CA, CAOps, TLSCA, TLSCAOps   int
	Peer, PeerChaincode, PeerOps int
	ChaincodeServer              int
	Privacy, Gateway             int
	PrivacyOps, GatewayOps       int // plain HTTP on loopback: health, metrics, pprof when asked
	// DiskWatchOps is the org's disk watcher (free space of its Fabric nodes' folders); plain
	// HTTP on loopback. The orderer org's is the last port of its block (orderers use +4..+18).
	DiskWatchOps int
}
