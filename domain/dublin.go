package domain

import (
	"errors"
	"slices"

	"github.com/caseledger/caseledger/domain/deadline"
)

// DeadlineTransferDecision is the AMMR limit for the transfer decision (Art
// 42(1)); Dublin III sets none.
const DeadlineTransferDecision DeadlineKind = "TRANSFER_DECISION"

// DeadlineKinds lists every kind of running limit.
func DeadlineKinds() []DeadlineKind {
	return []DeadlineKind{DeadlineRequest, DeadlineTakeBackNotification, DeadlineReply, DeadlineReexamination, DeadlineTransferDecision, DeadlineTransfer}
}

// HolidaySource yields the public holidays of a member state for a year, as
// recorded on the ledger. ok is false when none were recorded for that year.
type HolidaySource interface {
	Holidays(memberState string, year int) (h deadline.Holidays, ok bool, err error)
}

// ledgerCalendar adapts a HolidaySource to deadline.Calendar for one member
// state and remembers which years were missing and the first read error.
type ledgerCalendar struct {
	src     HolidaySource
	state   string
	years   map[int]deadline.Holidays
	missing []int
	err     error
}

func (c *ledgerCalendar) IsNonWorkingDay(d deadline.Date) bool {
	if c.src == nil {
		return false // End skips weekends by itself
	}
	h, seen := c.years[d.Year()]
	if !seen {
		var ok bool
		var err error
		h, ok, err = c.src.Holidays(c.state, d.Year())
		if err != nil && c.err == nil {
			c.err = err
		}
		if !ok && !slices.Contains(c.missing, d.Year()) {
			c.missing = append(c.missing, d.Year())
		}
		if c.years == nil {
			c.years = map[int]deadline.Holidays{}
		}
		c.years[d.Year()] = h
	}
	return h.IsNonWorkingDay(d)
}

// clockCall runs one deadline computation in the acting state's calendar and
// wraps the result. ok is false when the rule sets no fixed limit (or the
// regime lacks the step and noRuleOK). Engine errors become domain errors:
// facts the engine refuses are INVALID_ARGUMENT, a late extension
// DEADLINE_PASSED.
func clockCall(kind DeadlineKind, acting string, env Env, noRuleOK bool,
	compute func(deadline.Calendar) (deadline.Deadline, error)) (Deadline, bool, error) {
	cal := &ledgerCalendar{src: env.Holidays, state: acting}
	dl, err := compute(cal)
	if cal.err != nil {
		return Deadline{}, false, Errorf(KindInternal, "reading holiday calendar failed")
	}
	switch {
	case err == nil:
	case errors.Is(err, deadline.ErrNoLimit), noRuleOK && (errors.Is(err, deadline.ErrNoRule) || errors.Is(err, deadline.ErrNotProvided)):
		return Deadline{}, false, nil
	case errors.Is(err, deadline.ErrExtensionTooLate):
		return Deadline{}, false, Errorf(KindDeadlinePassed, "the transfer deadline expired before the extension was notified")
	case errors.Is(err, deadline.ErrNoRule), errors.Is(err, deadline.ErrInvalidFacts), errors.Is(err, deadline.ErrInvalidDate), errors.Is(err, deadline.ErrInvalidPeriod):
		// The engine's messages name only regimes, steps, periods and dates.
		return Deadline{}, false, Errorf(KindInvalidArgument, "%s deadline: %v", kind, err)
	default:
		return Deadline{}, false, Errorf(KindInternal, "%s deadline could not be computed", kind)
	}
	slices.Sort(cal.missing)
	return Deadline{Kind: kind, Deadline: dl, ActingMemberState: acting, HolidaysMissing: cal.missing}, true, nil
}

func mustDate(s string) deadline.Date {
	d, _ := deadline.ParseDate(s) // validated by validateStatic
	return d
}

func (d *DublinFacts) clock(env Env) (deadline.Clock, error) {
	c, err := deadline.NewClock(d.Regime, env.Deadlines)
	if err != nil {
		return deadline.Clock{}, Errorf(KindInternal, "deadline configuration invalid")
	}
	return c, nil
}

func hitKind(e Evidence) deadline.HitKind {
	switch e {
	case EvidenceEurodacHit:
		return deadline.EurodacHit
	case EvidenceVISHit:
		return deadline.VISHit
	}
	return deadline.NoHit
}

