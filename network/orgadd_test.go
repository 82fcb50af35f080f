package network

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckGrowth(t *testing.T) {
	running, _ := demoOnHosts(t)
	grown := func(mut func(*Description)) Description {
		d, _ := demoOnHosts(t)
		d.Orgs = append(d.Orgs, Org{Name: "immigration-authority-2", MSPID: "ImmigrationAuthority2MSP", Kind: "immigration-authority", MemberState: "DE", Host: "10.99.0.9"})
		if mut != nil {
			mut(&d)
		}
		return d
	}
	for name, tc := range map[string]struct {
		d  Description
		ok bool
	}{
		"appended":          {grown(nil), true},
		"unchanged":         {running, true},
		"inserted first":    {grown(func(d *Description) { d.Orgs[0], d.Orgs[5] = d.Orgs[5], d.Orgs[0] }), false},
		"host moved":        {grown(func(d *Description) { d.Orgs[1].Host = "10.99.0.99" }), false},
		"msp renamed":       {grown(func(d *Description) { d.Orgs[2].MSPID = "OtherMSP" }), false},
		"dropped":           {grown(func(d *Description) { d.Orgs = d.Orgs[:3] }), false},
		"base port moved":   {grown(func(d *Description) { d.BasePort += 20 }), false},
		"orderers changed":  {grown(func(d *Description) { d.OrdererOrg.Orderers = 5 }), false},
		"orderer host move": {grown(func(d *Description) { d.OrdererOrg.Host = "10.99.0.98" }), false},
	} {
		err := CheckGrowth(running, tc.d)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrNotAGrowth)) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWithApplicationOf(t *testing.T) {
	cur := `{"channel_group":{"groups":{"Application":{"groups":{"A":{}},"version":"3"},"Orderer":{"values":{"BatchTimeout":"250ms"}}},"version":"7"},"sequence":"9"}`
	tgt := `{"channel_group":{"groups":{"Application":{"groups":{"A":{},"B":{}},"version":"0"},"Orderer":{"values":{"BatchTimeout":"2s"}}},"version":"0"},"sequence":"0"}`
	out, err := withApplicationOf(json.RawMessage(cur), json.RawMessage(tgt))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	cg := got["channel_group"].(map[string]any)
	groups := cg["groups"].(map[string]any)
	if _, ok := groups["Application"].(map[string]any)["groups"].(map[string]any)["B"]; !ok {
		t.Error("the target's Application group was not taken")
	}
	if groups["Orderer"].(map[string]any)["values"].(map[string]any)["BatchTimeout"] != "250ms" || got["sequence"] != "9" || cg["version"] != "7" {
		t.Errorf("something outside the Application group changed: %s", out)
	}
	if _, err := withApplicationOf(json.RawMessage(`{"channel_group":{"groups":{}}}`), json.RawMessage(tgt)); err == nil {
		t.Error("a configuration without an Application group accepted")
	}
}

