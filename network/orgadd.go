package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// An organisation joins a running network in steps that each happen on one party's own host, with
// files passed between them (none of which holds a private key):
//
//  1. an existing member writes the joiner's starting bundle (WriteJoinBundle): the grown
//     description, node configuration, the genesis blocks of its channels and every organisation's
//     public material;
//  2. the joiner creates its CAs and identities on its own host (InitOrg) and sends back its
//     public material (ExportPublic);
//  3. a member imports it (ImportPublic) and computes the channel configuration update from the
//     grown description (ProposeChannelUpdate): the channel's current configuration is fetched from
//     the orderers, the target is what configtxgen generates from the description, and
//     configtxlator computes the difference;
//  4. each governing organisation's admin signs the update on its own host (SignChannelUpdate)
//     until the channel's Admins policy is met; the last one submits it (SubmitChannelUpdate);
//  5. the joiner starts its part (Up with Orgs): its peer joins with the genesis block and pulls
//     every block from the orderers.

// ErrNotAGrowth is returned when a description does not keep every organisation of the running
// network where it is (port block, host, MSP id).
var ErrNotAGrowth = errors.New("not the running network grown")

// CheckGrowth checks that grown keeps every organisation of running in its place: the same orderer
// organisation, base port and peer organisations (name, MSP id, host) in the same order, so every
// running node keeps its addresses; new organisations come after them.
func CheckGrowth(running, grown Description) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrNotAGrowth, fmt.Sprintf(format, a...))
	}
	if running.BasePort != grown.BasePort || running.OrdererOrg != grown.OrdererOrg {
		return bad("the orderer organisation and the base port stay as they are")
	}
	if len(grown.Orgs) < len(running.Orgs) {
		return bad("an organisation leaves by a channel update of its own, not by dropping it from the description")
	}
	for i, o := range running.Orgs {
		g := grown.Orgs[i]
		if g.Name != o.Name || g.MSPID != o.MSPID || g.Host != o.Host {
			return bad("organisation %d is %s (%s at %s), was %s (%s at %s): new organisations go at the end", i, g.Name, g.MSPID, g.Host, o.Name, o.MSPID, o.Host)
		}
	}
	return nil
}

// WriteJoinBundle writes the starting bundle of org, which joins the network n.Description()
// describes (the grown one), from this member's bundle: nothing of it is secret.
func (n *Network) WriteJoinBundle(org, out string) error {
	if _, ok := n.desc.Org(org); !ok {
		return fmt.Errorf("%s is not in the description", org)
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists already", out)
	}
	files, err := n.bundleFiles(org)
	if err != nil {
		return err
	}
	for _, rel := range files {
		// The chaincode configuration is copied as it is: its membership is every channel's starting
		// value (the membership in force is on the ledger, chaincode gov:*), so every endorser,
		// the joiner's too, must hold the same one.
		if rel == "network.yaml" || rel == filepath.Join("state", "generated") {
			continue // the grown description's, written below; generated only once the joiner has its identities
		}
		if err := copyKeepMode(filepath.Join(n.root, rel), filepath.Join(out, rel)); err != nil {
			return err
		}
	}
	for _, ch := range n.desc.ChannelsOf(org) {
		if _, err := os.Stat(filepath.Join(out, "channels", ch.Name+".block")); err != nil {
			return fmt.Errorf("this member has no genesis block of %s to give: %w", ch.Name, err)
		}
	}
	j, err := New(n.desc, Options{Root: out, Orgs: []string{org}, Logger: n.log})
	if err != nil {
		return err
	}
	if err := j.writeDescription(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(out, "chaincode-config.json")); err != nil {
		return fmt.Errorf("this member has no chaincode configuration to give: %w", err)
	}
	return rebaseCoreYAML(filepath.Join(out, "config", "core.yaml"), j.builderDir())
}

// InitOrg creates this host's organisation's CAs and identities in a join bundle, on its own
// host; the CAs keep running.
func (n *Network) InitOrg(ctx context.Context) error {
	orgs := n.localOrgs()
	if n.local == nil || len(orgs) != 1 {
		return errors.New("init: name the one organisation this host runs")
	}
	if n.done("generated") {
		return fmt.Errorf("%s has identities already", n.root)
	}
	if err := n.startCAs(ctx); err != nil {
		return err
	}
	if err := n.generatePeerOrg(ctx, orgs[0]); err != nil {
		return err
	}
	return n.markDone("generated")
}

