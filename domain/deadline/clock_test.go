package deadline

import (
	"encoding/json"
	"errors"
	"testing"
)

func mustClock(t *testing.T, r Regime, cfg Config) Clock {
	t.Helper()
	c, err := NewClock(r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// germanCalendar is the acting state's calendar in some cases below.
func germanCalendar(t *testing.T) Holidays {
	return holidays(t, "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25", "2026-10-03", "2026-12-25", "2026-12-26", "2027-01-01")
}

func TestNewClock(t *testing.T) {
	if _, err := NewClock("DUBLIN_II", DefaultConfig()); !errors.Is(err, ErrUnknownRegime) {
		t.Fatalf("unknown regime: %v", err)
	}
	if _, err := NewClock(AMMR, Config{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("invalid config: %v", err)
	}
	var zero Clock
	if _, err := zero.Due(Transfer, day(t, "2026-07-01"), nil); !errors.Is(err, ErrUnknownRegime) {
		t.Fatalf("zero Clock: %v", err)
	}
	c := mustClock(t, AMMRCrisis, DefaultConfig())
	if c.Regime() != AMMRCrisis || c.Config().AMMRSwitchDate != DefaultConfig().AMMRSwitchDate {
		t.Fatal("accessors wrong")
	}
}

func TestRequestDeadline(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		name   string
		regime Regime
		facts  RequestFacts
		step   Step
		due    string
		lapse  Consequence
	}{
		{"DIII 21(1) take charge 3M from lodging", DublinIII,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-03-16")},
			TakeChargeRequest, "2026-06-16", RequestingStateResponsible},
		{"DIII 21(1) take charge 2M from Eurodac hit", DublinIII,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-03-16"), Hit: EurodacHit, HitReceived: day(t, "2026-03-20")},
			TakeChargeRequestHit, "2026-05-20", RequestingStateResponsible},
		{"DIII 21(1) VIS hit has no special rule: 3M from lodging", DublinIII,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-03-16"), Hit: VISHit, HitReceived: day(t, "2026-03-20")},
			TakeChargeRequest, "2026-06-16", RequestingStateResponsible},
		{"DIII 28(3) detained: 1M from lodging", DublinIII,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-03-16"), Hit: EurodacHit, HitReceived: day(t, "2026-03-20"), Detained: day(t, "2026-03-17")},
			DetentionRequest, "2026-04-16", ReleaseFromDetention},
		{"DIII 23(2) take back 2M from Eurodac hit, Sat -> Mon", DublinIII,
			RequestFacts{Procedure: TakeBack, Application: day(t, "2026-03-16"), Hit: EurodacHit, HitReceived: day(t, "2026-03-16")},
			TakeBackRequestHit, "2026-05-18", RequestingStateResponsible},
		{"DIII 23(2) take back other evidence 3M from lodging", DublinIII,
			RequestFacts{Procedure: TakeBack, Application: day(t, "2026-03-16")},
			TakeBackRequest, "2026-06-16", RequestingStateResponsible},
		{"DIII 24(2) no new application, Eurodac hit 2M", DublinIII,
			RequestFacts{Procedure: TakeBack, NoNewApplication: true, Hit: EurodacHit, HitReceived: day(t, "2026-03-20")},
			TakeBackRequestNoApplicationHit, "2026-05-20", MustAllowApplication},
		{"DIII 24(2) no new application, 3M from awareness", DublinIII,
			RequestFacts{Procedure: TakeBack, NoNewApplication: true, StateAware: day(t, "2026-04-01")},
			TakeBackRequestNoApplication, "2026-07-01", MustAllowApplication},
		{"AMMR 39(1) take charge 2M from registration", AMMR,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-07-02")},
			TakeChargeRequest, "2026-09-02", RequestingStateResponsible},
		{"AMMR 39(1) take charge 1M from VIS hit", AMMR,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-07-02"), Hit: VISHit, HitReceived: day(t, "2026-07-06")},
			TakeChargeRequestHit, "2026-08-06", RequestingStateResponsible},
		{"AMMR 39(1) take charge 1M from Eurodac hit", AMMR,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-07-02"), Hit: EurodacHit, HitReceived: day(t, "2026-07-06")},
			TakeChargeRequestHit, "2026-08-06", RequestingStateResponsible},
		{"AMMR 45(1) detained at registration: 2W", AMMR,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-07-02"), Detained: day(t, "2026-07-02")},
			DetentionRequest, "2026-07-16", ConsequenceNone},
		{"AMMR 45(1) detained later: 1W from placement", AMMR,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-07-02"), Detained: day(t, "2026-07-20")},
			DetentionRequestAfterPlacement, "2026-07-27", ConsequenceNone},
		{"AMMR 45(1) detained take back: 2W from hit", AMMR,
			RequestFacts{Procedure: TakeBack, Hit: EurodacHit, HitReceived: day(t, "2026-07-06"), Detained: day(t, "2026-07-06")},
			DetentionRequest, "2026-07-20", ConsequenceNone},
		{"AMMR 41(1) take back notification 2W from hit, lateness shifts nothing", AMMR,
			RequestFacts{Procedure: TakeBack, Hit: EurodacHit, HitReceived: day(t, "2026-07-06")},
			TakeBackNotification, "2026-07-20", ConsequenceNone},
		{"2024/1359 Art 12(2) crisis take charge 4M", AMMRCrisis,
			RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-07-02")},
			TakeChargeRequest, "2026-11-02", RequestingStateResponsible},
		{"2024/1359 Art 12(2) crisis take back notification 1M", AMMRCrisis,
			RequestFacts{Procedure: TakeBack, Hit: EurodacHit, HitReceived: day(t, "2026-07-06")},
			TakeBackNotification, "2026-08-06", ConsequenceNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := mustClock(t, tt.regime, cfg).RequestDeadline(tt.facts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.Step != tt.step || d.Due != day(t, tt.due) || d.OnLapse != tt.lapse {
				t.Fatalf("got %s due %v lapse %s; want %s due %s lapse %s", d.Step, d.Due, d.OnLapse, tt.step, tt.due, tt.lapse)
			}
		})
	}
}

func TestRequestDeadlineErrors(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		name   string
		regime Regime
		facts  RequestFacts
		want   error
	}{
		{"unknown procedure", DublinIII, RequestFacts{Procedure: "RELOCATION", Application: day(t, "2026-03-16")}, ErrInvalidFacts},
		{"hit without its day", DublinIII, RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-03-16"), Hit: EurodacHit}, ErrInvalidFacts},
		{"hit day without a hit", DublinIII, RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-03-16"), HitReceived: day(t, "2026-03-16")}, ErrInvalidFacts},
		{"unknown hit", AMMR, RequestFacts{Procedure: TakeCharge, Hit: "SIS", HitReceived: day(t, "2026-07-06")}, ErrInvalidFacts},
		{"missing lodging", DublinIII, RequestFacts{Procedure: TakeCharge}, ErrInvalidDate},
		{"detained without lodging", DublinIII, RequestFacts{Procedure: TakeBack, NoNewApplication: true, StateAware: day(t, "2026-04-01"), Detained: day(t, "2026-04-01")}, ErrInvalidFacts},
		{"NoNewApplication for take charge", DublinIII, RequestFacts{Procedure: TakeCharge, NoNewApplication: true, Application: day(t, "2026-03-16")}, ErrInvalidFacts},
		{"AMMR has no Art 24-style request", AMMR, RequestFacts{Procedure: TakeBack, NoNewApplication: true, Hit: EurodacHit, HitReceived: day(t, "2026-07-06")}, ErrNoRule},
		{"AMMR 41(1) take back needs a Eurodac hit", AMMR, RequestFacts{Procedure: TakeBack, Application: day(t, "2026-07-02")}, ErrInvalidFacts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := mustClock(t, tt.regime, cfg).RequestDeadline(tt.facts, nil); !errors.Is(err, tt.want) {
				t.Fatalf("RequestDeadline = %+v, %v; want %v", d, err, tt.want)
			}
		})
	}
}

func TestReplyDeadline(t *testing.T) {
	cfg := DefaultConfig()
	de := germanCalendar(t)
	tests := []struct {
		name   string
		regime Regime
		facts  ReplyFacts
		cal    Calendar
		step   Step
		due    string
		lapse  Consequence
	}{
		{"DIII 22(1) take charge reply 2M, silence = acceptance (22(7))", DublinIII,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-03-20")}, nil,
			ReplyTakeCharge, "2026-05-20", ImplicitAcceptance},
		{"DIII 21(2)/22(6) urgent, 1 week requested", DublinIII,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-03-20"), Urgent: WeeksPeriod(1)}, nil,
			ReplyTakeChargeUrgent, "2026-03-27", ImplicitAcceptance},
		{"DIII 21(2)/22(6) urgent, 10 days requested ending Mon", DublinIII,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-03-20"), Urgent: DaysPeriod(10)}, nil,
			ReplyTakeChargeUrgent, "2026-03-30", ImplicitAcceptance},
		{"DIII 22(6) urgent 30 days fits inside 1M from 1 March", DublinIII,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-03-01"), Urgent: DaysPeriod(30)}, nil,
			ReplyTakeChargeUrgent, "2026-03-31", ImplicitAcceptance},
		{"DIII 22(6) urgent 4 weeks equals 1M in February 2026", DublinIII,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-02-01"), Urgent: WeeksPeriod(4)}, nil,
			ReplyTakeChargeUrgent, "2026-03-02", ImplicitAcceptance},
		{"DIII 28(3) detained reply 2W, requested state's Easter -> Tue", DublinIII,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-03-20"), Detained: true}, de,
			DetentionReply, "2026-04-07", ImplicitAcceptance},
		{"DIII 25(1) take back reply 1M", DublinIII,
			ReplyFacts{Procedure: TakeBack, Received: day(t, "2026-03-20")}, nil,
			ReplyTakeBack, "2026-04-20", ImplicitAcceptance},
		{"DIII 25(1) take back reply on Eurodac 2W", DublinIII,
			ReplyFacts{Procedure: TakeBack, Received: day(t, "2026-03-20"), Hit: EurodacHit}, nil,
			ReplyTakeBackHit, "2026-04-03", ImplicitAcceptance},
		{"DIII 25(1) same, Good Friday in the requested state -> Tue", DublinIII,
			ReplyFacts{Procedure: TakeBack, Received: day(t, "2026-03-20"), Hit: EurodacHit}, de,
			ReplyTakeBackHit, "2026-04-07", ImplicitAcceptance},
		{"DIII 25(1) VIS is not Eurodac: 1M", DublinIII,
			ReplyFacts{Procedure: TakeBack, Received: day(t, "2026-03-20"), Hit: VISHit}, nil,
			ReplyTakeBack, "2026-04-20", ImplicitAcceptance},
		{"AMMR 40(1) reply 1M", AMMR,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-07-06")}, nil,
			ReplyTakeCharge, "2026-08-06", ImplicitAcceptance},
		{"AMMR 40(2) reply on VIS hit 2W", AMMR,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-07-06"), Hit: VISHit}, nil,
			ReplyTakeChargeHit, "2026-07-20", ImplicitAcceptance},
		{"AMMR 45(2) detained reply 1W", AMMR,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-07-06"), Detained: true, Hit: EurodacHit}, nil,
			DetentionReply, "2026-07-13", ImplicitAcceptance},
		{"AMMR 41(3) confirm take back 2W, silence = confirmation (41(4))", AMMR,
			ReplyFacts{Procedure: TakeBack, Received: day(t, "2026-07-06"), Hit: EurodacHit}, nil,
			ConfirmTakeBack, "2026-07-20", ImplicitConfirmation},
		{"2024/1359 Art 12(2) crisis reply 2M", AMMRCrisis,
			ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-07-06")}, nil,
			ReplyTakeCharge, "2026-09-07", ImplicitAcceptance},
		{"2024/1359 Art 12(2) crisis confirmation 1M", AMMRCrisis,
			ReplyFacts{Procedure: TakeBack, Received: day(t, "2026-07-06")}, nil,
			ConfirmTakeBack, "2026-08-06", ImplicitConfirmation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := mustClock(t, tt.regime, cfg).ReplyDeadline(tt.facts, tt.cal)
			if err != nil {
				t.Fatal(err)
			}
			if d.Step != tt.step || d.Due != day(t, tt.due) || d.OnLapse != tt.lapse {
				t.Fatalf("got %s due %v lapse %s; want %s due %s lapse %s", d.Step, d.Due, d.OnLapse, tt.step, tt.due, tt.lapse)
			}
			if !tt.facts.Urgent.IsZero() && d.Period != tt.facts.Urgent {
				t.Fatalf("urgent deadline period %v, want the requested %v", d.Period, tt.facts.Urgent)
			}
			// The state machine's view: nothing on the last day, the consequence the day after.
			if c, ok := d.Lapsed(d.Due); ok {
				t.Fatalf("lapsed on its last day with %s", c)
			}
			if c, ok := d.Lapsed(d.Due.AddDays(1)); !ok || c != tt.lapse {
				t.Fatalf("Lapsed the day after = %s, %v", c, ok)
			}
		})
	}
}

func TestReplyDeadlineErrors(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		name   string
		regime Regime
		facts  ReplyFacts
		want   error
	}{
		{"21(2) urgent below one week", DublinIII, ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-03-20"), Urgent: DaysPeriod(5)}, ErrInvalidFacts},
		{"22(6) urgent above one month", DublinIII, ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-03-20"), Urgent: WeeksPeriod(5)}, ErrInvalidFacts},
		{"22(6) 30 days exceed 1M in February", DublinIII, ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-02-01"), Urgent: DaysPeriod(30)}, ErrInvalidFacts},
		{"urgent take back", DublinIII, ReplyFacts{Procedure: TakeBack, Received: day(t, "2026-03-20"), Urgent: WeeksPeriod(1)}, ErrInvalidFacts},
		{"AMMR has no urgent procedure", AMMR, ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-07-06"), Urgent: WeeksPeriod(1)}, ErrNoRule},
		{"invalid urgent period", DublinIII, ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-03-20"), Urgent: Period{N: -1, Unit: Days}}, ErrInvalidFacts},
		{"missing receipt", AMMR, ReplyFacts{Procedure: TakeCharge}, ErrInvalidDate},
		{"missing receipt, urgent", DublinIII, ReplyFacts{Procedure: TakeCharge, Urgent: WeeksPeriod(1)}, ErrInvalidFacts},
		{"unknown procedure", AMMR, ReplyFacts{Procedure: "X", Received: day(t, "2026-07-06")}, ErrInvalidFacts},
		{"unknown hit", AMMR, ReplyFacts{Procedure: TakeCharge, Received: day(t, "2026-07-06"), Hit: "SIS"}, ErrInvalidFacts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := mustClock(t, tt.regime, cfg).ReplyDeadline(tt.facts, nil); !errors.Is(err, tt.want) {
				t.Fatalf("ReplyDeadline = %+v, %v; want %v", d, err, tt.want)
			}
		})
	}
}

func TestReexaminationAndDecision(t *testing.T) {
	cfg := DefaultConfig()
	d3 := mustClock(t, DublinIII, cfg)
	am := mustClock(t, AMMR, cfg)

	d, err := d3.ReexaminationRequestDeadline(day(t, "2026-05-20"), nil)
	if err != nil || d.Due != day(t, "2026-06-10") || d.Article != "1560/2003 Art 5(2)" {
		t.Fatalf("1560 Art 5(2) request: %+v, %v", d, err)
	}
	d, err = d3.ReexaminationReplyTarget(day(t, "2026-06-10"), nil)
	if err != nil || d.Due != day(t, "2026-06-24") || d.OnLapse != ProcedureEnds {
		t.Fatalf("1560 Art 5(2) reply target (C-47/17): %+v, %v", d, err)
	}
	if _, err := am.ReexaminationRequestDeadline(day(t, "2026-08-06"), nil); !errors.Is(err, ErrNoLimit) {
		t.Fatalf("2025/2055 Art 15(3) unverified, want ErrNoLimit: %v", err)
	}
	withLimit := DefaultConfig()
	withLimit.PeriodOverrides = map[Regime]map[Step]Period{AMMR: {ReexaminationRequest: WeeksPeriod(3)}}
	d, err = mustClock(t, AMMR, withLimit).ReexaminationRequestDeadline(day(t, "2026-05-20"), nil)
	if err != nil || d.Due != day(t, "2026-06-10") {
		t.Fatalf("2025/2055 Art 15(3) configured: %+v, %v", d, err)
	}

	d, err = am.TransferDecisionDeadline(day(t, "2026-08-06"), nil)
	if err != nil || d.Due != day(t, "2026-08-20") || d.OnLapse != ConsequenceNone {
		t.Fatalf("AMMR 42(1): %+v, %v", d, err)
	}
	if _, err := d3.TransferDecisionDeadline(day(t, "2026-08-06"), nil); !errors.Is(err, ErrNoLimit) {
		t.Fatalf("604/2013 Art 26 has no fixed limit: %v", err)
	}

	d, err = am.AppealDeadline(day(t, "2026-08-20"), WeeksPeriod(2), nil)
	if err != nil || d.Due != day(t, "2026-09-03") || d.Period != WeeksPeriod(2) {
		t.Fatalf("AMMR 43(2) national 2W: %+v, %v", d, err)
	}
	for _, p := range []Period{WeeksPeriod(4), DaysPeriod(5), {}} {
		if _, err := am.AppealDeadline(day(t, "2026-08-20"), p, nil); !errors.Is(err, ErrInvalidFacts) {
			t.Errorf("AMMR 43(2) national %v: %v, want ErrInvalidFacts", p, err)
		}
	}
	if _, err := d3.AppealDeadline(day(t, "2026-08-20"), WeeksPeriod(2), nil); !errors.Is(err, ErrNoLimit) {
		t.Fatalf("604/2013 Art 27: %v", err)
	}
}

func TestTransferDeadline(t *testing.T) {
	cfg := DefaultConfig()
	abscond18 := DefaultConfig()
	abscond18.PeriodOverrides = map[Regime]map[Step]Period{AMMR: {TransferExtendedAbsconding: MonthsPeriod(18)}}
	imprison9 := DefaultConfig()
	imprison9.PeriodOverrides = map[Regime]map[Step]Period{AMMR: {TransferExtendedImprisonment: MonthsPeriod(9)}}
	de := germanCalendar(t)
	tests := []struct {
		name   string
		regime Regime
		cfg    Config
		facts  TransferFacts
		cal    Calendar
		step   Step
		due    string
	}{
		{"DIII 29(1) 6M from acceptance", DublinIII, cfg,
			TransferFacts{Accepted: day(t, "2026-03-16")}, nil, Transfer, "2026-09-16"},
		{"DIII 29(1)/27(3) suspensive appeal decided restarts the clock", DublinIII, cfg,
			TransferFacts{Accepted: day(t, "2026-03-16"), SuspensiveAppealDecided: day(t, "2026-05-20")}, nil, Transfer, "2026-11-20"},
		{"DIII 29(1) ends on Christmas in the transferring state -> Mon 28 Dec", DublinIII, cfg,
			TransferFacts{Accepted: day(t, "2026-06-25")}, de, Transfer, "2026-12-28"},
		{"DIII 29(2) imprisonment 1 year, notified on the last day (1560 9(2))", DublinIII, cfg,
			TransferFacts{Accepted: day(t, "2026-03-16"), Extension: Imprisonment, ExtensionNotified: day(t, "2026-09-16")}, nil, TransferExtendedImprisonment, "2027-03-16"},
		{"DIII 29(2) absconding 18 months", DublinIII, cfg,
			TransferFacts{Accepted: day(t, "2026-03-16"), Extension: Absconding, ExtensionNotified: day(t, "2026-08-01")}, nil, TransferExtendedAbsconding, "2027-09-16"},
		{"DIII 29(2) absconding after a restart runs from the appeal decision", DublinIII, cfg,
			TransferFacts{Accepted: day(t, "2026-03-16"), SuspensiveAppealDecided: day(t, "2026-05-20"), Extension: Absconding, ExtensionNotified: day(t, "2026-11-20")}, nil, TransferExtendedAbsconding, "2027-11-22"},
		{"AMMR 46(1) 6M from acceptance or confirmation", AMMR, cfg,
			TransferFacts{Accepted: day(t, "2026-09-15")}, nil, Transfer, "2027-03-15"},
		{"AMMR 46(2) imprisonment, default 1 year (NOT VERIFIED)", AMMR, cfg,
			TransferFacts{Accepted: day(t, "2026-09-15"), Extension: Imprisonment, ExtensionNotified: day(t, "2027-01-10")}, nil, TransferExtendedImprisonment, "2027-09-15"},
		{"AMMR 46(2) absconding, default 3 years (NOT VERIFIED), Sat -> Mon", AMMR, cfg,
			TransferFacts{Accepted: day(t, "2026-09-15"), Extension: Absconding, ExtensionNotified: day(t, "2027-01-10")}, nil, TransferExtendedAbsconding, "2029-09-17"},
		{"AMMR 46(2) absconding, configured 18 months", AMMR, abscond18,
			TransferFacts{Accepted: day(t, "2026-09-15"), Extension: Absconding, ExtensionNotified: day(t, "2027-01-10")}, nil, TransferExtendedAbsconding, "2028-03-15"},
		{"2024/1359 Art 12(2) crisis transfer 1 year", AMMRCrisis, cfg,
			TransferFacts{Accepted: day(t, "2026-09-15")}, nil, Transfer, "2027-09-15"},
		{"crisis: the 1-year imprisonment extension equals the 1-year crisis period", AMMRCrisis, cfg,
			TransferFacts{Accepted: day(t, "2026-09-15"), Extension: Imprisonment, ExtensionNotified: day(t, "2027-01-10")}, nil, TransferExtendedImprisonment, "2027-09-15"},
		{"crisis: a configured 9-month extension never shortens the 1-year crisis period", AMMRCrisis, imprison9,
			TransferFacts{Accepted: day(t, "2026-09-15"), Extension: Imprisonment, ExtensionNotified: day(t, "2027-01-10")}, nil, Transfer, "2027-09-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := mustClock(t, tt.regime, tt.cfg).TransferDeadline(tt.facts, tt.cal)
			if err != nil {
				t.Fatal(err)
			}
			if d.Step != tt.step || d.Due != day(t, tt.due) {
				t.Fatalf("got %s due %v (%s); want %s due %s", d.Step, d.Due, d.Due.Weekday(), tt.step, tt.due)
			}
			if c, ok := d.Lapsed(d.Due.AddDays(1)); !ok || c != ResponsibilityShifts {
				t.Fatalf("lapse = %s, %v; want RESPONSIBILITY_SHIFTS", c, ok)
			}
		})
	}
}

func TestTransferDeadlineErrors(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		name  string
		facts TransferFacts
		want  error
	}{
		{"no acceptance", TransferFacts{}, ErrInvalidFacts},
		{"appeal decided before acceptance", TransferFacts{Accepted: day(t, "2026-03-16"), SuspensiveAppealDecided: day(t, "2026-03-01")}, ErrInvalidFacts},
		{"1560 9(2) extension notified the day after expiry", TransferFacts{Accepted: day(t, "2026-03-16"), Extension: Absconding, ExtensionNotified: day(t, "2026-09-17")}, ErrExtensionTooLate},
		{"extension without notice", TransferFacts{Accepted: day(t, "2026-03-16"), Extension: Imprisonment}, ErrInvalidFacts},
		{"extension notified before acceptance", TransferFacts{Accepted: day(t, "2026-03-16"), Extension: Imprisonment, ExtensionNotified: day(t, "2026-03-01")}, ErrInvalidFacts},
		{"unknown ground", TransferFacts{Accepted: day(t, "2026-03-16"), Extension: "ILLNESS", ExtensionNotified: day(t, "2026-04-01")}, ErrInvalidFacts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := mustClock(t, DublinIII, cfg).TransferDeadline(tt.facts, nil); !errors.Is(err, tt.want) {
				t.Fatalf("TransferDeadline = %+v, %v; want %v", d, err, tt.want)
			}
		})
	}
	// C-560/23 Tang and C-245/21: nothing but a suspensive appeal decision
	// moves the start; the facts type has no other way to restart the clock.
}

func TestDetentionTransferDeadline(t *testing.T) {
	cfg := DefaultConfig()
	d, err := mustClock(t, DublinIII, cfg).DetentionTransferDeadline(TransferFacts{Accepted: day(t, "2026-03-16")}, nil)
	if err != nil || d.Due != day(t, "2026-04-27") || d.OnLapse != ReleaseFromDetention {
		t.Fatalf("604/2013 Art 28(3) 6 weeks: %+v, %v", d, err)
	}
	d, err = mustClock(t, AMMR, cfg).DetentionTransferDeadline(TransferFacts{Accepted: day(t, "2026-09-15")}, nil)
	if err != nil || d.Due != day(t, "2026-10-20") || d.Verification != NotVerified {
		t.Fatalf("2024/1351 Art 45(3) 5 weeks (NOT VERIFIED): %+v, %v", d, err)
	}
	if _, err := mustClock(t, AMMR, cfg).DetentionTransferDeadline(TransferFacts{}, nil); !errors.Is(err, ErrInvalidFacts) {
		t.Fatalf("missing acceptance: %v", err)
	}
}

// A Dublin III application whose take charge request is made after the
// switch: the configured PendingProcedure decides the reply limit.
func TestPendingCaseAcrossSwitch(t *testing.T) {
	lodged, sent := day(t, "2026-05-04"), day(t, "2026-07-03")
	tests := []struct {
		name    string
		pending PendingProcedure
		regime  Regime
		due     string
	}{
		{"default: AMMR 40(1) 1M for a request made after the switch", PendingAMMRAfterSwitch, AMMR, "2026-08-03"},
		{"configured: Dublin III 22(1) 2M kept", PendingDublinIII, DublinIII, "2026-09-03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.PendingProcedure = tt.pending
			// The limit for sending the request started under Dublin III.
			req, err := mustClock(t, RegimeFor(lodged, cfg), cfg).RequestDeadline(RequestFacts{Procedure: TakeCharge, Application: lodged}, nil)
			if err != nil || req.Due != day(t, "2026-08-04") || req.Regime != DublinIII {
				t.Fatalf("request deadline %+v, %v", req, err)
			}
			if req.Expired(sent) {
				t.Fatal("request sent in time was judged late")
			}
			regime := ProcedureRegime(lodged, sent, cfg)
			if regime != tt.regime {
				t.Fatalf("ProcedureRegime = %s, want %s", regime, tt.regime)
			}
			reply, err := mustClock(t, regime, cfg).ReplyDeadline(ReplyFacts{Procedure: TakeCharge, Received: sent}, nil)
			if err != nil || reply.Due != day(t, tt.due) {
				t.Fatalf("reply deadline %+v, %v; want %s", reply, err, tt.due)
			}
		})
	}
}

