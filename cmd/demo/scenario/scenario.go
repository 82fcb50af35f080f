// Package scenario is the caseledger demo scenario that `make demo` runs and the
// end-to-end test checks: two arrivals at the border, a full national
// procedure, a Dublin take-charge request recorded late whose reply deadline
// has passed (implicit acceptance recorded by a gateway's deadline watcher),
// the transfer, a document anchor, an erasure carried out by every holding
// agency, and the auditor's verification. It drives everything through the
// agencies' gateways only (HTTPS, each agency's own tokens) and prints what
// each agency sees on the way.
package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/caseledger/caseledger/chaincode"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/progress"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/gateway"
	"github.com/caseledger/caseledger/network"
)

// Agencies are the gateway clients the scenario acts with, one per agency
// and role (tokens of the demo network's organisations).
type Agencies struct {
	BorderPolice *client.Client // border-police, caseworker
	AsylumOffice *client.Client // asylum-office, caseworker
	AsylumDublin *client.Client // asylum-office, dublin-officer (its Dublin unit)
	Immigration  *client.Client // immigration-authority, caseworker
	Partner      *client.Client // partner-state, dublin-officer
	Auditor      *client.Client // auditor, auditor
}

// AgenciesFrom builds the clients from the orgs' API details (what
// network.UpServices writes to <root>/connection/<org>-api.json); api
// returns them by org name.
func AgenciesFrom(api func(org string) (network.APIInfo, error)) (Agencies, error) {
	mk := func(org, role string) (*client.Client, error) {
		info, err := api(org)
		if err != nil {
			return nil, err
		}
		tok, ok := info.Tokens[role]
		if !ok {
			return nil, fmt.Errorf("%w: %s has no token for role %s", client.ErrConfig, org, role)
		}
		return client.New(client.Config{BaseURL: info.URL, CAFile: info.CAFile, Token: tok, UserAgent: "caseledger-demo/1"})
	}
	var a Agencies
	var err error
	for _, x := range []struct {
		c         **client.Client
		org, role string
	}{
		{&a.BorderPolice, "border-police", "caseworker"},
		{&a.AsylumOffice, "asylum-office", "caseworker"},
		{&a.AsylumDublin, "asylum-office", "dublin-officer"},
		{&a.Immigration, "immigration-authority", "caseworker"},
		{&a.Partner, "partner-state", "dublin-officer"},
		{&a.Auditor, "auditor", "auditor"},
	} {
		if *x.c, err = mk(x.org, x.role); err != nil {
			return Agencies{}, err
		}
	}
	return a, nil
}

// Env is what the scenario runs with.
type Env struct {
	Agencies
	// Out receives the narrative; Progress the progress lines (default Out).
	Out, Progress io.Writer
	// Now is the clock (default time.Now). The ledger takes its own time
	// from the transactions; this only decides the dates the scenario sends.
	Now func() time.Time
	// WaitTimeout bounds each wait for a gateway's automation (default 2m).
	WaitTimeout time.Duration
	// LogsDir, if set, is named in the summary.
	LogsDir string
}

// Report is what happened, for the end-to-end test and the summary.
type Report struct {
	Today string
	// RealIdentifiers are the local references and names the scenario gave
	// to gateways; none may ever reach the ledger.
	RealIdentifiers []string
	// Documents are the documents anchored or verified (never on chain).
	Documents [][]byte
	CaseA     CaseA
	CaseB     CaseB
	// Audit is the auditor's verification of both channels.
	Audit gateway.AuditReport
	// LateEvents are this run's events the auditor listed as recorded late.
	LateEvents []domain.Event
	// OpenErasures counts erasure requests the auditor listed as unconfirmed.
	OpenErasures int
	// Writes counts the transactions the scenario itself recorded.
	Writes  int
	Elapsed time.Duration
}

// CaseA is the national procedure that ends with a decision.
type CaseA struct {
	// Refs are the agencies' own references of the case, by org.
	Refs         map[string]string
	National     string // pseudonym on the national channel
	Status       domain.Status
	DocumentHash string
}

// CaseB is the Dublin case.
type CaseB struct {
	// Refs are the agencies' own references, by org ("asylum-office/dublin":
	// the asylum office's Dublin unit file).
	Refs             map[string]string
	National, Dublin string // pseudonyms (different on each channel)
	// ImplicitlyAcceptedBy is the MSP id whose gateway recorded the
	// implicit acceptance; ReplyDeadline the deadline that had lapsed.
	ImplicitlyAcceptedBy string
	ReplyDeadline        string
	DublinStatus         domain.Status
	// Erasures are the final erasure statuses on both channels.
	Erasures []chaincode.ErasureStatus
}

// actor is one agency acting in one role.
type actor struct {
	org, role string
	c         *client.Client
}

func (a actor) String() string { return a.org + "/" + a.role }

type scenario struct {
	env  Env
	out  io.Writer
	prog io.Writer
	cal  calendar
	refs refs
	rep  Report

	bp, ao, aoDU, ia, ps, aud actor
	feeds                     map[string]*feed // by org
	ours                      map[string]bool  // this run's pseudonyms
}

