package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/console"
	"github.com/caseledger/caseledger/network"
)

// The demo's epilogue: one console account per agency (two at the asylum
// office), in each gateway's user file, with the password it prints; run
// again, the same accounts get fresh passwords.
func TestPrintConsole(t *testing.T) {
	desc, err := network.LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	n, err := network.New(desc, network.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range desc.Orgs {
		b, _ := json.Marshal(api.APIInfo{Org: o.Name, MSPID: o.MSPID, URL: "https://127.0.0.1:1/" + o.Name, CAFile: "/ca/" + o.Name})
		_ = os.MkdirAll(filepath.Dir(n.APIInfoPath(o.Name)), 0o755)
		if err := os.WriteFile(n.APIInfoPath(o.Name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	line := regexp.MustCompile(`(?m)^\s+(\S+)\s+(https://\S+/console/)\s+user (\S+)\s+password (\S+)$`)
	for run := range 2 {
		var out bytes.Buffer
		if err := printConsole(&out, n); err != nil {
			t.Fatal(err)
		}
		ms := line.FindAllStringSubmatch(out.String(), -1)
		if len(ms) != len(desc.Orgs)+1 {
			t.Fatalf("run %d: %d accounts printed:\n%s", run, len(ms), out.String())
		}
		for _, m := range ms {
			org, url, user, pw := m[1], m[2], m[3], m[4]
			if !strings.Contains(url, org) {
				t.Errorf("URL %s for %s", url, org)
			}
			users, err := console.OpenUsers(filepath.Join(n.GatewayDataDir(org), console.DefaultUsersFile), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := users.Authenticate(user, pw); !ok {
				t.Errorf("run %d: %s/%s cannot sign in with the printed password", run, org, user)
			}
		}
	}
}