// ExportPublic writes org's public material (MSP definition, TLS CA certificate) under dir.
func (n *Network) ExportPublic(org, dir string) error {
	files, err := n.publicFiles(n.root, org)
	if err != nil {
		return err
	}
	for _, rel := range files {
		if err := copyKeepMode(filepath.Join(n.root, rel), filepath.Join(dir, rel)); err != nil {
			return err
		}
	}
	return nil
}

// ImportPublic takes org's public material from dir (ExportPublic's output) into this root.
// Anything but public material is refused, and so is material of an org this host runs.
func (n *Network) ImportPublic(org, dir string) error {
	if n.local != nil && n.local[org] {
		return fmt.Errorf("%s runs on this host: its material is not imported", org)
	}
	files, err := n.publicFiles(dir, org)
	if err != nil {
		return err
	}
	for _, rel := range files {
		if err := copyKeepMode(filepath.Join(dir, rel), filepath.Join(n.root, rel)); err != nil {
			return err
		}
	}
	return nil
}

// publicFiles lists org's public files under root (relative paths); an MSP folder holding a key
// store or a TLS CA home with anything but its certificate is not public material.
func (n *Network) publicFiles(root, org string) ([]string, error) {
	msp := filepath.Join("orgs", org, "msp")
	out := []string{filepath.Join("orgs", org, "tlsca", "ca-cert.pem")}
	if _, err := os.Stat(filepath.Join(root, out[0])); err != nil {
		return nil, fmt.Errorf("public material of %s: %w", org, err)
	}
	err := filepath.WalkDir(filepath.Join(root, msp), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "keystore" {
				return fmt.Errorf("public material of %s: %s holds a key store", org, p)
			}
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err == nil {
			out = append(out, rel)
		}
		return err
	})
	return out, err
}

// fetchConfig fetches the channel's latest configuration block as org's admin into file.
func (n *Network) fetchConfig(ctx context.Context, org, ch, file string) error {
	_, err := n.peerCLI(ctx, org, "admin", "channel", "fetch", "config", file, "-c", ch,
		"-o", n.OrdererAddress(0), "--tls", "--cafile", n.OrdererTLSCA())
	return err
}

// ProposeChannelUpdate computes, as org (a member running on this host), the configuration update
// that turns channel ch's current configuration into the one this description generates, and
// writes it as an unsigned update envelope to out. Only the Application group is taken from the
// description (organisations, their MSPs and anchor peers, the channel's policies); the ordering
// service's settings stay as the channel has them.
func (n *Network) ProposeChannelUpdate(ctx context.Context, org, ch, out string) error {
	if _, ok := n.desc.Channel(ch); !ok {
		return fmt.Errorf("no channel %q in the description", ch)
	}
	tmp, err := os.MkdirTemp(n.root, "update-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	f := func(name string) string { return filepath.Join(tmp, name) }
	if err := n.fetchConfig(ctx, org, ch, f("current.block")); err != nil {
		return err
	}
	// The target, from the description, with every org's public material in this root.
	if err := n.writeConfigtx(); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, n.bin("configtxgen"), "-configPath", n.configDir(), "-profile", ch,
		"-channelID", ch, "-outputBlock", f("target.block"))
	cmd.Env = baseEnv()
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("configtxgen %s: %w: %s", ch, err, lastLines(string(b), 8))
	}
	current, err := n.configOf(ctx, f("current.block"))
	if err != nil {
		return err
	}
	target, err := n.configOf(ctx, f("target.block"))
	if err != nil {
		return err
	}
	updated, err := withApplicationOf(current, target)
	if err != nil {
		return err
	}
	for name, cfg := range map[string]json.RawMessage{"current": current, "updated": updated} {
		if err := n.translate(ctx, "proto_encode", "common.Config", cfg, f(name+".pb")); err != nil {
			return err
		}
	}
	cmd = exec.CommandContext(ctx, n.bin("configtxlator"), "compute_update", "--channel_id", ch,
		"--original", f("current.pb"), "--updated", f("updated.pb"), "--output", f("update.pb"))
	cmd.Env = baseEnv()
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("configtxlator compute_update: %w: %s", err, lastLines(string(b), 5))
	}
	upd, err := n.decode(ctx, "common.ConfigUpdate", f("update.pb"))
	if err != nil {
		return err
	}
	env, err := json.Marshal(map[string]any{"payload": map[string]any{
		"header": map[string]any{"channel_header": map[string]any{"channel_id": ch, "type": 2}},
		"data":   map[string]any{"config_update": upd},
	}})
	if err != nil {
		return err
	}
	return n.translate(ctx, "proto_encode", "common.Envelope", env, out)
}