// Run plays the scenario once with fresh local references and returns what
// happened. It fails on the first step whose outcome is not the expected one.
func Run(ctx context.Context, env Env) (Report, error) {
	start := time.Now()
	if env.BorderPolice == nil || env.AsylumOffice == nil || env.AsylumDublin == nil || env.Immigration == nil || env.Partner == nil || env.Auditor == nil {
		return Report{}, fmt.Errorf("%w: a client for every agency is required", client.ErrConfig)
	}
	if env.Out == nil {
		env.Out = io.Discard
	}
	if env.Progress == nil {
		env.Progress = env.Out
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.WaitTimeout <= 0 {
		env.WaitTimeout = 2 * time.Minute
	}
	cal := newCalendar(env.Now())
	if err := cal.checkRegime(); err != nil {
		return Report{}, err
	}
	s := &scenario{
		env: env, out: env.Out, prog: env.Progress, cal: cal, refs: newRefs(cal.today.Year()),
		bp:   actor{"border-police", "caseworker", env.BorderPolice},
		ao:   actor{"asylum-office", "caseworker", env.AsylumOffice},
		aoDU: actor{"asylum-office", "dublin-officer", env.AsylumDublin},
		ia:   actor{"immigration-authority", "caseworker", env.Immigration},
		ps:   actor{"partner-state", "dublin-officer", env.Partner},
		aud:  actor{"auditor", "auditor", env.Auditor},
		ours: map[string]bool{},
	}
	s.rep.Today = cal.today.String()
	s.rep.RealIdentifiers = s.refs.all()
	r := s.refs
	s.rep.CaseA.Refs = map[string]string{s.bp.org: r.bpA, s.ao.org: r.aoA, s.ia.org: r.iaA}
	s.rep.CaseB.Refs = map[string]string{s.bp.org: r.bpB, s.ao.org: r.aoB, s.ao.org + "/dublin": r.aoDublinB, s.ps.org: r.psB}
	fctx, stopFeeds := context.WithCancel(ctx)
	defer stopFeeds()
	if err := s.introduce(ctx); err != nil {
		return s.rep, err
	}
	s.feeds = map[string]*feed{}
	for _, a := range []actor{s.bp, s.ao, s.ia, s.ps, s.aud} {
		s.feeds[a.org] = follow(fctx, a.org, a.c)
	}
	for _, phase := range []func(context.Context) error{s.arrivals, s.nationalProcedure, s.dublin, s.documents, s.erasure, s.audit} {
		if err := phase(ctx); err != nil {
			return s.rep, err
		}
	}
	s.rep.Elapsed = time.Since(start)
	s.summary()
	return s.rep, nil
}

// ---- narration ----

func (s *scenario) section(title string) {
	fmt.Fprintf(s.out, "\n━━ %s ━━\n", title)
}

func (s *scenario) say(format string, args ...any) {
	fmt.Fprintf(s.out, "   "+format+"\n", args...)
}

func (s *scenario) did(a actor, w gateway.WriteResponse, note string) {
	s.rep.Writes++
	s.ours[w.Pseudonym] = true
	if note != "" {
		note = "  — " + note
	}
	fmt.Fprintf(s.out, "   ✔ %-30s %-24s %-8s case %s seq %d → %s (block %d)%s\n",
		a, w.Code, w.Channel, render.Short(w.Pseudonym), w.Seq, w.Status, w.BlockNumber, note)
}

func stepErr(step string, err error) error { return fmt.Errorf("%s: %w", step, err) }

func (s *scenario) wait(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.env.WaitTimeout)
}

// ---- the phases ----

func (s *scenario) introduce(ctx context.Context) error {
	s.section("The agencies (each calls only its own gateway, with its own API token)")
	for _, a := range []actor{s.bp, s.ao, s.aoDU, s.ia, s.ps, s.aud} {
		who, err := a.c.Whoami(ctx)
		if err != nil {
			return stepErr("whoami "+a.String(), err)
		}
		var chs []string
		for _, ch := range who.Channels {
			chs = append(chs, ch.Name)
		}
		s.say("%-22s %-24s %-15s %s  channels %s", who.Org, who.MSPID, who.Role, a.c.BaseURL(), strings.Join(chs, ", "))
	}
	s.say("today is %s (Germany); local references of this run are fresh, the ledger only ever sees pseudonyms", s.cal.today)
	return nil
}

// register has an agency register a case under its local reference.
func (s *scenario) register(ctx context.Context, a actor, channel, ref, date string, link *gateway.CaseRef, note string) (gateway.WriteResponse, error) {
	w, err := a.c.Register(ctx, gateway.RegisterRequest{Channel: channel, LocalRef: ref, OccurredOn: date, LinkFrom: link})
	if err != nil {
		return w, stepErr(a.String()+" registers "+ref, err)
	}
	if w.Code != domain.EvCaseRegistered || w.Seq != 1 {
		return w, fmt.Errorf("%s registers %s: answered %s seq %d", a, ref, w.Code, w.Seq)
	}
	s.did(a, w, note)
	return w, nil
}

