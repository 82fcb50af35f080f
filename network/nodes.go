package network

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// OrdererNode is the supervisor name of orderer i.
func (n *Network) OrdererNode(i int) string { return n.desc.OrdererName(i) }

// PeerNode is the supervisor name of an org's peer.
func PeerNode(org string) string { return "peer0." + org }

// ChaincodeNode is the supervisor name of an org's chaincode server.
func ChaincodeNode(org string) string { return "ccserver." + org }

func (n *Network) ordererEnv(i int) []string {
	p := n.desc.OrdererPortsOf(i)
	dir := n.ordererDir(i)
	tls := filepath.Join(dir, "tls")
	data := n.ordererData(i)
	tlsCA := n.OrdererTLSCA()
	return []string{
		"FABRIC_CFG_PATH=" + n.configDir(),
		"FABRIC_LOGGING_SPEC=INFO",
		"ORDERER_GENERAL_LISTENADDRESS=" + n.desc.HostOf(n.desc.OrdererOrg.Name),
		"ORDERER_GENERAL_LISTENPORT=" + strconv.Itoa(p.Listen),
		"ORDERER_GENERAL_LOCALMSPID=" + n.desc.OrdererOrg.MSPID,
		"ORDERER_GENERAL_LOCALMSPDIR=" + filepath.Join(dir, "msp"),
		"ORDERER_GENERAL_TLS_ENABLED=true",
		"ORDERER_GENERAL_TLS_PRIVATEKEY=" + filepath.Join(tls, "server.key"),
		"ORDERER_GENERAL_TLS_CERTIFICATE=" + filepath.Join(tls, "server.crt"),
		"ORDERER_GENERAL_TLS_ROOTCAS=[" + tlsCA + "]",
		"ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE=" + filepath.Join(tls, "server.crt"),
		"ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY=" + filepath.Join(tls, "server.key"),
		"ORDERER_GENERAL_CLUSTER_ROOTCAS=[" + tlsCA + "]",
		// The same folders the disk watcher watches (diskwatch.go).
		"ORDERER_FILELEDGER_LOCATION=" + data.Ledger,
		"ORDERER_CONSENSUS_WALDIR=" + data.WAL,
		"ORDERER_CONSENSUS_SNAPDIR=" + data.Snapshot,
		"ORDERER_OPERATIONS_LISTENADDRESS=" + n.addr(p.Ops),
		"ORDERER_OPERATIONS_TLS_ENABLED=true",
		"ORDERER_OPERATIONS_TLS_CERTIFICATE=" + filepath.Join(tls, "server.crt"),
		"ORDERER_OPERATIONS_TLS_PRIVATEKEY=" + filepath.Join(tls, "server.key"),
		// /metrics needs a client certificate from the org's TLS CA (healthz stays open).
		"ORDERER_OPERATIONS_TLS_CLIENTROOTCAS=[" + tlsCA + "]",
		"ORDERER_ADMIN_LISTENADDRESS=" + n.addr(p.Admin),
		"ORDERER_ADMIN_TLS_ENABLED=true",
		"ORDERER_ADMIN_TLS_PRIVATEKEY=" + filepath.Join(tls, "server.key"),
		"ORDERER_ADMIN_TLS_CERTIFICATE=" + filepath.Join(tls, "server.crt"),
		"ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED=true",
		"ORDERER_ADMIN_TLS_CLIENTROOTCAS=[" + tlsCA + "]",
	}
}

