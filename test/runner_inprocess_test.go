//go:build !integration

package test

import (
	"context"
	"os"
	"testing"

	"github.com/caseledger/caseledger/test/framework"
)

// startCluster starts the agencies in this process (CASELEDGER_KEEP_TEST_NETWORK keeps their data).
func startCluster(ctx context.Context) (framework.Cluster, error) {
	o := framework.InProcessOptions{Keep: os.Getenv("CASELEDGER_KEEP_TEST_NETWORK") != ""}
	if testing.Verbose() {
		o.Log = os.Stderr
	}
	return framework.StartInProcess(ctx, o)
}

// nodeScans: in process there are no node files or logs to scan; the blocks are scanned.
func nodeScans() []testing.InternalTest { return nil }