// configOf decodes a configuration block and returns its channel configuration (JSON).
func (n *Network) configOf(ctx context.Context, block string) (json.RawMessage, error) {
	raw, err := n.decode(ctx, "common.Block", block)
	if err != nil {
		return nil, err
	}
	var b struct {
		Data struct {
			Data []struct {
				Payload struct {
					Data struct {
						Config json.RawMessage `json:"config"`
					} `json:"data"`
				} `json:"payload"`
			} `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || len(b.Data.Data) != 1 || len(b.Data.Data[0].Payload.Data.Config) == 0 {
		return nil, fmt.Errorf("%s is not a configuration block (%v)", block, err)
	}
	return b.Data.Data[0].Payload.Data.Config, nil
}

// withApplicationOf returns current with its channel_group.groups.Application replaced by target's.
func withApplicationOf(current, target json.RawMessage) (json.RawMessage, error) {
	var cur, tgt map[string]any
	if err := json.Unmarshal(current, &cur); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(target, &tgt); err != nil {
		return nil, err
	}
	app := func(cfg map[string]any) (map[string]any, error) {
		cg, _ := cfg["channel_group"].(map[string]any)
		groups, _ := cg["groups"].(map[string]any)
		if _, ok := groups["Application"].(map[string]any); !ok {
			return nil, errors.New("configuration without an Application group")
		}
		return groups, nil
	}
	cg, err := app(cur)
	if err != nil {
		return nil, err
	}
	tg, err := app(tgt)
	if err != nil {
		return nil, err
	}
	cg["Application"] = tg["Application"]
	return json.Marshal(cur)
}

func (n *Network) decode(ctx context.Context, typ, file string) (json.RawMessage, error) {
	cmd := exec.CommandContext(ctx, n.bin("configtxlator"), "proto_decode", "--type", typ, "--input", file)
	cmd.Env = baseEnv()
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("configtxlator proto_decode %s: %w", typ, err)
	}
	return out, nil
}

func (n *Network) translate(ctx context.Context, verb, typ string, in json.RawMessage, out string) error {
	cmd := exec.CommandContext(ctx, n.bin("configtxlator"), verb, "--type", typ, "--output", out)
	cmd.Env = baseEnv()
	cmd.Stdin = strings.NewReader(string(in))
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("configtxlator %s %s: %w: %s", verb, typ, err, lastLines(string(b), 5))
	}
	return nil
}

// SignChannelUpdate adds the signature of org's admin (on this host) to the update envelope file.
func (n *Network) SignChannelUpdate(ctx context.Context, org, file string) error {
	if !n.Local(org) {
		return fmt.Errorf("%s does not run on this host: only its own admin signs for it", org)
	}
	_, err := n.peerCLI(ctx, org, "admin", "channel", "signconfigtx", "-f", file)
	return err
}

// SubmitChannelUpdate signs the update as org's admin and sends it to the orderers; they apply it
// only if the signatures meet the policies of everything it changes. It returns once org's own peer
// has committed the new configuration block (later steps, e.g. approvals under the new policies,
// depend on it).
func (n *Network) SubmitChannelUpdate(ctx context.Context, org, ch, file string) error {
	if !n.Local(org) {
		return fmt.Errorf("%s does not run on this host", org)
	}
	before, err := n.configBlockNumber(ctx, org, ch)
	if err != nil {
		return err
	}
	if _, err := n.peerCLI(ctx, org, "admin", "channel", "update", "-f", file, "-c", ch,
		"-o", n.OrdererAddress(0), "--tls", "--cafile", n.OrdererTLSCA()); err != nil {
		return err
	}
	var cfg uint64
	err = n.retry(ctx, time.Minute, func() error {
		var err error
		if cfg, err = n.configBlockNumber(ctx, org, ch); err == nil && cfg <= before {
			err = fmt.Errorf("%s: no new configuration block yet", ch)
		}
		return err
	})
	if err != nil {
		return err
	}
	return n.retry(ctx, time.Minute, func() error {
		h, err := n.PeerHeight(ctx, org, ch)
		if err == nil && h <= cfg {
			err = fmt.Errorf("%s: configuration block %d not on %s's peer yet (height %d)", ch, cfg, org, h)
		}
		return err
	})
}

// configBlockNumber is the number of channel ch's latest configuration block, from the orderers.
func (n *Network) configBlockNumber(ctx context.Context, org, ch string) (uint64, error) {
	tmp, err := os.MkdirTemp(n.root, "config-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	if err := n.fetchConfig(ctx, org, ch, filepath.Join(tmp, "c.block")); err != nil {
		return 0, err
	}
	raw, err := n.decode(ctx, "common.Block", filepath.Join(tmp, "c.block"))
	if err != nil {
		return 0, err
	}
	var b struct {
		Header struct {
			Number json.RawMessage `json:"number"` // a uint64: quoted by protojson
		} `json:"header"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.Trim(string(b.Header.Number), `"`), 10, 64)
}

// ChannelMembersOnLedger lists the MSP ids of the Application organisations in channel ch's current
// configuration, read by org's admin from the orderers.
func (n *Network) ChannelMembersOnLedger(ctx context.Context, org, ch string) ([]string, error) {
	tmp, err := os.MkdirTemp(n.root, "config-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := n.fetchConfig(ctx, org, ch, filepath.Join(tmp, "c.block")); err != nil {
		return nil, err
	}
	cfg, err := n.configOf(ctx, filepath.Join(tmp, "c.block"))
	if err != nil {
		return nil, err
	}
	var c struct {
		ChannelGroup struct {
			Groups struct {
				Application struct {
					Groups map[string]json.RawMessage `json:"groups"`
				} `json:"Application"`
			} `json:"groups"`
		} `json:"channel_group"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return nil, err
	}
	var out []string
	for m := range c.ChannelGroup.Groups.Application.Groups {
		out = append(out, m)
	}
	slices.Sort(out)
	return out, nil
}

// approvedSequence is the chaincode definition sequence this root's orgs last approved on a
// channel (state/sequence.<channel>; 1 before any change).
func (n *Network) approvedSequence(ch string) int {
	b, err := os.ReadFile(n.marker("sequence." + ch))
	if err != nil {
		return 1
	}
	s, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || s < 1 {
		return 1
	}
	return s
}

// committedSequence is the sequence of the chaincode definition in force on ch as org's peer knows
// it (false if none is, or the peer cannot say).
func (n *Network) committedSequence(ctx context.Context, org, ch string) (int, bool) {
	out, err := n.peerCLI(ctx, org, "admin", "lifecycle", "chaincode", "querycommitted", "--channelID", ch,
		"--name", n.desc.Chaincode.Name, "--output", "json")
	if err != nil {
		return 0, false
	}
	var d struct {
		Sequence int `json:"sequence"`
	}
	if err := json.Unmarshal(out, &d); err != nil || d.Sequence < 1 {
		return 0, false
	}
	return d.Sequence, true
}

// definitionArgs are the peer CLI arguments of the definition the description gives ch at seq.
func (n *Network) definitionArgs(ch Channel, seq int) ([]string, error) {
	cc := n.desc.Chaincode
	args := []string{"--channelID", ch.Name, "--name", cc.Name, "--version", cc.Version, "--sequence", strconv.Itoa(seq),
		"--signature-policy", n.EndorsementPolicy(ch), "-o", n.OrdererAddress(0), "--tls", "--cafile", n.OrdererTLSCA()}
	colls, err := n.collectionsArgs(ch)
	return append(args, colls...), err
}

// ApproveDefinition approves, as org (running on this host), the chaincode definition the
// description gives channel ch — its endorsement policy and collections over the channel's
// current members — at the sequence after the one in force, for org's own installed package (its
// chaincode server keeps running). It returns the sequence.
func (n *Network) ApproveDefinition(ctx context.Context, org, chName string) (int, error) {
	ch, ok := n.desc.Channel(chName)
	if !ok || !n.Local(org) {
		return 0, fmt.Errorf("%s is not a channel of the description, or %s does not run here", chName, org)
	}
	cur, ok := n.committedSequence(ctx, org, chName)
	if !ok {
		return 0, fmt.Errorf("no chaincode definition in force on %s", chName)
	}
	seq := cur + 1
	args, err := n.definitionArgs(ch, seq)
	if err != nil {
		return 0, err
	}
	idb, err := os.ReadFile(filepath.Join(n.chaincodeDir(org), "package-id"))
	if err != nil {
		return 0, err
	}
	args = append([]string{"lifecycle", "chaincode", "approveformyorg", "--package-id", strings.TrimSpace(string(idb))}, args...)
	if _, err := n.peerCLI(ctx, org, "admin", args...); err != nil {
		return 0, err
	}
	return seq, os.WriteFile(n.marker("sequence."+chName), []byte(strconv.Itoa(seq)+"\n"), 0o644)
}

// CommitDefinition commits, as org, the definition ApproveDefinition approves, once the governing
// organisations' approvals meet the channel's governance rule (LifecycleEndorsement: the commit
// is endorsed by their peers), and waits until org's peer has it in force.
func (n *Network) CommitDefinition(ctx context.Context, org, chName string, within time.Duration) (int, error) {
	ch, ok := n.desc.Channel(chName)
	if !ok || !n.Local(org) {
		return 0, fmt.Errorf("%s is not a channel of the description, or %s does not run here", chName, org)
	}
	cur, ok := n.committedSequence(ctx, org, chName)
	if !ok {
		return 0, fmt.Errorf("no chaincode definition in force on %s", chName)
	}
	seq := cur + 1
	args, err := n.definitionArgs(ch, seq)
	if err != nil {
		return 0, err
	}
	var approved []string
	err = n.retry(ctx, within, func() error {
		out, err := n.peerCLI(ctx, org, "admin", append([]string{"lifecycle", "chaincode", "checkcommitreadiness", "--output", "json"}, args...)...)
		if err != nil {
			return err
		}
		var r struct {
			Approvals map[string]bool `json:"approvals"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			return err
		}
		approved = approved[:0]
		for _, g := range ch.Governance.Orgs {
			if o, _ := n.desc.Org(g); r.Approvals[o.MSPID] {
				approved = append(approved, g)
			}
		}
		if len(approved) < ch.Governance.OutOf {
			return fmt.Errorf("sequence %d on %s approved by %v, the governance rule needs %d", seq, chName, approved, ch.Governance.OutOf)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	cargs := append([]string{"lifecycle", "chaincode", "commit"}, args...)
	for _, g := range approved {
		cargs = append(cargs, "--peerAddresses", n.addr(n.desc.PortsOf(g).Peer), "--tlsRootCertFiles", n.TLSCACert(g))
	}
	if _, err := n.peerCLI(ctx, org, "admin", cargs...); err != nil {
		return 0, err
	}
	if err := os.WriteFile(n.marker("sequence."+chName), []byte(strconv.Itoa(seq)+"\n"), 0o644); err != nil {
		return 0, err
	}
	return seq, n.retry(ctx, time.Minute, func() error {
		if c, _ := n.committedSequence(ctx, org, chName); c < seq {
			return fmt.Errorf("sequence %d not in force on %s's peer yet", seq, org)
		}
		return nil
	})
}

// RevokeIdentities revokes identities of org (running on this host) at its own enrollment CA and
// puts the CA's new certificate revocation list into the org's MSP definition (msp/crls/crl.pem).
// The channels learn it with the org's next public material: ExportPublic, ImportPublic and a
// channel update (ProposeChannelUpdate reads the MSP folder, CRL included), after which no
// signature of a revoked identity is valid on the channel.
func (n *Network) RevokeIdentities(ctx context.Context, org string, names []string) error {
	if !n.Local(org) || org == n.desc.OrdererOrg.Name {
		return fmt.Errorf("%s does not run on this host: only its own CA revokes its identities", org)
	}
	if len(names) == 0 {
		return errors.New("revoke: name at least one identity")
	}
	ca, _ := n.caServersOf(org)
	if err := n.startCA(ctx, ca); err != nil {
		return err
	}
	if _, err := os.Stat(ca.adminMSP()); err != nil {
		// Enrolled at generation; enrolling again into the folder would leave two keys.
		if err := n.enrollAdmin(ctx, ca); err != nil {
			return err
		}
	}
	for _, name := range names {
		if err := n.caClient(ctx, ca, nil, "revoke", "-u", ca.url(), "--mspdir", ca.adminMSP(), "-e", name, "-r", "affiliationchanged"); err != nil {
			return err
		}
	}
	// The CRL is written under the client's msp folder as crls/crl.pem.
	if err := n.caClient(ctx, ca, nil, "gencrl", "-u", ca.url(), "--mspdir", ca.adminMSP()); err != nil {
		return err
	}
	return copyFile(filepath.Join(ca.adminMSP(), "crls", "crl.pem"), filepath.Join(n.OrgMSPDir(org), "crls", "crl.pem"), 0o644)
}

// SnapshotInto has org's peer (on this host) take a ledger snapshot of channel ch at its last
// committed block and copies it to dir/<channel>: a joiner whose bundle holds snapshots/<channel>
// joins from it (peer channel joinbysnapshot) instead of pulling every block from the orderers.
// Before trusting a snapshot of another organisation, compare its hash
// (_snapshot_additional_metadata.json) with a snapshot of the same height from a second one.
func (n *Network) SnapshotInto(ctx context.Context, org, ch, dir string) (string, error) {
	if !n.Local(org) {
		return "", fmt.Errorf("%s does not run on this host", org)
	}
	completed := filepath.Join(n.peerSnapshotsDir(org), "completed", ch)
	before, _ := os.ReadDir(completed)
	if _, err := n.peerCLI(ctx, org, "admin", "snapshot", "submitrequest", "-c", ch, "-b", "0",
		"--peerAddress", n.addr(n.desc.PortsOf(org).Peer), "--tlsRootCertFile", n.TLSCACert(org)); err != nil {
		return "", err
	}
	var src string
	err := n.retry(ctx, 5*time.Minute, func() error {
		entries, err := os.ReadDir(completed)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if slices.ContainsFunc(before, func(b os.DirEntry) bool { return b.Name() == e.Name() }) {
				continue
			}
			// A completed snapshot is renamed into place whole, metadata last.
			if _, err := os.Stat(filepath.Join(completed, e.Name(), "_snapshot_additional_metadata.json")); err == nil {
				src = filepath.Join(completed, e.Name())
				return nil
			}
		}
		return fmt.Errorf("snapshot of %s not completed yet", ch)
	})
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, ch)
	files, err := os.ReadDir(src)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		if err := copyKeepMode(filepath.Join(src, f.Name()), filepath.Join(dst, f.Name())); err != nil {
			return "", err
		}
	}
	return filepath.Base(src), nil
}

