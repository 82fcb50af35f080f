//go:build integration

package test

import (
	"testing"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/caseledger/caseledger/internal/fabricconn"
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
