package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/network"
)

// membership runs a membership governance step (network/membership.go, docs/operations.md): each
// governing organisation's admin approves the document its own copy of the grown description
// generates, on its own host; one of them sets it once the approvals meet the channel's rule.
func membership(ctx context.Context, n *network.Network, cmd, org, channel string) error {
	if org == "" || channel == "" {
		return fmt.Errorf("%s: --org and --channel are required", cmd)
	}
	switch cmd {
	case "membership show":
		return showMembership(ctx, n, org, channel)
	case "membership approve", "membership set":
		if err := checkGrowth(n); err != nil {
			return err
		}
		var step network.MembershipStep
		var err error
		if cmd == "membership approve" {
			step, err = n.ApproveMembership(ctx, org, channel)
		} else {
			step, err = n.SetMembership(ctx, org, channel)
		}
		if err != nil {
			return err
		}
		what := map[string]string{"membership approve": "approved", "membership set": "in force"}[cmd]
		if step.Already {
			what = "already " + what
		}
		fmt.Printf("%s: membership %s %s at sequence %d on %s as the admin of %s in %s\n", cmd, step.Hash, what, step.Sequence, channel, org,
			step.Took.Round(time.Millisecond))
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// showMembership prints the membership in force, its rule, the approvals for the next sequence and
// whether they are for the document this description generates.
func showMembership(ctx context.Context, n *network.Network, org, channel string) error {
	st, err := n.MembershipStatus(ctx, org, channel)
	if err != nil {
		return err
	}
	_, want, err := n.MembershipDocument(channel)
	if err != nil {
		return err
	}
	source := "the chaincode configuration (starting value)"
	if st.FromLedger {
		source = "the ledger, set by " + st.SetBy + " in " + st.TxID
	}
	fmt.Printf("channel %s: membership sequence %d, hash %s, from %s\n", st.Channel, st.Sequence, st.Hash, source)
	if ch, ok := st.Membership.Channel(channel); ok {
		fmt.Printf("members: %s\n", strings.Join(ch.Members, ", "))
	}
	fmt.Printf("a change needs %d of: %s, each approval counting for %d days\n", st.Governance.OutOf, strings.Join(st.Governance.Orgs, ", "), st.Governance.ApprovalDays)
	fmt.Printf("this description's document: %s", want)
	if want == st.Hash {
		fmt.Println(" (in force)")
	} else {
		fmt.Printf(" (not in force; approvals for sequence %d below)\n", st.Sequence+1)
	}
	printApprovals(os.Stdout, st, want)
	return nil
}

// printApprovals prints the pending approvals with their age and expiry, both as the ledger judged
// them at the answering transaction's timestamp (st.At), not this host's clock.
func printApprovals(w io.Writer, st api.MembershipStatus, want string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORG\tSEQUENCE\tHASH\tTHIS DOCUMENT\tAPPROVED AT\tAGE\tEXPIRES AT\tCOUNTS")
	at, _ := time.Parse(time.RFC3339, st.At)
	for _, ap := range st.Approvals {
		age := "?"
		if approved, err := time.Parse(time.RFC3339, ap.ApprovedAt); err == nil && !at.IsZero() {
			age = approvalAge(at.Sub(approved))
		}
		counts := "yes"
		if ap.Expired {
			counts = "no, expired: approve again"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%v\t%s\t%s\t%s\t%s\n", ap.MSPID, ap.Sequence, ap.Hash, ap.Hash == want, ap.ApprovedAt, age, ap.ExpiresAt, counts)
	}
	tw.Flush()
}

// approvalAge is an age in days and hours, the unit approval periods are set in.
func approvalAge(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(time.Hour)
	return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
}
