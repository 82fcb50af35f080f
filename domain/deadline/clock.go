package deadline

import (
	"errors"
	"fmt"
)

// Procedure distinguishes take charge from take back.
type Procedure string

const (
	TakeCharge Procedure = "TAKE_CHARGE"
	TakeBack   Procedure = "TAKE_BACK"
)

// HitKind is the database that produced a hit, if any.
type HitKind string

const (
	NoHit      HitKind = ""
	EurodacHit HitKind = "EURODAC"
	VISHit     HitKind = "VIS"
)

// ExtensionGround is a ground for extending the transfer period.
type ExtensionGround string

const (
	NoExtension  ExtensionGround = ""
	Imprisonment ExtensionGround = "IMPRISONMENT"
	// Absconding; under the AMMR (46(2), NOT VERIFIED) also physically
	// resisting the transfer or making oneself unfit for it.
	Absconding ExtensionGround = "ABSCONDING"
)

// Deadline is a computed time limit, ready to be stored on a case.
type Deadline struct {
	Regime  Regime `json:"regime"`
	Step    Step   `json:"step"`
	Article string `json:"article"`
	// Start is the day of the event that starts the period; it is not
	// counted (1182/71 Art 3(1)).
	Start  Date   `json:"start"`
	Period Period `json:"period"`
	// Due is the last day on which the act is in time (after the Art 3(4)
	// shift to a working day of the acting state).
	Due          Date         `json:"due"`
	OnLapse      Consequence  `json:"onLapse"`
	Verification Verification `json:"verification"`
	// ConsequenceVerification flags OnLapse (the rule's
	// ConsequenceVerification), so a reader sees e.g. that AMMR silence =
	// acceptance (40) is NOT VERIFIED although the period is V.
	ConsequenceVerification Verification `json:"consequenceVerification,omitempty"`
}

// Expired reports whether the deadline has passed on day today (see Expired).
func (d Deadline) Expired(today Date) bool { return Expired(d.Due, today) }

// Lapsed returns the consequence the law attaches and true once the
// deadline has expired on day today; the state machine uses it to allow
// IMPLICITLY_ACCEPTED (ImplicitAcceptance, ImplicitConfirmation) or
// RESPONSIBILITY_SHIFTED (ResponsibilityShifts, RequestingStateResponsible).
func (d Deadline) Lapsed(today Date) (Consequence, bool) {
	if !d.Expired(today) {
		return "", false
	}
	return d.OnLapse, true
}

// Clock computes deadlines under one regime's table and one Config. The
// holiday calendar passed to each method is that of the acting state: the
// requesting state for requests, notifications, re-examination requests and
// transfers; the requested state for replies and confirmations
// (1182/71 Art 2(1), which state's calendar is NOT VERIFIED for Dublin).
type Clock struct {
	regime Regime
	cfg    Config
	rules  []Rule
}

// NewClock returns a Clock for regime (use ProcedureRegime or RegimeFor to
// choose it, AMMRCrisis where the derogation is authorised), refusing an
// invalid Config or an unknown regime.
func NewClock(regime Regime, cfg Config) (Clock, error) {
	if !regime.Valid() {
		return Clock{}, fmt.Errorf("%w: %q", ErrUnknownRegime, regime)
	}
	if err := cfg.Validate(); err != nil {
		return Clock{}, err
	}
	return Clock{regime: regime, cfg: cfg, rules: Rules(regime, cfg)}, nil
}

// Regime returns the clock's regime.
func (c Clock) Regime() Regime { return c.regime }

// Config returns the clock's configuration.
func (c Clock) Config() Config { return c.cfg }

// Rule returns the clock's rule for step, or ErrNoRule.
func (c Clock) Rule(step Step) (Rule, error) {
	if c.rules == nil {
		return Rule{}, fmt.Errorf("%w: zero Clock, use NewClock", ErrUnknownRegime)
	}
	r, ok := findRow(c.rules, step)
	if !ok {
		return Rule{}, fmt.Errorf("%w: %s has no %s", ErrNoRule, c.regime, step)
	}
	return r, nil
}

// Due computes the deadline of step for a period starting with the event
// on day from: ErrNoRule if the regime lacks the step, ErrNoLimit if the
// step has no fixed limit, ErrInvalidDate for a zero from.
func (c Clock) Due(step Step, from Date, cal Calendar) (Deadline, error) {
	r, err := c.Rule(step)
	if err != nil {
		return Deadline{}, err
	}
	return c.due(r, r.Period, from, cal)
}

