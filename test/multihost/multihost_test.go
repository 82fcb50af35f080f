//go:build integration

// Package multihost runs caseledger with every organisation on a host of its own — Linux network
// namespaces on one machine (lab_test.go) — from per-organisation bundles (netctl bundle), each
// organisation's part started on its own host (netctl up --org), and checks what a roll-out
// needs: the network from nothing, an agency's link cut under load and healed.
package multihost

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/network"
)

// hosts of the lab: the orderer organisation and three agencies on the national channel, any two
// of which endorse (so one agency cut off does not stop the others).
var labHosts = []struct {
	org  string
	host int
}{{"orderer", 10}, {"asylum-office", 11}, {"border-police", 12}, {"immigration-authority", 13}}

const topologyTmpl = `name: multihost
basePort: %d
batchTimeout: 250ms
maxMessageCount: 100
chaincode: {name: caseledger, version: "1.0"}
ordererOrg: {name: orderer, mspId: OrdererMSP, orderers: 1, host: %s}
orgs:
  - {name: asylum-office, mspId: AsylumOfficeMSP, kind: asylum-office, memberState: DE, host: %s,
     users: [{name: caseworker1, role: caseworker}]}
  - {name: border-police, mspId: BorderPoliceMSP, kind: border-police, memberState: DE, host: %s,
     users: [{name: caseworker1, role: caseworker}]}
  - {name: immigration-authority, mspId: ImmigrationAuthorityMSP, kind: immigration-authority, memberState: DE, host: %s,
     users: [{name: caseworker1, role: caseworker}]}
channels:
  - name: national
    procedure: national
    members: [asylum-office, border-police, immigration-authority]
    endorsement: {outOf: 2, orgs: [asylum-office, border-police, immigration-authority]}
    governance: {outOf: 2, orgs: [asylum-office, border-police, immigration-authority]}
`

// grownTmpl is the description after a second regional immigration authority joined: appended at
// the end (every running org keeps its port block and host), on the national channel, endorsing
// and governing with the others (a majority of four is three).
const grownTmpl = `  - {name: immigration-authority-2, mspId: ImmigrationAuthority2MSP, kind: immigration-authority, memberState: DE, host: %s,
     users: [{name: caseworker1, role: caseworker}]}
channels:
  - name: national
    procedure: national
    members: [asylum-office, border-police, immigration-authority, immigration-authority-2]
    endorsement: {outOf: 2, orgs: [asylum-office, border-police, immigration-authority, immigration-authority-2]}
    governance: {outOf: 3, orgs: [asylum-office, border-police, immigration-authority, immigration-authority-2]}
`

// mh is the running multi-host network.
type mh struct {
	t         *testing.T
	lab       *lab
	moduleDir string
	bundles   string
	netctl    string
	nsclient  string
	env       []string
	work      string
}

