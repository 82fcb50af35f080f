package deadline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// PendingProcedure chooses which regime's procedural time limits govern a
// Dublin III application (registered before the switch) whose request is
// made after the switch. DUBLIN-RULES §0: AMMR Art 84(2) keeps only Dublin
// III's criteria; 2025/2055 Art 7(1) (V(RO)) has Art 84(2) requests use the
// AMMR form, which suggests AMMR procedure — an inference, not confirmed.
type PendingProcedure string

const (
	// PendingDublinIII: Dublin III limits govern every request for an
	// application registered before the switch, whenever it is made.
	PendingDublinIII PendingProcedure = "DUBLIN_III_LIMITS"
	// PendingAMMRAfterSwitch: a request made on or after the switch date
	// (the switch day itself following SwitchDayRegime) and every limit
	// running from it follow the AMMR table; requests made before the switch
	// keep Dublin III limits through to transfer. This is the default: Dublin
	// III is repealed at the switch and only its criteria survive (Art 84(2)),
	// and the implementing rules already route such requests through AMMR
	// forms (2025/2055 Art 7(1)).
	PendingAMMRAfterSwitch PendingProcedure = "AMMR_LIMITS_FOR_REQUESTS_AFTER_SWITCH"
)

// Valid reports whether p is a known choice.
func (p PendingProcedure) Valid() bool {
	return p == PendingDublinIII || p == PendingAMMRAfterSwitch
}

// Bounds on AMMRSwitchDate: a sanity range, not law.
var (
	minSwitchDate = Date{year: 2024, month: time.January, day: 1}
	maxSwitchDate = Date{year: 2035, month: time.December, day: 31}
)

// Config holds every choice the law leaves open or that DUBLIN-RULES.md
// flags as unverified. The zero Config is invalid; start from DefaultConfig.
type Config struct {
	// AMMRSwitchDate is the day the AMMR starts to apply (AMMR Art 84:
	// applications registered "after" it are AMMR, "before" it Dublin III).
	AMMRSwitchDate Date `json:"ammrSwitchDate"`
	// SwitchDayRegime is the regime of an application registered on
	// AMMRSwitchDate itself, which Art 84 leaves in a gap. Default AMMR
	// (DUBLIN-RULES §0: "AMMR from 1 July 2026 inclusive").
	SwitchDayRegime Regime `json:"switchDayRegime"`
	// PendingProcedure: see the type.
	PendingProcedure PendingProcedure `json:"pendingProcedure"`
	// PeriodOverrides replace the period of rows whose period is flagged M
	// or NOT VERIFIED, per base regime (DUBLIN_III or AMMR; the crisis table
	// inherits AMMR's). Only such rows may be overridden.
	PeriodOverrides map[Regime]map[Step]Period `json:"periodOverrides,omitempty"`
	// ConsequenceOverrides replace the silence/lapse consequence of rows
	// whose consequence is flagged M or NOT VERIFIED.
	ConsequenceOverrides map[Regime]map[Step]Consequence `json:"consequenceOverrides,omitempty"`
}

// DefaultConfig returns the defaults: switch on 1 July 2026, the switch day
// itself AMMR, AMMR limits for requests made after the switch, and every
// unverified row at the value DUBLIN-RULES.md records.
func DefaultConfig() Config {
	return Config{
		AMMRSwitchDate:   Date{year: 2026, month: time.July, day: 1},
		SwitchDayRegime:  AMMR,
		PendingProcedure: PendingAMMRAfterSwitch,
	}
}

// Validate checks every field and override and reports all problems at
// once, each wrapped under ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	switch {
	case c.AMMRSwitchDate.IsZero():
		bad("ammrSwitchDate is missing")
	case c.AMMRSwitchDate.Before(minSwitchDate) || c.AMMRSwitchDate.After(maxSwitchDate):
		bad("ammrSwitchDate %s outside %s..%s", c.AMMRSwitchDate, minSwitchDate, maxSwitchDate)
	}
	if c.SwitchDayRegime != DublinIII && c.SwitchDayRegime != AMMR {
		bad("switchDayRegime %q is neither %s nor %s", c.SwitchDayRegime, DublinIII, AMMR)
	}
	if !c.PendingProcedure.Valid() {
		bad("pendingProcedure %q is neither %s nor %s", c.PendingProcedure, PendingDublinIII, PendingAMMRAfterSwitch)
	}
	for _, regime := range sortedKeys(c.PeriodOverrides) {
		table, ok := baseTable(regime)
		if !ok {
			bad("periodOverrides: regime %q cannot be overridden (use %s or %s)", regime, DublinIII, AMMR)
			continue
		}
		for _, step := range sortedKeys(c.PeriodOverrides[regime]) {
			p := c.PeriodOverrides[regime][step]
			row, ok := findRow(table, step)
			switch {
			case !ok:
				bad("periodOverrides: %s has no step %q", regime, step)
			case !row.PeriodConfigurable():
				bad("periodOverrides: %s %s is %s, not configurable", regime, step, row.Verification.Short())
			case p.Validate() != nil:
				bad("periodOverrides: %s %s: %v", regime, step, p.Validate())
			case !row.MinPeriod.IsZero() && !atLeast(p, row.MinPeriod):
				bad("periodOverrides: %s %s: %s is shorter than the minimum %s", regime, step, p, row.MinPeriod)
			}
		}
	}
	for _, regime := range sortedKeys(c.ConsequenceOverrides) {
		table, ok := baseTable(regime)
		if !ok {
			bad("consequenceOverrides: regime %q cannot be overridden (use %s or %s)", regime, DublinIII, AMMR)
			continue
		}
		for _, step := range sortedKeys(c.ConsequenceOverrides[regime]) {
			cons := c.ConsequenceOverrides[regime][step]
			row, ok := findRow(table, step)
			switch {
			case !ok:
				bad("consequenceOverrides: %s has no step %q", regime, step)
			case !row.ConsequenceConfigurable():
				bad("consequenceOverrides: %s %s consequence is %s, not configurable", regime, step, row.ConsequenceVerification.Short())
			case !cons.Valid():
				bad("consequenceOverrides: %s %s: unknown consequence %q", regime, step, cons)
			}
		}
	}
	return errors.Join(errs...)
}