func (c Clock) due(r Rule, p Period, from Date, cal Calendar) (Deadline, error) {
	if p.IsZero() {
		return Deadline{}, fmt.Errorf("%w: %s %s (%s)", ErrNoLimit, r.Regime, r.Step, r.Article)
	}
	end, err := PeriodEnd(from, p, cal)
	if err != nil {
		return Deadline{}, fmt.Errorf("%s %s: %w", r.Regime, r.Step, err)
	}
	return Deadline{
		Regime: r.Regime, Step: r.Step, Article: r.Article,
		Start: from, Period: p, Due: end,
		OnLapse: r.OnSilenceOrLapse, Verification: r.Verification, ConsequenceVerification: r.ConsequenceVerification,
	}, nil
}

func (c Clock) isDublinIII() bool { return c.regime == DublinIII }

// RequestFacts are the facts that start the limit for making a take charge
// or take back request (AMMR: take back notification).
type RequestFacts struct {
	Procedure Procedure
	// Application is the day the application was lodged (Dublin III Art
	// 20(2)) or registered (AMMR); for a Dublin III take back, the new
	// application in the requesting state. Zero when there is none.
	Application Date
	Hit         HitKind
	HitReceived Date
	// NoNewApplication: Dublin III Art 24, the person stays in the requesting
	// state without a new application; StateAware starts the 3-month limit.
	NoNewApplication bool
	StateAware       Date
	// Detained is the day the person was placed in detention; zero if not.
	Detained Date
}

func (f RequestFacts) check() error {
	switch {
	case f.Procedure != TakeCharge && f.Procedure != TakeBack:
		return fmt.Errorf("%w: unknown procedure %q", ErrInvalidFacts, f.Procedure)
	case f.Hit != NoHit && f.Hit != EurodacHit && f.Hit != VISHit:
		return fmt.Errorf("%w: unknown hit kind %q", ErrInvalidFacts, f.Hit)
	case (f.Hit == NoHit) != f.HitReceived.IsZero():
		return fmt.Errorf("%w: a hit needs its receipt day and vice versa", ErrInvalidFacts)
	case f.NoNewApplication && f.Procedure != TakeBack:
		return fmt.Errorf("%w: NoNewApplication applies to take back only", ErrInvalidFacts)
	}
	return nil
}

// RequestDeadline returns the last day for making the request:
//
//	Dublin III take charge: detained → 1 month from lodging (28(3));
//	  Eurodac hit → 2 months from the hit; otherwise 3 months from lodging (21(1)).
//	Dublin III take back: detained → 1 month from lodging (28(3));
//	  with a new application: Eurodac hit → 2 months from the hit, otherwise
//	  3 months from lodging (23(2)); without one: 2 months from the hit /
//	  3 months from StateAware (24(2)).
//	AMMR take charge: detained → 2 weeks from registration or hit, 1 week
//	  from placement if detained later (45(1)); Eurodac or VIS hit → 1 month
//	  from the hit; otherwise 2 months from registration (39(1)).
//	AMMR take back (notification): detained → as above; otherwise 2 weeks
//	  from the Eurodac hit (41(1)), which is required.
//
// A Eurodac hit does not cap at the general limit here (C-670/16 Mengesteab
// is not in DUBLIN-RULES.md): compute Due(TakeChargeRequest, …) as well if
// that reading is wanted.
func (c Clock) RequestDeadline(f RequestFacts, cal Calendar) (Deadline, error) {
	if err := f.check(); err != nil {
		return Deadline{}, err
	}
	if c.isDublinIII() {
		return c.requestDublinIII(f, cal)
	}
	return c.requestAMMR(f, cal)
}

func (c Clock) requestDublinIII(f RequestFacts, cal Calendar) (Deadline, error) {
	eurodac := f.Hit == EurodacHit
	switch {
	case !f.Detained.IsZero():
		if f.Application.IsZero() {
			return Deadline{}, fmt.Errorf("%w: the detention limit runs from lodging, which is missing", ErrInvalidFacts)
		}
		return c.Due(DetentionRequest, f.Application, cal)
	case f.Procedure == TakeCharge && eurodac:
		return c.Due(TakeChargeRequestHit, f.HitReceived, cal)
	case f.Procedure == TakeCharge:
		return c.Due(TakeChargeRequest, f.Application, cal)
	case f.NoNewApplication && eurodac:
		return c.Due(TakeBackRequestNoApplicationHit, f.HitReceived, cal)
	case f.NoNewApplication:
		return c.Due(TakeBackRequestNoApplication, f.StateAware, cal)
	case eurodac:
		return c.Due(TakeBackRequestHit, f.HitReceived, cal)
	default:
		return c.Due(TakeBackRequest, f.Application, cal)
	}
}

