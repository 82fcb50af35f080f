package deadline

import (
	"errors"
	"fmt"
	"testing"
)

// ruleCase is one row of DUBLIN-RULES.md as the tables must encode it, with
// the deadline it gives for an event on Wednesday 3 June 2026 (weekends
// only). Every row of every table must have exactly one case here.
type ruleCase struct {
	article  string // cited in the test name
	regime   Regime
	step     Step
	period   string
	min      string
	runsFrom string
	lapse    Consequence
	flag     string // Verification.Short()
	consFlag string
	due      string // from 2026-06-03; "" when there is no fixed limit
}

var ruleCases = []ruleCase{
	// A. Dublin III.
	{"604/2013 Art 21(1), 20(2)", DublinIII, TakeChargeRequest, "3M", "NONE", FromApplicationLodged, RequestingStateResponsible, "V", "V", "2026-09-03"},
	{"604/2013 Art 21(1)", DublinIII, TakeChargeRequestHit, "2M", "NONE", FromEurodacHitReceived, RequestingStateResponsible, "V", "V", "2026-08-03"},
	{"604/2013 Art 22(1), 22(7)", DublinIII, ReplyTakeCharge, "2M", "NONE", FromRequestReceived, ImplicitAcceptance, "M", "M", "2026-08-03"},
	{"604/2013 Art 21(2), 22(6), 22(7)", DublinIII, ReplyTakeChargeUrgent, "1M", "1W", FromRequestReceived, ImplicitAcceptance, "M", "M", "2026-07-03"},
	{"604/2013 Art 28(3)", DublinIII, DetentionRequest, "1M", "NONE", FromApplicationLodged, ReleaseFromDetention, "V", "M", "2026-07-03"},
	{"604/2013 Art 28(3)", DublinIII, DetentionReply, "2W", "NONE", FromRequestReceived, ImplicitAcceptance, "V", "V(RO)", "2026-06-17"},
	{"604/2013 Art 28(3)", DublinIII, DetentionTransfer, "6W", "NONE", FromAcceptanceOrAppeal, ReleaseFromDetention, "V", "M", "2026-07-15"},
	{"604/2013 Art 23(2), 23(3)", DublinIII, TakeBackRequestHit, "2M", "NONE", FromEurodacHitReceived, RequestingStateResponsible, "V(RO)", "V(RO)", "2026-08-03"},
	{"604/2013 Art 23(2), 23(3)", DublinIII, TakeBackRequest, "3M", "NONE", FromApplicationLodged, RequestingStateResponsible, "V(RO)", "V(RO)", "2026-09-03"},
	{"604/2013 Art 24(2), 24(3)", DublinIII, TakeBackRequestNoApplicationHit, "2M", "NONE", FromEurodacHitReceived, MustAllowApplication, "M", "M", "2026-08-03"},
	{"604/2013 Art 24(2), 24(3)", DublinIII, TakeBackRequestNoApplication, "3M", "NONE", FromStateAware, MustAllowApplication, "M", "M", "2026-09-03"},
	{"604/2013 Art 25(1), 25(2)", DublinIII, ReplyTakeBack, "1M", "NONE", FromRequestReceived, ImplicitAcceptance, "M", "M", "2026-07-03"},
	{"604/2013 Art 25(1), 25(2)", DublinIII, ReplyTakeBackHit, "2W", "NONE", FromRequestReceived, ImplicitAcceptance, "M", "M", "2026-06-17"},
	{"1560/2003 Art 5(2)", DublinIII, ReexaminationRequest, "3W", "NONE", FromNegativeReplyReceived, ConsequenceNone, "V", "V", "2026-06-24"},
	{"1560/2003 Art 5(2); CJEU C-47/17", DublinIII, ReexaminationReply, "2W", "NONE", FromRequestReceived, ProcedureEnds, "V", "S", "2026-06-17"},
	{"604/2013 Art 26", DublinIII, TransferDecision, "NONE", "NONE", FromAcceptance, ConsequenceNone, "M", "M", ""},
	{"604/2013 Art 27(2), 27(3)", DublinIII, Appeal, "NONE", "NONE", FromDecisionNotified, ConsequenceNone, "M", "M", ""},
	{"604/2013 Art 29(1), 29(2)", DublinIII, Transfer, "6M", "NONE", FromAcceptanceOrAppeal, ResponsibilityShifts, "V", "V", "2026-12-03"},
	{"604/2013 Art 29(2); 1560/2003 Art 9(2)", DublinIII, TransferExtendedImprisonment, "12M", "NONE", FromAcceptanceOrAppeal, ResponsibilityShifts, "V", "V", "2027-06-03"},
	{"604/2013 Art 29(2); 1560/2003 Art 9(2)", DublinIII, TransferExtendedAbsconding, "18M", "NONE", FromAcceptanceOrAppeal, ResponsibilityShifts, "V", "V", "2027-12-03"},
	{"1560/2003 Art 9(1a)", DublinIII, ResumeContact, "2W", "NONE", FromObstacleEnded, ConsequenceNone, "M", "M", "2026-06-17"},

	// B. AMMR.
	{"2024/1351 Art 39(1)", AMMR, TakeChargeRequest, "2M", "NONE", FromApplicationRegistered, RequestingStateResponsible, "V", "V", "2026-08-03"},
	{"2024/1351 Art 39(1)", AMMR, TakeChargeRequestHit, "1M", "NONE", FromHitReceived, RequestingStateResponsible, "V", "V", "2026-07-03"},
	{"2024/1351 Art 45(1)", AMMR, DetentionRequest, "2W", "NONE", FromRegisteredOrHitReceived, ConsequenceNone, "V", "V", "2026-06-17"},
	{"2024/1351 Art 45(1)", AMMR, DetentionRequestAfterPlacement, "1W", "NONE", FromDetained, ConsequenceNone, "V", "V", "2026-06-10"},
	{"2024/1351 Art 40(1)", AMMR, ReplyTakeCharge, "1M", "NONE", FromRequestReceived, ImplicitAcceptance, "V", "NOT VERIFIED", "2026-07-03"},
	{"2024/1351 Art 40(2)", AMMR, ReplyTakeChargeHit, "2W", "NONE", FromRequestReceived, ImplicitAcceptance, "V", "NOT VERIFIED", "2026-06-17"},
	{"2024/1351 Art 45(2)", AMMR, DetentionReply, "1W", "NONE", FromRequestReceived, ImplicitAcceptance, "V", "V", "2026-06-10"},
	{"2024/1351 Art 41(1)", AMMR, TakeBackNotification, "2W", "NONE", FromEurodacHitReceived, ConsequenceNone, "V", "V", "2026-06-17"},
	{"2024/1351 Art 41(3), 41(4)", AMMR, ConfirmTakeBack, "2W", "NONE", FromNotificationReceived, ImplicitConfirmation, "M", "V", "2026-06-17"},
	{"2025/2055 Art 15(3)", AMMR, ReexaminationRequest, "NONE", "NONE", FromNotStated, ConsequenceNone, "NOT VERIFIED", "NOT VERIFIED", ""},
	{"2025/2055 Art 15(3)", AMMR, ReexaminationReply, "NONE", "NONE", FromNotStated, ConsequenceNone, "NOT VERIFIED", "NOT VERIFIED", ""},
	{"2025/2055 Art 15(3)", AMMR, ReexaminationRequestTakeCharge, "NONE", "NONE", FromNegativeReplyReceived, ConsequenceNone, "NOT VERIFIED", "NOT VERIFIED", ""},
	{"2024/1351 Art 42(1)", AMMR, TransferDecision, "2W", "NONE", FromAcceptanceOrConfirmation, ConsequenceNone, "V", "V", "2026-06-17"},
	{"2024/1351 Art 43(2)", AMMR, Appeal, "3W", "1W", FromDecisionNotified, ConsequenceNone, "V", "V", "2026-06-24"},
	{"2024/1351 Art 43(3)", AMMR, SuspensionRequest, "NONE", "NONE", FromDecisionNotified, ConsequenceNone, "V", "V", ""},
	{"2024/1351 Art 46(1); 37(1)", AMMR, Transfer, "6M", "NONE", FromAcceptanceConfirmationOrAppeal, ResponsibilityShifts, "V", "V", "2026-12-03"},
	{"2024/1351 Art 46(2)", AMMR, TransferExtendedImprisonment, "12M", "NONE", FromAcceptanceConfirmationOrAppeal, ResponsibilityShifts, "NOT VERIFIED", "NOT VERIFIED", "2027-06-03"},
	{"2024/1351 Art 46(2)", AMMR, TransferExtendedAbsconding, "36M", "NONE", FromAcceptanceConfirmationOrAppeal, ResponsibilityShifts, "NOT VERIFIED", "NOT VERIFIED", "2029-06-04"},
	{"2024/1351 Art 45(3)", AMMR, DetentionTransfer, "5W", "NONE", FromAcceptanceConfirmationOrAppeal, ConsequenceNone, "NOT VERIFIED", "NOT VERIFIED", "2026-07-08"},

	// B. Crisis derogations (2024/1359 Art 12(2), V(ES)); other AMMR_CRISIS rows are AMMR's.
	{"2024/1359 Art 12(2); 2024/1351 Art 39(1)", AMMRCrisis, TakeChargeRequest, "4M", "NONE", FromApplicationRegistered, RequestingStateResponsible, "V(ES)", "V", "2026-10-05"},
	{"2024/1359 Art 12(2); 2024/1351 Art 40(1)", AMMRCrisis, ReplyTakeCharge, "2M", "NONE", FromRequestReceived, ImplicitAcceptance, "V(ES)", "NOT VERIFIED", "2026-08-03"},
	{"2024/1359 Art 12(2); 2024/1351 Art 41(1)", AMMRCrisis, TakeBackNotification, "1M", "NONE", FromEurodacHitReceived, ConsequenceNone, "V(ES)", "V", "2026-07-03"},
	{"2024/1359 Art 12(2); 2024/1351 Art 41(3), 41(4)", AMMRCrisis, ConfirmTakeBack, "1M", "NONE", FromNotificationReceived, ImplicitConfirmation, "V(ES)", "V", "2026-07-03"},
	{"2024/1359 Art 12(2); 2024/1351 Art 46(1)", AMMRCrisis, Transfer, "12M", "NONE", FromAcceptanceConfirmationOrAppeal, ResponsibilityShifts, "V(ES)", "V", "2027-06-03"},
}

