//go:build integration

package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/network"
)

// Governance (issue 11 finding 3): the parties that must not suffice try to change the rules with
// their own valid admin identities, straight at the peers and the orderer, and are refused; the
// chain is unchanged afterwards.

// TestGovernanceLifecycleNeedsTheAgencies: one member state plus the auditor approve and commit a
// chaincode definition whose endorsement policy is that state alone.
func TestGovernanceLifecycleNeedsTheAgencies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		ch      string
		signers []string // orgs whose admins approve and whose peers endorse the commit
	}{
		// On dublin the auditor used to make 2 of 3.
		{"dublin", []string{"asylum-office", "auditor"}},
		// On national a minority of the agencies, even with the auditor.
		{"national", []string{"asylum-office", "auditor"}},
	} {
		t.Run(tc.ch, func(t *testing.T) {
			before := committedDefinition(ctx, t, tc.ch)
			seq := fmt.Sprint(before.Sequence + 1)
			weak := "OR('AsylumOfficeMSP.peer')"
			common := []string{"--channelID", tc.ch, "--name", "caseledger", "--version", "evil", "--sequence", seq,
				"--signature-policy", weak, "-o", itNet.OrdererAddress(0), "--tls", "--cafile", itNet.OrdererTLSCA()}
			// The channel's private data collections stay as they are (a definition that drops them is
			// refused for that reason first), so only the endorsement policy can stop this commit.
			chDesc, ok := itNet.Description().Channel(tc.ch)
			if !ok {
				t.Fatalf("no channel %s in the description", tc.ch)
			}
			if p := itNet.CollectionsConfigPath(chDesc); fileExists(p) {
				common = append(common, "--collections-config", p)
			}
			for _, org := range tc.signers {
				// Approving is each org's own business: it succeeds, and is not enough.
				if _, err := itNet.PeerCLI(ctx, org, "admin", append([]string{"lifecycle", "chaincode", "approveformyorg"}, common...)...); err != nil {
					t.Fatalf("approve as %s: %v", org, err)
				}
			}
			args := append([]string{"lifecycle", "chaincode", "commit"}, common...)
			for _, org := range tc.signers {
				args = append(args, "--peerAddresses", peerAddress(org), "--tlsRootCertFiles", itNet.TLSCACert(org))
			}
			out, err := itNet.PeerCLI(ctx, tc.signers[0], "admin", args...)
			if err == nil {
				t.Fatalf("commit of a one-state endorsement policy by %v succeeded: %s", tc.signers, out)
			}
			if !strings.Contains(err.Error(), "ENDORSEMENT_POLICY_FAILURE") {
				t.Fatalf("commit refused for another reason than the lifecycle endorsement policy: %v", err)
			}
			after := committedDefinition(ctx, t, tc.ch)
			if after.Sequence != before.Sequence || after.Version != before.Version || !bytes.Equal(after.ValidationParameter, before.ValidationParameter) {
				t.Fatalf("definition changed: before %+v, after %+v", before, after)
			}
		})
	}
}

// TestGovernanceChannelConfigNeedsTheAgencies: asylum office and auditor admins sign a channel
// configuration update that removes the partner state from dublin (and one that weakens the
// Admins policy), submit it to the orderer, and are refused; the configuration keeps the partner.
func TestGovernanceChannelConfigNeedsTheAgencies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name    string
		ch      string
		signers []string
		mutate  func(t *testing.T, cfg map[string]any)
	}{
		{"remove partner state", "dublin", []string{"asylum-office", "auditor"}, func(t *testing.T, cfg map[string]any) {
			delete(dig(t, cfg, "channel_group", "groups", "Application", "groups"), "PartnerStateMSP")
		}},
		{"asylum office alone as Admins", "dublin", []string{"asylum-office", "auditor"}, func(t *testing.T, cfg map[string]any) {
			dig(t, cfg, "channel_group", "groups", "Application", "policies", "Admins", "policy", "value", "rule", "n_out_of")["n"] = 1
		}},
		{"national minority removes an agency", "national", []string{"asylum-office", "auditor"}, func(t *testing.T, cfg map[string]any) {
			delete(dig(t, cfg, "channel_group", "groups", "Application", "groups"), "BorderPoliceMSP")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fetchConfig(ctx, t, tc.ch)
			err := submitConfigUpdate(ctx, t, tc.ch, before, tc.mutate, tc.signers)
			if err == nil {
				t.Fatalf("config update signed by %v accepted", tc.signers)
			}
			if !strings.Contains(err.Error(), "policy") {
				t.Fatalf("update refused for another reason than policy: %v", err)
			}
			after := fetchConfig(ctx, t, tc.ch)
			if !jsonEqual(before, after) {
				t.Fatal("channel configuration changed")
			}
		})
	}
	// The rules can still change with the quorum: both member states sign an update that adds an
	// ACL equal to Fabric's default (no change in behaviour for the tests that follow).
	t.Run("both member states", func(t *testing.T) {
		addACL := func(t *testing.T, cfg map[string]any) {
			dig(t, cfg, "channel_group", "groups", "Application", "values")["ACLs"] = map[string]any{
				"mod_policy": "Admins",
				"value": map[string]any{"acls": map[string]any{
					"qscc/GetChainInfo": map[string]any{"policy_ref": "/Channel/Application/Readers"}}},
			}
		}
		before := fetchConfig(ctx, t, "dublin")
		if err := submitConfigUpdate(ctx, t, "dublin", before, addACL, []string{"asylum-office", "auditor"}); err == nil {
			t.Fatal("harmless update signed by one state and the auditor accepted")
		}
		if err := submitConfigUpdate(ctx, t, "dublin", before, addACL, []string{"asylum-office", "partner-state"}); err != nil {
			t.Fatalf("update signed by both member states refused: %v", err)
		}
		eventually(t, 30*time.Second, "ACL in the dublin configuration", func(ctx context.Context) error {
			if _, ok := dig(t, fetchConfig(ctx, t, "dublin"), "channel_group", "groups", "Application", "values")["ACLs"]; !ok {
				return fmt.Errorf("no ACLs value yet")
			}
			return nil
		})
	})
}

