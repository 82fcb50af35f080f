package deadline

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDefaultConfigValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
	if cfg.AMMRSwitchDate != day(t, "2026-07-01") {
		t.Fatalf("switch date = %v, want 2026-07-01 (DUBLIN-RULES §0, not 12 June)", cfg.AMMRSwitchDate)
	}
}

// DUBLIN-RULES §0: AMMR Art 84(1) "registered after 1 July 2026", 84(2)
// "registered before 1 July 2026"; the day itself is a gap.
func TestRegimeForBoundary(t *testing.T) {
	def := DefaultConfig()
	exclusive := DefaultConfig()
	exclusive.SwitchDayRegime = DublinIII
	moved := DefaultConfig()
	moved.AMMRSwitchDate = day(t, "2026-06-12")
	tests := []struct {
		name       string
		cfg        Config
		registered string
		want       Regime
	}{
		{"Art 84(2) 30 Jun 2026 is before: Dublin III", def, "2026-06-30", DublinIII},
		{"Art 84 gap, default choice: 1 Jul 2026 itself is AMMR (switch day inclusive)", def, "2026-07-01", AMMR},
		{"Art 84(1) 2 Jul 2026 is after: AMMR", def, "2026-07-02", AMMR},
		{"Art 84 gap, configured exclusive: 1 Jul 2026 is Dublin III", exclusive, "2026-07-01", DublinIII},
		{"configured exclusive: 2 Jul 2026 still AMMR", exclusive, "2026-07-02", AMMR},
		{"configured exclusive: 30 Jun 2026 still Dublin III", exclusive, "2026-06-30", DublinIII},
		{"long before", def, "2020-01-01", DublinIII},
		{"moved switch date is honoured", moved, "2026-06-20", AMMR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RegimeFor(day(t, tt.registered), tt.cfg); got != tt.want {
				t.Fatalf("RegimeFor(%s) = %s, want %s", tt.registered, got, tt.want)
			}
		})
	}
}