func TestRuleTables(t *testing.T) {
	cfg := DefaultConfig()
	event := day(t, "2026-06-03") // a Wednesday
	covered := map[Regime]map[Step]bool{}
	for _, tc := range ruleCases {
		t.Run(fmt.Sprintf("%s/%s/%s", tc.regime, tc.article, tc.step), func(t *testing.T) {
			if covered[tc.regime] == nil {
				covered[tc.regime] = map[Step]bool{}
			}
			if covered[tc.regime][tc.step] {
				t.Fatalf("duplicate case")
			}
			covered[tc.regime][tc.step] = true
			r, err := Lookup(tc.regime, tc.step, cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s", r.Article, r.Period, r.MinPeriod, r.RunsFrom, r.OnSilenceOrLapse, r.Verification.Short(), r.ConsequenceVerification.Short())
			want := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s", tc.article, tc.period, tc.min, tc.runsFrom, tc.lapse, tc.flag, tc.consFlag)
			if got != want {
				t.Fatalf("row\n got %s\nwant %s", got, want)
			}
			wantConfigurable := r.Verification.NeedsReview() || r.ConsequenceVerification.NeedsReview()
			if r.Configurable != wantConfigurable || r.Overridden {
				t.Fatalf("Configurable=%v Overridden=%v, want %v/false", r.Configurable, r.Overridden, wantConfigurable)
			}
			clock, err := NewClock(tc.regime, cfg)
			if err != nil {
				t.Fatal(err)
			}
			d, err := clock.Due(tc.step, event, nil)
			if tc.due == "" {
				if !errors.Is(err, ErrNoLimit) {
					t.Fatalf("Due = %v, %v; want ErrNoLimit", d, err)
				}
				return
			}
			if err != nil || d.Due != day(t, tc.due) {
				t.Fatalf("Due = %v, %v; want %s", d.Due, err, tc.due)
			}
			if d.Article != tc.article || d.OnLapse != tc.lapse || d.Start != event || d.Step != tc.step || d.Regime != tc.regime {
				t.Fatalf("Deadline carries wrong rule data: %+v", d)
			}
		})
	}
	// Every row of every table has a case (crisis rows that are AMMR's own
	// are covered by the AMMR cases).
	for _, regime := range []Regime{DublinIII, AMMR} {
		for _, row := range Rules(regime, cfg) {
			if !covered[regime][row.Step] {
				t.Errorf("%s %s (%s) has no test case", regime, row.Step, row.Article)
			}
		}
	}
	ammr := Rules(AMMR, cfg)
	for i, row := range Rules(AMMRCrisis, cfg) {
		if covered[AMMRCrisis][row.Step] {
			continue
		}
		base := ammr[i]
		base.Regime = AMMRCrisis
		if row != base {
			t.Errorf("crisis row %s differs from AMMR without a test case: %v", row.Step, row)
		}
	}
}

func TestRowsWellFormed(t *testing.T) {
	for _, regime := range Regimes() {
		seen := map[Step]bool{}
		for _, r := range Rules(regime, DefaultConfig()) {
			name := fmt.Sprintf("%s %s", regime, r.Step)
			switch {
			case seen[r.Step]:
				t.Errorf("%s: duplicate step", name)
			case r.Regime != regime:
				t.Errorf("%s: regime %s", name, r.Regime)
			case r.Article == "" || r.RunsFrom == "" || r.Note == "":
				t.Errorf("%s: missing article, runs-from or note", name)
			case !r.Verification.Valid() || !r.ConsequenceVerification.Valid():
				t.Errorf("%s: bad flags %q %q", name, r.Verification, r.ConsequenceVerification)
			case !r.OnSilenceOrLapse.Valid():
				t.Errorf("%s: bad consequence %q", name, r.OnSilenceOrLapse)
			case r.HasLimit() && r.Period.Validate() != nil:
				t.Errorf("%s: bad period %v", name, r.Period)
			case !r.MinPeriod.IsZero() && !atLeast(r.Period, r.MinPeriod):
				t.Errorf("%s: max %v below min %v", name, r.Period, r.MinPeriod)
			}
			seen[r.Step] = true
		}
	}
}

func TestLookupErrors(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		name   string
		regime Regime
		step   Step
		want   error
	}{
		{"AMMR has no take back request (41: notification)", AMMR, TakeBackRequest, ErrNoRule},
		{"AMMR has no take back reply", AMMR, ReplyTakeBack, ErrNoRule},
		{"AMMR has no urgent reply", AMMR, ReplyTakeChargeUrgent, ErrNoRule},
		{"Dublin III has no take back notification", DublinIII, TakeBackNotification, ErrNoRule},
		{"Dublin III has no confirmation", DublinIII, ConfirmTakeBack, ErrNoRule},
		{"Dublin III has no hit-specific take charge reply", DublinIII, ReplyTakeChargeHit, ErrNoRule},
		{"crisis inherits AMMR gaps", AMMRCrisis, TakeBackRequest, ErrNoRule},
		{"unknown regime", "DUBLIN_II", Transfer, ErrUnknownRegime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Lookup(tt.regime, tt.step, cfg); !errors.Is(err, tt.want) {
				t.Fatalf("Lookup = %v, want %v", err, tt.want)
			}
		})
	}
	if Rules("DUBLIN_II", cfg) != nil {
		t.Fatal("Rules of an unknown regime must be nil")
	}
}

