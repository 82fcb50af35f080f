package gateway

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
)

// TestPeerReconnectsWithinSeconds: with the gateway's dial options a
// connection whose peer is down keeps trying every couple of seconds (gRPC's
// default backoff would have made 3 attempts in the first 4 s — 0, 1, 2.6 s —
// and grows to 120 s), and is back soon after the peer is. The figure is
// logged; the bound asserted is loose.
func TestPeerReconnectsWithinSeconds(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the peer is down
	var attempts atomic.Int32
	dialer := grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
		attempts.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, "tcp", a)
	})
	conn, err := grpc.NewClient(addr, append(PeerDialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()), dialer)...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Connect()
	const down = 4 * time.Second
	time.Sleep(down)
	n := attempts.Load()
	t.Logf("%d connection attempts in %s with the peer down", n, down)
	if n < 5 {
		t.Fatalf("%d connection attempts in %s: the reconnect backoff is not the gateway's", n, down)
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port taken meanwhile: %v", err)
	}
	srv := grpc.NewServer()
	go srv.Serve(ln)
	defer srv.Stop()
	back := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			t.Fatalf("not connected %s after the peer came back (state %s)", time.Since(back), s)
		}
	}
	took := time.Since(back)
	t.Logf("connected %s after the peer came back", took.Round(time.Millisecond))
	if limit := PeerReconnectMaxDelay + PeerReconnectMaxDelay/2 + time.Second; took > limit {
		t.Fatalf("connected %s after the peer came back, want within %s", took, limit)
	}
}
