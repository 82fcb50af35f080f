package network

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

// ChannelInfo is one channel the org is a member of.
type ChannelInfo struct {
	Name      string `json:"name"`
	Procedure string `json:"procedure"`
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

// ConnectionPath is where an org's connection details are written.
func (n *Network) ConnectionPath(org string) string {
	return filepath.Join(n.root, "connection", org+".json")
}

// Connection builds the connection details of an org.
func (n *Network) Connection(org string) (Connection, error) {
	o, ok := n.desc.Org(org)
	if !ok {
		return Connection{}, fmt.Errorf("unknown org %q", org)
	}
	c := Connection{
		Org: o.Name, MSPID: o.MSPID, Kind: o.Kind, MemberState: o.MemberState,
		Peer:      Endpoint{Address: addr(n.desc.PortsOf(org).Peer), TLSCACert: n.TLSCACert(org)},
		Chaincode: n.desc.Chaincode.Name,
		Services:  map[string]TLSSet{},
		Ports:     n.desc.PortsOf(org),
	}
	for _, ch := range n.desc.ChannelsOf(org) {
		c.Channels = append(c.Channels, ChannelInfo{Name: ch.Name, Procedure: ch.Procedure})
	}
	for _, u := range o.Enrolled() {
		msp := n.UserMSPDir(org, u.Name)
		c.Identities = append(c.Identities, Identity{
			User: u.Name, Role: u.Role,
			CertFile: filepath.Join(msp, "signcerts", "cert.pem"), KeyDir: filepath.Join(msp, "keystore"),
		})
	}
	// privacy-client is the gateway's client identity towards its privacy service, kept apart from
	// the key of its public API.
	for svc, dir := range map[string]string{"privacy": "privacy", "gateway": "gateway", "privacy-client": "gateway-client"} {
		d := n.ServiceTLSDir(org, dir)
		c.Services[svc] = TLSSet{CertFile: filepath.Join(d, "server.crt"), KeyFile: filepath.Join(d, "server.key"), CAFile: n.TLSCACert(org)}
	}
	return c, nil
}

func (n *Network) writeConnectionProfiles() error {
	for _, o := range n.desc.Orgs {
		c, err := n.Connection(o.Name)
		if err != nil {
			return err
		}
		b, _ := json.MarshalIndent(c, "", "  ")
		p := n.ConnectionPath(o.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
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
