package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain/deadline"
)

func TestTextTable(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"AMMR switch 2026-07-01",
		"TRANSFER_EXTENDED_ABSCONDING",
		"AMMR_CRISIS",
		"V(RO)",
		"NOT VERIFIED",
		"1W..1M", // urgent reply range, 21(2)/22(6)
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text table lacks %q", want)
		}
	}
	// Columns of the Dublin III transfer row, split on the tabwriter padding.
	var transfer []string
	for _, line := range strings.Split(text, "\n") {
		if cols := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1); len(cols) > 2 && cols[0] == "DUBLIN_III" && cols[2] == "TRANSFER" {
			transfer = cols
		}
	}
	if got := strings.Join(transfer, "|"); got != "DUBLIN_III|604/2013 Art 29(1), 29(2)|TRANSFER|6M|ACCEPTANCE_OR_SUSPENSIVE_APPEAL_DECIDED|RESPONSIBILITY_SHIFTS|V|V|no" {
		t.Errorf("Dublin III transfer row = %q", got)
	}
	// One line per row plus the two header lines and the blank line.
	total := 0
	for _, r := range deadline.Regimes() {
		total += len(deadline.Rules(r, deadline.DefaultConfig()))
	}
	if lines := strings.Count(text, "\n"); lines != total+3 {
		t.Errorf("got %d lines, want %d", lines, total+3)
	}
}

func TestUnverifiedJSONWithConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cfg.json")
	cfg := `{"ammrSwitchDate":"2026-07-01","switchDayRegime":"AMMR","pendingProcedure":"DUBLIN_III_LIMITS",
		"periodOverrides":{"AMMR":{"TRANSFER_EXTENDED_ABSCONDING":"18M"}}}`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run([]string{"--config", path, "--unverified", "--notes"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\nNOTES\nDUBLIN_III REPLY_TAKE_CHARGE (604/2013 Art 22(1), 22(7)): silence is") {
		t.Errorf("notes section missing:\n%s", out.String())
	}
	out.Reset()
	if err := run([]string{"--config", path, "--unverified", "--json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Config deadline.Config `json:"config"`
		Rules  []deadline.Rule `json:"rules"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if doc.Config.PendingProcedure != deadline.PendingDublinIII {
		t.Errorf("config not echoed: %+v", doc.Config)
	}
	if len(doc.Rules) != len(deadline.Unverified(doc.Config)) {
		t.Fatalf("got %d rows, want the %d unverified ones", len(doc.Rules), len(deadline.Unverified(doc.Config)))
	}
	found := false
	for _, r := range doc.Rules {
		if !r.Configurable {
			t.Errorf("--unverified listed a verified row: %v", r)
		}
		if r.Regime == deadline.AMMR && r.Step == deadline.TransferExtendedAbsconding {
			found = r.Period == deadline.MonthsPeriod(18) && r.Overridden
		}
	}
	if !found {
		t.Error("configured 46(2) override missing from the output")
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"ammrSwitchDate":"2026-07-01"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--config", bad},
		{"--config", filepath.Join(dir, "missing.json")},
		{"--bogus"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if err := run(args, &out, &errOut); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