func (c Clock) requestAMMR(f RequestFacts, cal Calendar) (Deadline, error) {
	if f.NoNewApplication {
		return Deadline{}, fmt.Errorf("%w: %s has no Art 24-style take back request", ErrNoRule, c.regime)
	}
	if f.Procedure == TakeBack && f.Hit != EurodacHit {
		return Deadline{}, fmt.Errorf("%w: %s take back notification runs from a Eurodac hit (41(1))", ErrInvalidFacts, c.regime)
	}
	if !f.Detained.IsZero() {
		base := f.Application
		if f.Hit != NoHit {
			base = f.HitReceived
		}
		if base.IsZero() {
			return Deadline{}, fmt.Errorf("%w: registration or hit day missing", ErrInvalidFacts)
		}
		if f.Detained.After(base) {
			return c.Due(DetentionRequestAfterPlacement, f.Detained, cal)
		}
		return c.Due(DetentionRequest, base, cal)
	}
	switch {
	case f.Procedure == TakeBack:
		return c.Due(TakeBackNotification, f.HitReceived, cal)
	case f.Hit != NoHit:
		return c.Due(TakeChargeRequestHit, f.HitReceived, cal)
	default:
		return c.Due(TakeChargeRequest, f.Application, cal)
	}
}

// ReplyFacts are the facts that start the limit for replying to a request
// (AMMR: confirming a take back notification).
type ReplyFacts struct {
	Procedure Procedure
	// Received is the day the request arrived: the DubliNet automatic
	// acknowledgement (2025/2055 Art 1(3)).
	Received Date
	// Hit: the request is based on a hit (Dublin III: Eurodac take back;
	// AMMR: Eurodac or VIS take charge).
	Hit HitKind
	// Urgent is the reply period an urgent Dublin III take charge request
	// asked for (21(2)); zero when not urgent.
	Urgent Period
	// Detained: the person is detained (Dublin III 28(3), AMMR 45(2)).
	Detained bool
}

// ReplyDeadline returns the last day for the reply; silence until then has
// the deadline's OnLapse consequence:
//
//	Dublin III take charge: detained → 2 weeks (28(3)); urgent → the
//	  requested period, between 1 week and 1 month (21(2), 22(6)); otherwise
//	  2 months (22(1)).
//	Dublin III take back: detained → 2 weeks; Eurodac → 2 weeks; otherwise
//	  1 month (25(1)).
//	AMMR take charge: detained → 1 week (45(2)); Eurodac or VIS hit → 2 weeks
//	  (40(2)); otherwise 1 month (40(1)). No urgency procedure.
//	AMMR take back: confirmation within 2 weeks of the notification (41(3)).
func (c Clock) ReplyDeadline(f ReplyFacts, cal Calendar) (Deadline, error) {
	switch {
	case f.Procedure != TakeCharge && f.Procedure != TakeBack:
		return Deadline{}, fmt.Errorf("%w: unknown procedure %q", ErrInvalidFacts, f.Procedure)
	case f.Hit != NoHit && f.Hit != EurodacHit && f.Hit != VISHit:
		return Deadline{}, fmt.Errorf("%w: unknown hit kind %q", ErrInvalidFacts, f.Hit)
	case !f.Urgent.IsZero() && f.Procedure != TakeCharge:
		return Deadline{}, fmt.Errorf("%w: only a take charge request can be urgent", ErrInvalidFacts)
	}
	if c.isDublinIII() {
		switch {
		case f.Detained:
			return c.Due(DetentionReply, f.Received, cal)
		case f.Procedure == TakeCharge && !f.Urgent.IsZero():
			return c.urgentReply(f, cal)
		case f.Procedure == TakeCharge:
			return c.Due(ReplyTakeCharge, f.Received, cal)
		case f.Hit == EurodacHit:
			return c.Due(ReplyTakeBackHit, f.Received, cal)
		default:
			return c.Due(ReplyTakeBack, f.Received, cal)
		}
	}
	switch {
	case !f.Urgent.IsZero():
		return Deadline{}, fmt.Errorf("%w: %s has no urgent reply procedure", ErrNoRule, c.regime)
	case f.Procedure == TakeBack:
		return c.Due(ConfirmTakeBack, f.Received, cal)
	case f.Detained:
		return c.Due(DetentionReply, f.Received, cal)
	case f.Hit != NoHit:
		return c.Due(ReplyTakeChargeHit, f.Received, cal)
	default:
		return c.Due(ReplyTakeCharge, f.Received, cal)
	}
}