func (n *Network) peerEnv(o Org) []string {
	p := n.desc.PortsOf(o.Name)
	dir := filepath.Join(n.orgDir(o.Name), "peer0")
	tls := filepath.Join(dir, "tls")
	return []string{
		"FABRIC_CFG_PATH=" + n.configDir(),
		"FABRIC_LOGGING_SPEC=INFO",
		"CORE_PEER_ID=" + PeerNode(o.Name),
		"CORE_PEER_LOCALMSPID=" + o.MSPID,
		"CORE_PEER_MSPCONFIGPATH=" + filepath.Join(dir, "msp"),
		"CORE_PEER_TLS_ENABLED=true",
		"CORE_PEER_TLS_CERT_FILE=" + filepath.Join(tls, "server.crt"),
		"CORE_PEER_TLS_KEY_FILE=" + filepath.Join(tls, "server.key"),
		"CORE_PEER_TLS_ROOTCERT_FILE=" + filepath.Join(tls, "ca.crt"),
		"CORE_PEER_ADDRESS=" + n.addr(p.Peer),
		"CORE_PEER_LISTENADDRESS=" + n.addr(p.Peer),
		"CORE_PEER_CHAINCODEADDRESS=" + n.addr(p.PeerChaincode),
		"CORE_PEER_CHAINCODELISTENADDRESS=" + n.addr(p.PeerChaincode),
		"CORE_PEER_GOSSIP_BOOTSTRAP=" + n.addr(p.Peer),
		// The gateway service finds other orgs' peers through gossip: every peer must advertise itself.
		"CORE_PEER_GOSSIP_EXTERNALENDPOINT=" + n.addr(p.Peer),
		// Gossip defaults (5 s alive, 25 s reconnect) make a fresh or restarted peer wait up to half a
		// minute before the gateway can find other orgs' endorsers; on a LAN of a few peers shorter
		// intervals cost nothing.
		"CORE_PEER_GOSSIP_ALIVETIMEINTERVAL=1s",
		// How soon the others learn this peer's ledger height: a peer cut off from its orderer
		// (frozen) pulls the blocks it misses from a peer whose height it has learnt (core.yaml,
		// peer.gossip.state), so this bounds how far behind it commits while cut off (500 ms: blocks
		// arrived in pairs every 0.5 s, the agency kept ~60 % of its rate until the keepalive).
		"CORE_PEER_GOSSIP_PUBLISHSTATEINFOINTERVAL=250ms",
		"CORE_PEER_GOSSIP_MEMBERSHIPTRACKERINTERVAL=1s",
		"CORE_PEER_GOSSIP_RECONNECTINTERVAL=2s",
		// The peer's gateway service tries the orderers in random order, each for at most this
		// long, within the client's own submit deadline (caseledger's gateway: 5 s). The default
		// 30 s let one orderer that accepts a broadcast but never answers (seen after an orderer was
		// killed twice in a row) use the whole deadline, so every submission that picked it failed
		// and was resubmitted 5 s later. An orderer acknowledges a broadcast in milliseconds (it
		// enqueues; ordering comes later), or refuses at once without a Raft leader. With one
		// orderer frozen every third submission waits this long first: 2 s cut the other agencies'
		// writes to a third during the freeze; 500 ms still cost the frozen-leader runs a quarter of
		// their submissions' time after the new leader was elected. Broadcasts took 4 ms (p50) and
		// 29 ms (p99) under the fault tests' load: 200 ms is seven times that, and a broadcast that
		// is only late and then also sent to the next orderer is the same transaction, committed
		// once (docs/performance.md, "Grey failures").
		"CORE_PEER_GATEWAY_BROADCASTTIMEOUT=200ms",
		// A transaction marked invalid (a resubmitted copy is DUPLICATE_TXID) writes nothing, so its
		// private data is not needed. With the default (pull it anyway) every block holding a
		// resubmitted copy of a private-data transaction stalled this peer's commits for the whole
		// pull threshold: the endorsers had purged their transient copy when the first one
		// committed, so the pull never succeeds. A gateway restarted after a kill resubmits its
		// journal, and the asylum office's peer then committed one block a minute (TestFaultGateway).
		"CORE_PEER_GOSSIP_PVTDATA_SKIPPULLINGINVALIDTRANSACTIONSDURINGCOMMIT=true",
		// Private data of a valid transaction is pushed to every member peer at endorsement
		// (collections.go: maxPeerCount); one that missed the push pulls it at commit. If no
		// endorser can serve it within this bound the block commits without it and the reconciler
		// fetches it later, so a frozen endorser costs the others seconds instead of a minute (default 60 s).
		"CORE_PEER_GOSSIP_PVTDATA_PULLRETRYTHRESHOLD=5s",
		"CORE_PEER_GOSSIP_PVTDATA_RECONCILESLEEPINTERVAL=10s",
		// The same folders the disk watcher watches (diskwatch.go).
		"CORE_PEER_FILESYSTEMPATH=" + n.peerDataDir(o.Name),
		"CORE_LEDGER_SNAPSHOTS_ROOTDIR=" + n.peerSnapshotsDir(o.Name),
		"CORE_OPERATIONS_LISTENADDRESS=" + n.addr(p.PeerOps),
		"CORE_OPERATIONS_TLS_ENABLED=true",
		"CORE_OPERATIONS_TLS_CERT_FILE=" + filepath.Join(tls, "server.crt"),
		"CORE_OPERATIONS_TLS_KEY_FILE=" + filepath.Join(tls, "server.key"),
		// /metrics needs a client certificate from the org's TLS CA (healthz stays open).
		"CORE_OPERATIONS_TLS_CLIENTROOTCAS_FILES=" + n.TLSCACert(o.Name),
	}
}