// record has an agency record an event on a case it holds a reference to.
func (s *scenario) record(ctx context.Context, a actor, channel, ref string, code domain.EventCode, date string, fields map[string]any, note string) (gateway.WriteResponse, error) {
	ev := map[string]any{"code": code, "occurredOn": date}
	for k, v := range fields {
		ev[k] = v
	}
	b, err := jsonOf(ev)
	if err != nil {
		return gateway.WriteResponse{}, err
	}
	w, err := a.c.RecordEvent(ctx, gateway.EventRequest{CaseRef: gateway.CaseRef{Channel: channel, LocalRef: ref}, Event: b})
	if err != nil {
		return w, stepErr(fmt.Sprintf("%s records %s", a, code), err)
	}
	if w.Code != code {
		return w, fmt.Errorf("%s records %s: answered %s", a, code, w.Code)
	}
	s.did(a, w, note)
	return w, nil
}

func (s *scenario) arrivals(ctx context.Context) error {
	s.section("1. Two arrivals at the border")
	r := s.refs
	a, err := s.register(ctx, s.bp, "national", r.bpA, s.cal.ago(0), nil, "arrival 1, border police file "+r.bpA)
	if err != nil {
		return err
	}
	s.rep.CaseA.National = a.Pseudonym
	b, err := s.register(ctx, s.bp, "national", r.bpB, s.cal.ago(arrivalDaysAgo), nil,
		fmt.Sprintf("arrival 2 at a remote post %d days ago, recorded late: file %s", arrivalDaysAgo, r.bpB))
	if err != nil {
		return err
	}
	s.rep.CaseB.National = b.Pseudonym

	s.say("the asylum office learns of both cases on its own event stream (pseudonyms only, not yet its cases):")
	wctx, cancel := s.wait(ctx)
	defer cancel()
	for _, p := range []string{a.Pseudonym, b.Pseudonym} {
		ev, err := s.feeds[s.ao.org].wait(wctx, func(ev gateway.EventView) bool {
			return ev.Pseudonym == p && ev.Code == string(domain.EvCaseRegistered)
		})
		if err != nil {
			return stepErr("asylum office's event stream", err)
		}
		s.say("  asylum-office stream  %s  national case %s %s  held by the asylum office: %v", ev.Position, render.Short(p), ev.Code, ev.Held)
	}
	s.say("the border police hand the pseudonyms over with the person; the asylum office binds its own file numbers")
	s.say("(CASE_BOUND on the ledger: it now holds the cases — anchoring or writing alone never makes an agency a holder):")
	for _, x := range [][2]string{{a.Pseudonym, r.aoA}, {b.Pseudonym, r.aoB}} {
		res, err := s.ao.c.Bind(ctx, gateway.BindRequest{Channel: "national", Pseudonym: x[0], LocalRef: x[1]})
		if err != nil {
			return stepErr("asylum office binds "+x[1], err)
		}
		s.say("  ✔ asylum-office binds %s → national case %s (only its own privacy service knows)", x[1], render.Short(res.Pseudonym))
	}
	return nil
}

func (s *scenario) nationalProcedure(ctx context.Context) error {
	s.section("2. The national procedure: identity checks, files, applications; a hearing and a decision for case A")
	r, today := s.refs, s.cal.ago(0)
	steps := []struct {
		ref    string
		code   domain.EventCode
		date   string
		fields map[string]any
		note   string
	}{
		{r.aoA, domain.EvIdentityChecked, today, map[string]any{"eurodacHit": "NONE"}, "case A: no Eurodac hit"},
		{r.aoB, domain.EvIdentityChecked, s.cal.ago(arrivalDaysAgo), map[string]any{"eurodacHit": "CATEGORY_1"}, "case B: Eurodac category-1 hit (applied in AT before)"},
		{r.aoA, domain.EvFileCreated, today, nil, ""},
		{r.aoB, domain.EvFileCreated, s.cal.ago(applicationDaysAgo), nil, "late entry"},
		{r.aoA, domain.EvAllocated, today, map[string]any{"regionCode": "DE-BY"}, "allocated to Bavaria"},
		{r.aoA, domain.EvApplicationLodged, today, nil, ""},
		{r.aoB, domain.EvApplicationLodged, s.cal.ago(applicationDaysAgo), nil, "late entry"},
		{r.aoA, domain.EvHearingScheduled, today, map[string]any{"scheduledFor": today}, ""},
		{r.aoA, domain.EvHearingHeld, today, nil, ""},
		{r.aoA, domain.EvDecisionIssued, today, map[string]any{"outcome": "SUBSIDIARY_PROTECTION"}, "case A decided"},
	}
	var last gateway.WriteResponse
	for _, st := range steps {
		w, err := s.record(ctx, s.ao, "national", st.ref, st.code, st.date, st.fields, st.note)
		if err != nil {
			return err
		}
		if st.ref == r.aoA {
			last = w
		}
	}
	s.rep.CaseA.Status = last.Status
	if last.Status != domain.StDecisionIssued {
		return fmt.Errorf("case A ends in %s, want %s", last.Status, domain.StDecisionIssued)
	}
	res, err := s.ia.c.Bind(ctx, gateway.BindRequest{Channel: "national", Pseudonym: s.rep.CaseA.National, LocalRef: r.iaA})
	if err != nil {
		return stepErr("immigration authority binds its file", err)
	}
	s.say("✔ immigration-authority (Bavaria) binds its file %s → case %s after the allocation", r.iaA, render.Short(res.Pseudonym))
	s.say("")
	s.say("what the immigration authority sees of case A — its own reference, every agency's steps:")
	tl, err := s.ia.c.FullTimeline(ctx, gateway.CaseRef{Channel: "national", Pseudonym: s.rep.CaseA.National})
	if err != nil {
		return stepErr("immigration authority's timeline", err)
	}
	// Registration, the asylum office's bind, seven steps, the immigration
	// authority's own bind.
	if len(tl.Items) != 10 || !slices.Equal(tl.LocalRefs, []string{r.iaA}) {
		return fmt.Errorf("immigration authority sees %d events and references %v of case A, want 10 and its own", len(tl.Items), tl.LocalRefs)
	}
	s.indent(func(w io.Writer) { render.Timeline(w, tl) })
	return s.views(ctx, "national", map[string]string{"case A": s.rep.CaseA.National, "case B": s.rep.CaseB.National}, s.bp, s.ao, s.ia, s.aud)
}

