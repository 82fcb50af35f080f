package deadline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Date is a civil calendar date without time zone. The zero value means
// "no date" (IsZero) and is never a valid parsed date. Dates are comparable
// with == and usable as map keys.
type Date struct {
	year  int
	month time.Month
	day   int
}

// Supported year range for any Date produced by ParseDate or arithmetic.
const (
	minYear = 1
	maxYear = 9999
)

// NewDate returns the date y-m-d, refusing impossible dates (e.g. 30 Feb).
func NewDate(y int, m time.Month, d int) (Date, error) {
	if y < minYear || y > maxYear || m < time.January || m > time.December || d < 1 || d > daysIn(y, m) {
		return Date{}, fmt.Errorf("%w: %04d-%02d-%02d does not exist", ErrInvalidDate, y, int(m), d)
	}
	return Date{year: y, month: m, day: d}, nil
}

// ParseDate parses exactly "YYYY-MM-DD" (ten ASCII characters, zero-padded,
// an existing calendar day in years 0001-9999). Anything else is refused:
// no time part, no time zone, no whitespace, no signs.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%w: %q is not YYYY-MM-DD", ErrInvalidDate, s)
	}
	num := func(part string) (int, bool) {
		n := 0
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(s[0:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("%w: %q is not YYYY-MM-DD", ErrInvalidDate, s)
	}
	return NewDate(y, time.Month(m), d)
}

// DateOf returns the UTC calendar date of a timestamp (e.g. a Fabric
// transaction timestamp or a DubliNet acknowledgement, 2025/2055 Art 1(3)).
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{year: y, month: m, day: d}
}

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == Date{} }

// Year, Month and Day return the components of d.
func (d Date) Year() int             { return d.year }
func (d Date) Month() time.Month     { return d.month }
func (d Date) Day() int              { return d.day }
func (d Date) Weekday() time.Weekday { return d.Time().Weekday() }

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time { return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC) }

// String formats d as YYYY-MM-DD; the zero Date prints as "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.year, int(d.month), d.day)
}

// AddDays returns d shifted by n calendar days (n may be negative).
// Adding to the zero Date returns the zero Date.
func (d Date) AddDays(n int) Date {
	if d.IsZero() {
		return d
	}
	return DateOf(time.Date(d.year, d.month, d.day+n, 0, 0, 0, 0, time.UTC))
}

// AddMonths returns the same date n months later, or the last day of the
// target month when that date does not exist there (1182/71 Art 3(2)(c)):
// 31 Aug + 6 months = 28 Feb (29 Feb in a leap year).
func (d Date) AddMonths(n int) Date {
	if d.IsZero() {
		return d
	}
	total := d.year*12 + int(d.month-1) + n
	y := total / 12
	if total%12 < 0 { // floor division, so negative totals stay consistent
		y--
	}
	m := time.Month(total - y*12 + 1)
	day := min(d.day, daysIn(y, m))
	return Date{year: y, month: m, day: day}
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.year != e.year:
		return cmpInt(d.year, e.year)
	case d.month != e.month:
		return cmpInt(int(d.month), int(e.month))
	default:
		return cmpInt(d.day, e.day)
	}
}

// Before, After and Equal compare calendar dates.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }
func (d Date) After(e Date) bool  { return d.Compare(e) > 0 }
func (d Date) Equal(e Date) bool  { return d == e }

// DaysUntil returns the number of calendar days from d to e (negative when e
// is before d).
func (d Date) DaysUntil(e Date) int {
	return int(e.Time().Sub(d.Time()).Hours() / 24)
}

// MarshalJSON encodes d as "YYYY-MM-DD"; the zero Date encodes as null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	if d.year < minYear || d.year > maxYear {
		return nil, fmt.Errorf("%w: year %d out of range", ErrInvalidDate, d.year)
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts a JSON string in strict YYYY-MM-DD form, or null
// (leaving the zero Date). Any other JSON value is refused.
func (d *Date) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: not a JSON string: %v", ErrInvalidDate, err)
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
