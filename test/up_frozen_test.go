//go:build integration

package test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caseledger/caseledger/network"
)

// `up` on the live network while one orderer is frozen (issue 12 finding 5): it names that orderer
// and leaves every node running — the frozen one included, which carries on once thawed.
func TestUpWithAFrozenOrdererStopsNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A follower of both channels, so the rest of the package keeps its Raft leaders.
	frozen := -1
	for i := 0; i < itNet.Description().OrdererOrg.Orderers && frozen < 0; i++ {
		frozen = i
		for _, ch := range []string{"national", "dublin"} {
			if l, err := itNet.RaftLeader(ctx, ch); err != nil || l == i {
				frozen = -1
			}
		}
	}
	if frozen < 0 {
		t.Fatal("no orderer follows on both channels")
	}
	node := itNet.OrdererNode(frozen)
	pid, ok := itNet.Supervisor().Running(node)
	if !ok {
		t.Fatalf("%s not running", node)
	}
	before := map[string]int{}
	for _, st := range itNet.Status() {
		if st.Running {
			before[st.Name] = st.PID
		}
	}
	if err := syscall.Kill(-pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = syscall.Kill(-pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw)

	err := itNet.Up(ctx)
	thaw()
	if !errors.Is(err, network.ErrNodeFailed) || !strings.Contains(err.Error(), node+" not ready") {
		t.Fatalf("up with %s frozen: %v, want ErrNodeFailed naming it", node, err)
	}
	for name, pid := range before {
		if now, ok := itNet.Supervisor().Running(name); !ok || now != pid {
			t.Errorf("%s (pid %d) no longer runs after the failed up", name, pid)
		}
	}
	eventually(t, 30*time.Second, node+" healthy again", func(ctx context.Context) error {
		_, err := itNet.OpsGet(ctx, node, "/healthz")
		return err
	})
}