// StartOrderer starts (or restarts) orderer i and waits until it is healthy.
func (n *Network) StartOrderer(ctx context.Context, i int) error {
	name := n.OrdererNode(i)
	if err := os.MkdirAll(filepath.Join(n.ordererDir(i), "data"), 0o700); err != nil {
		return err
	}
	err := n.sup.Start(name, n.bin("orderer"), nil, n.ordererEnv(i), n.ordererDir(i))
	if err != nil && !errors.Is(err, ErrAlreadyRunning) {
		return err
	}
	return n.waitHealthz(ctx, name, healthWait(err))
}

// StartPeer starts (or restarts) an org's peer and waits until it is healthy.
func (n *Network) StartPeer(ctx context.Context, org string) error {
	o, ok := n.desc.Org(org)
	if !ok {
		return fmt.Errorf("unknown org %q", org)
	}
	dir := filepath.Join(n.orgDir(org), "peer0")
	// The peer's ledger folder also holds the unpacked chaincode packages (the TLS client key).
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return err
	}
	err := n.sup.Start(PeerNode(org), n.bin("peer"), []string{"node", "start"}, n.peerEnv(o), dir)
	if err != nil && !errors.Is(err, ErrAlreadyRunning) {
		return err
	}
	return n.waitHealthz(ctx, PeerNode(org), healthWait(err))
}

func (n *Network) startOrderers(ctx context.Context) error {
	if !n.Local(n.desc.OrdererOrg.Name) {
		return nil
	}
	var idx []int
	for i := 0; i < n.desc.OrdererOrg.Orderers; i++ {
		idx = append(idx, i)
	}
	return parallel(idx, func(i int) error { return n.StartOrderer(ctx, i) })
}

func (n *Network) startPeers(ctx context.Context) error {
	return parallel(n.localOrgs(), func(o Org) error { return n.StartPeer(ctx, o.Name) })
}

// healthWait is how long to wait for a node's health after Start returned err: a node that was
// already running answers in milliseconds unless it is frozen or hung, and `up` should say so soon;
// a node just started may need its ledger opened first.
func healthWait(startErr error) time.Duration {
	if errors.Is(startErr, ErrAlreadyRunning) {
		return 10 * time.Second
	}
	return 60 * time.Second
}

func (n *Network) waitHealthz(ctx context.Context, name string, within time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	return n.sup.WaitReady(wctx, name, func(ctx context.Context) error {
		_, err := n.OpsGet(ctx, name, "/healthz")
		return err
	})
}

