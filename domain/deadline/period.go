package deadline

import (
	"fmt"
	"strconv"
)

// Unit is the unit of a Period.
type Unit uint8

// Units of a period. The zero Unit is invalid.
const (
	Days   Unit = iota + 1 // calendar days (1182/71 Art 3(3): weekends and holidays count)
	Weeks                  // ends on the same weekday (Art 3(2)(c))
	Months                 // ends on the same date, or the month's last day (Art 3(2)(c))
)

// Bounds on N per unit: ten years. Longer periods do not occur in Dublin
// law; the bound keeps ledger-submitted configuration from being junk and
// keeps date arithmetic far from overflow.
const (
	MaxDays   = 3660
	MaxWeeks  = 520
	MaxMonths = 120
)

// Symbol returns the one-letter text form of u ("D", "W", "M"), or "?".
func (u Unit) Symbol() string {
	switch u {
	case Days:
		return "D"
	case Weeks:
		return "W"
	case Months:
		return "M"
	}
	return "?"
}

// String returns the unit's English name ("days", "weeks", "months").
func (u Unit) String() string {
	switch u {
	case Days:
		return "days"
	case Weeks:
		return "weeks"
	case Months:
		return "months"
	}
	return "invalid unit"
}

func (u Unit) max() int {
	switch u {
	case Days:
		return MaxDays
	case Weeks:
		return MaxWeeks
	case Months:
		return MaxMonths
	}
	return 0
}

// Period is a time limit: N days, weeks or months. The zero Period means
// "no fixed time limit" (text form "NONE"); it is not a valid limit for
// Validate, End or Config overrides.
type Period struct {
	N    int
	Unit Unit
}

// Convenience constructors.
func DaysPeriod(n int) Period   { return Period{N: n, Unit: Days} }
func WeeksPeriod(n int) Period  { return Period{N: n, Unit: Weeks} }
func MonthsPeriod(n int) Period { return Period{N: n, Unit: Months} }

// NoLimit is the zero Period, written "NONE".
const noLimitText = "NONE"

// IsZero reports whether p is the zero Period ("no fixed time limit").
func (p Period) IsZero() bool { return p == Period{} }

// Validate reports whether p is a usable time limit: a known unit and
// 1 <= N <= the unit's maximum.
func (p Period) Validate() error {
	if p.IsZero() {
		return fmt.Errorf("%w: no time limit", ErrInvalidPeriod)
	}
	if p.Unit.max() == 0 {
		return fmt.Errorf("%w: unknown unit %d", ErrInvalidPeriod, p.Unit)
	}
	if p.N < 1 || p.N > p.Unit.max() {
		return fmt.Errorf("%w: %d %s out of range 1..%d", ErrInvalidPeriod, p.N, p.Unit, p.Unit.max())
	}
	return nil
}

// String returns the compact text form: "2M", "3W", "10D", or "NONE" for
// the zero Period. An invalid period prints with a "?" unit.
func (p Period) String() string {
	if p.IsZero() {
		return noLimitText
	}
	return strconv.Itoa(p.N) + p.Unit.Symbol()
}

// ParsePeriod parses the compact text form: a positive decimal N without
// sign or leading zero, immediately followed by an upper-case unit D, W or M
// ("10D", "3W", "18M"); or exactly "NONE" for the zero Period. N must be
// within the unit's bound (MaxDays, MaxWeeks, MaxMonths).
func ParsePeriod(s string) (Period, error) {
	if s == noLimitText {
		return Period{}, nil
	}
	if len(s) < 2 || len(s) > 5 {
		return Period{}, fmt.Errorf("%w: %q is not like 2M, 3W, 10D or NONE", ErrInvalidPeriod, s)
	}
	var u Unit
	switch s[len(s)-1] {
	case 'D':
		u = Days
	case 'W':
		u = Weeks
	case 'M':
		u = Months
	default:
		return Period{}, fmt.Errorf("%w: %q has no unit D, W or M", ErrInvalidPeriod, s)
	}
	digits := s[:len(s)-1]
	if digits[0] == '0' {
		return Period{}, fmt.Errorf("%w: %q has a leading zero", ErrInvalidPeriod, s)
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return Period{}, fmt.Errorf("%w: %q is not like 2M, 3W, 10D or NONE", ErrInvalidPeriod, s)
		}
		n = n*10 + int(c-'0')
	}
	p := Period{N: n, Unit: u}
	if err := p.Validate(); err != nil {
		return Period{}, fmt.Errorf("%q: %w", s, err)
	}
	return p, nil
}

// MarshalText encodes p in its compact text form (so JSON carries "2M").
func (p Period) MarshalText() ([]byte, error) {
	if !p.IsZero() {
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	return []byte(p.String()), nil
}

// UnmarshalText parses the compact text form (see ParsePeriod).
func (p *Period) UnmarshalText(b []byte) error {
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// addTo returns start + p without the Art 3(4) working-day shift:
// the day that "is the same day of the week, or falls on the same date"
// (Art 3(2)(c)), or start + N calendar days. The event day itself is not
// counted (Art 3(1)), which is exactly what "start + N" expresses.
func (p Period) addTo(start Date) Date {
	switch p.Unit {
	case Days:
		return start.AddDays(p.N)
	case Weeks:
		return start.AddDays(7 * p.N)
	case Months:
		return start.AddMonths(p.N)
	}
	return Date{}
}
