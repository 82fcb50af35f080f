package network

import (
	"encoding/json"

	"context"
	"embed"
	"fmt"
	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// The pinned v2.5.0 sample core.yaml and orderer.yaml; writeConfigs derives the one shared copy of
// each from them. Per-node settings go in environment variables (see nodeEnv).
//
//go:embed fabricconfig/core.yaml fabricconfig/orderer.yaml
var fabricConfig embed.FS

//go:embed builder/*
var builderScripts embed.FS

func (n *Network) configDir() string  { return filepath.Join(n.root, "config") }
func (n *Network) builderDir() string { return filepath.Join(n.root, "builder") }
func (n *Network) channelBlock(ch string) string {
	return filepath.Join(n.root, "channels", ch+".block")
}

func (n *Network) writeConfigs() error {
	if err := os.MkdirAll(n.configDir(), 0o755); err != nil {
		return err
	}
	core, err := editYAML("fabricconfig/core.yaml", map[string]any{
		// An empty endpoint stops the peer from looking for Docker (the env var set to empty is ignored).
		"vm.endpoint": "",
		"chaincode.externalBuilders": []map[string]any{{
			"name": "caseledger-ccaas", "path": n.builderDir(),
		}},
		"peer.gateway.enabled": true,
		"metrics.provider":     "prometheus",
	})
	if err != nil {
		return err
	}
	orderer, err := editYAML("fabricconfig/orderer.yaml", map[string]any{
		"General.BootstrapMethod":      "none",
		"ChannelParticipation.Enabled": true,
		"Metrics.Provider":             "prometheus",
	})
	if err != nil {
		return err
	}
	for name, b := range map[string][]byte{"core.yaml": core, "orderer.yaml": orderer} {
		if err := os.WriteFile(filepath.Join(n.configDir(), name), b, 0o644); err != nil {
			return err
		}
	}
	if err := n.writeBuilder(); err != nil {
		return err
	}
	if err := n.writeConfigtx(); err != nil {
		return err
	}
	for _, ch := range n.desc.Channels {
		if err := n.genesis(ch.Name); err != nil {
			return err
		}
	}
	return n.writeChaincodeConfig()
}

// editYAML sets dotted keys in an embedded YAML document, keeping everything else (and its
// comments) as pinned.
func editYAML(name string, set map[string]any) ([]byte, error) {
	src, err := fabricConfig.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for key, val := range set {
		var v yaml.Node
		if err := v.Encode(val); err != nil {
			return nil, err
		}
		if err := setPath(doc.Content[0], strings.Split(key, "."), &v); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, key, err)
		}
	}
	return yaml.Marshal(&doc)
}

func setPath(m *yaml.Node, path []string, v *yaml.Node) error {
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("not a mapping at %q", path[0])
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == path[0] {
			if len(path) == 1 {
				m.Content[i+1] = v
				return nil
			}
			return setPath(m.Content[i+1], path[1:], v)
		}
	}
	return fmt.Errorf("key %q not found in pinned config", path[0])
}

