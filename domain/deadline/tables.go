package deadline

import (
	"fmt"
	"slices"
)

// The rule tables, transcribed from DUBLIN-RULES.md (one table per
// regime). Each row carries its article and its verification flag so a
// lawyer can review them with `dublinrules` without reading Go. Rows whose
// period or consequence is flagged M or NOT VERIFIED are Configurable; the
// value here is the default that Config may replace.

var (
	none = Period{}
	w1   = WeeksPeriod(1)
	w2   = WeeksPeriod(2)
	w3   = WeeksPeriod(3)
	w5   = WeeksPeriod(5)
	w6   = WeeksPeriod(6)
	m1   = MonthsPeriod(1)
	m2   = MonthsPeriod(2)
	m3   = MonthsPeriod(3)
	m4   = MonthsPeriod(4)
	m6   = MonthsPeriod(6)
	m12  = MonthsPeriod(12)
	m18  = MonthsPeriod(18)
	m36  = MonthsPeriod(36)
)

// dublinIIITable: Reg 604/2013; Reg 1560/2003 as amended by Reg 118/2014.
func dublinIIITable() []Rule {
	ro := VerifiedInTranslation("RO")
	return []Rule{
		{Step: TakeChargeRequest, Period: m3, RunsFrom: FromApplicationLodged, OnSilenceOrLapse: RequestingStateResponsible,
			Article: "604/2013 Art 21(1), 20(2)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `"within three months of the date on which the application was lodged"; a VIS hit has no special rule, so this limit applies`},
		{Step: TakeChargeRequestHit, Period: m2, RunsFrom: FromEurodacHitReceived, OnSilenceOrLapse: RequestingStateResponsible,
			Article: "604/2013 Art 21(1)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `"within two months of receiving that hit"; Eurodac hits only`},
		{Step: ReplyTakeCharge, Period: m2, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ImplicitAcceptance,
			Article: "604/2013 Art 22(1), 22(7)", Verification: Recalled, ConsequenceVerification: Recalled,
			Note: `silence is "tantamount to accepting the request", incl. the obligation to arrange arrival (wording M); the two-month figure is confirmed by secondary sources (S)`},
		{Step: ReplyTakeChargeUrgent, Period: m1, MinPeriod: w1, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ImplicitAcceptance,
			Article: "604/2013 Art 21(2), 22(6), 22(7)", Verification: Recalled, ConsequenceVerification: Recalled,
			Note: `urgent request: the requesting state sets the reply period, at least one week (21(2) V(RO) "cel puţin o săptămână"), at most one month (22(6), M; figure S)`},
		{Step: DetentionRequest, Period: m1, RunsFrom: FromApplicationLodged, OnSilenceOrLapse: ReleaseFromDetention,
			Article: "604/2013 Art 28(3)", Verification: Verified, ConsequenceVerification: Recalled,
			Note: "detained person: take charge or take back request within one month of lodging; a missed limit ends detention (M), the ordinary limits continue"},
		{Step: DetentionReply, Period: w2, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ImplicitAcceptance,
			Article: "604/2013 Art 28(3)", Verification: Verified, ConsequenceVerification: ro,
			Note: "detained person: reply within two weeks; silent reply = acceptance seen in the RO text"},
		{Step: DetentionTransfer, Period: w6, RunsFrom: FromAcceptanceOrAppeal, OnSilenceOrLapse: ReleaseFromDetention,
			Article: "604/2013 Art 28(3)", Verification: Verified, ConsequenceVerification: Recalled,
			Note: `"at the latest within six weeks of the implicit or explicit acceptance" or of the end of suspensive effect; a missed limit ends detention (M), the six-month limit continues`},
		{Step: TakeBackRequestHit, Period: m2, RunsFrom: FromEurodacHitReceived, OnSilenceOrLapse: RequestingStateResponsible,
			Article: "604/2013 Art 23(2), 23(3)", Verification: ro, ConsequenceVerification: ro,
			Note: "new application lodged in the requesting state; the state of the new application becomes responsible"},
		{Step: TakeBackRequest, Period: m3, RunsFrom: FromApplicationLodged, OnSilenceOrLapse: RequestingStateResponsible,
			Article: "604/2013 Art 23(2), 23(3)", Verification: ro, ConsequenceVerification: ro,
			Note: "evidence other than Eurodac: three months from the lodging of the new application"},
		{Step: TakeBackRequestNoApplicationHit, Period: m2, RunsFrom: FromEurodacHitReceived, OnSilenceOrLapse: MustAllowApplication,
			Article: "604/2013 Art 24(2), 24(3)", Verification: Recalled, ConsequenceVerification: Recalled,
			Note: "person staying without a new application; on lapse the person must be allowed to apply"},
		{Step: TakeBackRequestNoApplication, Period: m3, RunsFrom: FromStateAware, OnSilenceOrLapse: MustAllowApplication,
			Article: "604/2013 Art 24(2), 24(3)", Verification: Recalled, ConsequenceVerification: Recalled,
			Note: "no Eurodac hit: three months from when the requesting state becomes aware another state may be responsible"},
		{Step: ReplyTakeBack, Period: m1, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ImplicitAcceptance,
			Article: "604/2013 Art 25(1), 25(2)", Verification: Recalled, ConsequenceVerification: Recalled,
			Note: "silence = acceptance (wording M); figure confirmed by secondary sources (S)"},
		{Step: ReplyTakeBackHit, Period: w2, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ImplicitAcceptance,
			Article: "604/2013 Art 25(1), 25(2)", Verification: Recalled, ConsequenceVerification: Recalled,
			Note: "request based on Eurodac data; figure confirmed by secondary sources (S)"},
		{Step: ReexaminationRequest, Period: w3, RunsFrom: FromNegativeReplyReceived, OnSilenceOrLapse: ConsequenceNone,
			Article: "1560/2003 Art 5(2)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `"within three weeks following receipt of the negative reply"`},
		{Step: ReexaminationReply, Period: w2, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ProcedureEnds,
			Article: "1560/2003 Art 5(2); CJEU C-47/17", Verification: Verified, ConsequenceVerification: Secondary,
			Note: `"shall endeavour to reply within two weeks": a target that does not extend the 21(1)/23(2) limits; on lapse the requesting state is responsible unless still inside them (C-47/17)`},
		{Step: TransferDecision, Period: none, RunsFrom: FromAcceptance, OnSilenceOrLapse: ConsequenceNone,
			Article: "604/2013 Art 26", Verification: Recalled, ConsequenceVerification: Recalled,
			Note: "no fixed limit"},
		{Step: Appeal, Period: none, RunsFrom: FromDecisionNotified, OnSilenceOrLapse: ConsequenceNone,
			Article: "604/2013 Art 27(2), 27(3)", Verification: Recalled, ConsequenceVerification: Recalled,
			Note: `national "reasonable period"; the state picks one of three suspension models`},
		{Step: Transfer, Period: m6, RunsFrom: FromAcceptanceOrAppeal, OnSilenceOrLapse: ResponsibilityShifts,
			Article: "604/2013 Art 29(1), 29(2)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `"responsibility shall then be transferred to the requesting Member State"; a final decision on an appeal or review with suspensive effect (27(3)) restarts the period; a COVID suspension does not interrupt it (C-245/21, C-248/21, S); remittal does not restart it (C-560/23 Tang, S)`},
		{Step: TransferExtendedImprisonment, Period: m12, RunsFrom: FromAcceptanceOrAppeal, OnSilenceOrLapse: ResponsibilityShifts,
			Article: "604/2013 Art 29(2); 1560/2003 Art 9(2)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `up to one year for imprisonment; the responsible state must be told "avant l'expiration de ce délai" (9(2), V(FR))`},
		{Step: TransferExtendedAbsconding, Period: m18, RunsFrom: FromAcceptanceOrAppeal, OnSilenceOrLapse: ResponsibilityShifts,
			Article: "604/2013 Art 29(2); 1560/2003 Art 9(2)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `"up to a maximum of eighteen months if the person concerned absconds"; notice before expiry stating the new limit suffices (Jawo C-163/17, M)`},
		{Step: ResumeContact, Period: w2, RunsFrom: FromObstacleEnded, OnSilenceOrLapse: ConsequenceNone,
			Article: "1560/2003 Art 9(1a)", Verification: Recalled, ConsequenceVerification: Recalled,
			Note: `postponed transfer: resume contact within two weeks after the obstacle ends (118/2014); a postponement is reported "without delay" (9(1), M)`},
	}
}

// ammrTable: Reg 2024/1351; Implementing Reg 2025/2055.
func ammrTable() []Rule {
	return []Rule{
		{Step: TakeChargeRequest, Period: m2, RunsFrom: FromApplicationRegistered, OnSilenceOrLapse: RequestingStateResponsible,
			Article: "2024/1351 Art 39(1)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `"within two months of the date on which the application was registered"; the registering state becomes responsible, minors excepted`},
		{Step: TakeChargeRequestHit, Period: m1, RunsFrom: FromHitReceived, OnSilenceOrLapse: RequestingStateResponsible,
			Article: "2024/1351 Art 39(1)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `Eurodac or VIS hit: "within one month of receiving such hit"`},
		{Step: DetentionRequest, Period: w2, RunsFrom: FromRegisteredOrHitReceived, OnSilenceOrLapse: ConsequenceNone,
			Article: "2024/1351 Art 45(1)", Verification: Verified, ConsequenceVerification: Verified,
			Note: "detained person: take charge request or take back notification within two weeks of registration or hit; no consequence stated"},
		{Step: DetentionRequestAfterPlacement, Period: w1, RunsFrom: FromDetained, OnSilenceOrLapse: ConsequenceNone,
			Article: "2024/1351 Art 45(1)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `detained later: "one week from the date on which the person was placed in detention"`},
		{Step: ReplyTakeCharge, Period: m1, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ImplicitAcceptance,
			Article: "2024/1351 Art 40(1)", Verification: Verified, ConsequenceVerification: NotVerified,
			Note: `"within one month of receipt of the request"; silence = acceptance: that paragraph was not retrieved`},
		{Step: ReplyTakeChargeHit, Period: w2, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ImplicitAcceptance,
			Article: "2024/1351 Art 40(2)", Verification: Verified, ConsequenceVerification: NotVerified,
			Note: "request based on a Eurodac or VIS hit; silence = acceptance: that paragraph was not retrieved"},
		{Step: DetentionReply, Period: w1, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ImplicitAcceptance,
			Article: "2024/1351 Art 45(2)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `detained person: silence is "tantamount to accepting the take charge request"`},
		{Step: TakeBackNotification, Period: w2, RunsFrom: FromEurodacHitReceived, OnSilenceOrLapse: ConsequenceNone,
			Article: "2024/1351 Art 41(1)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `lateness does not shift responsibility: "shall not affect the obligation of the Member State responsible"`},
		{Step: ConfirmTakeBack, Period: w2, RunsFrom: FromNotificationReceived, OnSilenceOrLapse: ImplicitConfirmation,
			Article: "2024/1351 Art 41(3), 41(4)", Verification: Recalled, ConsequenceVerification: Verified,
			Note: `silence is "tantamount to confirming the receipt" (V); that the period runs from receipt of the notification is recalled (M)`},
		{Step: ReexaminationRequest, Period: none, RunsFrom: FromNotStated, OnSilenceOrLapse: ConsequenceNone,
			Article: "2025/2055 Art 15(3)", Verification: NotVerified, ConsequenceVerification: NotVerified,
			Note: "only for an unconfirmed take back on Art 37 grounds; limits not retrieved"},
		{Step: ReexaminationReply, Period: none, RunsFrom: FromNotStated, OnSilenceOrLapse: ConsequenceNone,
			Article: "2025/2055 Art 15(3)", Verification: NotVerified, ConsequenceVerification: NotVerified,
			Note: "limits not retrieved"},
		{Step: ReexaminationRequestTakeCharge, Period: none, RunsFrom: FromNegativeReplyReceived, OnSilenceOrLapse: ConsequenceNone,
			Article: "2025/2055 Art 15(3)", Verification: NotVerified, ConsequenceVerification: NotVerified,
			OnlyWithConfiguredPeriod: true,
			Note:                     "the retrieved text provides re-examination only for an unconfirmed take back (Art 15(3)); a take charge re-examination is refused unless a period is configured for this row"},
		{Step: TransferDecision, Period: w2, RunsFrom: FromAcceptanceOrConfirmation, OnSilenceOrLapse: ConsequenceNone,
			Article: "2024/1351 Art 42(1)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `"within two weeks of the acceptance or confirmation"; consequence not stated`},
		{Step: Appeal, Period: w3, MinPeriod: w1, RunsFrom: FromDecisionNotified, OnSilenceOrLapse: ConsequenceNone,
			Article: "2024/1351 Art 43(2)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `national choice: "at least one week but no more than three weeks"`},
		{Step: SuspensionRequest, Period: none, RunsFrom: FromDecisionNotified, OnSilenceOrLapse: ConsequenceNone,
			Article: "2024/1351 Art 43(3)", Verification: Verified, ConsequenceVerification: Verified,
			Note: "reasonable time, no longer than the national 43(2) period (first sentence only seen); the court's deadline is not verified"},
		{Step: Transfer, Period: m6, RunsFrom: FromAcceptanceConfirmationOrAppeal, OnSilenceOrLapse: ResponsibilityShifts,
			Article: "2024/1351 Art 46(1); 37(1)", Verification: Verified, ConsequenceVerification: Verified,
			Note: `"within six months of the acceptance of the take charge request", the confirmation, or the final decision on an appeal with suspensive effect; the transferring state becomes responsible and must inform the former state; relocation: Art 67(11)`},
		{Step: TransferExtendedImprisonment, Period: m12, RunsFrom: FromAcceptanceConfirmationOrAppeal, OnSilenceOrLapse: ResponsibilityShifts,
			Article: "2024/1351 Art 46(2)", Verification: NotVerified, ConsequenceVerification: NotVerified,
			Note: "recalled: up to one year for imprisonment; no provision on notifying an extension was found"},
		{Step: TransferExtendedAbsconding, Period: m36, RunsFrom: FromAcceptanceConfirmationOrAppeal, OnSilenceOrLapse: ResponsibilityShifts,
			Article: "2024/1351 Art 46(2)", Verification: NotVerified, ConsequenceVerification: NotVerified,
			Note: "recalled: up to three years for absconding, physically resisting or making oneself unfit for transfer"},
		{Step: DetentionTransfer, Period: w5, RunsFrom: FromAcceptanceConfirmationOrAppeal, OnSilenceOrLapse: ConsequenceNone,
			Article: "2024/1351 Art 45(3)", Verification: NotVerified, ConsequenceVerification: NotVerified,
			Note: "recalled: five weeks"},
	}
}

// crisisRows: Reg 2024/1359 Art 12(2) (V(ES)) replacing AMMR rows. Other
// AMMR rows stay as they are (with their AMMR overrides); the retrieved text
// names neither the hit limits nor the extensions.
func crisisRows() []Rule {
	es := VerifiedInTranslation("ES")
	const note = "crisis or force majeure derogation (2024/1359 Art 12(2), V(ES)); "
	return []Rule{
		{Step: TakeChargeRequest, Period: m4, RunsFrom: FromApplicationRegistered, OnSilenceOrLapse: RequestingStateResponsible,
			Article: "2024/1359 Art 12(2); 2024/1351 Art 39(1)", Verification: es, ConsequenceVerification: Verified,
			Note: note + "four months instead of two"},
		{Step: ReplyTakeCharge, Period: m2, RunsFrom: FromRequestReceived, OnSilenceOrLapse: ImplicitAcceptance,
			Article: "2024/1359 Art 12(2); 2024/1351 Art 40(1)", Verification: es, ConsequenceVerification: NotVerified,
			Note: note + "two months instead of one; silence = acceptance not verified (AMMR 40)"},
		{Step: TakeBackNotification, Period: m1, RunsFrom: FromEurodacHitReceived, OnSilenceOrLapse: ConsequenceNone,
			Article: "2024/1359 Art 12(2); 2024/1351 Art 41(1)", Verification: es, ConsequenceVerification: Verified,
			Note: note + "one month instead of two weeks; lateness does not shift responsibility"},
		{Step: ConfirmTakeBack, Period: m1, RunsFrom: FromNotificationReceived, OnSilenceOrLapse: ImplicitConfirmation,
			Article: "2024/1359 Art 12(2); 2024/1351 Art 41(3), 41(4)", Verification: es, ConsequenceVerification: Verified,
			Note: note + "one month instead of two weeks; start on receipt of the notification recalled (M)"},
		{Step: Transfer, Period: m12, RunsFrom: FromAcceptanceConfirmationOrAppeal, OnSilenceOrLapse: ResponsibilityShifts,
			Article: "2024/1359 Art 12(2); 2024/1351 Art 46(1)", Verification: es, ConsequenceVerification: Verified,
			Note: note + "one year instead of six months"},
	}
}

// baseTable returns the unmodified table of a regime that accepts
// overrides (Dublin III, AMMR), with Regime and Configurable filled in.
func baseTable(r Regime) ([]Rule, bool) {
	var rows []Rule
	switch r {
	case DublinIII:
		rows = dublinIIITable()
	case AMMR:
		rows = ammrTable()
	default:
		return nil, false
	}
	return finish(r, rows), true
}

func finish(r Regime, rows []Rule) []Rule {
	for i := range rows {
		rows[i].Regime = r
		rows[i].Configurable = rows[i].PeriodConfigurable() || rows[i].ConsequenceConfigurable()
	}
	return rows
}

func findRow(rows []Rule, step Step) (Rule, bool) {
	i := slices.IndexFunc(rows, func(r Rule) bool { return r.Step == step })
	if i < 0 {
		return Rule{}, false
	}
	return rows[i], true
}

// applyOverrides replaces configurable values. Only an override that is
// valid on its own is applied, so even an unvalidated Config can never
// change a verified row or install a junk period; Validate reports the rest.
func applyOverrides(r Regime, rows []Rule, cfg Config) []Rule {
	for i := range rows {
		row := &rows[i]
		if p, ok := cfg.PeriodOverrides[r][row.Step]; ok && row.PeriodConfigurable() && p.Validate() == nil &&
			(row.MinPeriod.IsZero() || atLeast(p, row.MinPeriod)) {
			row.Overridden = row.Overridden || p != row.Period
			row.Period = p
		}
		if c, ok := cfg.ConsequenceOverrides[r][row.Step]; ok && row.ConsequenceConfigurable() && c.Valid() {
			row.Overridden = row.Overridden || c != row.OnSilenceOrLapse
			row.OnSilenceOrLapse = c
		}
	}
	return rows
}

// Rules returns the rule table of regime with cfg's overrides applied, in
// table order, or nil for an unknown regime. The AMMRCrisis table is the
// AMMR table (with AMMR overrides) whose rows named in 2024/1359 Art 12(2)
// are replaced. Pass a validated Config (an override that is invalid on its
// own is ignored here and reported by Config.Validate).
func Rules(regime Regime, cfg Config) []Rule {
	switch regime {
	case DublinIII, AMMR:
		rows, _ := baseTable(regime)
		return applyOverrides(regime, rows, cfg)
	case AMMRCrisis:
		rows, _ := baseTable(AMMR)
		crisis := finish(AMMRCrisis, crisisRows())
		for i := range rows {
			rows[i].Regime = AMMRCrisis
			if c, ok := findRow(crisis, rows[i].Step); ok {
				rows[i] = c
			}
		}
		// AMMR overrides still reach whatever stays unverified in a crisis row.
		return applyOverrides(AMMR, rows, cfg)
	}
	return nil
}

// Lookup returns one rule: ErrUnknownRegime for a regime without a table,
// ErrNoRule when the regime lacks the step.
func Lookup(regime Regime, step Step, cfg Config) (Rule, error) {
	rows := Rules(regime, cfg)
	if rows == nil {
		return Rule{}, fmt.Errorf("%w: %q", ErrUnknownRegime, regime)
	}
	r, ok := findRow(rows, step)
	if !ok {
		return Rule{}, fmt.Errorf("%w: %s has no %s", ErrNoRule, regime, step)
	}
	return r, nil
}

// Unverified lists the configurable rows of the Dublin III and AMMR tables
// (with cfg applied): every row whose period or consequence is flagged M or
// NOT VERIFIED. The crisis table inherits AMMR's configurable rows.
func Unverified(cfg Config) []Rule {
	var out []Rule
	for _, r := range []Regime{DublinIII, AMMR} {
		for _, row := range Rules(r, cfg) {
			if row.Configurable {
				out = append(out, row)
			}
		}
	}
	return out
}
