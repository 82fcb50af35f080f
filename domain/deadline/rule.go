package deadline

import (
	"fmt"
	"strings"
)

// Regime names a rule table.
type Regime string

const (
	// DublinIII: Regulation (EU) No 604/2013 with Commission Regulation (EC)
	// No 1560/2003 as amended by Regulation (EU) No 118/2014.
	DublinIII Regime = "DUBLIN_III"
	// AMMR: Regulation (EU) 2024/1351 with Implementing Regulation (EU) 2025/2055.
	AMMR Regime = "AMMR"
	// AMMRCrisis: the AMMR table with the time limits derogated by
	// Regulation (EU) 2024/1359 Art 12(2) (crisis and force majeure). RegimeFor
	// never returns it: the caller selects it for a member state authorised
	// to apply that derogation.
	AMMRCrisis Regime = "AMMR_CRISIS"
)

// Regimes lists every regime that has a rule table, in display order.
func Regimes() []Regime { return []Regime{DublinIII, AMMR, AMMRCrisis} }

// Valid reports whether r has a rule table.
func (r Regime) Valid() bool {
	switch r {
	case DublinIII, AMMR, AMMRCrisis:
		return true
	}
	return false
}

// Step names a procedural act that has (or may have) a time limit. The same
// name is used in every regime that has the act.
type Step string

// Steps. Which regime has which step is the rule tables' business; Lookup
// answers ErrNoRule for a step a regime lacks.
const (
	TakeChargeRequest               Step = "TAKE_CHARGE_REQUEST"
	TakeChargeRequestHit            Step = "TAKE_CHARGE_REQUEST_HIT"
	ReplyTakeCharge                 Step = "REPLY_TAKE_CHARGE"
	ReplyTakeChargeUrgent           Step = "REPLY_TAKE_CHARGE_URGENT"
	ReplyTakeChargeHit              Step = "REPLY_TAKE_CHARGE_HIT"
	TakeBackRequest                 Step = "TAKE_BACK_REQUEST"
	TakeBackRequestHit              Step = "TAKE_BACK_REQUEST_HIT"
	TakeBackRequestNoApplication    Step = "TAKE_BACK_REQUEST_NO_APPLICATION"
	TakeBackRequestNoApplicationHit Step = "TAKE_BACK_REQUEST_NO_APPLICATION_HIT"
	ReplyTakeBack                   Step = "REPLY_TAKE_BACK"
	ReplyTakeBackHit                Step = "REPLY_TAKE_BACK_HIT"
	TakeBackNotification            Step = "TAKE_BACK_NOTIFICATION"
	ConfirmTakeBack                 Step = "CONFIRM_TAKE_BACK"
	DetentionRequest                Step = "DETENTION_REQUEST"
	DetentionRequestAfterPlacement  Step = "DETENTION_REQUEST_AFTER_PLACEMENT"
	DetentionReply                  Step = "DETENTION_REPLY"
	DetentionTransfer               Step = "DETENTION_TRANSFER"
	ReexaminationRequest            Step = "REEXAMINATION_REQUEST"
	ReexaminationReply              Step = "REEXAMINATION_REPLY"
	// ReexaminationRequestTakeCharge: a regime whose re-examination row
	// covers only take back (AMMR, 2025/2055 Art 15(3)) carries this row
	// for take charge; it provides the step only once configured.
	ReexaminationRequestTakeCharge Step = "REEXAMINATION_REQUEST_TAKE_CHARGE"
	TransferDecision               Step = "TRANSFER_DECISION"
	Appeal                         Step = "APPEAL"
	SuspensionRequest              Step = "SUSPENSION_REQUEST"
	Transfer                       Step = "TRANSFER"
	TransferExtendedImprisonment   Step = "TRANSFER_EXTENDED_IMPRISONMENT"
	TransferExtendedAbsconding     Step = "TRANSFER_EXTENDED_ABSCONDING"
	ResumeContact                  Step = "RESUME_CONTACT"
)

// Verification says how far a row's legal fact has been checked (see the
// flags of DUBLIN-RULES.md). A verification in translation carries the
// language: "V_TRANSLATION(RO)".
type Verification string