// indent prints a rendered block indented under the narrative.
func (s *scenario) indent(f func(w io.Writer)) {
	var b strings.Builder
	f(&b)
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintf(s.out, "     %s\n", line)
	}
}

// views prints each agency's view of cases: status and its own references.
func (s *scenario) views(ctx context.Context, channel string, cases map[string]string, actors ...actor) error {
	labels := make([]string, 0, len(cases))
	for l := range cases {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	s.say("")
	s.say("what each agency sees on the %s channel (status; its own references):", channel)
	for _, l := range labels {
		p := cases[l]
		s.say("  %s = %s case %s", l, channel, p)
		for _, a := range actors {
			v, err := a.c.Case(ctx, gateway.CaseRef{Channel: channel, Pseudonym: p})
			if err != nil {
				return stepErr(fmt.Sprintf("%s reads %s", a.org, l), err)
			}
			s.say("    %-22s %-24s %s", a.org, v.Case.Status, render.Refs(v.LocalRefs))
		}
	}
	return nil
}

func (s *scenario) dublin(ctx context.Context) error {
	s.section("3. Dublin: case B goes to the partner state (AT)")
	if err := s.holidays(ctx); err != nil {
		return err
	}
	r := s.refs
	natB := gateway.CaseRef{Channel: "national", LocalRef: r.aoB}
	d, err := s.register(ctx, s.aoDU, "dublin", r.aoDublinB, s.cal.ago(requestDaysAgo), &natB,
		fmt.Sprintf("Dublin file %s, %d days late", r.aoDublinB, requestDaysAgo))
	if err != nil {
		return err
	}
	s.rep.CaseB.Dublin = d.Pseudonym
	s.say("the same person is national case %s and Dublin case %s: two random pseudonyms,", render.Short(s.rep.CaseB.National), render.Short(d.Pseudonym))
	s.say("linked only inside the asylum office's privacy service — the partner state never learns the national one")
	req := gateway.DublinRequestRequest{DublinCase: gateway.DublinCase{LocalRef: r.aoDublinB}, Kind: domain.TakeCharge,
		OccurredOn: s.cal.ago(requestDaysAgo), RequestedMemberState: "AT", ReceivedOn: s.cal.ago(requestDaysAgo),
		ApplicationRegisteredOn: s.cal.ago(applicationDaysAgo), Evidence: domain.EvidenceEurodacHit, EvidenceReceivedOn: s.cal.ago(arrivalDaysAgo)}
	w, err := s.aoDU.c.DublinRequest(ctx, req)
	if err != nil {
		return stepErr("take-charge request", err)
	}
	s.did(s.aoDU, w, fmt.Sprintf("sent and received %s, recorded today (late, within the 30-day window)", req.ReceivedOn))
	if v, err := s.aoDU.c.Case(ctx, gateway.CaseRef{Channel: "dublin", Pseudonym: d.Pseudonym}); err == nil && v.Case.Dublin != nil {
		s.say("regime %s (application registered %s, after %s); evidence %s", v.Case.Dublin.Regime, req.ApplicationRegisteredOn, ammrSwitch, v.Case.Dublin.Evidence)
		for _, dl := range v.Case.Dublin.Deadlines {
			if dl.Kind == domain.DeadlineReply {
				s.say("reply deadline: %s — the requesting state's claim alone does not start the partner state's period before the request was on its ledger", render.Deadline(dl))
			}
		}
	}

	// The partner state sees the request on its stream and binds its file.
	wctx, cancel := s.wait(ctx)
	defer cancel()
	ev, err := s.feeds[s.ps.org].wait(wctx, func(ev gateway.EventView) bool {
		return ev.Pseudonym == d.Pseudonym && ev.Code == string(domain.EvTakeChargeRequested)
	})
	if err != nil {
		return stepErr("partner state's event stream", err)
	}
	s.say("partner-state stream  %s  dublin case %s %s (held: %v)", ev.Position, render.Short(d.Pseudonym), ev.Code, ev.Held)
	if _, err := s.ps.c.Bind(ctx, gateway.BindRequest{Channel: "dublin", Pseudonym: d.Pseudonym, LocalRef: r.psB}); err != nil {
		return stepErr("partner state binds its file", err)
	}
	s.say("✔ partner-state binds its own file %s → dublin case %s", r.psB, render.Short(d.Pseudonym))

	// Its gateway acknowledged receipt today by itself; its Dublin officer
	// holds DubliNet's acknowledgement of the receipt on the day it was sent
	// and records that date: only now does the period run from it.
	ack, err := s.ps.c.DublinReply(ctx, gateway.DublinReplyRequest{DublinCase: gateway.DublinCase{LocalRef: r.psB},
		Reply: string(domain.EvReceiptAcknowledged), OccurredOn: req.ReceivedOn})
	if err != nil {
		return stepErr("partner state acknowledges the receipt date", err)
	}
	s.did(s.ps, ack, fmt.Sprintf("receipt on %s acknowledged (DubliNet's acknowledgement, Implementing Reg 2025/2055 Art 1(3))", req.ReceivedOn))
	if v, err := s.ps.c.Case(ctx, gateway.CaseRef{Channel: "dublin", Pseudonym: d.Pseudonym}); err == nil && v.Case.Dublin != nil {
		for _, dl := range v.Case.Dublin.Deadlines {
			if dl.Kind == domain.DeadlineReply {
				s.say("reply deadline: %s — passed; the gateways record the consequence after their grace period", render.Deadline(dl))
			}
		}
	}

	// Nobody replied in time: a gateway's deadline watcher records it.
	line := progress.Start(s.prog, "waiting for a gateway's deadline watcher to record the implicit acceptance")
	isAcceptance := func(ev gateway.EventView) bool {
		return ev.Pseudonym == d.Pseudonym && ev.Code == string(domain.EvImplicitlyAccepted)
	}
	acc, err := s.feeds[s.ao.org].wait(wctx, isAcceptance)
	if err == nil {
		// Both member states' peers have committed it before either acts on it.
		_, err = s.feeds[s.ps.org].wait(wctx, isAcceptance)
	}
	if err != nil {
		line.Fail("%v", err)
		return stepErr("implicit acceptance", err)
	}
	tl, err := s.ps.c.FullTimeline(ctx, gateway.CaseRef{Channel: "dublin", Pseudonym: d.Pseudonym})
	if err != nil {
		line.Fail("%v", err)
		return stepErr("partner state's timeline", err)
	}
	for _, e := range tl.Items {
		if e.Code == domain.EvImplicitlyAccepted {
			s.rep.CaseB.ImplicitlyAcceptedBy, s.rep.CaseB.ReplyDeadline = e.MSPID, e.OccurredOn
		}
	}
	line.Done("IMPLICITLY_ACCEPTED in block %d by the gateway of %s, dated %s (the reply deadline's last day)", acc.Block,
		s.rep.CaseB.ImplicitlyAcceptedBy, s.rep.CaseB.ReplyDeadline)

	// A reply now comes too late.
	_, err = s.ps.c.DublinReply(ctx, gateway.DublinReplyRequest{DublinCase: gateway.DublinCase{LocalRef: r.psB}, Reply: "REJECTED",
		OccurredOn: s.cal.ago(0), ReceivedOn: s.cal.ago(0)})
	if err == nil {
		return errors.New("the partner state's late rejection was accepted")
	}
	if !errors.Is(err, client.ErrRefused) {
		return stepErr("late rejection", err)
	}
	s.say("✘ partner-state tries to reject now: refused, %s — %s", client.CodeOf(err), detailOf(err))

	if err := s.board(ctx); err != nil {
		return err
	}
	for _, st := range []gateway.DublinTransferRequest{
		{Step: "DECISION_ISSUED"},
		{Step: "SCHEDULED", ScheduledFor: s.cal.ago(0)},
		{Step: "COMPLETED"},
	} {
		st.DublinCase, st.OccurredOn = gateway.DublinCase{LocalRef: r.aoDublinB}, s.cal.ago(0)
		w, err := s.aoDU.c.DublinTransfer(ctx, st)
		if err != nil {
			return stepErr("transfer "+st.Step, err)
		}
		s.did(s.aoDU, w, "")
		s.rep.CaseB.DublinStatus = w.Status
	}
	if s.rep.CaseB.DublinStatus != domain.StTransferCompleted {
		return fmt.Errorf("the Dublin case ends in %s, want %s", s.rep.CaseB.DublinStatus, domain.StTransferCompleted)
	}
	if _, err := s.record(ctx, s.ao, "national", r.aoB, domain.EvDecisionIssued, s.cal.ago(0), map[string]any{"outcome": "INADMISSIBLE"},
		"Germany is not responsible"); err != nil {
		return err
	}
	if _, err := s.record(ctx, s.ao, "national", r.aoB, domain.EvCaseClosed, s.cal.ago(0), map[string]any{"closureReason": "TRANSFERRED"}, ""); err != nil {
		return err
	}

	s.say("")
	s.say("one person, two member states, two pseudonyms:")
	for _, x := range []struct {
		a        actor
		ch, p    string
		expected string
	}{
		{s.aoDU, "dublin", d.Pseudonym, r.aoDublinB},
		{s.ao, "national", s.rep.CaseB.National, r.aoB},
		{s.ps, "dublin", d.Pseudonym, r.psB},
		{s.bp, "national", s.rep.CaseB.National, r.bpB},
	} {
		v, err := x.a.c.Case(ctx, gateway.CaseRef{Channel: x.ch, Pseudonym: x.p})
		if err != nil {
			return stepErr(x.a.org+" reads case B", err)
		}
		if !slices.Contains(v.LocalRefs, x.expected) {
			return fmt.Errorf("%s sees references %v of case B, want %s", x.a, v.LocalRefs, x.expected)
		}
		s.say("  %-30s %-8s case %s  %-20s its reference %s", x.a, x.ch, x.p, v.Case.Status, strings.Join(v.LocalRefs, ", "))
	}
	_, err = s.ps.c.Case(ctx, gateway.CaseRef{Channel: "national", Pseudonym: s.rep.CaseB.National})
	if err == nil {
		return errors.New("the partner state could read the national channel")
	}
	s.say("  partner-state asking for the national case: refused, %s — %s", client.CodeOf(err), detailOf(err))
	s.say("")
	s.say("what the partner state sees of the Dublin case — every step, whoever recorded it:")
	tl, err = s.ps.c.FullTimeline(ctx, gateway.CaseRef{Channel: "dublin", Pseudonym: d.Pseudonym})
	if err != nil {
		return stepErr("partner state's timeline", err)
	}
	s.indent(func(w io.Writer) { render.Timeline(w, tl) })
	return nil
}

func jsonOf(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return b, nil
}

func detailOf(err error) string {
	var p *client.Problem
	if errors.As(err, &p) {
		if p.Detail != "" {
			return p.Detail
		}
		return p.Title
	}
	return err.Error()
}

// board prints the Dublin deadline board as both member states see it.
func (s *scenario) board(ctx context.Context) error {
	for _, a := range []actor{s.aoDU, s.ps} {
		b, err := a.c.Deadlines(ctx, 200, client.Page{PageSize: 100})
		if err != nil {
			return stepErr(a.org+"'s deadline board", err)
		}
		others := 0
		mine := b.Items[:0:0]
		for _, it := range b.Items {
			if s.ours[it.Pseudonym] {
				mine = append(mine, it)
			} else {
				others++
			}
		}
		if len(mine) == 0 {
			return fmt.Errorf("%s's deadline board lacks the Dublin case", a.org)
		}
		b.Items = mine
		s.say("")
		s.say("the Dublin deadline board at %s (%s):", a.org, a.role)
		s.indent(func(w io.Writer) { render.Board(w, b, nil) })
		if others > 0 || b.Bookmark != "" {
			s.say("  (+ deadlines of %d other cases on the board)", others)
		}
	}
	return nil
}

func (s *scenario) documents(ctx context.Context) error {
	s.section("4. A document anchored and verified")
	r := s.refs
	doc := []byte(fmt.Sprintf("%%PDF-1.7\nBundesamt für Migration und Flüchtlinge — Bescheid\nGeschäftszeichen %s\nAntragsteller: %s\n"+
		"Entscheidung: subsidiärer Schutz zuerkannt\n", r.aoA, r.nameA))
	altered := []byte(strings.Replace(string(doc), "subsidiärer Schutz zuerkannt", "Antrag abgelehnt", 1))
	s.rep.Documents = append(s.rep.Documents, doc, altered)
	ref := gateway.CaseRef{Channel: "national", LocalRef: r.aoA}
	an, err := s.ao.c.Anchor(ctx, gateway.AnchorRequest{CaseRef: ref, Document: doc, DocumentType: domain.DocDecision, OccurredOn: s.cal.ago(0)})
	if err != nil {
		return stepErr("anchor the decision", err)
	}
	s.did(s.ao, an.WriteResponse, "the decision letter of case A")
	s.rep.CaseA.DocumentHash = an.DocumentHash
	s.say("on chain: HMAC-SHA256 under case A's key, which only the asylum office's privacy service holds: %s", an.DocumentHash)
	list, err := s.bp.c.Anchors(ctx, gateway.CaseRef{Channel: "national", LocalRef: r.bpA}, client.Page{})
	if err != nil {
		return stepErr("border police list the anchors", err)
	}
	if len(list.Items) != 1 || list.Items[0].DocumentHash != an.DocumentHash {
		return fmt.Errorf("border police see anchors %+v", list.Items)
	}
	s.say("border-police sees the anchor (hash %s by %s) but not the document, and cannot test a guess without the key",
		render.Short(list.Items[0].DocumentHash), list.Items[0].MSPID)
	for _, x := range []struct {
		doc  []byte
		want bool
		what string
	}{{doc, true, "the original letter"}, {altered, false, "a letter with the decision changed"}} {
		v, err := s.ao.c.Verify(ctx, gateway.VerifyRequest{CaseRef: ref, Document: x.doc})
		if err != nil {
			return stepErr("verify "+x.what, err)
		}
		if v.Anchored != x.want {
			return fmt.Errorf("verify %s: anchored %v, want %v", x.what, v.Anchored, x.want)
		}
		if v.Anchored {
			s.say("✔ asylum-office verifies %s: anchored by %s on %s (tx %s)", x.what, v.Anchor.MSPID, v.Anchor.RecordedOn, render.Short(v.Anchor.TxID))
		} else {
			s.say("✘ asylum-office verifies %s: NOT anchored — tampering shows", x.what)
		}
	}
	return nil
}

func (s *scenario) erasure(ctx context.Context) error {
	s.section("5. Erasure of case B, requested by the asylum office and carried out by every holding agency")
	r := s.refs
	res, err := s.ao.c.RequestErasure(ctx, gateway.ErasureRequest{CaseRef: gateway.CaseRef{Channel: "national", LocalRef: r.aoB}, OccurredOn: s.cal.ago(0)})
	if err != nil {
		return stepErr("request erasure", err)
	}
	targets := map[string]string{}
	for _, it := range res.Items {
		if !it.Requested {
			return fmt.Errorf("erasure not requested on %s: %+v", it.Channel, it.Problem)
		}
		s.did(s.ao, *it.Result, "")
		targets[it.Channel] = it.Pseudonym
	}
	if targets["national"] != s.rep.CaseB.National || targets["dublin"] != s.rep.CaseB.Dublin {
		return fmt.Errorf("erasure covered %v, want national and linked Dublin case", targets)
	}
	s.say("the request covers the linked Dublin case too (the asylum office's privacy service knows the link);")
	s.say("each holder's gateway sees ERASURE_REQUESTED, destroys its mapping and keys on that channel only, and confirms on the ledger")
	line := progress.Start(s.prog, "waiting for every holding agency to erase and confirm")
	wctx, cancel := s.wait(ctx)
	defer cancel()
	seen := 0
	for {
		var sts []chaincode.ErasureStatus
		done := true
		var status []string
		for _, ch := range []string{"national", "dublin"} {
			st, err := s.aud.c.ErasureStatus(wctx, gateway.CaseRef{Channel: ch, Pseudonym: targets[ch]})
			if err != nil {
				line.Fail("%v", err)
				return stepErr("erasure status", err)
			}
			sts = append(sts, st)
			done = done && st.Complete
			status = append(status, fmt.Sprintf("%s %d/%d", ch, len(st.Confirmed), len(st.Confirmed)+len(st.Pending)))
		}
		line.Status("confirmed %s", strings.Join(status, ", "))
		if done {
			s.rep.CaseB.Erasures = sts
			line.Done("%s", strings.Join(status, ", "))
			break
		}
		// Wait for the next confirmation on the auditor's stream.
		n := 0
		_, err := s.feeds[s.aud.org].wait(wctx, func(ev gateway.EventView) bool {
			if ev.Code == string(domain.EvErasureConfirmed) && (ev.Pseudonym == targets["national"] || ev.Pseudonym == targets["dublin"]) {
				n++
			}
			return n > seen
		})
		if err != nil {
			line.Fail("%v", err)
			return stepErr("erasure confirmations", err)
		}
		seen++
	}
	for _, st := range s.rep.CaseB.Erasures {
		s.say("%-8s case %s: confirmed by %s on %s", channelOf(st, targets), render.Short(st.Pseudonym), strings.Join(st.Confirmed, ", "), st.CompletedOn)
	}
	// Every holder confirmed after erasing its own mapping on that channel
	// (binding made each agency a holder).
	for _, x := range []struct {
		a       actor
		ch, ref string
	}{{s.bp, "national", r.bpB}, {s.ao, "national", r.aoB}, {s.aoDU, "dublin", r.aoDublinB}, {s.ps, "dublin", r.psB}} {
		if err := s.gone(wctx, x.a, x.ch, x.ref); err != nil {
			return err
		}
	}
	return nil
}

func channelOf(st chaincode.ErasureStatus, targets map[string]string) string {
	for ch, p := range targets {
		if p == st.Pseudonym {
			return ch
		}
	}
	return "?"
}

// gone waits until an agency's reference no longer resolves.
func (s *scenario) gone(ctx context.Context, a actor, channel, ref string) error {
	for {
		_, err := a.c.Case(ctx, gateway.CaseRef{Channel: channel, LocalRef: ref})
		switch {
		case client.CodeOf(err) == gateway.CodeUnknownLocalRef:
			s.say("✔ %-30s %s no longer resolves: %s", a, ref, client.CodeOf(err))
			return nil
		case err != nil && !errors.Is(err, client.ErrUnavailable):
			return stepErr(fmt.Sprintf("%s looks up %s", a, ref), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s still resolves %s after the erasure: %w", a, ref, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *scenario) audit(ctx context.Context) error {
	s.section("6. The auditor verifies both channels on its own peer")
	line := progress.Start(s.prog, "auditor: recomputing every block's hashes and every transaction's signature")
	rep, err := s.aud.c.AuditVerify(ctx)
	if err != nil {
		line.Fail("%v", err)
		return stepErr("audit verification", err)
	}
	line.Done("%d channels", len(rep.Channels))
	s.rep.Audit = rep
	s.indent(func(w io.Writer) { render.Audit(w, rep) })
	if !rep.Intact || len(rep.Channels) != 2 {
		return fmt.Errorf("audit: intact %v over %d channels", rep.Intact, len(rep.Channels))
	}
	s.say("")
	s.say("late recordings of this run (occurred before the day they were recorded):")
	var late []domain.Event
	total := 0
	for _, ch := range []string{"national", "dublin"} {
		p := client.Page{PageSize: 100}
		for {
			l, err := s.aud.c.AuditLate(ctx, ch, "", p)
			if err != nil {
				return stepErr("late recordings", err)
			}
			total += len(l.Items)
			for _, e := range l.Items {
				if e.Pseudonym == s.rep.CaseB.National || e.Pseudonym == s.rep.CaseB.Dublin {
					late = append(late, e)
				}
			}
			if l.Bookmark == "" || len(l.Items) == 0 {
				break
			}
			p.Bookmark = l.Bookmark
		}
	}
	s.rep.LateEvents = late
	if len(late) == 0 {
		return errors.New("the auditor lists none of this run's late recordings")
	}
	s.indent(func(w io.Writer) { render.Events(w, late, true) })
	s.say("(%d late recordings on the ledger in all)", total)
	s.say("")
	s.say("erasure requests not yet confirmed by every holder:")
	for _, ch := range []string{"national", "dublin"} {
		l, err := s.aud.c.AuditErasures(ctx, ch, 0, client.Page{PageSize: 100})
		if err != nil {
			return stepErr("unconfirmed erasures", err)
		}
		s.rep.OpenErasures += len(l.Items)
		sts := make([]chaincode.ErasureStatus, len(l.Items))
		for i, it := range l.Items {
			if s.ours[it.Pseudonym] {
				return fmt.Errorf("this run's completed erasure is listed as unconfirmed on %s", ch)
			}
			sts[i] = it.ErasureStatus
		}
		s.say("  %s:", ch)
		s.indent(func(w io.Writer) { render.Erasures(w, sts, func(i int) int { return l.Items[i].DaysOpen }) })
	}
	return nil
}

func (s *scenario) summary() {
	s.section("Summary")
	a, b := s.rep.CaseA, s.rep.CaseB
	s.say("case A  national %s: %s (subsidiary protection); decision letter anchored as %s", a.National, a.Status, render.Short(a.DocumentHash))
	s.say("case B  national %s / dublin %s: Eurodac hit, take-charge request to AT recorded late,", b.National, b.Dublin)
	s.say("        implicitly accepted (deadline %s) by the gateway of %s, transferred, then erased by every holder",
		b.ReplyDeadline, b.ImplicitlyAcceptedBy)
	blocks := []string{}
	for _, c := range s.rep.Audit.Channels {
		blocks = append(blocks, fmt.Sprintf("%s %d blocks", c.Channel, c.Blocks))
	}
	s.say("ledger  intact (%s); %d late recordings of this run listed; %d erasure requests unconfirmed",
		strings.Join(blocks, ", "), len(s.rep.LateEvents), s.rep.OpenErasures)
	s.say("events of this run's cases on each agency's stream (of them on cases it holds a reference to):")
	for _, org := range []string{s.bp.org, s.ao.org, s.ia.org, s.ps.org, s.aud.org} {
		n, held := s.feeds[org].count(func(ev gateway.EventView) bool { return s.ours[ev.Pseudonym] })
		s.say("  %-22s %3d  (%d)", org, n, held)
	}
	s.say("%d transactions recorded by the scenario, plus those of the gateways' automations; %s",
		s.rep.Writes, s.rep.Elapsed.Round(100*time.Millisecond))
	if s.env.LogsDir != "" {
		s.say("logs: %s (gateway.<org>.log, privacy.<org>.log, peer, orderer, CA and chaincode logs)", s.env.LogsDir)
	}
}

// PrintNext says how to explore the running system with the command line
// and how to stop it. rootFlag is "" for the default root, else the
// --root the commands need.
func PrintNext(w io.Writer, rep Report, root, rootFlag string) {
	a, b := rep.CaseA.Refs, rep.CaseB.Refs
	cl := "go run ./cmd/caseledger"
	stop := "make down (or go run ./cmd/netctl down)"
	if rootFlag != "" {
		cl += " --root " + rootFlag
		stop = "go run ./cmd/netctl down --root " + rootFlag
	}
	fmt.Fprintf(w, `
   The system keeps running. Explore it with the command line (each agency through its own gateway):
     %[1]s --org border-police timeline --channel national --ref %[2]s
     %[1]s --org immigration-authority show --channel national --ref %[3]s
     %[1]s --org asylum-office --role dublin-officer deadlines --within 200
     %[1]s --org partner-state show --channel dublin --ref %[4]s   # erased: exit 2, UNKNOWN_LOCAL_REF
     %[1]s --org auditor audit verify
     %[1]s --org auditor audit late --channel national
     %[1]s --org asylum-office --role caseworker events --held   # live; Ctrl-C to stop
   API details per agency (URL, CA, tokens): %[5]s/connection/<org>-api.json; logs: %[5]s/logs/
   Run it again for new cases: make demo.  Stop everything: %[6]s;
   make demo starts it again with the data kept, make clean deletes it.
`, cl, a["border-police"], a["immigration-authority"], b["partner-state"], root, stop)
}
