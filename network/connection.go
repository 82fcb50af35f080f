package network

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// ConnectionPath is where an org's connection details are written.
func (n *Network) ConnectionPath(org string) string {
	return filepath.Join(n.root, "connection", org+".json")
}

// Connection builds the connection details of an org.
func (n *Network) Connection(org string) (api.Connection, error) {
	o, ok := n.desc.Org(org)
	if !ok {
		return api.Connection{}, fmt.Errorf("unknown org %q", org)
	}
	c := api.Connection{
		Org: o.Name, MSPID: o.MSPID, Kind: o.Kind, MemberState: o.MemberState,
		Peer:      api.Endpoint{Address: n.addr(n.desc.PortsOf(org).Peer), TLSCACert: n.TLSCACert(org)},
		Chaincode: n.desc.Chaincode.Name,
		Services:  map[string]api.TLSSet{},
		Ports:     n.desc.PortsOf(org),
	}
	for _, ch := range n.desc.ChannelsOf(org) {
		c.Channels = append(c.Channels, api.ChannelInfo{Name: ch.Name, Procedure: domain.Procedure(ch.Procedure)})
	}
	for _, u := range o.Enrolled() {
		msp := n.UserMSPDir(org, u.Name)
		c.Identities = append(c.Identities, api.Identity{
			User: u.Name, Role: u.Role,
			CertFile: filepath.Join(msp, "signcerts", "cert.pem"), KeyDir: filepath.Join(msp, "keystore"),
		})
	}
	// privacy-client is the gateway's client identity towards its privacy service, kept apart from
	// the key of its public API.
	for svc, dir := range map[string]string{"privacy": "privacy", "gateway": "gateway", "privacy-client": "gateway-client"} {
		d := n.ServiceTLSDir(org, dir)
		c.Services[svc] = api.TLSSet{CertFile: filepath.Join(d, "server.crt"), KeyFile: filepath.Join(d, "server.key"), CAFile: n.TLSCACert(org)}
	}
	return c, nil
}

func (n *Network) writeConnectionProfiles() error {
	for _, o := range n.localOrgs() {
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