func TestOverridesAndUnverified(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PeriodOverrides = map[Regime]map[Step]Period{
		AMMR:      {TransferExtendedAbsconding: MonthsPeriod(18), ReexaminationRequest: WeeksPeriod(3)},
		DublinIII: {ReplyTakeBack: MonthsPeriod(1)}, // same as default: not "Overridden"
	}
	cfg.ConsequenceOverrides = map[Regime]map[Step]Consequence{AMMR: {ReplyTakeCharge: ConsequenceNone}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r, _ := Lookup(AMMR, TransferExtendedAbsconding, cfg)
	if r.Period != MonthsPeriod(18) || !r.Overridden {
		t.Fatalf("46(2) override not applied: %v", r)
	}
	r, _ = Lookup(AMMR, ReexaminationRequest, cfg)
	if r.Period != WeeksPeriod(3) {
		t.Fatalf("15(3) override not applied: %v", r)
	}
	r, _ = Lookup(DublinIII, ReplyTakeBack, cfg)
	if r.Overridden {
		t.Fatal("an override equal to the default must not mark the row Overridden")
	}
	r, _ = Lookup(AMMR, ReplyTakeCharge, cfg)
	if r.OnSilenceOrLapse != ConsequenceNone || r.Period != MonthsPeriod(1) || !r.Overridden {
		t.Fatalf("40(1) consequence override not applied: %v", r)
	}
	// The crisis table inherits AMMR overrides where its row is still unverified.
	r, _ = Lookup(AMMRCrisis, TransferExtendedAbsconding, cfg)
	if r.Period != MonthsPeriod(18) {
		t.Fatalf("crisis did not inherit the 46(2) override: %v", r)
	}
	r, _ = Lookup(AMMRCrisis, ReplyTakeCharge, cfg)
	if r.OnSilenceOrLapse != ConsequenceNone || r.Period != MonthsPeriod(2) {
		t.Fatalf("crisis 40(1) row: %v", r)
	}

	// Unverified lists exactly the configurable DIII and AMMR rows.
	want := 0
	for _, regime := range []Regime{DublinIII, AMMR} {
		for _, row := range Rules(regime, cfg) {
			if row.Verification.NeedsReview() || row.ConsequenceVerification.NeedsReview() {
				want++
			}
		}
	}
	got := Unverified(cfg)
	if len(got) != want || want == 0 {
		t.Fatalf("Unverified = %d rows, want %d", len(got), want)
	}
	for _, row := range got {
		if !row.Configurable {
			t.Errorf("Unverified listed %s %s which is not configurable", row.Regime, row.Step)
		}
	}

	// An invalid config can never reach a verified row.
	bad := DefaultConfig()
	bad.PeriodOverrides = map[Regime]map[Step]Period{DublinIII: {Transfer: MonthsPeriod(1), ReplyTakeChargeUrgent: DaysPeriod(3)}}
	r, _ = Lookup(DublinIII, Transfer, bad)
	if r.Period != MonthsPeriod(6) {
		t.Fatalf("verified 29(1) row overridden by an invalid config: %v", r)
	}
	r, _ = Lookup(DublinIII, ReplyTakeChargeUrgent, bad)
	if r.Period != MonthsPeriod(1) {
		t.Fatalf("urgent cap set below its minimum: %v", r)
	}
}

func TestVerification(t *testing.T) {
	tests := []struct {
		v      Verification
		valid  bool
		review bool
		short  string
		lang   string
	}{
		{Verified, true, false, "V", ""},
		{VerifiedInTranslation("RO"), true, false, "V(RO)", "RO"},
		{Secondary, true, false, "S", ""},
		{Recalled, true, true, "M", ""},
		{NotVerified, true, true, "NOT VERIFIED", ""},
		{VerifiedInTranslation("ro"), false, false, "V(ro)", "ro"},
		{"V(RO)", false, false, "V(RO)", ""},
		{"", false, false, "", ""},
	}
	for _, tt := range tests {
		if tt.v.Valid() != tt.valid || tt.v.NeedsReview() != tt.review || tt.v.Short() != tt.short || tt.v.Language() != tt.lang {
			t.Errorf("%q: valid=%v review=%v short=%q lang=%q", tt.v, tt.v.Valid(), tt.v.NeedsReview(), tt.v.Short(), tt.v.Language())
		}
	}
}
