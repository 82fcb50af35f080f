// Package test holds the integration and end-to-end tests. They run against a real Fabric network
// (Fabric CA, Raft orderers, peers, chaincode servers as local processes) that TestMain brings up
// from nothing in a temporary folder and tears down afterwards.
package test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/caseledger/caseledger/network"
)

// itNet is the network every integration test in this package shares (TestMain owns it).
var itNet *network.Network

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	n, err := startNetwork(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration network:", err)
		return 1
	}
	itNet = n
	code := m.Run()
	pids := map[string]int{}
	for _, s := range n.Status() {
		pids[s.Name] = s.PID
	}
	if err := n.Down(os.Getenv("CASELEDGER_KEEP_TEST_NETWORK") == ""); err != nil {
		fmt.Fprintln(os.Stderr, "tear down:", err)
		return 1
	}
	// Nothing may outlive the tests: every node we started must be gone.
	for name, pid := range pids {
		if alive(pid) {
			fmt.Fprintf(os.Stderr, "tear down: %s (pid %d) still running\n", name, pid)
			code = 1
		}
	}
	return code
}

func startNetwork(ctx context.Context) (*network.Network, error) {
	moduleDir, err := network.FindModuleDir(".")
	if err != nil {
		return nil, err
	}
	bin, err := network.EnsureFabric(ctx, moduleDir)
	if err != nil {
		return nil, err
	}
	desc, err := network.LoadBuiltin("demo")
	if err != nil {
		return nil, err
	}
	// Same topology as the demo, on its own ports, so a running demo does not disturb the tests;
	// CASELEDGER_IT_BASEPORT moves them (two test runs at once on one machine).
	desc.Name, desc.BasePort = "it", 9100
	if v := os.Getenv("CASELEDGER_IT_BASEPORT"); v != "" {
		if desc.BasePort, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("CASELEDGER_IT_BASEPORT: %w", err)
		}
	}
	root, err := os.MkdirTemp("", "caseledger-it-")
	if err != nil {
		return nil, err
	}
	logw := io.Discard
	if testing.Verbose() {
		logw = os.Stderr
	}
	n, err := network.New(desc, network.Options{
		Root: root, FabricBin: bin, ModuleDir: moduleDir, TieToParent: true,
		Logger: slog.New(slog.NewTextHandler(logw, nil)),
	})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := n.Up(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "integration network up in %s (root %s)\n", time.Since(start).Round(time.Millisecond), root)
	return n, nil
}

// alive reports whether pid is a live (non-zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ')' {
			return i+2 < len(s) && s[i+2] != 'Z'
		}
	}
	return true
}
