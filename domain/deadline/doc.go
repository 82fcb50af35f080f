// Package deadline computes the legal time limits of the Dublin procedure
// (take charge, take back, re-examination, transfer) under Dublin III and
// under the AMMR, as pure functions of civil dates. It uses the standard
// library only: no I/O, no clock (callers pass the transaction's date), so
// the chaincode and the gateway compute identical deadlines.
//
// # Sources and verification
//
// The legal facts come from /work/shared/DUBLIN-RULES.md, which wins over
// anything else. They are encoded as data, one table per regime, each row
// carrying its article and how far it has been checked:
//
//	V                  wording seen in the primary text (English)
//	V_TRANSLATION(XX)  seen only in the official XX language version
//	S                  confirmed only by case law or a secondary source
//	M                  recalled, not re-checked against the Official Journal
//	NOT_VERIFIED       not verified
//
// A row whose period or consequence is flagged M or NOT_VERIFIED is
// Configurable: Config.PeriodOverrides / Config.ConsequenceOverrides may
// replace its value, and Unverified (and `dublinrules --unverified`) lists
// these rows for legal review. Verified rows cannot be overridden.
//
// Tables (see Rules, and `go run ./cmd/dublinrules` for the full listing):
//
//   - DUBLIN_III: Reg (EU) No 604/2013 and Reg (EC) No 1560/2003 as amended
//     by Reg (EU) No 118/2014. Take charge request 3 months from lodging /
//     2 months from a Eurodac hit (21(1)); reply 2 months, urgent 1 week to
//     1 month (21(2), 22(1), 22(6)), silence = acceptance (22(7));
//     take back request (23, 24) and reply 1 month / 2 weeks on Eurodac
//     (25); re-examination request 3 weeks, reply target 2 weeks
//     (1560 Art 5(2), C-47/17); transfer 6 months (29(1)), extended to
//     1 year (imprisonment) or 18 months (absconding) (29(2)); detention
//     limits (28(3)).
//   - AMMR: Reg (EU) 2024/1351 and Implementing Reg (EU) 2025/2055. Take
//     charge request 2 months from registration / 1 month from a Eurodac or
//     VIS hit (39(1)); reply 1 month / 2 weeks on a hit (40); take back by
//     notification within 2 weeks of the hit, whose lateness does not shift
//     responsibility (41(1)), confirmed within 2 weeks, silence = confirmation
//     (41(3)-(4)); transfer decision 2 weeks (42(1)); appeal 1-3 weeks
//     (43(2)); transfer 6 months (46(1)); extensions and detention transfer
//     NOT VERIFIED (46(2), 45(3)); re-examination only of an unconfirmed
//     take back (2025/2055 Art 15(3), limits not retrieved) — the row
//     REEXAMINATION_REQUEST_TAKE_CHARGE provides a take charge
//     re-examination only once a period is configured for it
//     (Clock.ReexaminationRule, ErrNotProvided).
//   - AMMR_CRISIS: the AMMR table with the derogations of Reg (EU) 2024/1359
//     Art 12(2) (V(ES)): take charge request 4 months, reply 2 months, take
//     back notification and confirmation 1 month, transfer 1 year. RegimeFor
//     never returns it; use it where the derogation is authorised.
//
// A step a regime lacks gives ErrNoRule (AMMR has no take back request and
// no urgent reply; Dublin III has no take back notification); a step whose
// limit is unknown or unfixed gives ErrNoLimit.
//
// # Which regime
//
// RegimeFor applies AMMR Art 84: applications registered before
// Config.AMMRSwitchDate (default 1 July 2026, not 12 June) follow Dublin III,
// those registered after it the AMMR. The switch day itself is in neither
// "before" nor "after"; Config.SwitchDayRegime decides and defaults to AMMR
// (DUBLIN-RULES §0: "AMMR from 1 July 2026 inclusive").
//
// Art 84(2) keeps only Dublin III's criteria for older applications. Which
// procedural limits govern them after the switch is not confirmed, so it is
// Config.PendingProcedure: by default (PendingAMMRAfterSwitch) a request
// made on or after the switch, and every limit running from it, follows the
// AMMR table — Dublin III is repealed at the switch and 2025/2055 Art 7(1)
// (V(RO)) routes such requests through AMMR forms — while a request made
// before the switch keeps its Dublin III limits through to the transfer.
// ProcedureRegime applies that choice. The limit for making a request keeps
// the regime under which it started to run (RegimeFor).
//
// # Counting periods (Reg 1182/71)
//
// End implements Art 3: the day of the event is not counted (3(1)); a
// period of days counts calendar days, weekends and holidays included
// (3(3), M); a period of weeks or months ends on the same weekday or date as
// the event day, or on the last day of the month when that date does not
// exist, so 31 August + 6 months ends on 28 February (29 in a leap year)
// (3(2)(c)); a last day on a Saturday, Sunday or public holiday moves to the
// next working day (3(4)). The holidays are those of the member state where
// the act is to be done (Art 2(1)): pass that state's Holidays. Whether
// 1182/71 governs Dublin periods at all is NOT VERIFIED (DUBLIN-RULES "Not
// verified" 6); no Dublin-specific counting rule was found. Periods counted
// backwards (2025/2055 Art 25 transfer notices) and the two-working-day
// minimum of Art 3(5) are not implemented; no Dublin limit is that short.
//
// A deadline is met through the end of its last day: Expired is true from
// the following day. Times are reduced to dates with DateOf (UTC); the
// receipt day of a request is the DubliNet acknowledgement (2025/2055
// Art 1(3)).
//
// # Clock
//
// Clock answers the questions the Dublin state machine asks — last day for
// a request (RequestDeadline), a reply or confirmation (ReplyDeadline), a
// re-examination (ReexaminationRequestDeadline, ReexaminationReplyTarget),
// a transfer decision or appeal, the transfer (TransferDeadline, restarted
// by a final suspensive appeal decision and extended only when the
// extension is notified before the unextended deadline, 1560 Art 9(2)) —
// and each Deadline carries the consequence of its lapse (Lapsed) and the
// flags of its period and consequence. A request limit's consequence says
// what a request sent after it loses (Consequence.BarsLateRequest: the
// requesting state stays responsible, so silence is no acceptance):
// ImplicitAcceptance / ImplicitConfirmation allow IMPLICITLY_ACCEPTED,
// ResponsibilityShifts allows RESPONSIBILITY_SHIFTED, ConsequenceNone allows
// nothing (an AMMR take back notification sent late still binds the
// responsible state).
//
// Not encoded (facts outside DUBLIN-RULES.md or recalled only): the cap of a
// hit-based request at the general limit (C-670/16 Mengesteab); whether
// silence after an urgent Dublin III request counts from the requested
// period or from one month (22(7), M); relocation transfers (AMMR 67(11)).
package deadline
