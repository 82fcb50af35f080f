package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Dublin: requests, replies, transfers, lapsed deadlines and the deadline board.

func dublinCommands() []command {
	return []command{
		{name: "dublin request", role: "dublin-officer", args: "(--ref R | --pseudonym P) --kind K --to MS --received D --application-registered D --evidence E [--evidence-received D] [--urgent-reply-due D] [--date D]",
			summary: "send a take-charge / take-back request or notification",
			help: `Example (AMMR, Eurodac hit, reply due two weeks after receipt):
  caseledger dublin request --org asylum-office --role dublin-officer --ref BAMF-D-1 --kind TAKE_CHARGE \
    --to AT --received 2026-11-10 --application-registered 2026-11-09 --evidence EURODAC_HIT --evidence-received 2026-11-08`,
			setup: setupDublinRequest},
		{name: "dublin reply", role: "dublin-officer", args: "(--ref R | --pseudonym P) --reply ACCEPTED|REJECTED|REEXAMINATION_REQUESTED|RECEIPT_ACKNOWLEDGED [--received D] [--date D]",
			summary: "answer a Dublin request (or ask for re-examination)", setup: setupDublinReply},
		{name: "dublin transfer", role: "dublin-officer", args: "(--ref R | --pseudonym P) --step DECISION_ISSUED|SCHEDULED|COMPLETED|DEADLINE_EXTENDED [--scheduled-for D] [--reason R] [--date D]",
			summary: "record a transfer step", setup: setupDublinTransfer},
		{name: "dublin resolve", role: "dublin-officer", args: "(--ref R | --pseudonym P)",
			summary: "record the consequence of a lapsed deadline now (gateways also do it by themselves)", setup: setupDublinResolve},
		{name: "deadlines", role: "dublin-officer", args: "[--within DAYS]", summary: "the Dublin deadline board (running deadlines, passed ones first)", setup: setupDeadlines},
	}
}

func setupDublinRequest(fs *flag.FlagSet) runner {
	sel := caseSel{noChannel: true}
	sel.register(fs)
	kind := fs.String("kind", "TAKE_CHARGE", "TAKE_CHARGE, TAKE_BACK (Dublin III) or TAKE_BACK_NOTIFICATION (AMMR)")
	to := fs.String("to", "", "requested member state, e.g. AT (required)")
	received := fs.String("received", "", "day the requested state received the request (DubliNet acknowledgement; required)")
	appReg := fs.String("application-registered", "", "day the application was registered: selects Dublin III or AMMR (required)")
	evidence := fs.String("evidence", "", "EURODAC_HIT, VIS_HIT or OTHER (required)")
	evidenceOn := fs.String("evidence-received", "", "day the hit was received (required with a hit)")
	urgentDue := fs.String("urgent-reply-due", "", "urgent request (Dublin III): the reply day asked for")
	date := dateFlag(fs)
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		check := func() error {
			if err := requireFlags("to", *to, "received", *received, "application-registered", *appReg, "evidence", *evidence); err != nil {
				return err
			}
			return oneOf("kind", *kind, string(domain.TakeCharge), string(domain.TakeBack), string(domain.TakeBackNotifyKind))
		}
		c, res, err := dublinSend(ctx, a, &sel, *date, check, func(c *client.Client, dc api.DublinCase, on string) (api.WriteResponse, error) {
			req := api.DublinRequestRequest{DublinCase: dc, Kind: domain.RequestKind(*kind), RequestedMemberState: *to,
				ReceivedOn: *received, ApplicationRegisteredOn: *appReg, Evidence: domain.Evidence(*evidence), EvidenceReceivedOn: *evidenceOn,
				OccurredOn: on}
			if *urgentDue != "" {
				yes := true
				req.Urgent, req.UrgentReplyDue = &yes, *urgentDue
			}
			return c.DublinRequest(ctx, req, writeOpts(*key)...)
		})
		if err != nil {
			return err
		}
		return a.print(res, func(w io.Writer) {
			render.Write(w, res)
			// The chaincode decided from the dates whether the request was
			// late (issue 13 §3); the officer learns it now, not on the board.
			v, err := c.Case(ctx, api.CaseRef{Channel: res.Channel, Pseudonym: res.Pseudonym})
			if err != nil {
				return // the write stands; show and deadlines say it
			}
			if note := render.LateRequest(v.Case.Dublin); note != "" {
				fmt.Fprintf(w, "  request %s\n", note)
			}
		})
	}
}

