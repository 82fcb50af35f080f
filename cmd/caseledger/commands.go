package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/caseledger/caseledger/chaincode"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/progress"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/gateway"
)

type runner = func(ctx context.Context, a *app, args []string) error

// caseSel are the flags that select a case.
type caseSel struct {
	channel, ref, pseudonym string
	noChannel               bool // Dublin shorthands imply the channel
}

func (c *caseSel) register(fs *flag.FlagSet) {
	if !c.noChannel {
		fs.StringVar(&c.channel, "channel", "", "channel: national or dublin (required)")
	}
	fs.StringVar(&c.ref, "ref", "", "the case by your agency's own local reference")
	fs.StringVar(&c.pseudonym, "pseudonym", "", "the case by its pseudonym on the channel")
}

func (c *caseSel) caseRef() (gateway.CaseRef, error) {
	if !c.noChannel && c.channel == "" {
		return gateway.CaseRef{}, usagef("--channel is required")
	}
	if (c.ref == "") == (c.pseudonym == "") {
		return gateway.CaseRef{}, usagef("give exactly one of --ref and --pseudonym")
	}
	return gateway.CaseRef{Channel: c.channel, LocalRef: c.ref, Pseudonym: c.pseudonym}, nil
}

func (c *caseSel) dublinCase() (gateway.DublinCase, error) {
	r, err := c.caseRef()
	return gateway.DublinCase{LocalRef: r.LocalRef, Pseudonym: r.Pseudonym}, err
}

// writeOpts carries --idempotency-key.
func idemFlag(fs *flag.FlagSet) *string {
	return fs.String("idempotency-key", "", "Idempotency-Key of the write (retry a write whose outcome you missed with the same key)")
}

func writeOpts(key string) []client.WriteOption {
	if key == "" {
		return nil
	}
	return []client.WriteOption{client.WithIdempotencyKey(key)}
}

func dateFlag(fs *flag.FlagSet) *string {
	return fs.String("date", "", "day the act took place, YYYY-MM-DD (default: today in your member state)")
}

func requireFlag(name, v string) error {
	if v == "" {
		return usagef("--%s is required", name)
	}
	return nil
}