// opsEndpoint returns the operations URL of an orderer or peer node, the TLS CA that signed its
// certificate, and the TLS folder of the client identity that may read its metrics.
func (n *Network) opsEndpoint(node string) (url, caFile, clientTLS string, err error) {
	for i := 0; i < n.desc.OrdererOrg.Orderers; i++ {
		if node == n.OrdererNode(i) {
			return "https://" + n.addr(n.desc.OrdererPortsOf(i).Ops), n.OrdererTLSCA(),
				filepath.Join(n.orgDir(n.desc.OrdererOrg.Name), "users", "admin", "tls"), nil
		}
	}
	for _, o := range n.desc.Orgs {
		if node == PeerNode(o.Name) {
			return "https://" + n.addr(n.desc.PortsOf(o.Name).PeerOps), n.TLSCACert(o.Name), n.ServiceTLSDir(o.Name, "peer0"), nil
		}
	}
	return "", "", "", fmt.Errorf("%s has no operations endpoint", node)
}

// OpsGet reads path (e.g. "/healthz", "/metrics") from an orderer's or peer's operations endpoint
// (TLS, with a client certificate of the node's org).
func (n *Network) OpsGet(ctx context.Context, node, path string) ([]byte, error) {
	base, caFile, clientTLS, err := n.opsEndpoint(node)
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(filepath.Join(clientTLS, "server.crt"), filepath.Join(clientTLS, "server.key"))
	if err != nil {
		return nil, err
	}
	cl := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		DisableKeepAlives: true,
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s%s: %s", base, path, resp.Status)
	}
	return b, nil
}

// MetricValue reads one Prometheus sample (name with its exact label set, e.g.
// `consensus_etcdraft_is_leader{channel="national"}`) from a node's operations endpoint.
func (n *Network) MetricValue(ctx context.Context, node, series string) (float64, error) {
	b, err := n.OpsGet(ctx, node, "/metrics")
	if err != nil {
		return 0, err
	}
	return metricValue(b, series)
}

func metricValue(metrics []byte, series string) (float64, error) {
	for _, l := range strings.Split(string(metrics), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no sample %s", series)
}

// RaftLeader returns the index of the orderer that leads the channel's Raft cluster.
func (n *Network) RaftLeader(ctx context.Context, ch string) (int, error) {
	for i := 0; i < n.desc.OrdererOrg.Orderers; i++ {
		v, err := n.MetricValue(ctx, n.OrdererNode(i), `consensus_etcdraft_is_leader{channel="`+ch+`"}`)
		if err == nil && v == 1 {
			return i, nil
		}
	}
	return -1, fmt.Errorf("no Raft leader for %s", ch)
}

// getOK is a readiness probe: GET url must answer 200.
func getOK(ctx context.Context, cl *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// createChannels joins every orderer to every channel (channel participation API) and every member
// peer to its channels. Each join is done once; a restart finds the markers and skips them.
func (n *Network) createChannels(ctx context.Context) error {
	for _, ch := range n.desc.Channels {
		if n.Local(n.desc.OrdererOrg.Name) && !n.done("orderers-joined."+ch.Name) {
			var idx []int
			for i := 0; i < n.desc.OrdererOrg.Orderers; i++ {
				idx = append(idx, i)
			}
			if err := parallel(idx, func(i int) error { return n.osnJoin(ctx, i, ch.Name) }); err != nil {
				return err
			}
			if err := n.markDone("orderers-joined." + ch.Name); err != nil {
				return err
			}
		}
	}
	for _, ch := range n.desc.Channels {
		if n.done("peers-joined." + ch.Name) {
			continue
		}
		err := parallel(n.localMembers(ch), func(org string) error {
			return n.joinChannel(ctx, org, ch.Name)
		})
		if err != nil {
			return err
		}
		if err := n.markDone("peers-joined." + ch.Name); err != nil {
			return err
		}
	}
	return nil
}

func (n *Network) osnJoin(ctx context.Context, i int, ch string) error {
	adminTLS := filepath.Join(n.orgDir(n.desc.OrdererOrg.Name), "users", "admin", "tls")
	cmd := exec.CommandContext(ctx, n.bin("osnadmin"), "channel", "join",
		"--channelID", ch, "--config-block", n.channelBlock(ch),
		"-o", n.addr(n.desc.OrdererPortsOf(i).Admin),
		"--ca-file", n.OrdererTLSCA(),
		"--client-cert", filepath.Join(adminTLS, "server.crt"),
		"--client-key", filepath.Join(adminTLS, "server.key"))
	cmd.Env = baseEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("osnadmin join %s on %s: %w: %s", ch, n.OrdererNode(i), err, lastLines(string(out), 5))
	}
	return nil
}

// OrdererHeight asks orderer i (through its admin endpoint) for a channel's height.
func (n *Network) OrdererHeight(ctx context.Context, i int, ch string) (uint64, error) {
	adminTLS := filepath.Join(n.orgDir(n.desc.OrdererOrg.Name), "users", "admin", "tls")
	cmd := exec.CommandContext(ctx, n.bin("osnadmin"), "channel", "list", "--channelID", ch,
		"-o", n.addr(n.desc.OrdererPortsOf(i).Admin), "--ca-file", n.OrdererTLSCA(),
		"--client-cert", filepath.Join(adminTLS, "server.crt"),
		"--client-key", filepath.Join(adminTLS, "server.key"))
	cmd.Env = baseEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("osnadmin list %s on %s: %w: %s", ch, n.OrdererNode(i), err, lastLines(string(out), 5))
	}
	return parseHeight(string(out))
}