func setupDublinReply(fs *flag.FlagSet) runner {
	sel := caseSel{noChannel: true}
	sel.register(fs)
	reply := fs.String("reply", "", "ACCEPTED, REJECTED, REEXAMINATION_REQUESTED or RECEIPT_ACKNOWLEDGED (the requested state; --date is the receipt date) (required)")
	received := fs.String("received", "", "day of receipt (required for REJECTED and REEXAMINATION_REQUESTED)")
	date := dateFlag(fs)
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		check := func() error {
			return oneOf("reply", *reply, "ACCEPTED", "REJECTED", "REEXAMINATION_REQUESTED", "RECEIPT_ACKNOWLEDGED")
		}
		return dublinWrite(ctx, a, &sel, *date, check, func(c *client.Client, dc api.DublinCase, on string) (api.WriteResponse, error) {
			req := api.DublinReplyRequest{DublinCase: dc, Reply: *reply, ReceivedOn: *received, OccurredOn: on}
			return c.DublinReply(ctx, req, writeOpts(*key)...)
		})
	}
}

func setupDublinTransfer(fs *flag.FlagSet) runner {
	sel := caseSel{noChannel: true}
	sel.register(fs)
	step := fs.String("step", "", "DECISION_ISSUED, SCHEDULED, COMPLETED or DEADLINE_EXTENDED (required)")
	sched := fs.String("scheduled-for", "", "planned transfer day (SCHEDULED)")
	reason := fs.String("reason", "", "IMPRISONMENT or ABSCONDING (DEADLINE_EXTENDED)")
	date := dateFlag(fs)
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		check := func() error {
			return oneOf("step", *step, "DECISION_ISSUED", "SCHEDULED", "COMPLETED", "DEADLINE_EXTENDED")
		}
		return dublinWrite(ctx, a, &sel, *date, check, func(c *client.Client, dc api.DublinCase, on string) (api.WriteResponse, error) {
			req := api.DublinTransferRequest{DublinCase: dc, Step: *step, ScheduledFor: *sched,
				ExtensionReason: domain.ExtensionReason(*reason), OccurredOn: on}
			return c.DublinTransfer(ctx, req, writeOpts(*key)...)
		})
	}
}

// dublinWrite is the shape of every dated Dublin step: select the case, check the command's flags,
// connect, date the act (default today in the agency's member state), send one write, print its receipt.
func dublinWrite(ctx context.Context, a *app, sel *caseSel, date string, check func() error,
	send func(c *client.Client, dc api.DublinCase, occurredOn string) (api.WriteResponse, error)) error {
	_, res, err := dublinSend(ctx, a, sel, date, check, send)
	if err != nil {
		return err
	}
	return printWrite(a, res)
}

// dublinSend is dublinWrite without the printing.
func dublinSend(ctx context.Context, a *app, sel *caseSel, date string, check func() error,
	send func(c *client.Client, dc api.DublinCase, occurredOn string) (api.WriteResponse, error)) (*client.Client, api.WriteResponse, error) {
	dc, selErr := sel.dublinCase()
	c, err := a.connect(selErr, check())
	if err != nil {
		return nil, api.WriteResponse{}, err
	}
	on, err := a.dateOr(ctx, date)
	if err != nil {
		return nil, api.WriteResponse{}, err
	}
	res, err := send(c, dc, on)
	return c, res, err
}

func setupDublinResolve(fs *flag.FlagSet) runner {
	sel := caseSel{noChannel: true}
	sel.register(fs)
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		dc, selErr := sel.dublinCase()
		c, err := a.connect(selErr)
		if err != nil {
			return err
		}
		res, err := c.ResolveDeadlines(ctx, dc, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return printWrite(a, res)
	}
}

func setupDeadlines(fs *flag.FlagSet) runner {
	within := fs.Int("within", 14, "show deadlines due within this many days (passed ones always)")
	return func(ctx context.Context, a *app, _ []string) error {
		if *within < 0 {
			return usagef("--within must not be negative")
		}
		c, err := a.connect()
		if err != nil {
			return err
		}
		var all api.Board
		p := client.Page{PageSize: 100}
		for {
			b, err := c.Deadlines(ctx, *within, p)
			if err != nil {
				return err
			}
			items := append(all.Items, b.Items...)
			all, all.Items = b, items
			if b.Bookmark == "" || len(b.Items) == 0 {
				break
			}
			p.Bookmark = b.Bookmark
		}
		all.Bookmark = ""
		return a.print(all, func(w io.Writer) { render.Board(w, all, nil) })
	}
}