func commands() []command {
	return []command{
		{name: "whoami", summary: "show the agency, role and channels of your token", setup: setupWhoami},
		{name: "register", args: "--channel C --ref R [--date D] [--link-channel C2 (--link-ref R2 | --link-pseudonym P)]",
			summary: "register a case under your local reference",
			help: `With --link-channel, the case continues one your agency holds on another channel: it gets a
fresh pseudonym on --channel, linked to the other only in your privacy service (two-step
pseudonymisation). Example, the asylum office opening the Dublin procedure of a national case:
  caseledger register --org asylum-office --role dublin-officer --channel dublin --ref BAMF-D-1 \
    --link-channel national --link-ref BAMF-7654321-438`,
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
		{name: "dublin request", args: "(--ref R | --pseudonym P) --kind K --to MS --received D --application-registered D --evidence E [--evidence-received D] [--urgent-reply-due D] [--date D]",
			summary: "send a take-charge / take-back request or notification",
			help: `Example (AMMR, Eurodac hit, reply due two weeks after receipt):
  caseledger dublin request --org asylum-office --role dublin-officer --ref BAMF-D-1 --kind TAKE_CHARGE \
    --to AT --received 2026-11-10 --application-registered 2026-11-09 --evidence EURODAC_HIT --evidence-received 2026-11-08`,
			setup: setupDublinRequest},
		{name: "dublin reply", args: "(--ref R | --pseudonym P) --reply ACCEPTED|REJECTED|REEXAMINATION_REQUESTED|RECEIPT_ACKNOWLEDGED [--received D] [--date D]",
			summary: "answer a Dublin request (or ask for re-examination)", setup: setupDublinReply},
		{name: "dublin transfer", args: "(--ref R | --pseudonym P) --step DECISION_ISSUED|SCHEDULED|COMPLETED|DEADLINE_EXTENDED [--scheduled-for D] [--reason R] [--date D]",
			summary: "record a transfer step", setup: setupDublinTransfer},
		{name: "dublin resolve", args: "(--ref R | --pseudonym P)",
			summary: "record the consequence of a lapsed deadline now (gateways also do it by themselves)", setup: setupDublinResolve},
		{name: "holidays set", args: "--year Y [--dates D1,D2,...]",
			summary: "record your member state's public holidays for a year (Dublin units)",
			help: `Dublin periods that end on a Saturday, Sunday or one of these days end on the next working day
(Reg. 1182/71 Art 3(4)). Only your state's Dublin unit (dublin-officer or admin) may set them. Example:
  caseledger holidays set --org partner-state --role dublin-officer --year 2027 --dates 2027-01-01,2027-12-25`,
			setup: setupHolidaysSet},
		{name: "holidays show", args: "[--member-state MS] [--year Y]",
			summary: "show a member state's recorded public holidays (default: yours, this year)", setup: setupHolidaysShow},
		{name: "deadlines", args: "[--within DAYS]", summary: "the Dublin deadline board (running deadlines, passed ones first)", setup: setupDeadlines},
		{name: "anchor", args: "--channel C (--ref R | --pseudonym P) --file F [--type T] [--date D]",
			summary: "anchor a document's keyed hash on a case (the document stays with you)", setup: setupAnchor},
		{name: "verify", args: "--channel C (--ref R | --pseudonym P) --file F",
			summary: "check a document against a case's anchors (exit 5 if not anchored)", setup: setupVerify},
		{name: "erase", args: "--channel C (--ref R | --pseudonym P) [--date D] [--wait]",
			summary: "request erasure of a case by every holding agency",
			help: `Records ERASURE_REQUESTED on the case and on every channel your agency links it to; every
holding agency's gateway then erases its mappings and confirms. The local reference stops
resolving: the answer lists the pseudonyms to follow the confirmations with
"caseledger erasure-status --pseudonym P". --wait waits until every holder has confirmed.`,
			setup: setupErase},
		{name: "erasure-status", args: "--channel C (--ref R | --pseudonym P)", summary: "who has confirmed an erasure", setup: setupErasureStatus},
		{name: "erasure reconcile", summary: "check every mapping of the agency's privacy service against the erasures on the ledger and erase those that came back (admin; after a privacy-service restore)", setup: setupReconcileErasures},
		{name: "erasures", args: "--channel C", summary: "erasure requests not yet confirmed by every holder", setup: setupOpenErasures},
		{name: "rectify", args: "--channel C --ref OLD --new-ref NEW",
			summary: "replace one of your local references of a case (GDPR art. 16; admin)",
			help: `The data subject's right to rectification: your privacy service maps NEW instead of OLD to the
case's pseudonym on the channel. Nothing on the ledger changes (local references never reach it);
your other channels' references stay as they are. The gateway writes an audit line without the
references. Refused with UNKNOWN_LOCAL_REF if OLD is not yours on the channel, CONFLICT if NEW
already names a case of yours there. Example:
  caseledger rectify --org asylum-office --role admin --channel national --ref BAMF-7654321-438 --new-ref BAMF-7654321-483`,
			setup: setupRectify},
		{name: "export", args: "--channel C --ref R",
			summary: "everything your agency holds about the person a reference names (GDPR art. 15; admin)",
			help: `The data subject's right of access: your references and the pseudonyms of the person's case on
every channel your privacy service links it to, each case's state and timeline on the ledger as
your agency's peer shows them, and the history of the mapping (what changed when, never the
values). --output json gives the whole answer for the reply to the data subject. Example:
  caseledger export --org asylum-office --role admin --channel national --ref BAMF-7654321-438 --output json`,
			setup: setupExport},
		{name: "audit verify", summary: "recompute hash chain and signatures of every channel from the auditor's peer, list valid transactions that wrote nothing or were submitted late (exit 5 if not intact)", setup: setupAuditVerify},
		{name: "audit report", summary: "the last stored verification", setup: setupAuditReport},
		{name: "audit late", args: "--channel C [--msp MSPID]", summary: "events recorded after the day they occurred", setup: setupAuditLate},
		{name: "audit erasures", args: "--channel C [--older-than DAYS]", summary: "erasure requests unconfirmed after some days", setup: setupAuditErasures},
		{name: "audit writes", args: "--channel C --msp MSPID --from D --to D", summary: "what an agency recorded between two dates", setup: setupAuditWrites},
		{name: "audit history", args: "--channel C --pseudonym P", summary: "every version of a case's state, newest first", setup: setupAuditHistory},
		{name: "events", args: "[--channel C] [--held] [--after POSITION] [--count N]",
			summary: "follow your agency's events live (server-sent events; Ctrl-C to stop)",
			help: `Each line names the event's position; resume after it with --after POSITION. With --output json
each event is one JSON object per line.`,
			setup: setupEvents, long: true},
		{name: "vocabulary", args: "--channel C", summary: "event codes, required fields and transitions of a channel", setup: setupVocabulary},
	}
}

func setupWhoami(fs *flag.FlagSet) runner {
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		who, err := c.Whoami(ctx)
		if err != nil {
			return err
		}
		return a.print(who, func(w io.Writer) {
			fmt.Fprintf(w, "%s (%s, member state %s) as %s, token %s\n", who.Org, who.MSPID, orDash(who.MemberState), who.Role, who.TokenID)
			for _, ch := range who.Channels {
				fmt.Fprintf(w, "  channel %s (%s procedure)\n", ch.Name, ch.Procedure)
			}
			fmt.Fprintf(w, "  Fabric identities for roles: %v\n", who.Roles)
		})
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func printWrite(a *app, res gateway.WriteResponse) error {
	return a.print(res, func(w io.Writer) { render.Write(w, res) })
}

func setupRegister(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel: national or dublin (required)")
	ref := fs.String("ref", "", "your local reference of the case (required)")
	date := dateFlag(fs)
	linkCh := fs.String("link-channel", "", "continue a case your agency holds on this other channel")
	linkRef := fs.String("link-ref", "", "that case, by your local reference")
	linkP := fs.String("link-pseudonym", "", "that case, by its pseudonym")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		if err := requireFlag("channel", *channel); err != nil {
			return err
		}
		if err := requireFlag("ref", *ref); err != nil {
			return err
		}
		req := gateway.RegisterRequest{Channel: *channel, LocalRef: *ref}
		if *linkCh != "" || *linkRef != "" || *linkP != "" {
			sel := caseSel{channel: *linkCh, ref: *linkRef, pseudonym: *linkP}
			from, err := sel.caseRef()
			if err != nil {
				return usagef("link: --link-channel and one of --link-ref, --link-pseudonym")
			}
			req.LinkFrom = &from
		}
		c, err := a.client()
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
		for _, f := range [][2]string{{"channel", *channel}, {"pseudonym", *p}, {"ref", *ref}} {
			if err := requireFlag(f[0], f[1]); err != nil {
				return err
			}
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		res, err := c.Bind(ctx, gateway.BindRequest{Channel: *channel, Pseudonym: *p, LocalRef: *ref}, writeOpts(*key)...)
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
		c, err := a.client()
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
		res, err := c.RecordEvent(ctx, gateway.EventRequest{CaseRef: ref, Event: ev}, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return printWrite(a, res)
	}
}

// caseQuery is a command that reads one case (--channel with --ref or
// --pseudonym) and prints the answer.
func caseQuery[T any](fs *flag.FlagSet, get func(*client.Client, context.Context, gateway.CaseRef) (T, error), show func(io.Writer, T)) runner {
	var sel caseSel
	sel.register(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		ref, err := sel.caseRef()
		if err != nil {
			return err
		}
		c, err := a.client()
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

func pageFlags(fs *flag.FlagSet) *client.Page {
	var p client.Page
	fs.IntVar(&p.PageSize, "page-size", 0, "items per page (0: the gateway's default)")
	fs.StringVar(&p.Bookmark, "bookmark", "", "continue after an earlier page")
	return &p
}

func printBookmark(w io.Writer, bm string) {
	if bm != "" {
		fmt.Fprintf(w, "more: --bookmark %s\n", bm)
	}
}

func setupCases(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	status := fs.String("status", "", "status, e.g. APPLICATION_LODGED (required)")
	page := pageFlags(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		if err := requireFlag("channel", *channel); err != nil {
			return err
		}
		if err := requireFlag("status", *status); err != nil {
			return err
		}
		c, err := a.client()
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
			for _, f := range [][2]string{{"to", *to}, {"received", *received}, {"application-registered", *appReg}, {"evidence", *evidence}} {
				if err := requireFlag(f[0], f[1]); err != nil {
					return err
				}
			}
			return oneOf("kind", *kind, string(domain.TakeCharge), string(domain.TakeBack), string(domain.TakeBackNotifyKind))
		}
		return dublinWrite(ctx, a, &sel, *date, check, func(c *client.Client, dc gateway.DublinCase, on string) (gateway.WriteResponse, error) {
			req := gateway.DublinRequestRequest{DublinCase: dc, Kind: domain.RequestKind(*kind), RequestedMemberState: *to,
				ReceivedOn: *received, ApplicationRegisteredOn: *appReg, Evidence: domain.Evidence(*evidence), EvidenceReceivedOn: *evidenceOn,
				OccurredOn: on}
			if *urgentDue != "" {
				yes := true
				req.Urgent, req.UrgentReplyDue = &yes, *urgentDue
			}
			return c.DublinRequest(ctx, req, writeOpts(*key)...)
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
		return dublinWrite(ctx, a, &sel, *date, check, func(c *client.Client, dc gateway.DublinCase, on string) (gateway.WriteResponse, error) {
			req := gateway.DublinReplyRequest{DublinCase: dc, Reply: *reply, ReceivedOn: *received, OccurredOn: on}
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
		return dublinWrite(ctx, a, &sel, *date, check, func(c *client.Client, dc gateway.DublinCase, on string) (gateway.WriteResponse, error) {
			req := gateway.DublinTransferRequest{DublinCase: dc, Step: *step, ScheduledFor: *sched,
				ExtensionReason: domain.ExtensionReason(*reason), OccurredOn: on}
			return c.DublinTransfer(ctx, req, writeOpts(*key)...)
		})
	}
}

// dublinWrite is the shape of every dated Dublin step: select the case, check the command's flags,
// connect, date the act (default today in the agency's member state), send one write, print its receipt.
func dublinWrite(ctx context.Context, a *app, sel *caseSel, date string, check func() error,
	send func(c *client.Client, dc gateway.DublinCase, occurredOn string) (gateway.WriteResponse, error)) error {
	dc, err := sel.dublinCase()
	if err != nil {
		return err
	}
	if err := check(); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	on, err := a.dateOr(ctx, date)
	if err != nil {
		return err
	}
	res, err := send(c, dc, on)
	if err != nil {
		return err
	}
	return printWrite(a, res)
}

func setupDublinResolve(fs *flag.FlagSet) runner {
	sel := caseSel{noChannel: true}
	sel.register(fs)
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		dc, err := sel.dublinCase()
		if err != nil {
			return err
		}
		c, err := a.client()
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
		c, err := a.client()
		if err != nil {
			return err
		}
		var all gateway.Board
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

func setupHolidaysSet(fs *flag.FlagSet) runner {
	year := fs.Int("year", 0, "the year (required)")
	dates := fs.String("dates", "", "comma-separated YYYY-MM-DD dates in that year (none: no holidays)")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		if *year == 0 {
			return usagef("--year is required")
		}
		list := []string{}
		for _, d := range strings.Split(*dates, ",") {
			if d = strings.TrimSpace(d); d != "" {
				list = append(list, d)
			}
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		cal, err := c.SetHolidays(ctx, gateway.HolidaysRequest{Year: *year, Dates: list}, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return a.print(cal, func(w io.Writer) { printHolidays(w, cal) })
	}
}

func setupHolidaysShow(fs *flag.FlagSet) runner {
	ms := fs.String("member-state", "", "ISO 3166-1 alpha-2 code (default: your agency's)")
	year := fs.Int("year", 0, "the year (default: this year)")
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		cal, err := c.Holidays(ctx, *ms, *year)
		if err != nil {
			return err
		}
		return a.print(cal, func(w io.Writer) { printHolidays(w, cal) })
	}
}

func printHolidays(w io.Writer, cal chaincode.HolidayCalendar) {
	fmt.Fprintf(w, "public holidays of %s in %d (recorded by %s): %d\n", cal.MemberState, cal.Year, cal.SetBy, cal.Holidays.Len())
	for _, d := range cal.Holidays.Dates() {
		fmt.Fprintf(w, "  %s  %s\n", d, d.Weekday())
	}
}

// maxDocument mirrors the gateway's document body limit (base64 inflates by 4/3).
const maxDocument = 8 << 20

func readDocument(path string) ([]byte, error) {
	if path == "" {
		return nil, usagef("--file is required")
	}
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, usagef("--file: %v", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return nil, usagef("--file: %v", err)
	}
	if len(b) > maxDocument {
		return nil, usagef("--file: larger than %d MiB", maxDocument>>20)
	}
	if len(b) == 0 {
		return nil, usagef("--file: empty")
	}
	return b, nil
}

func setupAnchor(fs *flag.FlagSet) runner {
	var sel caseSel
	sel.register(fs)
	file := fs.String("file", "", "the document ('-' = standard input; required)")
	typ := fs.String("type", "", "APPLICATION, HEARING_MINUTES, DECISION, APPEAL_RULING, DUBLIN_REQUEST, DUBLIN_REPLY, TRANSFER_DECISION, OTHER")
	date := dateFlag(fs)
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		ref, err := sel.caseRef()
		if err != nil {
			return err
		}
		doc, err := readDocument(*file)
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		req := gateway.AnchorRequest{CaseRef: ref, Document: doc, DocumentType: domain.DocumentType(*typ)}
		if req.OccurredOn, err = a.dateOr(ctx, *date); err != nil {
			return err
		}
		res, err := c.Anchor(ctx, req, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return a.print(res, func(w io.Writer) {
			render.Write(w, res.WriteResponse)
			fmt.Fprintf(w, "document hash (HMAC under the case's key, kept by your privacy service): %s\n", res.DocumentHash)
		})
	}
}

func setupVerify(fs *flag.FlagSet) runner {
	var sel caseSel
	sel.register(fs)
	file := fs.String("file", "", "the document ('-' = standard input; required)")
	return func(ctx context.Context, a *app, _ []string) error {
		ref, err := sel.caseRef()
		if err != nil {
			return err
		}
		doc, err := readDocument(*file)
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		v, err := c.Verify(ctx, gateway.VerifyRequest{CaseRef: ref, Document: doc})
		if err != nil {
			return err
		}
		if err := a.print(v, func(w io.Writer) {
			if !v.Anchored {
				fmt.Fprintf(w, "NOT anchored on this case (hash %s): the document differs from every anchored one\n", v.DocumentHash)
				return
			}
			an := v.Anchor
			if an == nil {
				fmt.Fprintf(w, "anchored (hash %s)\n", v.DocumentHash)
				return
			}
			fmt.Fprintf(w, "anchored: %s by %s, occurred %s, recorded %s, tx %s (hash %s)\n", orDash(string(an.DocumentType)), an.MSPID,
				an.OccurredOn, an.RecordedOn, render.Short(an.TxID), v.DocumentHash)
		}); err != nil {
			return err
		}
		if !v.Anchored {
			return fmt.Errorf("%w: document not anchored", errCheckFailed)
		}
		return nil
	}
}

func setupErase(fs *flag.FlagSet) runner {
	var sel caseSel
	sel.register(fs)
	date := dateFlag(fs)
	wait := fs.Bool("wait", false, "wait until every holding agency has confirmed (bounded by --timeout)")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		ref, err := sel.caseRef()
		if err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		req := gateway.ErasureRequest{CaseRef: ref}
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
		var final []chaincode.ErasureStatus
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
				gateway.ErasureResponse
				Final []chaincode.ErasureStatus `json:"final"`
			}{res, final}, nil)
		}
		for _, st := range final {
			render.ErasureStatus(a.stdout, st)
		}
		return nil
	}
}

func printErasure(w io.Writer, res gateway.ErasureResponse) {
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
func WaitErasure(ctx context.Context, c *client.Client, channel, pseudonym string, out io.Writer) (chaincode.ErasureStatus, error) {
	line := progress.Start(out, fmt.Sprintf("waiting for every holder of %s case %s to erase and confirm", channel, render.Short(pseudonym)))
	for {
		st, err := c.ErasureStatus(ctx, gateway.CaseRef{Channel: channel, Pseudonym: pseudonym})
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
		if err := requireFlag("channel", *channel); err != nil {
			return err
		}
		c, err := a.client()
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
		c, err := a.client()
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

func setupAuditVerify(fs *flag.FlagSet) runner {
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.client()
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
		c, err := a.client()
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
		if err := requireFlag("channel", *channel); err != nil {
			return err
		}
		c, err := a.client()
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
		if err := requireFlag("channel", *channel); err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		l, err := c.AuditErasures(ctx, *channel, *older, *page)
		if err != nil {
			return err
		}
		return a.print(l, func(w io.Writer) {
			sts := make([]chaincode.ErasureStatus, len(l.Items))
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
		for _, f := range [][2]string{{"channel", *channel}, {"msp", *msp}, {"from", *from}, {"to", *to}} {
			if err := requireFlag(f[0], f[1]); err != nil {
				return err
			}
		}
		c, err := a.client()
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
		if err := requireFlag("channel", *channel); err != nil {
			return err
		}
		if err := requireFlag("pseudonym", *p); err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		h, err := c.AuditHistory(ctx, gateway.HistoryRequest{Channel: *channel, Pseudonym: *p, Bookmark: page.Bookmark, PageSize: page.PageSize})
		if err != nil {
			return err
		}
		return a.print(h, func(w io.Writer) {
			for _, e := range h.Items {
				st := "deleted"
				if e.State != nil {
					st = fmt.Sprintf("status %s seq %d last %s by holders %v", e.State.Status, e.State.Seq, e.State.LastEvent, e.State.Holders)
				}
				fmt.Fprintf(w, "  %s  tx %s  %s\n", e.Timestamp, render.Short(e.TxID), st)
			}
			printBookmark(w, h.Bookmark)
		})
	}
}

func setupEvents(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "only this channel")
	held := fs.Bool("held", false, "only cases your agency holds a reference to")
	after := fs.String("after", "", "resume after this position (default: from the beginning of the gateway's log)")
	count := fs.Int("count", 0, "stop after this many events (0: follow until Ctrl-C)")
	return func(ctx context.Context, a *app, _ []string) error {
		if *count < 0 {
			return usagef("--count must not be negative")
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		n := 0
		enc := json.NewEncoder(a.stdout)
		return c.Follow(ctx, client.FollowOptions{Channel: *channel, HeldOnly: *held, After: *after,
			OnReconnect: func(err error, attempt int) {
				if !a.g.quiet {
					fmt.Fprintf(a.stderr, "event stream interrupted (%v); reconnecting (attempt %d)\n", err, attempt)
				}
			}},
			func(ev gateway.EventView) error {
				if a.json() {
					if err := enc.Encode(ev); err != nil {
						return err
					}
				} else {
					render.Event(a.stdout, ev)
				}
				n++
				if *count > 0 && n >= *count {
					return client.ErrStop
				}
				return nil
			})
	}
}

func setupVocabulary(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	return func(ctx context.Context, a *app, _ []string) error {
		if err := requireFlag("channel", *channel); err != nil {
			return err
		}
		c, err := a.client()
		if err != nil {
			return err
		}
		raw, err := c.Vocabulary(ctx, *channel)
		if err != nil {
			return err
		}
		var v chaincode.Vocabulary
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("vocabulary: %w", err)
		}
		return a.print(json.RawMessage(raw), func(w io.Writer) { printVocabulary(w, v) })
	}
}

func printVocabulary(w io.Writer, v chaincode.Vocabulary) {
	fmt.Fprintf(w, "vocabulary v%d, %s procedure\n", v.Version, v.Procedure)
	for _, e := range v.Events {
		sys := ""
		if e.System {
			sys = "  (recorded by the ledger only)"
		}
		fmt.Fprintf(w, "  %-26s required %v optional %v%s\n", e.Code, e.Required, e.Optional, sys)
	}
}
