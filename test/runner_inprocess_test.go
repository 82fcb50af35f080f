//go:build !integration

package test

import (
	"context"

	"github.com/caseledger/caseledger/test/framework"
)

// startCluster: no test of this build needs a network yet (the in-process one comes next).
func startCluster(context.Context) (framework.Cluster, error) { return nil, nil }

// afterAllTests: nothing to scan without a network.
func afterAllTests() bool { return true }
