package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/gateway"
)

// Data-subject rights: rectify (GDPR art. 16) and export (art. 15), through
// the agency's own gateway (admin token).

func setupRectify(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel of the reference (required)")
	ref := fs.String("ref", "", "the reference to replace (required)")
	newRef := fs.String("new-ref", "", "the correct reference (required)")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		for _, f := range [][2]string{{"channel", *channel}, {"ref", *ref}, {"new-ref", *newRef}} {
			if err := requireFlag(f[0], f[1]); err != nil {
				return err
			}
		}
		if *ref == *newRef {
			return usagef("--new-ref must differ from --ref")
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		res, err := c.Rectify(ctx, gateway.RectifyRequest{Channel: *channel, LocalRef: *ref, NewLocalRef: *newRef}, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return a.print(res, func(w io.Writer) {
			fmt.Fprintf(w, "rectified: your reference on %s now names case %s instead of the old one (%s)\n",
				res.Channel, res.Pseudonym, res.RectifiedAt.Format(time.RFC3339))
		})
	}
}

func setupExport(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel of the reference (required)")
	ref := fs.String("ref", "", "your local reference of the person's case (required)")
	return func(ctx context.Context, a *app, _ []string) error {
		if err := requireFlag("channel", *channel); err != nil {
			return err
		}
		if err := requireFlag("ref", *ref); err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		ex, err := c.Export(ctx, gateway.ExportRequest{Channel: *channel, LocalRef: *ref})
		if err != nil {
			return err
		}
		return a.print(ex, func(w io.Writer) { printExport(w, ex) })
	}
}

func printExport(w io.Writer, ex gateway.SubjectExport) {
	fmt.Fprintf(w, "data held by %s, exported %s (mapping created %s)\n", ex.MSPID,
		ex.ExportedAt.Format(time.RFC3339), ex.MappedAt.Format(time.RFC3339))
	for _, c := range ex.Cases {
		fmt.Fprintf(w, "\n%s case %s — your references: %s\n", c.Channel, c.Pseudonym, render.Refs(c.LocalRefs))
		if !c.OnLedger || c.Case == nil {
			fmt.Fprintln(w, "  not on your agency's ledger")
			continue
		}
		fmt.Fprintf(w, "  status %s, holders %v\n", c.Case.Status, c.Case.Holders)
		render.Events(w, c.Timeline, false)
	}
	fmt.Fprintln(w, "\nmapping history (no values):")
	for _, h := range ex.History {
		fmt.Fprintf(w, "  %s  %-16s %s\n", h.At.Format(time.RFC3339), h.Action, h.Channel)
	}
}