// urgentReply checks the requested period against the rule's range, on the
// actual calendar (4 weeks vs 1 month depends on the month).
func (c Clock) urgentReply(f ReplyFacts, cal Calendar) (Deadline, error) {
	r, err := c.Rule(ReplyTakeChargeUrgent)
	if err != nil {
		return Deadline{}, err
	}
	if err := f.Urgent.Validate(); err != nil {
		return Deadline{}, fmt.Errorf("%w: urgent period: %w", ErrInvalidFacts, err)
	}
	if err := inRange(f.Urgent, r, f.Received); err != nil {
		return Deadline{}, err
	}
	return c.due(r, f.Urgent, f.Received, cal)
}

// inRange checks MinPeriod <= p <= Period measured from start.
func inRange(p Period, r Rule, start Date) error {
	if start.IsZero() {
		return fmt.Errorf("%w: period start is missing", ErrInvalidFacts)
	}
	end := p.addTo(start)
	if !r.MinPeriod.IsZero() && end.Before(r.MinPeriod.addTo(start)) {
		return fmt.Errorf("%w: %s is shorter than the minimum %s (%s)", ErrInvalidFacts, p, r.MinPeriod, r.Article)
	}
	if !r.Period.IsZero() && end.After(r.Period.addTo(start)) {
		return fmt.Errorf("%w: %s is longer than the maximum %s (%s)", ErrInvalidFacts, p, r.Period, r.Article)
	}
	return nil
}

// ReexaminationRequestDeadline: Dublin III 3 weeks from receipt of the
// negative reply (1560 Art 5(2)); AMMR ErrNoLimit unless configured.
func (c Clock) ReexaminationRequestDeadline(negativeReplyReceived Date, cal Calendar) (Deadline, error) {
	return c.Due(ReexaminationRequest, negativeReplyReceived, cal)
}

// ReexaminationRule returns the row that provides a re-examination of a
// negative reply to a request of procedure p: Dublin III's for both
// procedures (1560 Art 5(2)); under the AMMR the take back row (2025/2055
// Art 15(3), no limit retrieved) and, for take charge, the row marked
// OnlyWithConfiguredPeriod, which provides it only once a period is
// configured. ErrNotProvided when the table does not provide it.
func (c Clock) ReexaminationRule(p Procedure) (Rule, error) {
	step := ReexaminationRequest
	if p == TakeCharge {
		if _, err := c.Rule(ReexaminationRequestTakeCharge); err == nil {
			step = ReexaminationRequestTakeCharge
		}
	}
	r, err := c.Rule(step)
	if errors.Is(err, ErrNoRule) {
		return Rule{}, fmt.Errorf("%w: %s has no re-examination for %s", ErrNotProvided, c.regime, p)
	}
	if err != nil {
		return Rule{}, err
	}
	if r.OnlyWithConfiguredPeriod && !r.HasLimit() {
		return Rule{}, fmt.Errorf("%w: %s provides re-examination of a %s reply only with a configured %s period (%s)",
			ErrNotProvided, c.regime, p, r.Step, r.Article)
	}
	return r, nil
}

// Reexamination returns the last day to ask for re-examination of a
// negative reply received on negativeReplyReceived: ErrNotProvided where the
// table does not provide it (ReexaminationRule), ErrNoLimit where it does
// without a fixed limit.
func (c Clock) Reexamination(p Procedure, negativeReplyReceived Date, cal Calendar) (Deadline, error) {
	r, err := c.ReexaminationRule(p)
	if err != nil {
		return Deadline{}, err
	}
	return c.due(r, r.Period, negativeReplyReceived, cal)
}

// ReexaminationReplyTarget: Dublin III 2 weeks from receipt of the
// re-examination request, a target ("shall endeavour") that does not extend
// the request limits; on lapse the procedure ends (C-47/17). AMMR
// ErrNoLimit unless configured.
func (c Clock) ReexaminationReplyTarget(requestReceived Date, cal Calendar) (Deadline, error) {
	return c.Due(ReexaminationReply, requestReceived, cal)
}

// TransferDecisionDeadline: AMMR 2 weeks from acceptance or confirmation
// (42(1)); Dublin III ErrNoLimit unless configured.
func (c Clock) TransferDecisionDeadline(acceptedOrConfirmed Date, cal Calendar) (Deadline, error) {
	return c.Due(TransferDecision, acceptedOrConfirmed, cal)
}

