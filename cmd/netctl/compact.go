package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/caseledger/caseledger/network"
)

// compact runs the maintenance step after erasures for one organisation's peer
// (network.CompactPeer, docs/operations.md "Compaction after erasures") and prints what it did.
func compact(ctx context.Context, n *network.Network, org string) error {
	if org == "" {
		return errors.New("compact: --org is required (one peer at a time: the others keep endorsing)")
	}
	rep, err := n.CompactPeer(ctx, org)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STORE\tBEFORE\tAFTER\tREWRITTEN\tTOOK")
	for _, s := range rep.Stores {
		fmt.Fprintf(tw, "%s\t%.1f KiB\t%.1f KiB\t%d\t%s\n", s.Dir, float64(s.BytesBefore)/1024, float64(s.BytesAfter)/1024,
			s.Rewritten, s.Took.Round(time.Millisecond))
	}
	if ferr := tw.Flush(); err == nil {
		err = ferr
	}
	switch {
	case rep.Restarted:
		fmt.Printf("peer of %s down %s (stop to healthy), caught up after %s\n", org,
			rep.Down.Round(time.Millisecond), rep.CaughtUp.Round(time.Millisecond))
	case err == nil:
		fmt.Printf("peer of %s was not running: compacted, left stopped\n", org)
	}
	return err
}
