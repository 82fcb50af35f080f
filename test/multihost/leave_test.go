//go:build integration

package multihost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shrunkChannels: the border police leaves the national channel. It stays in the description's
// organisations (its port block and MSP id stay taken; the chaincode still knows who wrote its
// cases) but is no member, endorser or governor of any channel.
const shrunkChannels = `channels:
  - name: national
    procedure: national
    members: [asylum-office, immigration-authority, immigration-authority-2]
    endorsement: {outOf: 2, orgs: [asylum-office, immigration-authority, immigration-authority-2]}
    governance: {outOf: 2, orgs: [asylum-office, immigration-authority, immigration-authority-2]}
`

// testLeave: an organisation is removed by the same signed procedure, under load; its next
// signature is refused; what it wrote stays on everybody's ledger.
func testLeave(ctx context.Context, t *testing.T, m *mh, grown string) {
	g, err := os.ReadFile(grown)
	if err != nil {
		t.Fatal(err)
	}
	shrunk := filepath.Join(m.work, "shrunk.yaml")
	s := string(g)
	if err := os.WriteFile(shrunk, []byte(s[:strings.Index(s, "channels:")]+shrunkChannels), 0o644); err != nil {
		t.Fatal(err)
	}
	root := func(org string) string { return filepath.Join(m.bundles, org) }
	upd := filepath.Join(m.work, "national-remove-bp.pb")
	step := func(name, org string, args ...string) {
		t.Helper()
		start := time.Now()
		out, err := m.lab.exec(ctx, org, m.moduleDir, m.env, append([]string{m.netctl}, args...)...)
		if err != nil {
			t.Fatalf("%s (netctl %s) on %s's host: %v\n%s", name, strings.Join(args, " "), org, err, lastLines(out, 20))
		}
		t.Logf("%-44s %-24s %s", name, org, time.Since(start).Round(time.Millisecond))
	}
	// Before: the border police writes (cases of its own that must stay readable).
	before := filepath.Join(m.work, "bp-before-leave.txt")
	t.Log(strings.TrimSpace(m.client(ctx, t, "border-police", "submit", "--channel", "national", "--for", "2s", "--workers", "1", "--out", before)))

	// Its certificates revoked first (say a caseworker's key was lost): its own CA revokes, the CRL
	// goes into its MSP definition on the channel by an update that only its own admin may make.
	pubCRL, updCRL := filepath.Join(m.work, "bp-public-crl"), filepath.Join(m.work, "national-bp-crl.pb")
	step("0a border police revokes its caseworker", "border-police", "org", "revoke", "--org", "border-police", "--root", root("border-police"), "--ids", "caseworker1")
	step("0b border police exports its MSP with the CRL", "border-police", "org", "export", "--org", "border-police", "--root", root("border-police"), "--out", pubCRL)
	step("0c member imports it", "asylum-office", "org", "import", "--org", "asylum-office", "--root", root("asylum-office"), "--topology", grown, "--new", "border-police", "--from", pubCRL)
	step("0d member computes the update", "asylum-office", "channel", "propose", "--org", "asylum-office", "--root", root("asylum-office"), "--topology", grown, "--channel", "national", "--out", updCRL)
	step("0e border police's admin signs and submits", "border-police", "channel", "submit", "--org", "border-police", "--root", root("border-police"), "--channel", "national", "--update", updCRL)
	// Sent by the revoked caseworker straight to the asylum office's peer (as a dishonest member
	// would): refused.
	revoked, err := m.lab.exec(ctx, "border-police", m.work, nil, m.nsclient, "submit", "--root", root("border-police"), "--org", "border-police",
		"--channel", "national", "--for", "2s", "--workers", "1", "--via", "asylum-office", "--out", filepath.Join(m.work, "bp-revoked.txt"))
	t.Logf("the revoked caseworker's write: %s", lastLines(revoked, 3))
	if err != nil || !strings.Contains(revoked, "acked 0 ") || !strings.Contains(revoked, "access denied") {
		t.Errorf("a revoked certificate still signs valid writes, or was refused for another reason (%v): %s", err, revoked)
	}
	// Control: the same org's admin, whose certificate is not revoked, on the same path passes the
	// identity check (the chaincode then refuses the admin role a registration: another refusal).
	control, _ := m.lab.exec(ctx, "border-police", m.work, nil, m.nsclient, "submit", "--root", root("border-police"), "--org", "border-police",
		"--channel", "national", "--for", "1s", "--workers", "1", "--role", "admin", "--via", "asylum-office", "--out", filepath.Join(m.work, "bp-admin.txt"))
	t.Logf("control, the org's unrevoked admin: %s", lastLines(control, 3))
	if strings.Contains(control, "access denied") {
		t.Errorf("the unrevoked admin is refused as well: the refusal above is not the CRL's: %s", control)
	}

	acked := filepath.Join(m.work, "leave.txt")
	var load string
	done := make(chan struct{})
	go func() {
		defer close(done)
		load = m.client(ctx, t, "asylum-office", "submit", "--channel", "national", "--for", "30s", "--workers", "2", "--out", acked)
	}()
	// A step that fails ends the test while the load still runs: wait for it, so it does not
	// report into a finished test (a panic that leaves the lab behind).
	defer func() { <-done }()
	// First the chaincode definition without it (sequence 3), approved by the governing orgs that
	// stay, while it is still a member: a transaction it endorsed and that commits after this is
	// invalidated by the definition change (MVCC on the definition, retried as a new one), not
	// refused. Removing it from the channel first left transactions it had just endorsed to
	// commit as ENDORSEMENT_POLICY_FAILURE: 2 writes refused in one run of this test.
	for _, org := range []string{"asylum-office", "immigration-authority", "immigration-authority-2"} {
		step("1 "+org+" approves the next definition", org, "chaincode", "approve", "--org", org, "--root", root(org), "--topology", shrunk, "--channel", "national")
	}
	step("2 asylum office commits it", "asylum-office", "chaincode", "commit", "--org", "asylum-office", "--root", root("asylum-office"), "--topology", shrunk, "--channel", "national")
	// The chaincode's membership without it on the channel (it stays a member of the network: its
	// cases keep their author): 3 of the 4 governing admins in force approve, the new agency among
	// them; one sets it. From then on every endorser's chaincode refuses it.
	for _, org := range []string{"asylum-office", "immigration-authority", "immigration-authority-2"} {
		step("2a "+org+" approves the membership without it", org, "membership", "approve", "--org", org, "--root", root(org), "--topology", shrunk, "--channel", "national")
	}
	// A coalition that meets the chaincode's endorsement policy (2 agencies) but not the rule the
	// join set on the membership key (3 of 4 governing peers): the chaincode it runs accepts the
	// change (the approvals are there), the peers invalidate it at commit.
	coal, err := m.lab.exec(ctx, "asylum-office", m.work, nil, m.nsclient, "set-membership", "--root", root("asylum-office"), "--org", "asylum-office",
		"--channel", "national", "--topology", shrunk, "--endorsers", "AsylumOfficeMSP,ImmigrationAuthorityMSP")
	t.Logf("the membership endorsed by two agencies' peers only: %s", lastLines(coal, 1))
	if err != nil || !strings.Contains(coal, "committed ENDORSEMENT_POLICY_FAILURE") {
		t.Errorf("a membership change endorsed by 2 of the 4 governing peers was not invalidated (%v): %s", err, coal)
	}
	step("2b immigration authority sets it", "immigration-authority", "membership", "set", "--org", "immigration-authority", "--root", root("immigration-authority"), "--topology", shrunk, "--channel", "national")
	// Governance is 3 of 4 admins now; the new agency is one of them.
	step("3 member computes the removal", "asylum-office", "channel", "propose", "--org", "asylum-office", "--root", root("asylum-office"), "--topology", shrunk, "--channel", "national", "--out", upd)
	step("4 asylum office's admin signs", "asylum-office", "channel", "sign", "--org", "asylum-office", "--root", root("asylum-office"), "--update", upd)
	step("5 immigration authority's admin signs", "immigration-authority", "channel", "sign", "--org", "immigration-authority", "--root", root("immigration-authority"), "--update", upd)
	step("6 new agency's admin signs and submits", "immigration-authority-2", "channel", "submit", "--org", "immigration-authority-2", "--root", root("immigration-authority-2"), "--channel", "national", "--update", upd)
	out, err := m.lab.exec(ctx, "asylum-office", m.moduleDir, m.env, m.netctl, "channel", "members", "--org", "asylum-office", "--root", root("asylum-office"), "--channel", "national")
	if err != nil || strings.Contains(out, "BorderPoliceMSP") {
		t.Fatalf("the border police is still in the channel configuration: %v\n%s", err, out)
	}
	<-done
	t.Logf("load during the removal: %s", strings.TrimSpace(load))
	if !strings.Contains(load, " failed 0") {
		t.Errorf("writes refused during the removal: %s", load)
	}
	// Its next signature is refused: its own client, through its own peer, gets nothing committed.
	// (its admin, whose certificate was never revoked, straight to the asylum office's peer)
	refused, err := m.lab.exec(ctx, "border-police", m.work, nil, m.nsclient, "submit", "--root", root("border-police"), "--org", "border-police",
		"--channel", "national", "--for", "3s", "--workers", "1", "--role", "admin", "--via", "asylum-office", "--out", filepath.Join(m.work, "bp-after-leave.txt"))
	t.Logf("the removed agency's write after the removal: %s", lastLines(refused, 3))
	if err != nil || !strings.Contains(refused, "acked 0 ") || !strings.Contains(refused, "creator org unknown") {
		t.Errorf("the removed agency still writes, or was refused for another reason (%v): %s", err, refused)
	}
	// What it wrote, and everything acknowledged meanwhile, stays on the others' ledgers.
	for _, org := range []string{"asylum-office", "immigration-authority", "immigration-authority-2"} {
		for _, f := range []string{before, acked} {
			t.Log(strings.TrimSpace(m.client(ctx, t, org, "check", "--channel", "national", "--txids", f, "--wait", "60s")))
		}
	}
}