// definition is a channel's committed chaincode definition as the peer CLI reports it.
type definition struct {
	Sequence            int64  `json:"sequence"`
	Version             string `json:"version"`
	ValidationParameter []byte `json:"validation_parameter"`
}

func committedDefinition(ctx context.Context, t *testing.T, ch string) definition {
	t.Helper()
	// Asked of an agency that took no part in the attempt.
	reader := map[string]string{"dublin": "partner-state", "national": "border-police"}[ch]
	out, err := itNet.PeerCLI(ctx, reader, "admin", "lifecycle", "chaincode", "querycommitted",
		"--channelID", ch, "--name", "caseledger", "-O", "json")
	if err != nil {
		t.Fatal(err)
	}
	var d definition
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("querycommitted output %q: %v", out, err)
	}
	return d
}

func peerAddress(org string) string {
	return fmt.Sprintf("127.0.0.1:%d", itNet.Description().PortsOf(org).Peer)
}

// configtxlator runs the cached Fabric tool.
func configtxlator(ctx context.Context, t *testing.T, in []byte, args ...string) []byte {
	t.Helper()
	moduleDir, err := network.FindModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := network.EnsureFabric(ctx, moduleDir)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "configtxlator"), args...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("configtxlator %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// fetchConfig reads a channel's current configuration (common.Config as JSON) from the orderer.
func fetchConfig(ctx context.Context, t *testing.T, ch string) map[string]any {
	t.Helper()
	org := "asylum-office"
	f := filepath.Join(t.TempDir(), "config.block")
	if _, err := itNet.PeerCLI(ctx, org, "admin", "channel", "fetch", "config", f, "-c", ch,
		"-o", itNet.OrdererAddress(0), "--tls", "--cafile", itNet.OrdererTLSCA()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var block map[string]any
	if err := json.Unmarshal(configtxlator(ctx, t, b, "proto_decode", "--type", "common.Block"), &block); err != nil {
		t.Fatal(err)
	}
	data := block["data"].(map[string]any)["data"].([]any)[0].(map[string]any)
	return data["payload"].(map[string]any)["data"].(map[string]any)["config"].(map[string]any)
}

// submitConfigUpdate computes the update from cfg to mutate(copy of cfg), has every signer's admin
// sign it, and submits it to the orderer as the first signer's admin.
func submitConfigUpdate(ctx context.Context, t *testing.T, ch string, cfg map[string]any, mutate func(*testing.T, map[string]any), signers []string) error {
	t.Helper()
	orig, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var modified map[string]any
	if err := json.Unmarshal(orig, &modified); err != nil {
		t.Fatal(err)
	}
	mutate(t, modified)
	mod, _ := json.Marshal(modified)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	origPB := write("orig.pb", configtxlator(ctx, t, orig, "proto_encode", "--type", "common.Config"))
	modPB := write("mod.pb", configtxlator(ctx, t, mod, "proto_encode", "--type", "common.Config"))
	update := configtxlator(ctx, t, nil, "compute_update", "--channel_id", ch, "--original", origPB, "--updated", modPB)
	var updateJSON map[string]any
	if err := json.Unmarshal(configtxlator(ctx, t, update, "proto_decode", "--type", "common.ConfigUpdate"), &updateJSON); err != nil {
		t.Fatal(err)
	}
	env, _ := json.Marshal(map[string]any{"payload": map[string]any{
		"header": map[string]any{"channel_header": map[string]any{"channel_id": ch, "type": 2}},
		"data":   map[string]any{"config_update": updateJSON},
	}})
	envPB := write("update.pb", configtxlator(ctx, t, env, "proto_encode", "--type", "common.Envelope"))
	for _, org := range signers[1:] {
		if _, err := itNet.PeerCLI(ctx, org, "admin", "channel", "signconfigtx", "-f", envPB); err != nil {
			t.Fatalf("sign as %s: %v", org, err)
		}
	}
	// `peer channel update` adds the submitter's own signature.
	_, err = itNet.PeerCLI(ctx, signers[0], "admin", "channel", "update", "-f", envPB, "-c", ch,
		"-o", itNet.OrdererAddress(0), "--tls", "--cafile", itNet.OrdererTLSCA())
	return err
}

// dig walks nested JSON objects; a missing step fails the test (no panic that would end every
// other test of the package too).
func dig(t *testing.T, m map[string]any, path ...string) map[string]any {
	t.Helper()
	for i, p := range path {
		next, ok := m[p].(map[string]any)
		if !ok {
			t.Fatalf("configuration has no object at %s", strings.Join(path[:i+1], "."))
		}
		m = next
	}
	return m
}

func jsonEqual(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
