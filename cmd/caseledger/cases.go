package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Cases: register, take part in, record on, show and list cases.

func caseCommands() []command {
	return []command{
		{name: "register", args: "--channel C --ref R [--date D] [--link-channel C2 (--link-ref R2 | --link-pseudonym P)] [--application-registered D --evidence E [--evidence-received D]]",
			summary: "register a case under your local reference",
			help: `With --link-channel, the case continues one your agency holds on another channel: it gets a
fresh pseudonym on --channel, linked to the other only in your privacy service (two-step
pseudonymisation). Example, the asylum office opening the Dublin procedure of a national case:
  caseledger register --org asylum-office --role dublin-officer --channel dublin --ref BAMF-D-1 \
    --link-channel national --link-ref BAMF-7654321-438
On the Dublin channel, --application-registered and --evidence (with --evidence-received for a
hit) record the facts that start the limit for sending a request, so "caseledger deadlines"
shows it before any request (Dublin III 21(1)/23(2), AMMR 39(1), 41(1)):
  caseledger register --org asylum-office --channel dublin --ref BAMF-D-2 \
    --application-registered 2026-08-03 --evidence EURODAC_HIT --evidence-received 2026-08-05`,
			setup: setupRegister},
		{name: "bind", args: "--channel C --pseudonym P --ref R",
			summary: "attach your local reference to a case another agency registered",
			setup:   setupBind},
		{name: "record", args: "--channel C (--ref R | --pseudonym P) --code CODE [--date D] [--event JSON] [field=value ...]",
			summary:    "record any event of the vocabulary on a case",
			positional: true,
			help: `Fields are key=value (true/false become booleans); "caseledger vocabulary --channel C" lists the
codes and the fields each requires. Examples:
  caseledger record --org asylum-office --channel national --ref BAMF-1 --code IDENTITY_CHECKED eurodacHit=CATEGORY_1
  caseledger record --org asylum-office --channel national --ref BAMF-1 --code DECISION_ISSUED outcome=REJECTED`,
			setup: setupRecord},
		{name: "show", args: "--channel C (--ref R | --pseudonym P)", summary: "show a case's state, your references and its deadlines", setup: setupShow},
		{name: "timeline", args: "--channel C (--ref R | --pseudonym P)", summary: "list a case's events (every agency's steps)", setup: setupTimeline},
		{name: "cases", args: "--channel C --status S [--page-size N] [--bookmark B]", summary: "list cases in a status", setup: setupCases},
	}
}

func setupRegister(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel: national or dublin (required)")
	ref := fs.String("ref", "", "your local reference of the case (required)")
	date := dateFlag(fs)
	linkCh := fs.String("link-channel", "", "continue a case your agency holds on this other channel")
	linkRef := fs.String("link-ref", "", "that case, by your local reference")
	linkP := fs.String("link-pseudonym", "", "that case, by its pseudonym")
	appReg := fs.String("application-registered", "", "Dublin: day the application was registered (lodged, Dublin III): starts the request limit")
	evidence := fs.String("evidence", "", "Dublin: EURODAC_HIT, VIS_HIT or OTHER (with --application-registered)")
	evidenceOn := fs.String("evidence-received", "", "Dublin: day the hit was received (required with a hit)")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		if err := requireFlags("channel", *channel, "ref", *ref); err != nil {
			return err
		}
		if (*appReg == "") != (*evidence == "") || *evidenceOn != "" && *appReg == "" {
			return usagef("--application-registered and --evidence go together (--evidence-received with a hit)")
		}
		req := api.RegisterRequest{Channel: *channel, LocalRef: *ref, ApplicationRegisteredOn: *appReg,
			Evidence: domain.Evidence(*evidence), EvidenceReceivedOn: *evidenceOn}
		if *linkCh != "" || *linkRef != "" || *linkP != "" {
			sel := caseSel{channel: *linkCh, ref: *linkRef, pseudonym: *linkP}
			from, err := sel.caseRef()
			if err != nil {
				return usagef("link: --link-channel and one of --link-ref, --link-pseudonym")
			}
			req.LinkFrom = &from
		}
		c, err := a.connect()
		if err != nil {
			return err
		}
		if req.OccurredOn, err = a.dateOr(ctx, *date); err != nil {
			return err
		}
		res, err := c.Register(ctx, req, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return printWrite(a, res)
	}
}

func setupBind(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	p := fs.String("pseudonym", "", "the case's pseudonym on the channel (required)")
	ref := fs.String("ref", "", "your local reference to attach (required)")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect(requireFlag("channel", *channel), requireFlag("pseudonym", *p), requireFlag("ref", *ref))
		if err != nil {
			return err
		}
		res, err := c.Bind(ctx, api.BindRequest{Channel: *channel, Pseudonym: *p, LocalRef: *ref}, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return a.print(res, func(w io.Writer) {
			word := "already bound"
			if res.Created {
				word = "bound"
			}
			fmt.Fprintf(w, "%s: your reference now resolves to %s case %s\n", word, res.Channel, res.Pseudonym)
		})
	}
}

func setupRecord(fs *flag.FlagSet) runner {
	var sel caseSel
	sel.register(fs)
	code := fs.String("code", "", "event code, e.g. FILE_CREATED (required)")
	date := dateFlag(fs)
	raw := fs.String("event", "", "the event as a JSON object (merged with --code, --date and key=value fields)")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, args []string) error {
		ref, err := sel.caseRef()
		if err != nil {
			return err
		}
		fields, err := ParseFields(args)
		if err != nil {
			return err
		}
		if *code == "" && *raw == "" {
			return usagef("--code is required")
		}
		c, err := a.connect()
		if err != nil {
			return err
		}
		d := *date
		if !strings.Contains(*raw, `"occurredOn"`) {
			if d, err = a.dateOr(ctx, d); err != nil {
				return err
			}
		}
		ev, err := EventJSON(*raw, *code, d, fields)
		if err != nil {
			return err
		}
		res, err := c.RecordEvent(ctx, api.EventRequest{CaseRef: ref, Event: ev}, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return printWrite(a, res)
	}
}

// caseQuery is a command that reads one case (--channel with --ref or
// --pseudonym) and prints the answer.
func caseQuery[T any](fs *flag.FlagSet, get func(*client.Client, context.Context, api.CaseRef) (T, error), show func(io.Writer, T)) runner {
	var sel caseSel
	sel.register(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		ref, selErr := sel.caseRef()
		c, err := a.connect(selErr)
		if err != nil {
			return err
		}
		v, err := get(c, ctx, ref)
		if err != nil {
			return err
		}
		return a.print(v, func(w io.Writer) { show(w, v) })
	}
}

func setupShow(fs *flag.FlagSet) runner { return caseQuery(fs, (*client.Client).Case, render.Case) }

func setupTimeline(fs *flag.FlagSet) runner {
	return caseQuery(fs, (*client.Client).FullTimeline, render.Timeline)
}

func setupCases(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	status := fs.String("status", "", "status, e.g. APPLICATION_LODGED (required)")
	page := pageFlags(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect(requireFlag("channel", *channel), requireFlag("status", *status))
		if err != nil {
			return err
		}
		l, err := c.Cases(ctx, *channel, *status, *page)
		if err != nil {
			return err
		}
		return a.print(l, func(w io.Writer) { render.Cases(w, l.Items); printBookmark(w, l.Bookmark) })
	}
}