// DUBLIN-RULES §0 "criteria vs procedure": which limits govern a Dublin III
// application's request made after the switch is a configured choice.
func TestProcedureRegime(t *testing.T) {
	def := DefaultConfig()
	keep := DefaultConfig()
	keep.PendingProcedure = PendingDublinIII
	exclusive := DefaultConfig()
	exclusive.SwitchDayRegime = DublinIII
	tests := []struct {
		name                string
		cfg                 Config
		registered, request string
		want                Regime
	}{
		{"default: DIII application, request before switch keeps DIII", def, "2026-05-04", "2026-06-30", DublinIII},
		{"default: DIII application, request on switch day follows AMMR (2025/2055 Art 7(1))", def, "2026-05-04", "2026-07-01", AMMR},
		{"default: DIII application, request after switch follows AMMR", def, "2026-05-04", "2026-07-02", AMMR},
		{"keep DIII: request after switch keeps DIII", keep, "2026-05-04", "2026-08-01", DublinIII},
		{"AMMR application is AMMR whatever the choice", keep, "2026-07-02", "2026-07-03", AMMR},
		{"switch day exclusive: request on the switch day keeps DIII", exclusive, "2026-05-04", "2026-07-01", DublinIII},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ProcedureRegime(day(t, tt.registered), day(t, tt.request), tt.cfg); got != tt.want {
				t.Fatalf("ProcedureRegime = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	with := func(f func(*Config)) Config {
		c := DefaultConfig()
		f(&c)
		return c
	}
	valid := []struct {
		name string
		cfg  Config
	}{
		{"AMMR 46(2) absconding override (NOT VERIFIED row)", with(func(c *Config) {
			c.PeriodOverrides = map[Regime]map[Step]Period{AMMR: {TransferExtendedAbsconding: MonthsPeriod(18)}}
		})},
		{"AMMR 15(3) re-examination limit configured", with(func(c *Config) {
			c.PeriodOverrides = map[Regime]map[Step]Period{AMMR: {ReexaminationRequest: WeeksPeriod(3)}}
		})},
		{"DIII 22(6) urgent cap override within the 21(2) minimum", with(func(c *Config) {
			c.PeriodOverrides = map[Regime]map[Step]Period{DublinIII: {ReplyTakeChargeUrgent: WeeksPeriod(4)}}
		})},
		{"AMMR 40(1) silence consequence override", with(func(c *Config) {
			c.ConsequenceOverrides = map[Regime]map[Step]Consequence{AMMR: {ReplyTakeCharge: ConsequenceNone}}
		})},
		{"empty override maps", with(func(c *Config) {
			c.PeriodOverrides = map[Regime]map[Step]Period{}
			c.ConsequenceOverrides = map[Regime]map[Step]Consequence{DublinIII: {}}
		})},
	}
	for _, tt := range valid {
		t.Run("valid/"+tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); err != nil {
				t.Fatalf("Validate = %v", err)
			}
		})
	}
	invalid := []struct {
		name    string
		cfg     Config
		mention string
	}{
		{"zero config", Config{}, "ammrSwitchDate is missing"},
		{"switch date out of range", with(func(c *Config) { c.AMMRSwitchDate = day(t, "2099-07-01") }), "ammrSwitchDate"},
		{"switch day regime crisis", with(func(c *Config) { c.SwitchDayRegime = AMMRCrisis }), "switchDayRegime"},
		{"pending junk", with(func(c *Config) { c.PendingProcedure = "MAYBE" }), "pendingProcedure"},
		{"override verified 29(1) transfer", with(func(c *Config) {
			c.PeriodOverrides = map[Regime]map[Step]Period{DublinIII: {Transfer: MonthsPeriod(7)}}
		}), "not configurable"},
		{"override verified 41(1) consequence", with(func(c *Config) {
			c.ConsequenceOverrides = map[Regime]map[Step]Consequence{AMMR: {TakeBackNotification: ResponsibilityShifts}}
		}), "not configurable"},
		{"override unknown step", with(func(c *Config) {
			c.PeriodOverrides = map[Regime]map[Step]Period{AMMR: {TakeBackRequest: MonthsPeriod(1)}}
		}), "has no step"},
		{"override crisis table", with(func(c *Config) {
			c.PeriodOverrides = map[Regime]map[Step]Period{AMMRCrisis: {TransferExtendedAbsconding: MonthsPeriod(1)}}
		}), "cannot be overridden"},
		{"override zero period", with(func(c *Config) {
			c.PeriodOverrides = map[Regime]map[Step]Period{AMMR: {TransferExtendedAbsconding: {}}}
		}), "no time limit"},
		{"override below the 21(2) minimum", with(func(c *Config) {
			c.PeriodOverrides = map[Regime]map[Step]Period{DublinIII: {ReplyTakeChargeUrgent: DaysPeriod(5)}}
		}), "shorter than the minimum"},
		{"override unknown consequence", with(func(c *Config) {
			c.ConsequenceOverrides = map[Regime]map[Step]Consequence{AMMR: {ReplyTakeCharge: "WHATEVER"}}
		}), "unknown consequence"},
	}
	for _, tt := range invalid {
		t.Run("invalid/"+tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig mentioning %q", err, tt.mention)
			}
		})
	}
}

