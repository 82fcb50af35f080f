package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Options configure a Network.
type Options struct {
	// Root is the folder that holds everything the network generates and runs on (identities,
	// configuration, ledgers, logs, pid files).
	Root string
	// FabricBin is the folder with the Fabric binaries (scripts/fabric-bins.sh prints it).
	FabricBin string
	// ModuleDir is the caseledger module root, from which the chaincode server is built.
	ModuleDir string
	// TieToParent makes every node die with this process (tests); the CLI leaves them running.
	TieToParent bool
	// Profiling starts the privacy services and gateways with Go's
	// /debug/pprof/ on their operations ports (load and profiling runs).
	Profiling bool
	// Orgs, when set, are the organisations this host runs (its part of a multi-host network, from
	// a bundle: WriteBundles): only their nodes are started, only their steps taken. Empty: every
	// organisation, the whole network on this machine.
	Orgs   []string
	Logger *slog.Logger
}

// Network is one generated network on this machine.
type Network struct {
	desc      Description
	root      string
	fabricBin string
	moduleDir string
	sup       *Supervisor
	profiling bool
	local     map[string]bool // nil: every org runs here
	log       *slog.Logger
}

// New prepares a network from a description. Nothing is started.
func New(desc Description, opts Options) (*Network, error) {
	if err := desc.Validate(); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	var local map[string]bool
	for _, org := range opts.Orgs {
		if _, ok := desc.Org(org); !ok && org != desc.OrdererOrg.Name {
			return nil, fmt.Errorf("%w: this host's org %q is not in the description", ErrInvalidDescription, org)
		}
		if local == nil {
			local = map[string]bool{}
		}
		local[org] = true
	}
	return &Network{
		desc: desc, root: root, fabricBin: opts.FabricBin, moduleDir: opts.ModuleDir,
		sup: NewSupervisor(root, opts.TieToParent), profiling: opts.Profiling, local: local, log: opts.Logger,
	}, nil
}

// Local reports whether org (a peer org or the orderer org) runs on this host.
func (n *Network) Local(org string) bool { return n.local == nil || n.local[org] }

// localOrgs are the peer organisations this host runs, in description order.
func (n *Network) localOrgs() []Org {
	var out []Org
	for _, o := range n.desc.Orgs {
		if n.Local(o.Name) {
			out = append(out, o)
		}
	}
	return out
}

// addr is host:port of a port of the description, at the host of the org whose block holds it:
// every listen and advertised address comes from the description, never from an assumption that
// the other side runs on this machine.
func (n *Network) addr(port int) string { return n.desc.HostPort(port) }

// Description returns the description the network was built from.
func (n *Network) Description() Description { return n.desc }

// Root is the network's folder.
func (n *Network) Root() string { return n.root }

// Supervisor gives access to the node processes (fault tests kill and restart them).
func (n *Network) Supervisor() *Supervisor { return n.sup }

