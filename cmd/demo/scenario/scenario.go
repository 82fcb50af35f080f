// Package scenario is the caseledger demo scenario that `make demo` runs and the
// end-to-end test checks: two arrivals at the border, a full national
// procedure, a Dublin take-charge request recorded late whose reply deadline
// has passed (implicit acceptance recorded by a gateway's deadline watcher),
// the transfer, a document anchor, an erasure carried out by every holding
// agency, and the auditor's verification. It drives everything through the
// agencies' gateways only (HTTPS, each agency's own tokens) and prints what
// each agency sees on the way.
//
// Each chapter is one file, chapterN_*.go, in the order Run plays them;
// summary.go is the epilogue.
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

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
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
func AgenciesFrom(api func(org string) (api.APIInfo, error)) (Agencies, error) {
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
	Audit api.AuditReport
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
	Erasures []api.ErasureStatus
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

func (s *scenario) did(a actor, w api.WriteResponse, note string) {
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

// register has an agency register a case under its local reference.
func (s *scenario) register(ctx context.Context, a actor, channel, ref, date string, link *api.CaseRef, note string) (api.WriteResponse, error) {
	w, err := a.c.Register(ctx, api.RegisterRequest{Channel: channel, LocalRef: ref, OccurredOn: date, LinkFrom: link})
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
func (s *scenario) record(ctx context.Context, a actor, channel, ref string, code domain.EventCode, date string, fields map[string]any, note string) (api.WriteResponse, error) {
	ev := map[string]any{"code": code, "occurredOn": date}
	for k, v := range fields {
		ev[k] = v
	}
	b, err := jsonOf(ev)
	if err != nil {
		return api.WriteResponse{}, err
	}
	w, err := a.c.RecordEvent(ctx, api.EventRequest{CaseRef: api.CaseRef{Channel: channel, LocalRef: ref}, Event: b})
	if err != nil {
		return w, stepErr(fmt.Sprintf("%s records %s", a, code), err)
	}
	if w.Code != code {
		return w, fmt.Errorf("%s records %s: answered %s", a, code, w.Code)
	}
	s.did(a, w, note)
	return w, nil
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
			v, err := a.c.Case(ctx, api.CaseRef{Channel: channel, Pseudonym: p})
			if err != nil {
				return stepErr(fmt.Sprintf("%s reads %s", a.org, l), err)
			}
			s.say("    %-22s %-24s %s", a.org, v.Case.Status, render.Refs(v.LocalRefs))
		}
	}
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