// applyDublin updates the Dublin facts and running deadlines for an event
// that the workflow table has already admitted.
func applyDublin(next, prev *CaseState, in EventInput, occurred deadline.Date, actor Actor, env Env) error {
	if next.Dublin == nil {
		next.Dublin = &DublinFacts{RequestingMemberState: actor.Member.MemberState, Deadlines: []Deadline{}}
	}
	d := next.Dublin
	if in.Code == EvCaseRegistered {
		return registerFacts(d, in, env)
	}
	if in.Code == EvRequestFactsRecorded {
		if !d.ApplicationRegisteredOn.IsZero() {
			// Once on the ledger the facts bind every request (startRequest).
			return Errorf(KindAlreadyExists, "%s: the case's application was registered on %s", FieldApplicationOn, d.ApplicationRegisteredOn)
		}
		return registerFacts(d, in, env)
	}
	if in.Code == EvTakeChargeRequested || in.Code == EvTakeBackRequested || in.Code == EvTakeBackNotified {
		return startRequest(d, in, occurred, env)
	}
	if d.Regime == "" {
		return nil // registered, no request yet: nothing runs
	}
	clock, err := d.clock(env)
	if err != nil {
		return err
	}
	switch in.Code {
	case EvRequestAccepted, EvImplicitlyAccepted:
		d.ReplyOn = occurred
		d.AcceptedOn = occurred
		d.Implicit = in.Code == EvImplicitlyAccepted
		d.dropDeadline(DeadlineReply, DeadlineReexamination)
		if err := d.restartTransfer(clock, env); err != nil {
			return err
		}
		dl, ok, err := clockCall(DeadlineTransferDecision, d.RequestingMemberState, env, true, func(cal deadline.Calendar) (deadline.Deadline, error) {
			return clock.TransferDecisionDeadline(occurred, cal)
		})
		if err != nil {
			return err
		}
		if ok {
			d.setDeadline(dl)
		}
	case EvRequestRejected:
		d.ReplyOn = occurred
		d.NegativeReplyReceivedOn = mustDate(in.ReceivedOn)
		d.dropDeadline(DeadlineReply, DeadlineReexamination)
		if d.RequestLimit != nil {
			// A new request is possible after a rejection, within the limit
			// that ran for the first (a re-examination does not extend it,
			// C-47/17): back on the board, computed again so it carries the
			// years without a holiday calendar like every deadline shown.
			limit, ok, err := d.requestLimit(d.procedure(), env)
			if err != nil {
				return err
			}
			if !ok {
				limit = Deadline{Deadline: *d.RequestLimit, ActingMemberState: d.RequestingMemberState}
			}
			limit.Kind = DeadlineRequest
			d.setDeadline(limit)
		}
		if prev.Status == StReexaminationRequested {
			return nil // final: the re-examination procedure ends
		}
		dl, ok, err := clockCall(DeadlineReexamination, d.RequestingMemberState, env, true, func(cal deadline.Calendar) (deadline.Deadline, error) {
			return clock.Reexamination(d.procedure(), d.NegativeReplyReceivedOn, cal)
		})
		if err != nil {
			return err
		}
		if ok {
			d.setDeadline(dl)
		}
	case EvReexaminationRequested:
		d.Reexamined = true
		d.dropDeadline(DeadlineReexamination)
		// 1560/2003 Art 5(2): the requested state "shall endeavour" to reply
		// within two weeks; shown on the board, never resolved as acceptance
		// (its lapse has the consequence PROCEDURE_ENDS).
		dl, ok, err := clockCall(DeadlineReply, d.RequestedMemberState, env, true, func(cal deadline.Calendar) (deadline.Deadline, error) {
			return clock.ReexaminationReplyTarget(mustDate(in.ReceivedOn), cal)
		})
		if err != nil {
			return err
		}
		if ok {
			d.setDeadline(dl)
		}
	case EvTransferDecisionIssued:
		d.TransferDecisionOn = occurred
		d.dropDeadline(DeadlineTransferDecision)
	case EvAppealFiled:
		d.AppealSuspensive = in.Suspensive != nil && *in.Suspensive
		if d.AppealSuspensive {
			// Dublin III 27(3)/29(1), AMMR 46(1): the transfer period runs
			// anew from the final decision on an appeal with suspensive
			// effect; while it is pending no transfer deadline runs.
			d.dropDeadline(DeadlineTransfer)
		}
	case EvAppealDecided:
		if in.AppealOutcome == AppealUpheld {
			d.TransferDecisionOn = deadline.Date{}
		}
		if d.AppealSuspensive {
			d.AppealSuspensive = false
			d.AppealDecidedOn = occurred
			return d.restartTransfer(clock, env)
		}
	case EvTransferScheduled:
		sched := mustDate(in.ScheduledFor)
		if dl, ok := d.deadline(DeadlineTransfer); ok && sched.After(dl.Due) {
			return Errorf(KindDeadlinePassed, "scheduledFor lies after the transfer deadline")
		}
		d.ScheduledFor = sched
	case EvTransferDeadlineExtended:
		d.Extension = in.ExtensionReason
		d.ExtensionNotifiedOn = occurred
		return d.restartTransfer(clock, env)
	case EvTransferCompleted, EvResponsibilityShifted, EvCaseClosed:
		// A completed transfer or a closed case ends what could still be
		// superseded (a new consequence replaces it in Apply).
		d.Deadlines = []Deadline{}
		d.Revocable = nil
	case EvReceiptAcknowledged:
		d.ReceiptAcknowledgedOn = occurred
		return d.restartReply(env)
	}
	return nil
}

