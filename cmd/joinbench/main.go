// Command joinbench measures how long a fresh peer takes to catch up with a long ledger, joining
// from the orderers (peer channel join with the genesis block: every block pulled and validated)
// and from a ledger snapshot of another organisation's peer (peer snapshot submitrequest, then
// peer channel joinbysnapshot). It brings up a network of its own (no privacy services or
// gateways), builds the ledger with the load tool's bare client, then empties one organisation's
// peer and joins it again each way, alternating, and prints the times (docs/operations.md).
//
//	go run ./cmd/joinbench --base-port 29000 --build 5m --batch-timeout 100ms --rounds 2
//
// Its processes die with it; the network's folder is deleted at the end (--keep keeps it).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "joinbench:", err)
		os.Exit(1)
	}
}