// joinSnapshot is the snapshot a joiner's bundle carries for channel ch, if any.
func (n *Network) joinSnapshot(ch string) (string, bool) {
	p := filepath.Join(n.root, "snapshots", ch)
	_, err := os.Stat(filepath.Join(p, "_snapshot_additional_metadata.json"))
	return p, err == nil
}

// joinChannel joins org's peer to ch: from the bundle's snapshot if it carries one (the peer then
// pulls only the blocks after it), else with the genesis block (every block from the orderers).
func (n *Network) joinChannel(ctx context.Context, org, ch string) error {
	snap, ok := n.joinSnapshot(ch)
	if !ok {
		_, err := n.peerCLI(ctx, org, "admin", "channel", "join", "-b", n.channelBlock(ch))
		return err
	}
	// Refused before the peer sees it: a peer that panics mid-import needs its ledger deleted.
	if err := n.CheckSnapshotJoin(org, ch, snap); err != nil {
		return err
	}
	if _, err := n.peerCLI(ctx, org, "admin", "channel", "joinbysnapshot", "--snapshotpath", snap); err != nil {
		return err
	}
	// The import runs in the peer after the call returns.
	return n.retry(ctx, 10*time.Minute, func() error {
		out, err := n.peerCLI(ctx, org, "admin", "channel", "joinbysnapshotstatus")
		if err == nil && strings.Contains(string(out), "is in progress for") {
			err = fmt.Errorf("%s: snapshot still being imported", ch)
		}
		return err
	})
}
