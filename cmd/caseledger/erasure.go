package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/progress"
	"github.com/caseledger/caseledger/client/render"
)

// Erasure: request it, follow the holders' confirmations, reconcile after a restore.

func erasureCommands() []command {
	return []command{
		{name: "erase", args: "--channel C (--ref R | --pseudonym P) [--date D] [--wait]",
			summary: "request erasure of a case by every holding agency",
			help: `Records ERASURE_REQUESTED on the case and on every channel your agency links it to; every
holding agency's gateway then erases its mappings and confirms. The local reference stops
resolving: the answer lists the pseudonyms to follow the confirmations with
"caseledger erasure-status --pseudonym P". --wait waits until every holder has confirmed.`,
			setup: setupErase},
		{name: "erasure-status", args: "--channel C (--ref R | --pseudonym P)", summary: "who has confirmed an erasure", setup: setupErasureStatus},
		{name: "erasure reconcile", role: "admin", summary: "check every mapping of the agency's privacy service against the erasures on the ledger and erase those that came back (admin; after a privacy-service restore)", setup: setupReconcileErasures},
		{name: "erasures", args: "--channel C", summary: "erasure requests not yet confirmed by every holder", setup: setupOpenErasures},
	}
}

func setupErase(fs *flag.FlagSet) runner {
	var sel caseSel
	sel.register(fs)
	date := dateFlag(fs)
	wait := fs.Bool("wait", false, "wait until every holding agency has confirmed (bounded by --timeout)")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		ref, selErr := sel.caseRef()
		c, err := a.connect(selErr)
		if err != nil {
			return err
		}
		req := api.ErasureRequest{CaseRef: ref}
		if req.OccurredOn, err = a.dateOr(ctx, *date); err != nil {
			return err
		}
		res, err := c.RequestErasure(ctx, req, writeOpts(*key)...)
		if err != nil {
			return err
		}
		if !*wait {
			return a.print(res, func(w io.Writer) { printErasure(w, res) })
		}
		if !a.json() {
			printErasure(a.stdout, res)
		}
		var final []api.ErasureStatus
		for _, it := range res.Items {
			if !it.Requested {
				continue
			}
			st, err := WaitErasure(ctx, c, it.Channel, it.Pseudonym, a.progressOut())
			if err != nil {
				return err
			}
			final = append(final, st)
		}
		if a.json() {
			return a.print(struct {
				api.ErasureResponse
				Final []api.ErasureStatus `json:"final"`
			}{res, final}, nil)
		}
		for _, st := range final {
			render.ErasureStatus(a.stdout, st)
		}
		return nil
	}
}

func printErasure(w io.Writer, res api.ErasureResponse) {
	for _, it := range res.Items {
		if it.Requested {
			fmt.Fprintf(w, "erasure requested on %s case %s (tx %s, block %d)\n", it.Channel, it.Pseudonym, render.Short(it.Result.TxID), it.Result.BlockNumber)
			continue
		}
		msg := ""
		if it.Problem != nil {
			msg = it.Problem.Code + ": " + it.Problem.Detail
		}
		fmt.Fprintf(w, "erasure NOT requested on %s case %s: %s\n", it.Channel, it.Pseudonym, msg)
	}
	fmt.Fprintln(w, "keep these pseudonyms: your local reference no longer resolves once your gateway has erased it")
}

// WaitErasure polls an erasure's status by pseudonym until every holder has
// confirmed, with a progress line.
func WaitErasure(ctx context.Context, c *client.Client, channel, pseudonym string, out io.Writer) (api.ErasureStatus, error) {
	line := progress.Start(out, fmt.Sprintf("waiting for every holder of %s case %s to erase and confirm", channel, render.Short(pseudonym)))
	for {
		st, err := c.ErasureStatus(ctx, api.CaseRef{Channel: channel, Pseudonym: pseudonym})
		if err != nil {
			line.Fail("%v", err)
			return st, err
		}
		if st.Complete {
			line.Done("confirmed by %s", strings.Join(st.Confirmed, ", "))
			return st, nil
		}
		line.Status("confirmed %v, pending %v", st.Confirmed, st.Pending)
		select {
		case <-ctx.Done():
			line.Fail("still pending: %v", st.Pending)
			return st, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func setupErasureStatus(fs *flag.FlagSet) runner {
	return caseQuery(fs, (*client.Client).ErasureStatus, render.ErasureStatus)
}

func setupOpenErasures(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	page := pageFlags(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect(requireFlag("channel", *channel))
		if err != nil {
			return err
		}
		l, err := c.OpenErasures(ctx, *channel, *page)
		if err != nil {
			return err
		}
		return a.print(l, func(w io.Writer) { render.Erasures(w, l.Items, nil); printBookmark(w, l.Bookmark) })
	}
}

func setupReconcileErasures(fs *flag.FlagSet) runner {
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect()
		if err != nil {
			return err
		}
		line := progress.Start(a.progressOut(), "checking every mapping of the privacy service against the ledger's erasures")
		rep, err := c.ReconcileErasures(ctx)
		if err != nil {
			line.Fail("%v", err)
			return err
		}
		line.Done("checked %d mappings", rep.Checked)
		return a.print(rep, func(w io.Writer) {
			fmt.Fprintf(w, "checked %d mappings: erased %d that had come back; %d left by the executor's rules (not a holder there); %d not on the ledger\n",
				rep.Checked, rep.Erased, rep.Kept, rep.NotOnLedger)
		})
	}
}
