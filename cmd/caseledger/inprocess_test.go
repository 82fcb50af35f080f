package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain/deadline"
	"github.com/caseledger/caseledger/test/framework"
)

// TestNewcomerOnTheGateways runs the command line as a newcomer meets it against
// the real gateways of the demo topology (in process: gateway.Server, privacy
// stores, the real chaincode), from the connection files alone: --org without
// --role takes a role and says which, show and cases print the date of the act
// and the recording date only when it differs, holidays show answers for a
// year without a calendar and asks the auditor for --member-state, and audit
// late lists a registration recorded late.
func TestNewcomerOnTheGateways(t *testing.T) {
	ctx := context.Background()
	c, err := framework.StartInProcess(ctx, framework.InProcessOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	root := t.TempDir()
	for _, org := range c.Orgs() {
		info, err := c.API(org)
		if err != nil {
			t.Fatal(err)
		}
		writeProfile(t, root, info)
	}
	env := map[string]string{"CASELEDGER_ROOT": root}
	run := func(wantCode int, args ...string) result {
		t.Helper()
		r := cli(t, env, args...)
		if r.code != wantCode {
			t.Fatalf("%q: exit %d, want %d\n%s%s", args, r.code, wantCode, r.stdout, r.stderr)
		}
		return r
	}
	today, err := deadline.ParseDate(Today(time.Now(), "DE"))
	if err != nil {
		t.Fatal(err)
	}
	actDay := today.AddDays(-5).String()

	r := run(exitOK, "--org", "border-police", "register", "--channel", "national", "--ref", "BP-LATE", "--date", actDay)
	if !strings.Contains(r.stderr, "border-police as caseworker (it also has admin: choose with --role)") {
		t.Errorf("register: no note of the role taken:\n%s", r.stderr)
	}
	run(exitOK, "--org", "border-police", "--quiet", "register", "--channel", "national", "--ref", "BP-TODAY")

	r = run(exitOK, "--org", "border-police", "--quiet", "show", "--channel", "national", "--ref", "BP-LATE")
	if !strings.Contains(r.stdout, "registered       "+actDay+" (recorded ") {
		t.Errorf("show: the date of the act and the recording date, want %s (recorded …):\n%s", actDay, r.stdout)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) == 1 && f[0] != "" && !strings.Contains(line, "case") {
			t.Errorf("show: row %q without a value:\n%s", line, r.stdout)
		}
	}
	r = run(exitOK, "--org", "border-police", "--quiet", "show", "--channel", "national", "--ref", "BP-TODAY")
	if strings.Contains(r.stdout, "(recorded") {
		t.Errorf("show: the recording date printed although it is the day of the act:\n%s", r.stdout)
	}
	r = run(exitOK, "--org", "border-police", "--quiet", "cases", "--channel", "national", "--status", "REGISTERED")
	for _, line := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasSuffix(line, "BP-LATE") && !strings.Contains(line, actDay+" (recorded "):
			t.Errorf("cases: late registration without both dates: %q", line)
		case strings.HasSuffix(line, "BP-TODAY") && strings.Contains(line, "(recorded"):
			t.Errorf("cases: same-day registration with a recording date: %q", line)
		}
	}

	r = run(exitUsage, "--org", "auditor", "holidays", "show")
	if !strings.Contains(r.stderr, "auditor as auditor") || !strings.Contains(r.stderr, "--member-state is required") {
		t.Errorf("holidays show as the auditor:\n%s", r.stderr)
	}
	r = run(exitOK, "--org", "auditor", "--quiet", "holidays", "show", "--member-state", "AT", "--year", "2031")
	if !strings.Contains(r.stdout, "public holidays of AT in 2031: none recorded") {
		t.Errorf("holidays show without a calendar:\n%s", r.stdout)
	}
	r = run(exitOK, "--org", "partner-state", "holidays", "set", "--year", "2031", "--dates", "2031-01-01,2031-12-25")
	if !strings.Contains(r.stderr, "partner-state as dublin-officer") {
		t.Errorf("holidays set: no note of the role taken:\n%s", r.stderr)
	}
	r = run(exitOK, "--org", "auditor", "--quiet", "holidays", "show", "--member-state", "AT", "--year", "2031")
	if !strings.Contains(r.stdout, "public holidays of AT in 2031: 2") || strings.Contains(r.stdout, "recorded by") {
		t.Errorf("holidays show with a calendar:\n%s", r.stdout)
	}

	r = run(exitOK, "--org", "auditor", "--quiet", "audit", "late", "--channel", "national")
	if !strings.Contains(r.stdout, "CASE_REGISTERED") || !strings.Contains(r.stdout, actDay) || strings.Contains(r.stdout, "[automatic]") {
		t.Errorf("audit late: the late registration, not marked automatic:\n%s", r.stdout)
	}
}