// restartTransfer (re)computes the transfer deadline from the facts:
// acceptance, the final decision on a suspensive appeal, an extension.
func (d *DublinFacts) restartTransfer(clock deadline.Clock, env Env) error {
	var ext deadline.ExtensionGround
	switch d.Extension {
	case ExtensionImprisonment:
		ext = deadline.Imprisonment
	case ExtensionAbsconding:
		ext = deadline.Absconding
	}
	facts := deadline.TransferFacts{
		Accepted:                d.AcceptedOn,
		SuspensiveAppealDecided: d.AppealDecidedOn,
		Extension:               ext,
		ExtensionNotified:       d.ExtensionNotifiedOn,
	}
	dl, ok, err := clockCall(DeadlineTransfer, d.RequestingMemberState, env, false, func(cal deadline.Calendar) (deadline.Deadline, error) {
		return clock.TransferDeadline(facts, cal)
	})
	if err != nil {
		return err
	}
	if ok {
		d.setDeadline(dl)
	}
	return nil
}

// startRequest opens a take charge request, take back request or take back
// notification: it fixes the regime and starts the reply clock.
func startRequest(d *DublinFacts, in EventInput, occurred deadline.Date, env Env) error {
	requested := in.RequestedMemberState
	if requested == d.RequestingMemberState {
		return Errorf(KindInvalidArgument, "%s: a state cannot send a request to itself", FieldRequestedMemberState)
	}
	if _, ok := env.Membership.DublinUnitOf(env.Channel, requested); !ok {
		return Errorf(KindInvalidArgument, "%s: no Dublin unit of that state sits on this channel", FieldRequestedMemberState)
	}
	appReg := mustDate(in.ApplicationRegisteredOn)
	if !d.ApplicationRegisteredOn.IsZero() && appReg != d.ApplicationRegisteredOn {
		return Errorf(KindInvalidArgument, "%s: the case's application was registered on %s", FieldApplicationOn, d.ApplicationRegisteredOn)
	}
	if d.Evidence == EvidenceEurodacHit || d.Evidence == EvidenceVISHit {
		// A hit on the ledger started the request limit; a request cannot
		// run from other facts.
		if in.Evidence != d.Evidence || in.EvidenceReceivedOn != d.EvidenceReceivedOn.String() {
			return Errorf(KindInvalidArgument, "%s: the case records a %s received on %s", FieldEvidence, d.Evidence, d.EvidenceReceivedOn)
		}
	}
	regime := deadline.ProcedureRegime(appReg, occurred, env.Deadlines)
	received := mustDate(in.ReceivedOn)
	urgent := in.Urgent != nil && *in.Urgent

	// Dublin III knows take back requests, the AMMR take back notifications.
	var kind RequestKind
	switch in.Code {
	case EvTakeChargeRequested:
		kind = TakeCharge
	case EvTakeBackRequested:
		kind = TakeBack
		if regime != deadline.DublinIII {
			return Errorf(KindInvalidArgument, "%s does not exist under %s: use %s", in.Code, regime, EvTakeBackNotified)
		}
	case EvTakeBackNotified:
		kind = TakeBackNotifyKind
		if regime == deadline.DublinIII {
			return Errorf(KindInvalidArgument, "%s does not exist under %s: use %s", in.Code, regime, EvTakeBackRequested)
		}
	}
	urgentDays := 0
	if urgent {
		urgentDays = received.DaysUntil(mustDate(in.UrgentReplyDue))
	}

	*d = DublinFacts{
		RequestingMemberState:   d.RequestingMemberState,
		RequestedMemberState:    requested,
		Regime:                  regime,
		RequestKind:             kind,
		Requests:                d.Requests + 1,
		ApplicationRegisteredOn: appReg,
		Evidence:                in.Evidence,
		Urgent:                  urgent,
		UrgentDays:              urgentDays,
		ClaimedReceivedOn:       received,
		RequestOnLedgerOn:       env.Today(requested),
		Superseded:              d.Superseded,
		Deadlines:               []Deadline{},
	}
	if in.EvidenceReceivedOn != "" {
		d.EvidenceReceivedOn = mustDate(in.EvidenceReceivedOn)
	}
	d.setCriteria(env)
	// The limit for sending this request, under the criteria regime's
	// table (the limit started to run before the request); whether the
	// request was late is decided by its own date.
	limit, ok, err := d.requestLimit(d.procedure(), env)
	if err != nil {
		return err
	}
	if ok {
		d.RequestLimit = &limit.Deadline
		d.RequestLate = occurred.After(limit.Due)
	}
	return d.restartReply(env)
}