func TestDeadlineJSONRoundTrip(t *testing.T) {
	c := mustClock(t, DublinIII, DefaultConfig())
	d, err := c.TransferDeadline(TransferFacts{Accepted: day(t, "2026-03-16")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"regime":"DUBLIN_III","step":"TRANSFER","article":"604/2013 Art 29(1), 29(2)","start":"2026-03-16","period":"6M","due":"2026-09-16","onLapse":"RESPONSIBILITY_SHIFTS","verification":"V","consequenceVerification":"V"}`
	if string(b) != want {
		t.Fatalf("Marshal = %s", b)
	}
	var back Deadline
	if err := json.Unmarshal(b, &back); err != nil || back != d {
		t.Fatalf("round trip = %+v, %v", back, err)
	}
}

// TestReexaminationProvided: re-examination only where the rule table
// provides it, under each regime and procedure, with and without a
// configured row.
func TestReexaminationProvided(t *testing.T) {
	configured := DefaultConfig()
	configured.PeriodOverrides = map[Regime]map[Step]Period{AMMR: {ReexaminationRequestTakeCharge: WeeksPeriod(3)}}
	for _, tc := range []struct {
		name   string
		regime Regime
		cfg    Config
		proc   Procedure
		step   Step
		due    string // "" with wantErr
		err    error
	}{
		{"Dublin III take charge: 1560 Art 5(2), 3 weeks", DublinIII, DefaultConfig(), TakeCharge, ReexaminationRequest, "2026-06-10", nil},
		{"Dublin III take back: 1560 Art 5(2), 3 weeks", DublinIII, DefaultConfig(), TakeBack, ReexaminationRequest, "2026-06-10", nil},
		{"AMMR take charge: not provided", AMMR, DefaultConfig(), TakeCharge, "", "", ErrNotProvided},
		{"AMMR crisis take charge: not provided", AMMRCrisis, DefaultConfig(), TakeCharge, "", "", ErrNotProvided},
		{"AMMR take charge with a configured row", AMMR, configured, TakeCharge, ReexaminationRequestTakeCharge, "2026-06-10", nil},
		{"AMMR take back: 2025/2055 Art 15(3), no limit retrieved", AMMR, DefaultConfig(), TakeBack, ReexaminationRequest, "", ErrNoLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustClock(t, tc.regime, tc.cfg)
			r, rerr := c.ReexaminationRule(tc.proc)
			d, err := c.Reexamination(tc.proc, day(t, "2026-05-20"), nil)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("want %v, got %+v, %v", tc.err, d, err)
				}
				if tc.err == ErrNotProvided && !errors.Is(rerr, ErrNotProvided) {
					t.Fatalf("ReexaminationRule: want ErrNotProvided, got %v", rerr)
				}
				return
			}
			if err != nil || rerr != nil || r.Step != tc.step || d.Step != tc.step || d.Due != day(t, tc.due) {
				t.Fatalf("got rule %s, %+v, %v / %v; want %s due %s", r.Step, d, err, rerr, tc.step, tc.due)
			}
		})
	}
}

// TestLateRequestConsequence: which request limits bar an implicit
// acceptance once missed.
func TestLateRequestConsequence(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		regime Regime
		f      RequestFacts
		step   Step
		due    string
		bars   bool
	}{
		// Dublin III 21(1): 3 months from lodging / 2 months from a Eurodac hit; VIS has no special rule.
		{DublinIII, RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-03-02")}, TakeChargeRequest, "2026-06-02", true},
		{DublinIII, RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-03-02"), Hit: EurodacHit, HitReceived: day(t, "2026-03-10")}, TakeChargeRequestHit, "2026-05-11", true},
		{DublinIII, RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-03-02"), Hit: VISHit, HitReceived: day(t, "2026-03-10")}, TakeChargeRequest, "2026-06-02", true},
		// Dublin III 23(2): take back, 2 months from the hit / 3 months from lodging.
		{DublinIII, RequestFacts{Procedure: TakeBack, Application: day(t, "2026-03-02"), Hit: EurodacHit, HitReceived: day(t, "2026-03-10")}, TakeBackRequestHit, "2026-05-11", true},
		{DublinIII, RequestFacts{Procedure: TakeBack, Application: day(t, "2026-03-02")}, TakeBackRequest, "2026-06-02", true},
		// AMMR 39(1): 2 months from registration / 1 month from a Eurodac or VIS hit.
		{AMMR, RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-08-03")}, TakeChargeRequest, "2026-10-05", true},
		{AMMR, RequestFacts{Procedure: TakeCharge, Application: day(t, "2026-08-03"), Hit: VISHit, HitReceived: day(t, "2026-08-05")}, TakeChargeRequestHit, "2026-09-07", true},
		// AMMR 41(1): 2 weeks from the hit; lateness does not shift responsibility.
		{AMMR, RequestFacts{Procedure: TakeBack, Application: day(t, "2026-08-03"), Hit: EurodacHit, HitReceived: day(t, "2026-08-05")}, TakeBackNotification, "2026-08-19", false},
	} {
		t.Run(string(tc.regime)+"/"+string(tc.step), func(t *testing.T) {
			d, err := mustClock(t, tc.regime, cfg).RequestDeadline(tc.f, nil)
			if err != nil || d.Step != tc.step || d.Due != day(t, tc.due) || d.OnLapse.BarsLateRequest() != tc.bars {
				t.Fatalf("got %+v, %v; want %s due %s, bars %v", d, err, tc.step, tc.due, tc.bars)
			}
		})
	}
}
