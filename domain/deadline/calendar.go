package deadline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Calendar tells which days are not working days in the member state where
// the act is to be done (1182/71 Art 2(1)). Saturdays and Sundays are always
// non-working for End, whatever the Calendar says (Art 3(4) names them).
type Calendar interface {
	IsNonWorkingDay(Date) bool
}

// Bounds on a holiday list submitted as ledger data.
const (
	MinHolidayYear     = 2000
	MaxHolidayYear     = 2100
	MaxHolidaysPerYear = 60
)

// Holidays is the set of public holidays of one member state. It is
// immutable once built; the zero value is a valid calendar with no public
// holidays (weekends only). Its JSON form is a strictly ascending array of
// "YYYY-MM-DD" strings, which is also its canonical form on the ledger.
type Holidays struct {
	dates []Date // strictly ascending
}

// NewHolidays builds a holiday set from dates in any order. It refuses
// zero dates, duplicates (a duplicated date in a submitted list signals a
// mistake), years outside MinHolidayYear..MaxHolidayYear and more than
// MaxHolidaysPerYear dates in one year.
func NewHolidays(dates []Date) (Holidays, error) {
	sorted := slices.Clone(dates)
	slices.SortFunc(sorted, Date.Compare)
	if err := checkHolidays(sorted); err != nil {
		return Holidays{}, err
	}
	return Holidays{dates: sorted}, nil
}

func checkHolidays(sorted []Date) error {
	perYear := 0
	for i, d := range sorted {
		if d.IsZero() {
			return fmt.Errorf("%w: zero date at position %d", ErrInvalidHolidays, i)
		}
		if d.year < MinHolidayYear || d.year > MaxHolidayYear {
			return fmt.Errorf("%w: %s outside years %d-%d", ErrInvalidHolidays, d, MinHolidayYear, MaxHolidayYear)
		}
		if i > 0 {
			switch c := sorted[i-1].Compare(d); {
			case c == 0:
				return fmt.Errorf("%w: %s listed twice", ErrInvalidHolidays, d)
			case c > 0:
				return fmt.Errorf("%w: %s listed after %s (list must be ascending)", ErrInvalidHolidays, d, sorted[i-1])
			}
			if sorted[i-1].year != d.year {
				perYear = 0
			}
		}
		perYear++
		if perYear > MaxHolidaysPerYear {
			return fmt.Errorf("%w: more than %d holidays in %d", ErrInvalidHolidays, MaxHolidaysPerYear, d.year)
		}
	}
	return nil
}

// IsHoliday reports whether d is in the set.
func (h Holidays) IsHoliday(d Date) bool {
	_, found := slices.BinarySearchFunc(h.dates, d, Date.Compare)
	return found
}

// IsNonWorkingDay reports whether d is a Saturday, a Sunday or a listed
// public holiday.
func (h Holidays) IsNonWorkingDay(d Date) bool {
	return isWeekend(d) || h.IsHoliday(d)
}

// Dates returns a copy of the holidays in ascending order.
func (h Holidays) Dates() []Date { return slices.Clone(h.dates) }

// Len returns the number of holidays.
func (h Holidays) Len() int { return len(h.dates) }

// MarshalJSON encodes the set as a strictly ascending JSON array of
// "YYYY-MM-DD" strings ([] when empty).
func (h Holidays) MarshalJSON() ([]byte, error) {
	out := make([]string, len(h.dates))
	for i, d := range h.dates {
		out[i] = d.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON accepts only the canonical form: a JSON array (not null) of
// strict "YYYY-MM-DD" strings in strictly ascending order, within the year
// and count bounds. Unsorted or duplicated input is refused rather than
// repaired, so the bytes stored on the ledger are the bytes re-encoded.
func (h *Holidays) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		return fmt.Errorf("%w: expected a JSON array of dates", ErrInvalidHolidays)
	}
	var raw []string
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidHolidays, err)
	}
	if len(raw) > (MaxHolidayYear-MinHolidayYear+1)*MaxHolidaysPerYear {
		return fmt.Errorf("%w: %d dates is too many", ErrInvalidHolidays, len(raw))
	}
	dates := make([]Date, len(raw))
	for i, s := range raw {
		d, err := ParseDate(s)
		if err != nil {
			return fmt.Errorf("%w: position %d: %w", ErrInvalidHolidays, i, err)
		}
		dates[i] = d
	}
	if err := checkHolidays(dates); err != nil {
		return err
	}
	h.dates = dates
	return nil
}

func isWeekend(d Date) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// weekendsOnly is the calendar used when End is given a nil Calendar.
type weekendsOnly struct{}

func (weekendsOnly) IsNonWorkingDay(d Date) bool { return isWeekend(d) }