// AppealDeadline: the national appeal period, which the AMMR bounds to 1-3
// weeks from notification of the transfer decision (43(2)); Dublin III
// ErrNoLimit unless configured. national must lie within the rule's range.
func (c Clock) AppealDeadline(decisionNotified Date, national Period, cal Calendar) (Deadline, error) {
	r, err := c.Rule(Appeal)
	if err != nil {
		return Deadline{}, err
	}
	if !r.HasLimit() {
		return Deadline{}, fmt.Errorf("%w: %s %s (%s)", ErrNoLimit, r.Regime, r.Step, r.Article)
	}
	if err := national.Validate(); err != nil {
		return Deadline{}, fmt.Errorf("%w: national appeal period: %w", ErrInvalidFacts, err)
	}
	if err := inRange(national, r, decisionNotified); err != nil {
		return Deadline{}, err
	}
	return c.due(r, national, decisionNotified, cal)
}

// TransferFacts are the facts that start (and restart, and extend) the
// transfer period.
type TransferFacts struct {
	// Accepted is the day of explicit or implicit acceptance (AMMR: or of
	// confirmation of a take back notification).
	Accepted Date
	// SuspensiveAppealDecided is the day of the final decision on an appeal
	// or review with suspensive effect; it restarts the period (Dublin III
	// 29(1) with 27(3); AMMR 46(1)). Zero if none.
	SuspensiveAppealDecided Date
	Extension               ExtensionGround
	// ExtensionNotified is the day the responsible state was told of the
	// extension; it must not be after the unextended deadline (1560 Art 9(2):
	// "avant l'expiration de ce délai"; under the AMMR no notice rule was
	// found, but a lapsed period has already shifted responsibility).
	ExtensionNotified Date
}

// start returns the day the transfer period runs from.
func (f TransferFacts) start() (Date, error) {
	switch {
	case f.Accepted.IsZero():
		return Date{}, fmt.Errorf("%w: acceptance day missing", ErrInvalidFacts)
	case f.SuspensiveAppealDecided.IsZero():
		return f.Accepted, nil
	case f.SuspensiveAppealDecided.Before(f.Accepted):
		return Date{}, fmt.Errorf("%w: appeal decided %s before acceptance %s", ErrInvalidFacts, f.SuspensiveAppealDecided, f.Accepted)
	}
	return f.SuspensiveAppealDecided, nil
}

// TransferDeadline returns the last day for the transfer: 6 months from
// acceptance or from the final decision on a suspensive appeal (Dublin III
// 29(1); AMMR 46(1); 1 year in an AMMR crisis); extended to 1 year
// (imprisonment) or 18 months (absconding) under Dublin III 29(2), or the
// configured AMMR 46(2) values. On lapse responsibility shifts.
func (c Clock) TransferDeadline(f TransferFacts, cal Calendar) (Deadline, error) {
	start, err := f.start()
	if err != nil {
		return Deadline{}, err
	}
	base, err := c.Due(Transfer, start, cal)
	if err != nil {
		return Deadline{}, err
	}
	var step Step
	switch f.Extension {
	case NoExtension:
		return base, nil
	case Imprisonment:
		step = TransferExtendedImprisonment
	case Absconding:
		step = TransferExtendedAbsconding
	default:
		return Deadline{}, fmt.Errorf("%w: unknown extension ground %q", ErrInvalidFacts, f.Extension)
	}
	switch {
	case f.ExtensionNotified.IsZero():
		return Deadline{}, fmt.Errorf("%w: extension without its notification day", ErrInvalidFacts)
	case f.ExtensionNotified.Before(f.Accepted):
		return Deadline{}, fmt.Errorf("%w: extension notified %s before acceptance %s", ErrInvalidFacts, f.ExtensionNotified, f.Accepted)
	case base.Expired(f.ExtensionNotified):
		return Deadline{}, fmt.Errorf("%w: notified %s, deadline was %s", ErrExtensionTooLate, f.ExtensionNotified, base.Due)
	}
	ext, err := c.Due(step, start, cal)
	if err != nil {
		return Deadline{}, err
	}
	if ext.Due.Before(base.Due) {
		return base, nil // an "extension" shorter than the base period (crisis) never shortens it
	}
	return ext, nil
}

// DetentionTransferDeadline returns the detention limit for the transfer
// (Dublin III 28(3): 6 weeks; AMMR 45(3): configured, NOT VERIFIED), from
// the same start as TransferDeadline. Its lapse ends detention; the ordinary
// transfer deadline keeps running.
func (c Clock) DetentionTransferDeadline(f TransferFacts, cal Calendar) (Deadline, error) {
	start, err := f.start()
	if err != nil {
		return Deadline{}, err
	}
	return c.Due(DetentionTransfer, start, cal)
}
