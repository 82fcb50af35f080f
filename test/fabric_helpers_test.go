//go:build integration

package test

import (
	"testing"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/caseledger/caseledger/internal/fabricconn"
	"github.com/caseledger/caseledger/load"
)

// contractFor connects to org's own peer as its identity with role and returns the chaincode on ch.
func contractFor(t *testing.T, org, role, ch string) *client.Contract {
	t.Helper()
	c, err := itNet.Connection(org)
	if err != nil {
		t.Fatal(err)
	}
	gw, conn, err := fabricconn.Dial(c, role, fabricconn.Options{})
	if err != nil {
		t.Fatalf("dial %s as %s: %v", org, role, err)
	}
	t.Cleanup(func() { gw.Close(); conn.Close() })
	return gw.GetNetwork(ch).GetContract(c.Chaincode)
}

// auditorReader is a bare fabric-gateway client of the auditor's peer (no gateway between).
func auditorReader(t *testing.T) (*load.Bare, load.Actor) {
	t.Helper()
	conns, err := load.LoadConnections(itNet.Root())
	if err != nil {
		t.Fatal(err)
	}
	b, err := load.NewBare(conns, load.DefaultStageTimeouts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, load.Actor{Org: "auditor", MSPID: "AuditorMSP", Role: "auditor"}
}
