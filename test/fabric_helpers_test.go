package test

import (
	"context"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/caseledger/caseledger/network"
)

// contractFor connects to org's own peer as its identity with role and returns the chaincode on ch.
func contractFor(t *testing.T, org, role, ch string) *client.Contract {
	t.Helper()
	c, err := itNet.Connection(org)
	if err != nil {
		t.Fatal(err)
	}
	gw, conn, err := c.Dial(role, network.GatewayOptions{})
	if err != nil {
		t.Fatalf("dial %s as %s: %v", org, role, err)
	}
	t.Cleanup(func() { gw.Close(); conn.Close() })
	return gw.GetNetwork(ch).GetContract(c.Chaincode)
}

// eventually retries f until it succeeds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err, lastReal error
	for {
		if err = f(ctx); err == nil {
			return
		}
		if ctx.Err() == nil {
			lastReal = err // an error caused by our own deadline says nothing
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s: %v (last: %v)", what, timeout, lastReal, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// today is the UTC date of now, the occurredOn of an act recorded as it happens.
func today() string { return time.Now().UTC().Format(time.DateOnly) }