const (
	// Verified: wording seen in the primary text (English).
	Verified Verification = "V"
	// Secondary: confirmed only by case law or a secondary source.
	Secondary Verification = "S"
	// Recalled: recalled, not re-checked against the Official Journal.
	Recalled Verification = "M"
	// NotVerified: not verified at all.
	NotVerified Verification = "NOT_VERIFIED"

	translationPrefix = "V_TRANSLATION("
)

// VerifiedInTranslation returns the flag for wording seen only in the
// official language version lang (an upper-case two-letter code, e.g. "RO").
func VerifiedInTranslation(lang string) Verification {
	return Verification(translationPrefix + lang + ")")
}

// Language returns the language of a V_TRANSLATION flag, or "".
func (v Verification) Language() string {
	s := string(v)
	if strings.HasPrefix(s, translationPrefix) && strings.HasSuffix(s, ")") {
		return s[len(translationPrefix) : len(s)-1]
	}
	return ""
}

// Valid reports whether v is one of the known flags.
func (v Verification) Valid() bool {
	switch v {
	case Verified, Secondary, Recalled, NotVerified:
		return true
	}
	lang := v.Language()
	return len(lang) == 2 && lang[0] >= 'A' && lang[0] <= 'Z' && lang[1] >= 'A' && lang[1] <= 'Z'
}

// NeedsReview reports whether the fact is only recalled or not verified, so
// the value must be configurable rather than a constant.
func (v Verification) NeedsReview() bool { return v == Recalled || v == NotVerified }

// Short returns the flag as written in DUBLIN-RULES.md: V, V(RO), S, M,
// NOT VERIFIED.
func (v Verification) Short() string {
	if lang := v.Language(); lang != "" {
		return "V(" + lang + ")"
	}
	if v == NotVerified {
		return "NOT VERIFIED"
	}
	return string(v)
}

// Consequence is what the law attaches to silence or to the lapse of a
// time limit.
type Consequence string

const (
	// ConsequenceNone: no consequence is attached (or none is stated).
	ConsequenceNone Consequence = "NONE"
	// ImplicitAcceptance: silence is tantamount to accepting the request
	// (the state machine records IMPLICITLY_ACCEPTED).
	ImplicitAcceptance Consequence = "IMPLICIT_ACCEPTANCE"
	// ImplicitConfirmation: silence is tantamount to confirming receipt of a
	// take back notification (AMMR 41(4)); the state machine treats it like
	// IMPLICITLY_ACCEPTED.
	ImplicitConfirmation Consequence = "IMPLICIT_CONFIRMATION"
	// RequestingStateResponsible: the request was not made in time, so the
	// state that should have made it is responsible (Dublin III 21(1), 23(3);
	// AMMR 39(1)).
	RequestingStateResponsible Consequence = "REQUESTING_STATE_RESPONSIBLE"
	// ResponsibilityShifts: the transfer did not happen in time, so
	// responsibility passes to the requesting (transferring) state
	// (the state machine records RESPONSIBILITY_SHIFTED).
	ResponsibilityShifts Consequence = "RESPONSIBILITY_SHIFTS"
	// MustAllowApplication: Dublin III 24(3): the person must be given the
	// opportunity to lodge a new application.
	MustAllowApplication Consequence = "MUST_ALLOW_APPLICATION"
	// ReleaseFromDetention: the person may no longer be detained; the
	// ordinary limits continue to apply.
	ReleaseFromDetention Consequence = "RELEASE_FROM_DETENTION"
	// ProcedureEnds: the re-examination procedure is definitively closed
	// (C-47/17): the requesting state is responsible unless it can still make
	// a new request within the 21(1)/23(2) limits.
	ProcedureEnds Consequence = "PROCEDURE_ENDS"
)

// BarsLateRequest reports whether a request made after a limit with this
// consequence no longer binds the requested state by its silence: the
// requesting state is (or stays) responsible, or must let the person apply
// (Dublin III 21(1), 23(3), 24(3); AMMR 39(1)). A late AMMR take back
// notification (41(1): ConsequenceNone) still binds.
func (c Consequence) BarsLateRequest() bool {
	return c == RequestingStateResponsible || c == MustAllowApplication
}