func (n *Network) writeBuilder() error {
	dst := filepath.Join(n.builderDir(), "bin")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, s := range []string{"detect", "build", "release"} {
		b, err := builderScripts.ReadFile("builder/" + s)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, s), b, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// writeConfigtx generates configtx.yaml with one profile per channel.
func (n *Network) writeConfigtx() error {
	policy := func(typ, rule string) map[string]string { return map[string]string{"Type": typ, "Rule": rule} }
	oo := n.desc.OrdererOrg
	var ordererAddrs []string
	var consenters []map[string]any
	for i := 0; i < oo.Orderers; i++ {
		p := n.desc.OrdererPortsOf(i)
		tlsCert := filepath.Join(n.ordererDir(i), "tls", "server.crt")
		ordererAddrs = append(ordererAddrs, n.addr(p.Listen))
		consenters = append(consenters, map[string]any{
			"Host": n.desc.HostOf(oo.Name), "Port": p.Listen, "ClientTLSCert": tlsCert, "ServerTLSCert": tlsCert,
		})
	}
	ordererOrg := map[string]any{
		"Name": oo.MSPID, "ID": oo.MSPID, "MSPDir": n.OrgMSPDir(oo.Name),
		"Policies": map[string]any{
			"Readers": policy("Signature", fmt.Sprintf("OR('%s.member')", oo.MSPID)),
			"Writers": policy("Signature", fmt.Sprintf("OR('%s.member')", oo.MSPID)),
			"Admins":  policy("Signature", fmt.Sprintf("OR('%s.admin')", oo.MSPID)),
		},
		"OrdererEndpoints": ordererAddrs,
	}
	peerOrg := func(o Org) map[string]any {
		m := o.MSPID
		return map[string]any{
			"Name": m, "ID": m, "MSPDir": n.OrgMSPDir(o.Name),
			"Policies": map[string]any{
				"Readers":     policy("Signature", fmt.Sprintf("OR('%s.admin','%s.peer','%s.client')", m, m, m)),
				"Writers":     policy("Signature", fmt.Sprintf("OR('%s.admin','%s.client')", m, m)),
				"Admins":      policy("Signature", fmt.Sprintf("OR('%s.admin')", m)),
				"Endorsement": policy("Signature", fmt.Sprintf("OR('%s.peer')", m)),
			},
			// Anchor peers go straight into the genesis block: no separate channel update.
			"AnchorPeers": []map[string]any{{"Host": n.desc.HostOf(o.Name), "Port": n.desc.PortsOf(o.Name).Peer}},
		}
	}
	meta := func(rule string) map[string]string { return policy("ImplicitMeta", rule) }
	profiles := map[string]any{}
	for _, ch := range n.desc.Channels {
		var orgs []map[string]any
		for _, m := range ch.Members {
			o, _ := n.desc.Org(m)
			orgs = append(orgs, peerOrg(o))
		}
		// Explicit signature policies over the governing orgs only: an ImplicitMeta MAJORITY would
		// count every application org, the auditor included, so on a 3-org channel one member
		// state plus the auditor could rewrite the rules.
		admins, peers := n.GovernancePolicy(ch, "admin"), n.GovernancePolicy(ch, "peer")
		profiles[ch.Name] = map[string]any{
			// /Channel/Admins = MAJORITY of {Application/Admins, Orderer/Admins} = both of them:
			// channel-wide values need the agencies and the ordering organisation.
			"Policies": map[string]any{
				"Readers": meta("ANY Readers"), "Writers": meta("ANY Writers"), "Admins": meta("MAJORITY Admins"),
			},
			"Capabilities": map[string]bool{"V2_0": true},
			"Orderer": map[string]any{
				"OrdererType":  "etcdraft",
				"Addresses":    ordererAddrs,
				"BatchTimeout": n.desc.BatchTimeout.String(),
				"BatchSize": map[string]any{
					"MaxMessageCount": n.desc.MaxMessageCount, "AbsoluteMaxBytes": "10 MB", "PreferredMaxBytes": "2 MB",
				},
				"EtcdRaft": map[string]any{
					"Consenters": consenters,
					"Options": map[string]any{
						// 250 ms ticks (sample 500 ms): a frozen leader is replaced after 10-20 ticks,
						// 2.5-5 s instead of 5-10 s in which nobody's block is cut.
						//
						// 256 KB snapshots (sample 16 MB): Fabric v2.5.0 can deadlock an orderer
						// restarted while a channel's Raft log still holds the consenter additions
						// it began with (hyperledger/fabric#4199: etcdraft chain.apply sends each
						// replayed ConfChange on the unbuffered WALSyncC, chain.go:1153, while
						// node.run may already wait to send the next Ready on applyC, node.go:156;
						// the chain never ticks again and the channel loses its quorum at the next
						// fault). The first snapshot drops them from the log for good; 16 MB left
						// that window open for the channel's first ~4,000 transactions, 256 KB
						// closes it while the network is set up. A follower more than 4 blocks
						// behind at a snapshot catches up by pulling blocks from the other orderers
						// (docs/performance.md, "Grey failures").
						"TickInterval": "250ms", "ElectionTick": 10, "HeartbeatTick": 1,
						"MaxInflightBlocks": 5, "SnapshotIntervalSize": "256 KB",
					},
				},
				"Organizations": []map[string]any{ordererOrg},
				"Policies": map[string]any{
					"Readers": meta("ANY Readers"), "Writers": meta("ANY Writers"), "Admins": meta("MAJORITY Admins"),
					"BlockValidation": meta("ANY Writers"),
				},
				"Capabilities": map[string]bool{"V2_0": true},
			},
			"Application": map[string]any{
				"Organizations": orgs,
				"Policies": map[string]any{
					"Readers": meta("ANY Readers"), "Writers": meta("ANY Writers"),
					// Membership, policies, org definitions' place on the channel.
					"Admins": policy("Signature", admins),
					// A chaincode definition commits only with these orgs' peers endorsing, and a
					// peer endorses a commit only if its own org approved the definition.
					"LifecycleEndorsement": policy("Signature", peers),
					// Default for a definition that names no policy of its own.
					"Endorsement": policy("Signature", peers),
				},
				"Capabilities": map[string]bool{"V2_5": true},
			},
		}
	}
	b, err := yaml.Marshal(map[string]any{"Profiles": profiles})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(n.configDir(), "configtx.yaml"), b, 0o644)
}

