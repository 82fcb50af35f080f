//go:build integration

package test

import (
	"context"
	"os"
	"testing"

	"github.com/caseledger/caseledger/network"
	"github.com/caseledger/caseledger/test/framework"
)

// itNet is the real network behind cluster, for the tests only it can run.
var (
	itNet  *network.Network
	fabric *framework.Fabric
)

// startCluster brings up the demo topology on its own ports, so a running demo does not disturb
// the tests; CASELEDGER_IT_BASEPORT moves them (two test runs at once on one machine).
func startCluster(ctx context.Context) (framework.Cluster, error) {
	port, err := framework.BasePortFromEnv()
	if err != nil {
		return nil, err
	}
	o := framework.FabricOptions{BasePort: port, Keep: os.Getenv("CASELEDGER_KEEP_TEST_NETWORK") != ""}
	if testing.Verbose() {
		o.Log = os.Stderr
	}
	f, err := framework.StartFabric(ctx, o)
	if err != nil {
		return nil, err
	}
	fabric, itNet = f, f.Network()
	return f, nil
}

// upServices starts every org's privacy service and gateway once for all tests.
func upServices(t *testing.T) {
	t.Helper()
	if err := fabric.UpServices(); err != nil {
		t.Fatal(err)
	}
}
