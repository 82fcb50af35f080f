package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client/render"
)

// Data-subject rights: rectify (GDPR art. 16) and export (art. 15), through
// the agency's own gateway (admin token).

func rightsCommands() []command {
	return []command{
		{name: "rectify", role: "admin", args: "--channel C --ref OLD --new-ref NEW",
			summary: "replace one of your local references of a case (GDPR art. 16; admin)",
			help: `The data subject's right to rectification: your privacy service maps NEW instead of OLD to the
case's pseudonym on the channel. Nothing on the ledger changes (local references never reach it);
your other channels' references stay as they are. The gateway writes an audit line without the
references. Refused with UNKNOWN_LOCAL_REF if OLD is not yours on the channel, CONFLICT if NEW
already names a case of yours there. Example:
  caseledger rectify --org asylum-office --role admin --channel national --ref BAMF-7654321-438 --new-ref BAMF-7654321-483`,
			setup: setupRectify},
		{name: "export", role: "admin", args: "--channel C --ref R",
			summary: "everything your agency holds about the person a reference names (GDPR art. 15; admin)",
			help: `The data subject's right of access: your references and the pseudonyms of the person's case on
every channel your privacy service links it to, each case's state and timeline on the ledger as
your agency's peer shows them, and the history of the mapping (what changed when, never the
values). --output json gives the whole answer for the reply to the data subject. Example:
  caseledger export --org asylum-office --role admin --channel national --ref BAMF-7654321-438 --output json`,
			setup: setupExport},
	}
}

func setupRectify(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel of the reference (required)")
	ref := fs.String("ref", "", "the reference to replace (required)")
	newRef := fs.String("new-ref", "", "the correct reference (required)")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		if err := requireFlags("channel", *channel, "ref", *ref, "new-ref", *newRef); err != nil {
			return err
		}
		if *ref == *newRef {
			return usagef("--new-ref must differ from --ref")
		}
		c, err := a.connect()
		if err != nil {
			return err
		}
		res, err := c.Rectify(ctx, api.RectifyRequest{Channel: *channel, LocalRef: *ref, NewLocalRef: *newRef}, writeOpts(*key)...)
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
		c, err := a.connect(requireFlag("channel", *channel), requireFlag("ref", *ref))
		if err != nil {
			return err
		}
		ex, err := c.Export(ctx, api.ExportRequest{Channel: *channel, LocalRef: *ref})
		if err != nil {
			return err
		}
		return a.print(ex, func(w io.Writer) { printExport(w, ex) })
	}
}

func printExport(w io.Writer, ex api.SubjectExport) {
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