func (n *Network) bin(name string) string { return filepath.Join(n.fabricBin, name) }
func (n *Network) orgDir(org string) string {
	return filepath.Join(n.root, "orgs", org)
}
func (n *Network) marker(step string) string { return filepath.Join(n.root, "state", step) }
func (n *Network) done(step string) bool {
	_, err := os.Stat(n.marker(step))
	return err == nil
}
func (n *Network) markDone(step string) error {
	if err := os.MkdirAll(filepath.Dir(n.marker(step)), 0o755); err != nil {
		return err
	}
	return os.WriteFile(n.marker(step), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// Up brings the whole network up. On an empty root it generates identities and configuration,
// creates the channels and deploys the chaincode; on a root that holds a network already it only
// starts the nodes again, keeping ledger data. Any node that fails makes Up fail with its name and
// the end of its log. Up never stops a node on failure: on a running network one frozen node must
// not take the healthy ones down with it (netctl down stops everything on purpose).
func (n *Network) Up(ctx context.Context) error {
	start := time.Now()
	if n.local != nil && !n.done("generated") {
		// A host's part of a multi-host network runs from its bundle; wiping it would destroy
		// its only copy of its keys.
		return fmt.Errorf("%s is not a generated bundle (netctl bundle writes one per organisation)", n.root)
	}
	if !n.done("generated") {
		// A half-generated root (an earlier up died) cannot be resumed safely: CA registrations
		// are not repeatable. Start it afresh.
		if err := n.wipe(); err != nil {
			return err
		}
	}
	if err := n.writeDescription(); err != nil {
		return err
	}
	if err := n.checkPorts(); err != nil {
		return err
	}
	if err := n.startCAs(ctx); err != nil {
		return err
	}
	if !n.done("generated") {
		if err := n.generateIdentities(ctx); err != nil {
			return err
		}
		if err := n.writeConfigs(); err != nil {
			return err
		}
		if err := n.markDone("generated"); err != nil {
			return err
		}
		n.log.Info("identities and configuration generated", "elapsed", time.Since(start).Round(time.Millisecond))
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		// Peers are started even when an orderer does not answer (and the other way round): `up`
		// on a live network with one frozen orderer still brings back a stopped peer, then names
		// the orderer. The disk watchers start alongside (their failure is reported too).
		{"orderers, peers and disk watchers started", func(ctx context.Context) error {
			return parallel([]func(context.Context) error{n.startOrderers, n.startPeers, n.startDiskWatchers},
				func(start func(context.Context) error) error { return start(ctx) })
		}},
		{"channels joined", n.createChannels},
		{"chaincode deployed", n.deployChaincode},
		{"gossip converged", n.waitGossip},
	}
	for _, st := range steps {
		t := time.Now()
		if err := st.run(ctx); err != nil {
			return err
		}
		n.log.Info(st.name, "elapsed", time.Since(t).Round(time.Millisecond))
	}
	if err := n.writeConnectionProfiles(); err != nil {
		return err
	}
	n.log.Info("network up", "name", n.desc.Name, "root", n.root, "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// Down stops every node of the network by PID. Ledger data stays unless purge is set.
func (n *Network) Down(purge bool) error {
	err := n.sup.StopAll(10 * time.Second)
	if purge && err == nil {
		return n.wipe()
	}
	return err
}

func (n *Network) wipe() error {
	if err := n.sup.StopAll(5 * time.Second); err != nil {
		return err
	}
	// Keep nothing: ledgers, identities and secrets all belong to this one network.
	return os.RemoveAll(n.root)
}

func (n *Network) writeDescription() error {
	// Nothing of a network is another local user's business: identities, keys, ledgers, logs.
	if err := os.MkdirAll(n.root, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(n.root, 0o700); err != nil {
		return err
	}
	b, err := yaml.Marshal(n.desc)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(n.root, "network.yaml"), b, 0o644)
}

// parallel runs f for every item concurrently and joins the errors.
func parallel[T any](items []T, f func(T) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(items))
	for i, it := range items {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f(it) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// allCAs lists every CA server of the network: the orderer org's pair first.
func (n *Network) allCAs() []caServer {
	var out []caServer
	if n.Local(n.desc.OrdererOrg.Name) {
		ca, tlsca := n.caServersOf(n.desc.OrdererOrg.Name)
		out = append(out, ca, tlsca)
	}
	for _, o := range n.localOrgs() {
		ca, tlsca := n.caServersOf(o.Name)
		out = append(out, ca, tlsca)
	}
	return out
}

func (n *Network) caServersOf(org string) (caServer, caServer) {
	if org == n.desc.OrdererOrg.Name {
		return n.caServers(org, n.desc.OrdererOrgPorts())
	}
	return n.caServers(org, n.desc.PortsOf(org))
}

func (n *Network) startCAs(ctx context.Context) error {
	return parallel(n.allCAs(), func(c caServer) error { return n.startCA(ctx, c) })
}

// Paths of generated material (exported for clients and tests).

// OrgMSPDir is the org's MSP definition (CA and TLS CA certificates, NodeOUs).
func (n *Network) OrgMSPDir(org string) string { return filepath.Join(n.orgDir(org), "msp") }

// UserMSPDir is an enrolled user's MSP folder (signcerts/cert.pem, keystore/*_sk).
func (n *Network) UserMSPDir(org, user string) string {
	return filepath.Join(n.orgDir(org), "users", user, "msp")
}

// TLSCACert is the org's TLS CA certificate (trust root for its peer, chaincode server, services).
func (n *Network) TLSCACert(org string) string {
	return filepath.Join(n.orgDir(org), "tlsca", "ca-cert.pem")
}

// ServiceTLSDir holds server.crt/server.key/ca.crt for one of an org's TLS identities
// ("peer0", "ccserver", "privacy", "gateway").
func (n *Network) ServiceTLSDir(org, service string) string {
	return filepath.Join(n.orgDir(org), service, "tls")
}

func (n *Network) ordererDir(i int) string {
	return filepath.Join(n.orgDir(n.desc.OrdererOrg.Name), n.desc.OrdererName(i))
}

// generateIdentities registers and enrolls every identity of every org (orgs in parallel).
func (n *Network) generateIdentities(ctx context.Context) error {
	oo := n.desc.OrdererOrg
	err := n.generateOrg(ctx, oo.Name, func(yield func(string, caIdentity, bool) error) error {
		for i := 0; i < oo.Orderers; i++ {
			name := n.desc.OrdererName(i)
			if err := yield(filepath.Join(name, "msp"), caIdentity{name: name, idType: "orderer"}, false); err != nil {
				return err
			}
			if err := yield(filepath.Join(name, "tls"), caIdentity{name: name, idType: "orderer", tls: true}, true); err != nil {
				return err
			}
		}
		// The orderer admin also needs a TLS client certificate for the osnadmin (mTLS) endpoint.
		return yield(filepath.Join("users", "admin", "tls"), caIdentity{name: "admin", idType: "admin", tls: true}, true)
	})
	if err != nil {
		return err
	}
	return parallel(n.desc.Orgs, func(o Org) error { return n.generatePeerOrg(ctx, o) })
}

// generatePeerOrg registers and enrolls every identity of one agency at its own CAs.
func (n *Network) generatePeerOrg(ctx context.Context, o Org) error {
	return n.generateOrg(ctx, o.Name, func(yield func(string, caIdentity, bool) error) error {
		if err := yield(filepath.Join("peer0", "msp"), caIdentity{name: "peer0", idType: "peer"}, false); err != nil {
			return err
		}
		for _, u := range o.Users {
			if err := yield(filepath.Join("users", u.Name, "msp"), caIdentity{name: u.Name, idType: "client", role: u.Role}, false); err != nil {
				return err
			}
		}
		// gateway serves the public API; gateway-client is the gateway's own key towards the
		// privacy service, which pins it (a leaked API key is not a vault key).
		for _, svc := range []string{"peer0", "ccserver", "privacy", "gateway", "gateway-client"} {
			if err := yield(filepath.Join(svc, "tls"), caIdentity{name: svc, idType: "client", tls: true}, true); err != nil {
				return err
			}
		}
		// The privacy service's admin identity (backup and restore over its API).
		return yield(filepath.Join(privacyAdminCN, "tls"), caIdentity{name: privacyAdminCN, idType: "client", tls: true}, true)
	})
}

// generateOrg enrolls the CA admins, the org admin (role admin) and whatever each() yields
// (relative folder, identity, from the TLS CA?), then writes the org MSP definition.
func (n *Network) generateOrg(ctx context.Context, org string, each func(yield func(string, caIdentity, bool) error) error) error {
	ca, tlsca := n.caServersOf(org)
	if err := n.enrollAdmin(ctx, ca); err != nil {
		return err
	}
	if err := n.enrollAdmin(ctx, tlsca); err != nil {
		return err
	}
	dir := n.orgDir(org)
	enroll := func(rel string, id caIdentity, fromTLS bool) error {
		c := ca
		if fromTLS {
			c = tlsca
		}
		target := filepath.Join(dir, rel)
		if err := n.registerEnroll(ctx, c, id, target); err != nil {
			return fmt.Errorf("org %s: %s: %w", org, rel, err)
		}
		if !fromTLS {
			return finishMSP(target, ca.caCert(), tlsca.caCert())
		}
		return nil
	}
	if err := enroll(filepath.Join("users", "admin", "msp"), caIdentity{name: "admin", idType: "admin", role: "admin"}, false); err != nil {
		return err
	}
	if err := each(enroll); err != nil {
		return err
	}
	// The org's MSP definition for the channel configuration: trust roots only.
	msp := filepath.Join(dir, "msp")
	if err := copyFile(ca.caCert(), filepath.Join(msp, "cacerts", "ca.pem"), 0o644); err != nil {
		return err
	}
	if err := copyFile(tlsca.caCert(), filepath.Join(msp, "tlscacerts", "tlsca.pem"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(msp, "config.yaml"), []byte(nodeOUConfig), 0o644)
}

// localMembers are the channel's members that run on this host.
func (n *Network) localMembers(ch Channel) []string {
	var out []string
	for _, m := range ch.Members {
		if n.Local(m) {
			out = append(out, m)
		}
	}
	return out
}