// procedure maps the pending request's kind to the engine's procedure.
func (d *DublinFacts) procedure() deadline.Procedure {
	if d.RequestKind == TakeCharge || d.RequestKind == "" {
		return deadline.TakeCharge
	}
	return deadline.TakeBack
}

// setCriteria records which criteria apply (by the registration date) and
// the configured choice that decided whose limits apply.
func (d *DublinFacts) setCriteria(env Env) {
	d.CriteriaRegime = deadline.RegimeFor(d.ApplicationRegisteredOn, env.Deadlines)
	d.PendingProcedure = ""
	if d.CriteriaRegime == deadline.DublinIII {
		d.PendingProcedure = env.Deadlines.PendingProcedure
	}
}

// requestLimit computes the limit for sending a request of procedure p
// from the facts on the ledger, in the requesting state's calendar. ok is
// false when the facts start no limit the table knows (an AMMR take back
// notification without a Eurodac hit).
func (d *DublinFacts) requestLimit(p deadline.Procedure, env Env) (Deadline, bool, error) {
	clock, err := deadline.NewClock(d.CriteriaRegime, env.Deadlines)
	if err != nil {
		return Deadline{}, false, Errorf(KindInternal, "deadline configuration invalid")
	}
	facts := deadline.RequestFacts{Procedure: p, Application: d.ApplicationRegisteredOn, Hit: hitKind(d.Evidence), HitReceived: d.EvidenceReceivedOn}
	if facts.Hit == deadline.NoHit {
		facts.HitReceived = deadline.Date{}
	}
	if d.CriteriaRegime != deadline.DublinIII && p == deadline.TakeBack && facts.Hit != deadline.EurodacHit {
		return Deadline{}, false, nil // AMMR 41(1) runs from a Eurodac hit only
	}
	kind := DeadlineRequest
	if p == deadline.TakeBack && d.CriteriaRegime != deadline.DublinIII {
		kind = DeadlineTakeBackNotification
	}
	return clockCall(kind, d.RequestingMemberState, env, true, func(cal deadline.Calendar) (deadline.Deadline, error) {
		return clock.RequestDeadline(facts, cal)
	})
}