// PeerHeight asks an org's peer (as its admin, through the peer CLI) for a channel's height.
func (n *Network) PeerHeight(ctx context.Context, org, ch string) (uint64, error) {
	out, err := n.peerCLI(ctx, org, "admin", "channel", "getinfo", "-c", ch)
	if err != nil {
		return 0, err
	}
	return parseHeight(string(out))
}

// parseHeight finds `"height":N` in peer/osnadmin output.
func parseHeight(s string) (uint64, error) {
	i := strings.Index(s, `"height":`)
	if i < 0 {
		return 0, fmt.Errorf("no height in %q", lastLines(s, 3))
	}
	// osnadmin prints `"height": 4`; the peer CLI's protojson prints `"height":"4"`.
	rest := strings.TrimLeft(s[i+len(`"height":`):], ` "`)
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	return strconv.ParseUint(rest[:end], 10, 64)
}

// Status is the state of one node.
type NodeStatus struct {
	Name    string
	PID     int
	Running bool
	RSSKiB  int64
}

// Status lists every node the network knows of (pid files), running or not, with its RSS.
func (n *Network) Status() []NodeStatus {
	var out []NodeStatus
	for _, name := range n.sup.Names() {
		pid, ok := n.sup.Running(name)
		out = append(out, NodeStatus{Name: name, PID: pid, Running: ok, RSSKiB: rssKiB(pid)})
	}
	return out
}

// rssKiB reads VmRSS of a process (0 if unknown).
func rssKiB(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}

// waitGossip waits until every member peer of every channel has discovered the other member peers
// through gossip: before that the gateway service cannot find enough endorsers and a submit fails.
func (n *Network) waitGossip(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for _, ch := range n.desc.Channels {
		for _, org := range n.localMembers(ch) {
			err := n.sup.WaitReady(wctx, PeerNode(org), func(ctx context.Context) error {
				return n.knowsOtherPeers(ctx, org, ch)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// knowsOtherPeers is nil once org's peer has discovered every other member peer of ch through gossip.
func (n *Network) knowsOtherPeers(ctx context.Context, org string, ch Channel) error {
	known, err := n.MetricValue(ctx, PeerNode(org), `gossip_membership_total_peers_known{channel="`+ch.Name+`"}`)
	if err != nil {
		return err
	}
	if want := len(ch.Members) - 1; int(known) < want {
		return fmt.Errorf("knows %d of %d other peers on %s", int(known), want, ch.Name)
	}
	return nil
}