func TestConfigJSON(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PeriodOverrides = map[Regime]map[Step]Period{AMMR: {TransferExtendedAbsconding: MonthsPeriod(18), DetentionTransfer: WeeksPeriod(6)}}
	cfg.ConsequenceOverrides = map[Regime]map[Step]Consequence{AMMR: {ReplyTakeChargeHit: ConsequenceNone}}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ammrSwitchDate":"2026-07-01","switchDayRegime":"AMMR","pendingProcedure":"AMMR_LIMITS_FOR_REQUESTS_AFTER_SWITCH",` +
		`"periodOverrides":{"AMMR":{"DETENTION_TRANSFER":"6W","TRANSFER_EXTENDED_ABSCONDING":"18M"}},` +
		`"consequenceOverrides":{"AMMR":{"REPLY_TAKE_CHARGE_HIT":"NONE"}}}`
	if string(b) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", b, want)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(back); string(b2) != want {
		t.Fatalf("round trip = %s", b2)
	}

	bad := map[string]string{
		"unknown field":         `{"ammrSwitchDate":"2026-07-01","switchDayRegime":"AMMR","pendingProcedure":"DUBLIN_III_LIMITS","extra":1}`,
		"missing switch day":    `{"ammrSwitchDate":"2026-07-01","pendingProcedure":"DUBLIN_III_LIMITS"}`,
		"null switch date":      `{"ammrSwitchDate":null,"switchDayRegime":"AMMR","pendingProcedure":"DUBLIN_III_LIMITS"}`,
		"loose date":            `{"ammrSwitchDate":"2026-7-1","switchDayRegime":"AMMR","pendingProcedure":"DUBLIN_III_LIMITS"}`,
		"trailing data":         `{"ammrSwitchDate":"2026-07-01","switchDayRegime":"AMMR","pendingProcedure":"DUBLIN_III_LIMITS"} {}`,
		"bad period":            `{"ammrSwitchDate":"2026-07-01","switchDayRegime":"AMMR","pendingProcedure":"DUBLIN_III_LIMITS","periodOverrides":{"AMMR":{"TRANSFER_EXTENDED_ABSCONDING":"3 years"}}}`,
		"verified row":          `{"ammrSwitchDate":"2026-07-01","switchDayRegime":"AMMR","pendingProcedure":"DUBLIN_III_LIMITS","periodOverrides":{"AMMR":{"TRANSFER":"7M"}}}`,
		"not an object":         `["2026-07-01"]`,
		"empty":                 ``,
		"switch regime bogus":   `{"ammrSwitchDate":"2026-07-01","switchDayRegime":"BOTH","pendingProcedure":"DUBLIN_III_LIMITS"}`,
		"wrong type for regime": `{"ammrSwitchDate":"2026-07-01","switchDayRegime":1,"pendingProcedure":"DUBLIN_III_LIMITS"}`,
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			before, _ := json.Marshal(c)
			if err := json.Unmarshal([]byte(in), &c); err == nil {
				t.Fatalf("accepted %s", in)
			}
			if after, _ := json.Marshal(c); string(after) != string(before) {
				t.Fatalf("failed decode changed the config: %s", after)
			}
		})
	}
	var big Config
	if err := big.UnmarshalJSON(make([]byte, maxConfigBytes+1)); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("oversized = %v", err)
	}
}

func FuzzConfigJSON(f *testing.F) {
	def, _ := json.Marshal(DefaultConfig())
	f.Add(def)
	for _, s := range []string{
		`{"ammrSwitchDate":"2026-07-01","switchDayRegime":"DUBLIN_III","pendingProcedure":"DUBLIN_III_LIMITS"}`,
		`{"ammrSwitchDate":"2026-07-01","switchDayRegime":"AMMR","pendingProcedure":"AMMR_LIMITS_FOR_REQUESTS_AFTER_SWITCH","periodOverrides":{"AMMR":{"TRANSFER_EXTENDED_ABSCONDING":"18M"}}}`,
		`{"ammrSwitchDate":"2026-07-01","switchDayRegime":"AMMR","pendingProcedure":"AMMR_LIMITS_FOR_REQUESTS_AFTER_SWITCH","consequenceOverrides":{"AMMR":{"REPLY_TAKE_CHARGE":"NONE"}}}`,
		`{"ammrSwitchDate":"2026-07-01","switchDayRegime":"AMMR","pendingProcedure":"AMMR_LIMITS_FOR_REQUESTS_AFTER_SWITCH","periodOverrides":{"DUBLIN_III":{"REPLY_TAKE_CHARGE_URGENT":"5D"}}}`,
		`{}`, `null`, `[]`, `{"ammrSwitchDate":"2026-07-01"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Config
		if err := json.Unmarshal(b, &c); err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("decoded config does not validate: %v", err)
		}
		out, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var again Config
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		if out2, _ := json.Marshal(again); string(out2) != string(out) {
			t.Fatalf("not stable: %s vs %s", out, out2)
		}
		// Overrides never touch a verified row.
		for _, r := range Regimes() {
			base := Rules(r, DefaultConfig())
			for i, row := range Rules(r, c) {
				if !base[i].Configurable && row != base[i] {
					t.Fatalf("verified row changed by config: %v -> %v", base[i], row)
				}
			}
		}
		if _, err := NewClock(AMMR, c); err != nil {
			t.Fatalf("NewClock refuses a decoded config: %v", err)
		}
	})
}
