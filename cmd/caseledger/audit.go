package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client/progress"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Audit: the auditor's verification of the ledger and its queries.

func auditCommands() []command {
	return []command{
		{name: "audit verify", role: "auditor", summary: "recompute hash chain and signatures of every channel from the auditor's peer, list valid transactions that wrote nothing or were submitted late (exit 5 if not intact)", setup: setupAuditVerify},
		{name: "audit report", role: "auditor", summary: "the last stored verification", setup: setupAuditReport},
		{name: "audit late", role: "auditor", args: "--channel C [--msp MSPID]", summary: "events recorded after the day they occurred", setup: setupAuditLate},
		{name: "audit erasures", role: "auditor", args: "--channel C [--older-than DAYS]", summary: "erasure requests unconfirmed after some days", setup: setupAuditErasures},
		{name: "audit writes", role: "auditor", args: "--channel C --msp MSPID --from D --to D", summary: "what an agency recorded between two dates", setup: setupAuditWrites},
		{name: "audit history", role: "auditor", args: "--channel C --pseudonym P", summary: "every version of a case's state, newest first", setup: setupAuditHistory},
	}
}

func setupAuditVerify(fs *flag.FlagSet) runner {
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect()
		if err != nil {
			return err
		}
		line := progress.Start(a.progressOut(), "verifying every block of every channel on the auditor's peer")
		rep, err := c.AuditVerify(ctx)
		if err != nil {
			line.Fail("%v", err)
			return err
		}
		blocks := uint64(0)
		for _, ch := range rep.Channels {
			blocks += ch.Blocks
		}
		line.Done("%d channels, %d blocks", len(rep.Channels), blocks)
		if err := a.print(rep, func(w io.Writer) { render.Audit(w, rep) }); err != nil {
			return err
		}
		if !rep.Intact {
			return fmt.Errorf("%w: ledger not intact", errCheckFailed)
		}
		return nil
	}
}

func setupAuditReport(fs *flag.FlagSet) runner {
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect()
		if err != nil {
			return err
		}
		rep, err := c.AuditReport(ctx)
		if err != nil {
			return err
		}
		return a.print(rep, func(w io.Writer) { render.Audit(w, rep) })
	}
}

func setupAuditLate(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	msp := fs.String("msp", "", "only this agency's events (MSP id)")
	page := pageFlags(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect(requireFlag("channel", *channel))
		if err != nil {
			return err
		}
		l, err := c.AuditLate(ctx, *channel, *msp, *page)
		if err != nil {
			return err
		}
		return a.print(l, func(w io.Writer) { render.Events(w, l.Items, true); printBookmark(w, l.Bookmark) })
	}
}

func setupAuditErasures(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	older := fs.Int("older-than", 0, "only requests open at least this many days")
	page := pageFlags(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect(requireFlag("channel", *channel))
		if err != nil {
			return err
		}
		l, err := c.AuditErasures(ctx, *channel, *older, *page)
		if err != nil {
			return err
		}
		return a.print(l, func(w io.Writer) {
			sts := make([]api.ErasureStatus, len(l.Items))
			for i, it := range l.Items {
				sts[i] = it.ErasureStatus
			}
			render.Erasures(w, sts, func(i int) int { return l.Items[i].DaysOpen })
			printBookmark(w, l.Bookmark)
		})
	}
}

func setupAuditWrites(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	msp := fs.String("msp", "", "the agency (MSP id, required)")
	from := fs.String("from", "", "first recording day (required)")
	to := fs.String("to", "", "last recording day (required)")
	page := pageFlags(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect(requireFlag("channel", *channel), requireFlag("msp", *msp), requireFlag("from", *from), requireFlag("to", *to))
		if err != nil {
			return err
		}
		l, err := c.AuditWrites(ctx, *channel, *msp, *from, *to, *page)
		if err != nil {
			return err
		}
		return a.print(l, func(w io.Writer) { render.Events(w, l.Items, true); printBookmark(w, l.Bookmark) })
	}
}

func setupAuditHistory(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	p := fs.String("pseudonym", "", "the case (required; auditors hold no local references)")
	page := pageFlags(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect(requireFlag("channel", *channel), requireFlag("pseudonym", *p))
		if err != nil {
			return err
		}
		h, err := c.AuditHistory(ctx, api.HistoryRequest{Channel: *channel, Pseudonym: *p, Bookmark: page.Bookmark, PageSize: page.PageSize})
		if err != nil {
			return err
		}
		return a.print(h, func(w io.Writer) {
			// The newest version lists every supersession (issue 13 §1):
			// mark the versions it superseded and the one that did.
			var sups []domain.Supersession
			for _, e := range h.Items {
				if e.State != nil && e.State.Dublin != nil {
					sups = e.State.Dublin.Superseded
					break
				}
			}
			for _, e := range h.Items {
				st := "deleted"
				if e.State != nil {
					st = fmt.Sprintf("status %s seq %d last %s by holders %v", e.State.Status, e.State.Seq, e.State.LastEvent, e.State.Holders)
					for _, sp := range sups {
						switch {
						case e.State.Seq == sp.BySeq:
							st += fmt.Sprintf(" — supersedes %s seq %d", sp.Code, sp.Seq)
						case e.State.Seq >= sp.Seq && e.State.Seq < sp.BySeq:
							st += fmt.Sprintf(" [SUPERSEDED by seq %d]", sp.BySeq)
						}
					}
				}
				fmt.Fprintf(w, "  %s  tx %s  %s\n", e.Timestamp, render.Short(e.TxID), st)
			}
			printBookmark(w, h.Bookmark)
		})
	}
}
