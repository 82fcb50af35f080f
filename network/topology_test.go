package network

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

func TestParseHeight(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{`Status: 200 {"name": "national", "status": "active", "height": 4}`, 4, true},
		{`Blockchain info: {"height":"12","currentBlockHash":"K5"}`, 12, true},
		{`Blockchain info: {"height":7,"currentBlockHash":"K5"}`, 7, true},
		{`no height here`, 0, false},
		{`{"height": }`, 0, false},
	} {
		got, err := parseHeight(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseHeight(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestBuiltinDemoTopology(t *testing.T) {
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	if d.OrdererOrg.Orderers != 3 || len(d.Orgs) != 5 || len(d.Channels) != 2 {
		t.Fatalf("demo topology: %d orderers, %d orgs, %d channels", d.OrdererOrg.Orderers, len(d.Orgs), len(d.Channels))
	}
	// Every port of every node is distinct.
	seen := map[int]string{}
	claim := func(p int, what string) {
		if prev, dup := seen[p]; dup {
			t.Errorf("port %d used by %s and %s", p, prev, what)
		}
		seen[p] = what
	}
	for i := 0; i < d.OrdererOrg.Orderers; i++ {
		p := d.OrdererPortsOf(i)
		claim(p.Listen, "orderer listen")
		claim(p.Admin, "orderer admin")
		claim(p.Ops, "orderer ops")
	}
	op := d.OrdererOrgPorts()
	for _, p := range []int{op.CA, op.CAOps, op.TLSCA, op.TLSCAOps} {
		claim(p, "orderer org CA")
	}
	for _, o := range d.Orgs {
		p := d.PortsOf(o.Name)
		for _, q := range []int{p.CA, p.CAOps, p.TLSCA, p.TLSCAOps, p.Peer, p.PeerChaincode, p.PeerOps, p.ChaincodeServer, p.Privacy, p.Gateway} {
			claim(q, o.Name)
		}
	}
	n, err := New(d, Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	nat, _ := d.Channel("national")
	if got := n.EndorsementPolicy(nat); got != "OutOf(2,'AsylumOfficeMSP.peer','BorderPoliceMSP.peer','ImmigrationAuthorityMSP.peer')" {
		t.Errorf("national endorsement policy %s", got)
	}
	dub, _ := d.Channel("dublin")
	for _, tc := range []struct {
		ch         Channel
		role, want string
	}{
		{nat, "admin", "OutOf(2,'AsylumOfficeMSP.admin','BorderPoliceMSP.admin','ImmigrationAuthorityMSP.admin')"},
		{nat, "peer", "OutOf(2,'AsylumOfficeMSP.peer','BorderPoliceMSP.peer','ImmigrationAuthorityMSP.peer')"},
		{dub, "admin", "OutOf(2,'AsylumOfficeMSP.admin','PartnerStateMSP.admin')"},
		{dub, "peer", "OutOf(2,'AsylumOfficeMSP.peer','PartnerStateMSP.peer')"},
	} {
		if got := n.GovernancePolicy(tc.ch, tc.role); got != tc.want {
			t.Errorf("%s governance (%s) = %s, want %s", tc.ch.Name, tc.role, got, tc.want)
		}
	}
	if err := n.ChaincodeConfig().Validate(); err != nil {
		t.Errorf("generated chaincode config invalid: %v", err)
	}
}

func TestParseRefusesBadDescriptions(t *testing.T) {
	good, err := topologies.ReadFile("topologies/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(string) string{
		"unknown field": func(s string) string { return s + "\nextra: 1\n" },
		"unknown member": func(s string) string {
			return strings.Replace(s, "members: [asylum-office, partner-state, auditor]", "members: [asylum-office, nobody]", 1)
		},
		"endorser not member": func(s string) string {
			return strings.Replace(s, "orgs: [asylum-office, partner-state]", "orgs: [asylum-office, border-police]", 1)
		},
		"outOf too large": func(s string) string {
			return strings.Replace(s, "{outOf: 2, orgs: [asylum-office, partner-state]}", "{outOf: 3, orgs: [asylum-office, partner-state]}", 1)
		},
		"auditor governs": func(s string) string {
			return strings.Replace(s, "governance: {outOf: 2, orgs: [asylum-office, partner-state]}", "governance: {outOf: 2, orgs: [asylum-office, partner-state, auditor]}", 1)
		},
		"auditor replaces an agency": func(s string) string {
			return strings.Replace(s, "governance: {outOf: 2, orgs: [asylum-office, partner-state]}", "governance: {outOf: 2, orgs: [asylum-office, auditor]}", 1)
		},
		"dublin governed by one state": func(s string) string {
			return strings.Replace(s, "governance: {outOf: 2, orgs: [asylum-office, partner-state]}", "governance: {outOf: 1, orgs: [asylum-office, partner-state]}", 1)
		},
		"agency left out of governance": func(s string) string {
			return strings.Replace(s, "governance: {outOf: 2, orgs: [asylum-office, border-police, immigration-authority]}", "governance: {outOf: 2, orgs: [asylum-office, border-police]}", 1)
		},
		"national minority governs": func(s string) string {
			return strings.Replace(s, "governance: {outOf: 2, orgs: [asylum-office, border-police, immigration-authority]}", "governance: {outOf: 1, orgs: [asylum-office, border-police, immigration-authority]}", 1)
		},
		"no governance": func(s string) string {
			return strings.Replace(s, "governance: {outOf: 2, orgs: [asylum-office, partner-state]}", "", 1)
		},
		"approvals that never expire": func(s string) string {
			return strings.Replace(s, "governance: {outOf: 2, orgs: [asylum-office, partner-state]}", "governance: {outOf: 2, orgs: [asylum-office, partner-state], approvalDays: 367}", 1)
		},
		"negative approval period": func(s string) string {
			return strings.Replace(s, "governance: {outOf: 2, orgs: [asylum-office, partner-state]}", "governance: {outOf: 2, orgs: [asylum-office, partner-state], approvalDays: -1}", 1)
		},
		"bad role":          func(s string) string { return strings.Replace(s, "role: auditor", "role: superuser", 1) },
		"too many orderers": func(s string) string { return strings.Replace(s, "orderers: 3", "orderers: 6", 1) },
		"port out of range": func(s string) string { return strings.Replace(s, "basePort: 7100", "basePort: 65500", 1) },
	} {
		t.Run(name, func(t *testing.T) {
			mutated := mutate(string(good))
			if mutated == string(good) {
				t.Fatal("mutation did not apply")
			}
			if _, err := Parse([]byte(mutated)); !errors.Is(err, ErrInvalidDescription) {
				t.Fatalf("Parse: %v, want ErrInvalidDescription", err)
			}
		})
	}
}

// TestApprovalDaysReachesTheMembership: the description's approval period is the chaincode
// membership's rule (one description of the network); absent, the document carries none and the
// chaincode applies the default.
func TestApprovalDaysReachesTheMembership(t *testing.T) {
	good, _ := topologies.ReadFile("topologies/demo.yaml")
	for _, tc := range []struct {
		set  string
		want int
	}{{"", domain.DefaultApprovalDays}, {", approvalDays: 3", 3}} {
		d, err := Parse([]byte(strings.Replace(string(good), "governance: {outOf: 2, orgs: [asylum-office, partner-state]}", "governance: {outOf: 2, orgs: [asylum-office, partner-state]"+tc.set+"}", 1)))
		if err != nil {
			t.Fatal(err)
		}
		m := d.Membership()
		ch, _ := m.Channel("dublin")
		if got := m.GovernanceOf(ch).ApprovalDays; got != tc.want {
			t.Errorf("approvalDays %q: the membership's rule has %d, want %d", tc.set, got, tc.want)
		}
		doc, err := api.MembershipDocument(m)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(doc), "approvalDays") != (tc.set != "") {
			t.Errorf("approvalDays %q: document %s", tc.set, doc)
		}
	}
}

func FuzzParse(f *testing.F) {
	good, _ := topologies.ReadFile("topologies/demo.yaml")
	f.Add(good)
	f.Add([]byte("name: x\n"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidDescription) {
				t.Fatalf("error not classified: %v", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid description: %v", err)
		}
	})
}

func TestMetricValue(t *testing.T) {
	m := []byte("# HELP x\nconsensus_etcdraft_is_leader{channel=\"dublin\"} 0\nconsensus_etcdraft_is_leader{channel=\"national\"} 1\ngossip_membership_total_peers_known{channel=\"national\"} 3\n")
	if v, err := metricValue(m, `consensus_etcdraft_is_leader{channel="national"}`); err != nil || v != 1 {
		t.Fatalf("leader: %v %v", v, err)
	}
	if v, err := metricValue(m, `gossip_membership_total_peers_known{channel="national"}`); err != nil || v != 3 {
		t.Fatalf("gossip: %v %v", v, err)
	}
	if _, err := metricValue(m, `gossip_membership_total_peers_known{channel="dublin"}`); err == nil {
		t.Fatal("missing series found")
	}
}

func TestLoadTopologyByPathOrName(t *testing.T) {
	builtin, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := topologies.ReadFile("topologies/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	// A folder called like a built-in topology is not a description.
	if err := os.Mkdir(filepath.Join(dir, "demo"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, arg := range []string{file, "demo"} {
		d, err := LoadTopology(arg)
		if err != nil || len(d.Orgs) != len(builtin.Orgs) {
			t.Fatalf("LoadTopology(%q): %d orgs, %v", arg, len(d.Orgs), err)
		}
	}
	if _, err := LoadTopology("no-such-topology"); !errors.Is(err, ErrInvalidDescription) {
		t.Fatalf("unknown name: %v", err)
	}
}