// TestJoinMaterialIsPublic: the joiner's starting bundle and the public material exchanged hold no
// key and no secret of anybody; importing refuses a key store and this host's own org.
func TestJoinMaterialIsPublic(t *testing.T) {
	d, _ := demoOnHosts(t)
	d.Orgs = append(d.Orgs, Org{Name: "immigration-authority-2", MSPID: "ImmigrationAuthority2MSP", Kind: "immigration-authority", MemberState: "DE", Host: "10.99.0.9"})
	for i, ch := range d.Channels {
		if ch.Name == "national" {
			d.Channels[i].Members = append(d.Channels[i].Members, "immigration-authority-2")
			d.Channels[i].Endorsement.Orgs = append(d.Channels[i].Endorsement.Orgs, "immigration-authority-2")
			d.Channels[i].Governance = Governance{OutOf: 3, Orgs: append(d.Channels[i].Governance.Orgs, "immigration-authority-2")}
		}
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	n, err := New(d, Options{Root: root, Orgs: []string{"asylum-office"}})
	if err != nil {
		t.Fatal(err)
	}
	write := func(base, rel, content string, mode os.FileMode) {
		p := filepath.Join(base, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	core, err := editYAML("fabricconfig/core.yaml", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	write(root, "config/core.yaml", string(core), 0o644)
	write(root, "builder/bin/detect", "#!/bin/sh\n", 0o755)
	write(root, "channels/national.block", "block", 0o644)
	write(root, "channels/dublin.block", "block", 0o644)
	write(root, "state/generated", "x", 0o644)
	write(root, "chaincode-config.json", `{"membership":"the running one"}`, 0o644)
	write(root, "secrets/ca.asylum-office", "PW", 0o600)
	for _, org := range []string{"orderer", "asylum-office", "border-police"} {
		write(root, "orgs/"+org+"/msp/cacerts/ca.pem", "cert", 0o644)
		write(root, "orgs/"+org+"/tlsca/ca-cert.pem", "cert", 0o644)
	}
	write(root, "orgs/asylum-office/users/admin/msp/keystore/k_sk", "KEY", 0o600)
	write(root, "orgs/asylum-office/tlsca/msp/keystore/k_sk", "KEY", 0o600)
	out := filepath.Join(t.TempDir(), "join")
	if err := n.WriteJoinBundle("immigration-authority-2", out); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(out, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		rel, _ := filepath.Rel(out, p)
		if strings.Contains(string(b), "KEY") || strings.Contains(string(b), "PW") || strings.HasPrefix(rel, "secrets") || rel == "state/generated" || rel == "channels/dublin.block" {
			t.Errorf("join bundle holds %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	back, err := Load(filepath.Join(out, "network.yaml"))
	if err != nil || len(back.Orgs) != 6 {
		t.Fatalf("join bundle description: %v", err)
	}
	// The chaincode configuration is the running one, unchanged: its membership is every channel's
	// starting value, which every endorser must share (the joiner is on the ledger's membership).
	if b, err := os.ReadFile(filepath.Join(out, "chaincode-config.json")); err != nil || string(b) != `{"membership":"the running one"}` {
		t.Errorf("join bundle chaincode configuration is not the member's: %q %v", b, err)
	}
	// Public material only.
	pub := t.TempDir()
	if err := n.ExportPublic("border-police", pub); err != nil {
		t.Fatal(err)
	}
	if err := n.ImportPublic("asylum-office", pub); err == nil {
		t.Error("imported material of this host's own org")
	}
	write(pub, "orgs/border-police/msp/keystore/k_sk", "KEY", 0o600)
	if err := n.ImportPublic("border-police", pub); err == nil {
		t.Error("imported an MSP folder holding a key store")
	}
}

func TestApprovedSequenceAndJoinSnapshot(t *testing.T) {
	d, _ := demoOnHosts(t)
	n, err := New(d, Options{Root: t.TempDir(), Orgs: []string{"auditor"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.approvedSequence("national"); got != 1 {
		t.Errorf("no state: sequence %d", got)
	}
	for content, want := range map[string]int{"2\n": 2, "17": 17, "x": 1, "0": 1, "-3": 1} {
		if err := os.MkdirAll(filepath.Dir(n.marker("sequence.national")), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(n.marker("sequence.national"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := n.approvedSequence("national"); got != want {
			t.Errorf("state %q: sequence %d, want %d", content, got, want)
		}
	}
	if _, ok := n.joinSnapshot("national"); ok {
		t.Error("a bundle without snapshots joins by snapshot")
	}
	snap := filepath.Join(n.Root(), "snapshots", "national")
	if err := os.MkdirAll(snap, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, ok := n.joinSnapshot("national"); ok {
		t.Error("an incomplete snapshot (no metadata) is used")
	}
	if err := os.WriteFile(filepath.Join(snap, "_snapshot_additional_metadata.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, ok := n.joinSnapshot("national"); !ok || p != snap {
		t.Errorf("snapshot not found: %s %v", p, ok)
	}
}