func basePort(t *testing.T) int {
	p := 9100
	if v := os.Getenv("CASELEDGER_IT_BASEPORT"); v != "" {
		var err error
		if p, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	// Only the provisioning step uses ports of this host (the CAs while identities are enrolled);
	// away from the other integration network's block.
	return p + 600
}

func TestMultiHost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	moduleDir, err := network.FindModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	m := &mh{t: t, moduleDir: moduleDir, work: work, bundles: filepath.Join(work, "bundles")}
	m.lab = newLab(t)
	fabricBin, err := network.EnsureFabric(ctx, moduleDir)
	if err != nil {
		t.Fatal(err)
	}
	m.env = []string{"CASELEDGER_FABRIC_BIN=" + fabricBin}
	m.netctl, m.nsclient = filepath.Join(work, "bin", "netctl"), filepath.Join(work, "bin", "nsclient")
	for bin, pkg := range map[string]string{m.netctl: "./cmd/netctl", m.nsclient: "./test/multihost/nsclient"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		cmd.Dir = moduleDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v: %s", pkg, err, out)
		}
	}
	ips := map[string]string{}
	for _, h := range labHosts {
		ips[h.org] = m.lab.addHost(h.org, h.host)
	}
	topo := filepath.Join(work, "multihost.yaml")
	y := fmt.Sprintf(topologyTmpl, basePort(t), ips["orderer"], ips["asylum-office"], ips["border-police"], ips["immigration-authority"])
	if err := os.WriteFile(topo, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	grown := filepath.Join(work, "grown.yaml")
	ips["immigration-authority-2"] = subnet + "14"
	g := y[:strings.Index(y, "channels:")] + fmt.Sprintf(grownTmpl, ips["immigration-authority-2"])
	if err := os.WriteFile(grown, []byte(g), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			m.dumpLogs()
		}
	})

	t.Run("up from nothing", func(t *testing.T) {
		start := time.Now()
		// Provisioning: identities and genesis blocks once, split into one bundle per org.
		cmd := exec.CommandContext(ctx, m.netctl, "bundle", "--topology", topo, "--out", m.bundles)
		cmd.Dir, cmd.Env = moduleDir, append(os.Environ(), m.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("netctl bundle: %v: %s", err, out)
		}
		if _, err := os.Stat(filepath.Join(m.bundles, ".provision")); !os.IsNotExist(err) {
			t.Fatalf("the provisioning root (every org's keys) was left behind: %v", err)
		}
		tBundle := time.Since(start)
		// Each org's part on its own host, from its bundle only: the orderers first, then the
		// agencies side by side (they wait for each other's approvals). The asylum office also runs
		// its privacy service and gateway.
		t0 := time.Now()
		m.up(ctx, t, "orderer", true)
		tOrderer := time.Since(t0)
		t0 = time.Now()
		var wg sync.WaitGroup
		for _, h := range labHosts[1:] {
			wg.Add(1)
			go func() { defer wg.Done(); m.up(ctx, t, h.org, h.org != "asylum-office") }()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		tAgencies := time.Since(t0)
		// The asylum office's gateway answers at its own address, from its own host.
		api := filepath.Join(m.bundles, "asylum-office", "connection", "asylum-office-api.json")
		b, err := os.ReadFile(api)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "https://"+ips["asylum-office"]+":") {
			t.Errorf("gateway URL not at the org's host: %s", b)
		}
		// A write endorsed across hosts, then on every peer.
		acked := filepath.Join(work, "smoke.txt")
		out := m.client(ctx, t, "asylum-office", "submit", "--channel", "national", "--for", "3s", "--workers", "1", "--out", acked)
		t.Logf("first writes: %s", strings.TrimSpace(out))
		for _, h := range labHosts[1:] {
			t.Log(strings.TrimSpace(m.client(ctx, t, h.org, "check", "--channel", "national", "--txids", acked, "--wait", "60s")))
		}
		// No organisation's configuration names a file outside its own bundle (another org's, or
		// the provisioning root's): what runs on a host reads only that host's bundle.
		for _, h := range labHosts {
			own := filepath.Join(m.bundles, h.org)
			err := filepath.WalkDir(own, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || strings.Contains(p, "/logs/") || strings.Contains(p, "/data/") || strings.Contains(p, "/bin/") {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				for _, o := range labHosts {
					if other := filepath.Join(m.bundles, o.org) + "/"; o.org != h.org && strings.Contains(string(b), other) {
						t.Errorf("%s names %s", p, other)
					}
				}
				if strings.Contains(string(b), ".provision") {
					t.Errorf("%s names the provisioning root", p)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("multi-host network from nothing: bundles %s, orderer host %s, agency hosts %s, total %s",
			tBundle.Round(time.Millisecond), tOrderer.Round(time.Millisecond), tAgencies.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	})
	if t.Failed() {
		return
	}

	t.Run("partition and heal under load", func(t *testing.T) {
		// The asylum office writes for 40 s; meanwhile the border police's host link is down for
		// 15 s. Every acknowledged write must be on every peer afterwards, the border police's
		// included, without anybody doing anything.
		acked := filepath.Join(work, "partition.txt")
		var out string
		done := make(chan struct{})
		go func() {
			defer close(done)
			out = m.client(ctx, t, "asylum-office", "submit", "--channel", "national", "--for", "40s", "--workers", "2", "--out", acked)
		}()
		// A step that fails ends the test while the load still runs: wait for it, so it does not
		// report into a finished test (a panic that leaves the lab behind).
		defer func() { <-done }()
		time.Sleep(8 * time.Second)
		before := m.height(ctx, t, "border-police")
		m.lab.cut("border-police", true)
		cutAt := time.Now()
		time.Sleep(15 * time.Second)
		// Cut off, its peer fell behind the others (the cut is real)...
		behind, ahead := m.height(ctx, t, "border-police"), m.height(ctx, t, "asylum-office")
		m.lab.cut("border-police", false)
		healed := time.Now()
		t.Logf("border-police link down for %s: height %d -> %d while the asylum office reached %d", healed.Sub(cutAt).Round(time.Millisecond), before, behind, ahead)
		if behind >= ahead {
			t.Errorf("border-police did not fall behind while cut off (%d >= %d)", behind, ahead)
		}
		// ...and catches up by itself once the link is back, while the load goes on.
		for m.height(ctx, t, "border-police") < ahead && time.Since(healed) < 2*time.Minute && !t.Failed() {
			time.Sleep(500 * time.Millisecond)
		}
		t.Logf("border-police back at height %d (the others' at the heal) %s after the link came back", ahead, time.Since(healed).Round(time.Millisecond))
		<-done
		t.Logf("load during the partition: %s", strings.TrimSpace(out))
		for _, h := range labHosts[1:] {
			t.Log(strings.TrimSpace(m.client(ctx, t, h.org, "check", "--channel", "national", "--txids", acked, "--wait", "120s")))
		}
		hs := map[string]uint64{}
		for _, h := range labHosts[1:] {
			hs[h.org] = m.height(ctx, t, h.org)
		}
		if hs["border-police"] != hs["asylum-office"] || hs["asylum-office"] != hs["immigration-authority"] {
			// Heights may differ by a block committed between the reads; the check above is the
			// guarantee, this is reported.
			t.Logf("heights after heal: %v", hs)
		}
		// The healed agency writes again, endorsed across hosts.
		again := filepath.Join(work, "after-heal.txt")
		t.Log(strings.TrimSpace(m.client(ctx, t, "border-police", "submit", "--channel", "national", "--for", "2s", "--workers", "1", "--out", again)))
		t.Log(strings.TrimSpace(m.client(ctx, t, "immigration-authority", "check", "--channel", "national", "--txids", again, "--wait", "60s")))
	})
	if t.Failed() {
		return
	}

	t.Run("an agency joins under load", func(t *testing.T) {
		const newOrg = "immigration-authority-2"
		m.lab.addHost(newOrg, 14)
		joinB := filepath.Join(m.bundles, newOrg)
		pub := filepath.Join(work, "ia2-public")
		upd := filepath.Join(work, "national-add-ia2.pb")
		ao, bp := filepath.Join(m.bundles, "asylum-office"), filepath.Join(m.bundles, "border-police")
		ia := filepath.Join(m.bundles, "immigration-authority")
		steps := map[string]time.Duration{}
		step := func(name, org string, args ...string) {
			t.Helper()
			start := time.Now()
			out, err := m.lab.exec(ctx, org, m.moduleDir, m.env, append([]string{m.netctl}, args...)...)
			if err != nil {
				t.Fatalf("%s (netctl %s) on %s's host: %v\n%s", name, strings.Join(args, " "), org, err, lastLines(out, 20))
			}
			steps[name] = time.Since(start)
			t.Logf("%-44s %-24s %s", name, org, steps[name].Round(time.Millisecond))
		}
		// The asylum office writes all along: no write may be refused or lost because of the change.
		acked := filepath.Join(work, "join.txt")
		var load string
		done := make(chan struct{})
		go func() {
			defer close(done)
			load = m.client(ctx, t, "asylum-office", "submit", "--channel", "national", "--for", "45s", "--workers", "2", "--out", acked)
		}()
		// A step that fails ends the test while the load still runs: wait for it, so it does not
		// report into a finished test (a panic that leaves the lab behind).
		defer func() { <-done }()
		// CASELEDGER_JOIN_PRELOAD=2m: a longer ledger first (measuring catch-up, not in CI).
		if d, err := time.ParseDuration(os.Getenv("CASELEDGER_JOIN_PRELOAD")); err == nil && d > 0 {
			pre := filepath.Join(work, "preload.txt")
			t.Logf("preload: %s", strings.TrimSpace(m.client(ctx, t, "asylum-office", "submit", "--channel", "national", "--for", d.String(), "--workers", "4", "--out", pre)))
		}
		// CASELEDGER_JOIN_BY=snapshot: the joiner's peer starts from a ledger snapshot of the asylum
		// office's peer instead of pulling every block from the orderers (both measured in
		// docs/operations.md).
		bundleArgs := []string{"org", "bundle", "--org", "asylum-office", "--root", ao, "--topology", grown, "--new", newOrg, "--out", joinB}
		if os.Getenv("CASELEDGER_JOIN_BY") == "snapshot" {
			bundleArgs = append(bundleArgs, "--snapshot")
		}
		step("1 member writes the joiner's bundle", "asylum-office", bundleArgs...)
		step("2 joiner creates CAs and identities", newOrg, "org", "init", "--org", newOrg, "--root", joinB)
		step("3 joiner exports its public material", newOrg, "org", "export", "--org", newOrg, "--root", joinB, "--out", pub)
		step("4 member imports it", "asylum-office", "org", "import", "--org", "asylum-office", "--root", ao, "--topology", grown, "--new", newOrg, "--from", pub)
		step("5 member computes the update", "asylum-office", "channel", "propose", "--org", "asylum-office", "--root", ao, "--topology", grown, "--channel", "national", "--out", upd)
		// One governing admin's signature is not enough (Admins: 2 of 3): the orderers refuse it.
		lone := filepath.Join(work, "lone.pb")
		if b, err := os.ReadFile(upd); err != nil || os.WriteFile(lone, b, 0o600) != nil {
			t.Fatal(err)
		}
		if out, err := m.lab.exec(ctx, "asylum-office", m.moduleDir, m.env, m.netctl, "channel", "submit", "--org", "asylum-office", "--root", ao, "--channel", "national", "--update", lone); err == nil {
			t.Fatalf("an update signed by one governing admin was applied:\n%s", out)
		} else {
			t.Logf("one admin's signature refused: %s", lastLines(out, 1))
		}
		step("6 asylum office's admin signs", "asylum-office", "channel", "sign", "--org", "asylum-office", "--root", ao, "--update", upd)
		step("7 border police's admin signs and submits", "border-police", "channel", "submit", "--org", "border-police", "--root", bp, "--channel", "national", "--update", upd)
		out, err := m.lab.exec(ctx, "border-police", m.moduleDir, m.env, m.netctl, "channel", "members", "--org", "border-police", "--root", bp, "--channel", "national")
		if err != nil || !strings.Contains(out, "ImmigrationAuthority2MSP") {
			t.Fatalf("the channel configuration does not name the new agency: %v\n%s", err, out)
		}
		// The chaincode definition at the next sequence: the grown endorsement policy and
		// collections, approved by each governing org on its own host (3 of the 4 now), committed
		// by one; the existing chaincode servers keep running.
		for org, root := range map[string]string{"asylum-office": ao, "border-police": bp, "immigration-authority": ia} {
			step("8 "+org+" approves the next definition", org, "chaincode", "approve", "--org", org, "--root", root, "--topology", grown, "--channel", "national")
		}
		step("9 asylum office commits it", "asylum-office", "chaincode", "commit", "--org", "asylum-office", "--root", ao, "--topology", grown, "--channel", "national")
		// The chaincode's membership (which MSP id is which agency kind): on the ledger, changed by
		// a governance transaction once a majority of the governing admins (2 of the 3 in force)
		// approved the document each derives from its own copy of the grown description. The
		// existing chaincode servers keep running: their process ids are the same afterwards.
		pids := map[string]string{}
		for org, root := range map[string]string{"asylum-office": ao, "border-police": bp, "immigration-authority": ia} {
			pids[org] = m.ccserverPID(ctx, t, org, root)
		}
		mb := func(verb, org, root string) []string {
			return []string{"membership", verb, "--org", org, "--root", root, "--topology", grown, "--channel", "national"}
		}
		step("10 asylum office's admin approves the membership", "asylum-office", mb("approve", "asylum-office", ao)...)
		// One approval is not enough: the chaincode refuses the change (FORBIDDEN, 1 of 2).
		if out, err := m.lab.exec(ctx, "asylum-office", m.moduleDir, m.env, append([]string{m.netctl}, mb("set", "asylum-office", ao)...)...); err == nil {
			t.Fatalf("the membership was changed with one approval:\n%s", out)
		} else if !strings.Contains(out, "FORBIDDEN") {
			t.Fatalf("membership set with one approval: %v\n%s", err, lastLines(out, 5))
		} else {
			t.Logf("one approval refused: %s", lineWith(out, "FORBIDDEN"))
		}
		step("11 border police's admin approves it", "border-police", mb("approve", "border-police", bp)...)
		step("12 border police's admin sets it", "border-police", mb("set", "border-police", bp)...)
		out, err = m.lab.exec(ctx, "immigration-authority", m.moduleDir, m.env, m.netctl, "membership", "show", "--org", "immigration-authority", "--root", ia,
			"--topology", grown, "--channel", "national")
		if err != nil || !strings.Contains(out, "(in force)") || !strings.Contains(out, "ImmigrationAuthority2MSP") || !strings.Contains(out, "a change needs 3 of") {
			t.Fatalf("the membership in force is not the grown one: %v\n%s", err, out)
		}
		for org, root := range map[string]string{"asylum-office": ao, "border-police": bp, "immigration-authority": ia} {
			if pid := m.ccserverPID(ctx, t, org, root); pid != pids[org] {
				t.Errorf("%s's chaincode server changed (pid %s -> %s)", org, pids[org], pid)
			}
		}
		// The joiner's part: its peer joins with the genesis block and pulls every block from the orderers.
		target := m.height(ctx, t, "asylum-office")
		start := time.Now()
		m.up(ctx, t, newOrg, true)
		steps["13 joiner up (peer joins, catches up, chaincode)"] = time.Since(start)
		for m.height(ctx, t, newOrg) < target && time.Since(start) < 3*time.Minute && !t.Failed() {
			time.Sleep(500 * time.Millisecond)
		}
		t.Logf("joiner at height %d (the others' when it started) %s after its up began", target, time.Since(start).Round(time.Millisecond))
		<-done
		t.Logf("load during the join: %s", strings.TrimSpace(load))
		if !strings.Contains(load, " failed 0") {
			t.Errorf("writes refused during the join: %s", load)
		}
		// Every acknowledged write — from before the join and during it — is on the joiner's peer.
		// A peer that joined from a snapshot holds the state at the snapshot, not the blocks
		// before it: transactions before the snapshot cannot be looked up on it.
		checks := []string{acked, filepath.Join(work, "partition.txt")}
		if os.Getenv("CASELEDGER_JOIN_BY") == "snapshot" {
			checks = checks[:1]
			t.Log("joined from a snapshot: blocks before it are not on the joiner's peer (not checked)")
		}
		for _, f := range checks {
			t.Log(strings.TrimSpace(m.client(ctx, t, newOrg, "check", "--channel", "national", "--txids", f, "--wait", "120s")))
		}
		// The new agency endorses: a write endorsed by it and the asylum office alone commits VALID
		// under the new definition, on every peer.
		byNew := filepath.Join(work, "endorsed-by-ia2.txt")
		t.Log(strings.TrimSpace(m.client(ctx, t, "asylum-office", "submit", "--channel", "national", "--for", "2s", "--workers", "1",
			"--endorsers", "AsylumOfficeMSP,ImmigrationAuthority2MSP", "--out", byNew)))
		for _, h := range labHosts[1:] {
			t.Log(strings.TrimSpace(m.client(ctx, t, h.org, "check", "--channel", "national", "--txids", byNew, "--wait", "60s")))
		}
		// Its own writes are accepted by every endorser (the membership on the ledger names it; no
		// chaincode server was restarted) and commit on every peer.
		ownTx := filepath.Join(work, "ia2-own.txt")
		own := m.client(ctx, t, newOrg, "submit", "--channel", "national", "--for", "2s", "--workers", "1", "--out", ownTx)
		t.Logf("the new agency's own writes: %s", strings.TrimSpace(own))
		if !strings.Contains(own, " failed 0") || strings.HasPrefix(strings.TrimSpace(own), "acked 0 ") {
			t.Errorf("the new agency's own writes were refused: %s", own)
		}
		for _, h := range labHosts[1:] {
			t.Log(strings.TrimSpace(m.client(ctx, t, h.org, "check", "--channel", "national", "--txids", ownTx, "--wait", "60s")))
		}
		var names []string
		for name := range steps {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			t.Logf("step %-52s %s", name, steps[name].Round(time.Millisecond))
		}
	})
	if t.Failed() {
		return
	}
	t.Run("an organisation leaves under load", func(t *testing.T) { testLeave(ctx, t, m, grown) })
}

// up starts org's part on its host from its bundle.
func (m *mh) up(ctx context.Context, t *testing.T, org string, noServices bool) {
	args := []string{m.netctl, "up", "--org", org, "--root", filepath.Join(m.bundles, org)}
	if noServices {
		args = append(args, "--no-services")
	}
	start := time.Now()
	out, err := m.lab.exec(ctx, org, m.moduleDir, m.env, args...)
	if err != nil {
		t.Errorf("netctl up --org %s: %v\n%s", org, err, lastLines(out, 30))
		return
	}
	t.Logf("%s up on %s in %s", org, m.lab.ip[org], time.Since(start).Round(time.Millisecond))
}

// ccserverPID is the process id of org's chaincode server, as `netctl status` on its host lists it.
func (m *mh) ccserverPID(ctx context.Context, t *testing.T, org, root string) string {
	out, _ := m.lab.exec(ctx, org, m.moduleDir, m.env, m.netctl, "status", "--org", org, "--root", root)
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == network.ChaincodeNode(org) && f[2] == "running" {
			return f[1]
		}
	}
	t.Errorf("no running chaincode server of %s in its status:\n%s", org, out)
	return ""
}

// client runs nsclient as org on org's host; a failure fails the test.
func (m *mh) client(ctx context.Context, t *testing.T, org string, args ...string) string {
	full := append([]string{m.nsclient, args[0], "--root", filepath.Join(m.bundles, org), "--org", org}, args[1:]...)
	out, err := m.lab.exec(ctx, org, m.work, nil, full...)
	if err != nil {
		t.Errorf("nsclient %s as %s: %v\n%s", args[0], org, err, lastLines(out, 20))
	}
	return out
}

func (m *mh) height(ctx context.Context, t *testing.T, org string) uint64 {
	out := m.client(ctx, t, org, "height", "--channel", "national")
	h, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
	if err != nil {
		t.Errorf("height of %s: %q", org, out)
	}
	return h
}

// dumpLogs prints the end of every node's log of every bundle (a failed run's post-mortem).
func (m *mh) dumpLogs() {
	logs, _ := filepath.Glob(filepath.Join(m.bundles, "*", "logs", "*.log"))
	for _, f := range logs {
		b, _ := os.ReadFile(f)
		m.t.Logf("=== %s\n%s", f, lastLines(string(b), 15))
	}
}

// lineWith is the first line of s that contains sub.
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