// registerFacts records the facts a Dublin case was registered with and
// puts the limits for sending a request on the board: the take charge
// request and, under the AMMR on a Eurodac hit, the take back
// notification (Dublin III take back requests have the take charge limits,
// 23(2)).
func registerFacts(d *DublinFacts, in EventInput, env Env) error {
	if in.ApplicationRegisteredOn == "" {
		return nil
	}
	d.ApplicationRegisteredOn = mustDate(in.ApplicationRegisteredOn)
	d.Evidence = in.Evidence
	if in.EvidenceReceivedOn != "" {
		d.EvidenceReceivedOn = mustDate(in.EvidenceReceivedOn)
	}
	d.setCriteria(env)
	for _, p := range []deadline.Procedure{deadline.TakeCharge, deadline.TakeBack} {
		dl, ok, err := d.requestLimit(p, env)
		if err != nil {
			return err
		}
		if ok && (p == deadline.TakeCharge || dl.Kind == DeadlineTakeBackNotification) {
			d.setDeadline(dl)
		}
	}
	return nil
}

// reexaminationProvided: re-examination only where the rule table
// provides it (deadline.Clock.ReexaminationRule).
func (d *DublinFacts) reexaminationProvided(env Env) error {
	clock, err := d.clock(env)
	if err != nil {
		return err
	}
	if _, err := clock.ReexaminationRule(d.procedure()); err != nil {
		if errors.Is(err, deadline.ErrNotProvided) {
			return Errorf(KindInvalidTransition, "re-examination is not provided: %v", err)
		}
		return Errorf(KindInternal, "re-examination rule could not be read")
	}
	return nil
}

// restartReply (re)computes the reply deadline from the receipt date the
// requested state's side establishes: its acknowledged date, else the later
// of the requesting state's claim and the day the request reached the
// ledger in the requested state's zone. A receipt date claimed by the
// requesting state alone never starts the period before the request was on
// the requested state's ledger.
func (d *DublinFacts) restartReply(env Env) error {
	received := d.RequestOnLedgerOn
	if d.ClaimedReceivedOn.After(received) {
		received = d.ClaimedReceivedOn
	}
	if !d.ReceiptAcknowledgedOn.IsZero() {
		received = d.ReceiptAcknowledgedOn
	}
	d.RequestReceivedOn = received
	proc := deadline.TakeCharge
	if d.RequestKind != TakeCharge {
		proc = deadline.TakeBack
	}
	facts := deadline.ReplyFacts{Procedure: proc, Received: received, Hit: hitKind(d.Evidence)}
	if d.Urgent {
		facts.Urgent = deadline.DaysPeriod(d.UrgentDays)
	}
	clock, err := d.clock(env)
	if err != nil {
		return err
	}
	dl, ok, err := clockCall(DeadlineReply, d.RequestedMemberState, env, false, func(cal deadline.Calendar) (deadline.Deadline, error) {
		return clock.ReplyDeadline(facts, cal)
	})
	if err != nil {
		return err
	}
	if ok {
		if d.RequestLate && d.RequestLimit.OnLapse.BarsLateRequest() {
			// Sent after its limit: the requesting state stays responsible,
			// so silence is no longer acceptance.
			dl.OnLapse, dl.RequestLate = deadline.ConsequenceNone, true
		}
		d.setDeadline(dl)
	}
	return nil
}

// RegimeFacts is the regime of a Dublin case as two facts: whose
// responsibility criteria apply (by the application's registration date,
// AMMR Art 84) and whose time limits govern the pending request (or, before
// any, the limit for sending one), with the configured choice that decided
// the limits for an application under Dublin III criteria.
type RegimeFacts struct {
	Criteria         deadline.Regime           `json:"criteria,omitempty"`
	Limits           deadline.Regime           `json:"limits,omitempty"`
	PendingProcedure deadline.PendingProcedure `json:"pendingProcedure,omitempty"`
}

// RegimeFacts returns the case's regime facts; empty ones are not known yet
// (no application date on the ledger).
func (d *DublinFacts) RegimeFacts() RegimeFacts {
	if d == nil {
		return RegimeFacts{}
	}
	r := RegimeFacts{Criteria: d.CriteriaRegime, Limits: d.Regime, PendingProcedure: d.PendingProcedure}
	if r.Limits == "" {
		r.Limits = d.CriteriaRegime // the request limit runs under the criteria regime's table
	}
	return r
}

// LateRequest returns the request limit the pending request missed, if it
// was sent late.
func (d *DublinFacts) LateRequest() (deadline.Deadline, bool) {
	if d == nil || !d.RequestLate || d.RequestLimit == nil {
		return deadline.Deadline{}, false
	}
	return *d.RequestLimit, true
}