// Valid reports whether c is a known consequence.
func (c Consequence) Valid() bool {
	switch c {
	case ConsequenceNone, ImplicitAcceptance, ImplicitConfirmation, RequestingStateResponsible,
		ResponsibilityShifts, MustAllowApplication, ReleaseFromDetention, ProcedureEnds:
		return true
	}
	return false
}

// Codes for Rule.RunsFrom: the event whose day starts the period (and is
// itself not counted, 1182/71 Art 3(1)).
const (
	FromApplicationLodged              = "APPLICATION_LODGED"
	FromApplicationRegistered          = "APPLICATION_REGISTERED"
	FromEurodacHitReceived             = "EURODAC_HIT_RECEIVED"
	FromHitReceived                    = "HIT_RECEIVED" // Eurodac or VIS
	FromRegisteredOrHitReceived        = "APPLICATION_REGISTERED_OR_HIT_RECEIVED"
	FromDetained                       = "DETAINED"
	FromStateAware                     = "STATE_AWARE"
	FromRequestReceived                = "REQUEST_RECEIVED"
	FromNotificationReceived           = "NOTIFICATION_RECEIVED"
	FromNegativeReplyReceived          = "NEGATIVE_REPLY_RECEIVED"
	FromAcceptance                     = "ACCEPTANCE"
	FromAcceptanceOrConfirmation       = "ACCEPTANCE_OR_CONFIRMATION"
	FromAcceptanceOrAppeal             = "ACCEPTANCE_OR_SUSPENSIVE_APPEAL_DECIDED"
	FromAcceptanceConfirmationOrAppeal = "ACCEPTANCE_CONFIRMATION_OR_SUSPENSIVE_APPEAL_DECIDED"
	FromDecisionNotified               = "DECISION_NOTIFIED"
	FromObstacleEnded                  = "OBSTACLE_ENDED"
	FromNotStated                      = "NOT_STATED"
)

// Rule is one row of a regime's table.
type Rule struct {
	Regime Regime `json:"regime"`
	Step   Step   `json:"step"`
	// Period is the time limit; the zero Period means no fixed limit.
	Period Period `json:"period"`
	// MinPeriod is set when the law gives a range rather than one value
	// (the urgent reply period a requesting state may ask for; the national
	// appeal period): Period is then the maximum.
	MinPeriod Period `json:"minPeriod"`
	// RunsFrom is a From* code naming the event that starts the period.
	RunsFrom string `json:"runsFrom"`
	// OnSilenceOrLapse is what happens when the limit passes unmet.
	OnSilenceOrLapse Consequence `json:"onSilenceOrLapse"`
	// Article cites the provision(s), regulation first when not the regime's main one.
	Article string `json:"article"`
	// Verification flags the period (and the row as a whole).
	Verification Verification `json:"verification"`
	// ConsequenceVerification flags OnSilenceOrLapse where it differs from
	// Verification (e.g. AMMR 40: the one-month limit is V, silence =
	// acceptance is NOT VERIFIED).
	ConsequenceVerification Verification `json:"consequenceVerification"`
	// Configurable: the row is flagged M or NOT VERIFIED (Verification or
	// ConsequenceVerification), so its period and/or consequence are taken
	// from Config.
	Configurable bool `json:"configurable"`
	// Overridden: Config replaced the table's default period or consequence.
	Overridden bool `json:"overridden"`
	// OnlyWithConfiguredPeriod: the law as retrieved does not provide the
	// step; the row stands for it so a configured period (a reviewed
	// reading of the law) can provide it. Without one the step is refused.
	OnlyWithConfiguredPeriod bool   `json:"onlyWithConfiguredPeriod,omitempty"`
	Note                     string `json:"note"`
}

// HasLimit reports whether the rule sets a fixed time limit.
func (r Rule) HasLimit() bool { return !r.Period.IsZero() }

// PeriodConfigurable reports whether Config may override the period.
func (r Rule) PeriodConfigurable() bool { return r.Verification.NeedsReview() }

// ConsequenceConfigurable reports whether Config may override the consequence.
func (r Rule) ConsequenceConfigurable() bool { return r.ConsequenceVerification.NeedsReview() }

func (r Rule) String() string {
	return fmt.Sprintf("%s %s %s from %s -> %s (%s, %s)", r.Regime, r.Step, r.Period, r.RunsFrom, r.OnSilenceOrLapse, r.Article, r.Verification.Short())
}