// configJSON mirrors Config with pointers so a missing choice is detected:
// the legal choices must be stated explicitly in a configuration file.
type configJSON struct {
	AMMRSwitchDate       *Date                           `json:"ammrSwitchDate"`
	SwitchDayRegime      *Regime                         `json:"switchDayRegime"`
	PendingProcedure     *PendingProcedure               `json:"pendingProcedure"`
	PeriodOverrides      map[Regime]map[Step]Period      `json:"periodOverrides"`
	ConsequenceOverrides map[Regime]map[Step]Consequence `json:"consequenceOverrides"`
}

// maxConfigBytes bounds a configuration document; a real one is a few KB.
const maxConfigBytes = 64 << 10

// MarshalJSON encodes the config (field names as in the struct tags).
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // drop the method set to avoid recursion
	return json.Marshal(plain(c))
}

// UnmarshalJSON decodes strictly: one JSON object, no unknown fields, no
// trailing data, ammrSwitchDate/switchDayRegime/pendingProcedure present,
// then Validate. On error c is left unchanged.
func (c *Config) UnmarshalJSON(b []byte) error {
	if len(b) > maxConfigBytes {
		return fmt.Errorf("%w: document larger than %d bytes", ErrInvalidConfig, maxConfigBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var raw configJSON
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data after the config object", ErrInvalidConfig)
	}
	var missing []string
	if raw.AMMRSwitchDate == nil || raw.AMMRSwitchDate.IsZero() {
		missing = append(missing, "ammrSwitchDate")
	}
	if raw.SwitchDayRegime == nil {
		missing = append(missing, "switchDayRegime")
	}
	if raw.PendingProcedure == nil {
		missing = append(missing, "pendingProcedure")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrInvalidConfig, strings.Join(missing, ", "))
	}
	next := Config{
		AMMRSwitchDate:       *raw.AMMRSwitchDate,
		SwitchDayRegime:      *raw.SwitchDayRegime,
		PendingProcedure:     *raw.PendingProcedure,
		PeriodOverrides:      raw.PeriodOverrides,
		ConsequenceOverrides: raw.ConsequenceOverrides,
	}
	if err := next.Validate(); err != nil {
		return err
	}
	*c = next
	return nil
}

// RegimeFor returns the regime whose criteria govern an application
// registered on the given day (AMMR Art 84): Dublin III before
// cfg.AMMRSwitchDate, AMMR after it, cfg.SwitchDayRegime on the day itself.
// A zero date counts as before the switch.
func RegimeFor(applicationRegistered Date, cfg Config) Regime {
	switch applicationRegistered.Compare(cfg.AMMRSwitchDate) {
	case -1:
		return DublinIII
	case 0:
		return cfg.SwitchDayRegime
	}
	return AMMR
}

// ProcedureRegime returns the regime whose procedural time limits govern a
// request (take charge / take back request or notification) made on
// requestMade for an application registered on applicationRegistered, and
// every limit that runs from that request (reply, re-examination, transfer
// decision, transfer, extensions). The limit for making the request itself
// started running under RegimeFor(applicationRegistered).
func ProcedureRegime(applicationRegistered, requestMade Date, cfg Config) Regime {
	app := RegimeFor(applicationRegistered, cfg)
	if app == AMMR || cfg.PendingProcedure != PendingAMMRAfterSwitch {
		return app
	}
	return RegimeFor(requestMade, cfg)
}

// atLeast reports whether period a ends no earlier than period b from every
// start day of a four-year cycle (mixed units: 4W vs 1M differ by month).
func atLeast(a, b Period) bool {
	start := Date{year: 2027, month: time.January, day: 1}
	for i := 0; i < 4*366; i++ {
		d := start.AddDays(i)
		if a.addTo(d).Before(b.addTo(d)) {
			return false
		}
	}
	return true
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
