// Package test holds the tests of caseledger as a whole: agencies, their gateways and privacy
// services, and the ledger between them.
//
// The same bodies run on two networks of agencies (package test/framework). A plain `go test ./...`
// runs them in this process: gateways over httptest listeners, real privacy stores in temporary
// folders, the real chaincode over an in-process ledger; no Fabric needed. Built with the
// integration tag (`make test` sets it) they run against a real Fabric network that TestMain brings
// up from nothing in a temporary folder and tears down afterwards; files with that tag hold the
// tests only the real network can run (killed or frozen nodes, raw ledger files and logs, a
// dishonest member talking to the peers directly). After every test, TestMain runs
// TestNoPersonalDataOnLedger: every block (both runners), every node's files and every log (real
// network) searched for the identifiers the tests sent.
//
// A new test goes in a file without a build tag if it needs only what framework.Cluster offers;
// otherwise in a file with `//go:build integration`, where itNet is the real network.
package test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/caseledger/caseledger/test/framework"
)

// cluster is the network every test in this package shares (TestMain owns it).
var cluster framework.Cluster

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := startCluster(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test network:", err)
		return 1
	}
	cluster = c
	code := m.Run()
	// What must hold after every test has written (the scans of the ledger for identifiers) runs
	// here, after m.Run, not by the order of file names.
	if !afterAllTests() {
		code = 1
	}
	if err := c.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}