// GovernancePolicy renders a channel's governance rule as a Fabric signature policy over the
// governing orgs' principals of the given role ("admin" or "peer"), e.g.
// OutOf(2,'AsylumOfficeMSP.admin','PartnerStateMSP.admin').
func (n *Network) GovernancePolicy(ch Channel, role string) string {
	var ids []string
	for _, org := range ch.Governance.Orgs {
		o, _ := n.desc.Org(org)
		ids = append(ids, "'"+o.MSPID+"."+role+"'")
	}
	return fmt.Sprintf("OutOf(%d,%s)", ch.Governance.OutOf, strings.Join(ids, ","))
}

func (n *Network) genesis(ch string) error {
	if err := os.MkdirAll(filepath.Dir(n.channelBlock(ch)), 0o755); err != nil {
		return err
	}
	cmd := exec.Command(n.bin("configtxgen"), "-configPath", n.configDir(), "-profile", ch,
		"-channelID", ch, "-outputBlock", n.channelBlock(ch))
	cmd.Env = baseEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("configtxgen %s: %w: %s", ch, err, lastLines(string(out), 8))
	}
	return nil
}

// peerCLI runs the peer CLI as an org's admin (or another enrolled user) against that org's peer.
func (n *Network) peerCLI(ctx context.Context, org, user string, args ...string) ([]byte, error) {
	o, _ := n.desc.Org(org)
	env := append(baseEnv(),
		"FABRIC_CFG_PATH="+n.configDir(),
		"FABRIC_LOGGING_SPEC=WARN",
		"CORE_PEER_LOCALMSPID="+o.MSPID,
		"CORE_PEER_MSPCONFIGPATH="+n.UserMSPDir(org, user),
		"CORE_PEER_ADDRESS="+n.addr(n.desc.PortsOf(org).Peer),
		"CORE_PEER_TLS_ENABLED=true",
		"CORE_PEER_TLS_ROOTCERT_FILE="+n.TLSCACert(org),
	)
	cmd := exec.CommandContext(ctx, n.bin("peer"), args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("peer %s (as %s of %s): %w: %s", strings.Join(args[:min(3, len(args))], " "), user, org, err, lastLines(string(out), 8))
	}
	return out, nil
}

// PeerCLI runs the peer CLI as the given user of org against org's own peer: an independent client
// for tests and operators.
func (n *Network) PeerCLI(ctx context.Context, org, user string, args ...string) ([]byte, error) {
	return n.peerCLI(ctx, org, user, args...)
}

// OrdererTLSCA is the orderer org's TLS CA certificate.
func (n *Network) OrdererTLSCA() string { return n.TLSCACert(n.desc.OrdererOrg.Name) }

// OrdererAddress is the client address of orderer i.
func (n *Network) OrdererAddress(i int) string { return n.addr(n.desc.OrdererPortsOf(i).Listen) }

// Membership derives the chaincode's who-is-who from the description (Description.Membership).
func (n *Network) Membership() domain.Membership { return n.desc.Membership() }

// ChaincodeConfig is the one chaincode configuration all orgs' chaincode servers load.
func (n *Network) ChaincodeConfig() api.ChaincodeConfig { return n.desc.ChaincodeConfig() }

// ChaincodeConfig is the chaincode configuration of the described network (also the in-process
// ledger's, internal/inproc).
func (d Description) ChaincodeConfig() api.ChaincodeConfig {
	return api.ChaincodeConfig{
		Membership:        d.Membership(),
		ClockTolerance:    api.DefaultClockTolerance,
		LateRecordingDays: api.DefaultLateRecordingDays,
		MaxPageSize:       api.DefaultMaxPageSize,
		Deadlines:         deadline.DefaultConfig(),
		// Withheld details only in the transient map: a detail sent as an argument would be
		// stored in the block for every member (docs/visibility.md).
		Visibility: api.VisibilityConfig{Auditor: domain.AuditorHashes, RefusePublicDetails: true},
	}
}

func (n *Network) writeChaincodeConfig() error {
	cfg := n.ChaincodeConfig()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("chaincode config generated from the description: %w", err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(n.ChaincodeConfigPath(), b, 0o644)
}
