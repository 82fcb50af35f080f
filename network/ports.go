package network

import (
	"errors"
	"fmt"
	"github.com/caseledger/caseledger/api"
	"net"
	"strings"
)

// ErrPortInUse is returned by Up when a port the description assigns is taken by another program.
var ErrPortInUse = errors.New("port in use")

type portUse struct {
	node, what string
	port       int
}

// portPlan lists every port the network's nodes listen on.
func (n *Network) portPlan() []portUse {
	var out []portUse
	ca := func(org string, p api.OrgPorts) {
		out = append(out,
			portUse{"ca." + org, "CA", p.CA}, portUse{"ca." + org, "CA operations", p.CAOps},
			portUse{"tlsca." + org, "TLS CA", p.TLSCA}, portUse{"tlsca." + org, "TLS CA operations", p.TLSCAOps})
	}
	if n.Local(n.desc.OrdererOrg.Name) {
		ca(n.desc.OrdererOrg.Name, n.desc.OrdererOrgPorts())
	}
	for i := 0; i < n.desc.OrdererOrg.Orderers && n.Local(n.desc.OrdererOrg.Name); i++ {
		p := n.desc.OrdererPortsOf(i)
		name := n.OrdererNode(i)
		out = append(out, portUse{name, "orderer", p.Listen}, portUse{name, "orderer admin", p.Admin}, portUse{name, "orderer operations", p.Ops})
	}
	for _, o := range n.localOrgs() {
		p := n.desc.PortsOf(o.Name)
		ca(o.Name, p)
		out = append(out,
			portUse{PeerNode(o.Name), "peer", p.Peer}, portUse{PeerNode(o.Name), "peer chaincode", p.PeerChaincode},
			portUse{PeerNode(o.Name), "peer operations", p.PeerOps},
			portUse{ChaincodeNode(o.Name), "chaincode server", p.ChaincodeServer},
			portUse{PrivacyNode(o.Name), "privacy service", p.Privacy}, portUse{PrivacyNode(o.Name), "privacy operations", p.PrivacyOps},
			portUse{GatewayNode(o.Name), "gateway", p.Gateway}, portUse{GatewayNode(o.Name), "gateway operations", p.GatewayOps})
	}
	for _, w := range n.diskWatchPlan() {
		out = append(out, portUse{DiskWatchNode(w.Org), "disk watcher", w.Port})
	}
	return out
}

// checkPorts fails if a port of a node that is not running (ours) is taken by something else, so
// `up` says which port and which node before starting anything.
func (n *Network) checkPorts() error {
	var busy []string
	for _, u := range n.portPlan() {
		if _, ours := n.sup.Running(u.node); ours {
			continue
		}
		l, err := net.Listen("tcp", n.addr(u.port))
		if err != nil {
			busy = append(busy, fmt.Sprintf("%d (%s of %s)", u.port, u.what, u.node))
			continue
		}
		l.Close()
	}
	if len(busy) > 0 {
		return fmt.Errorf("%w: %s; another network or program uses them: stop it or change basePort", ErrPortInUse, strings.Join(busy, ", "))
	}
	return nil
}
