package network

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `up` on a running network where one node does not answer (issue 12 finding 5: an orderer frozen
// with SIGSTOP) fails naming that node, and leaves every node running, itself included.
func TestUpFailureLeavesNodesRunning(t *testing.T) {
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	d.BasePort = 23100
	n, err := New(d, Options{Root: t.TempDir(), FabricBin: t.TempDir(), TieToParent: true})
	if err != nil {
		t.Fatal(err)
	}
	// A generated network whose nodes all run: stand-ins that never answer a readiness probe,
	// like a frozen process.
	if err := n.markDone("generated"); err != nil {
		t.Fatal(err)
	}
	for _, c := range n.allCAs() {
		if err := os.MkdirAll(c.home, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.configFile(), []byte("registry: {}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	nodes := map[string]bool{}
	for _, u := range n.portPlan() {
		nodes[u.node] = true
	}
	for name := range nodes {
		if err := n.sup.Start(name, "/bin/sleep", []string{"60"}, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = n.sup.StopAll(time.Second) })

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	err = n.Up(ctx)
	if !errors.Is(err, ErrNodeFailed) || !strings.Contains(err.Error(), "not ready") || !strings.Contains(err.Error(), "ca.") {
		t.Fatalf("Up: %v, want ErrNodeFailed naming a CA that is not ready", err)
	}
	for name := range nodes {
		if _, ok := n.sup.Running(name); !ok {
			t.Errorf("%s was stopped by a failed up", name)
		}
	}
	if _, err := os.Stat(filepath.Join(n.root, "state", "generated")); err != nil {
		t.Errorf("failed up touched the network's state: %v", err)
	}
}
