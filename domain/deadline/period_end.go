package deadline

import "fmt"

// maxShift bounds the Art 3(4) search for the next working day; a calendar
// with a whole year of non-working days is junk, not law.
const maxShift = 366

// End returns the last day of period p that starts with the event on day
// start, per Regulation 1182/71: the event day is not counted (Art 3(1));
// days count calendar days (Art 3(3)); weeks and months end on the same
// weekday or date, or on the last day of the month when that date does not
// exist (Art 3(2)(c)); a last day that is a Saturday, Sunday or public
// holiday of cal moves to the next working day (Art 3(4)). A nil cal means
// weekends only.
//
// End returns the zero Date when the inputs cannot give a deadline (zero
// start, invalid period, calendar without working days); use PeriodEnd to
// get the reason. The zero Date never counts as Expired.
func End(start Date, p Period, cal Calendar) Date {
	d, err := PeriodEnd(start, p, cal)
	if err != nil {
		return Date{}
	}
	return d
}

// PeriodEnd is End with the failure reason: ErrInvalidDate for a zero start
// or a result beyond year 9999, ErrInvalidPeriod, ErrNoWorkingDay.
func PeriodEnd(start Date, p Period, cal Calendar) (Date, error) {
	if start.IsZero() {
		return Date{}, fmt.Errorf("%w: period start is missing", ErrInvalidDate)
	}
	if err := p.Validate(); err != nil {
		return Date{}, err
	}
	last := unshiftedEnd(start, p)
	if last.year > maxYear {
		return Date{}, fmt.Errorf("%w: %s + %s is beyond year %d", ErrInvalidDate, start, p, maxYear)
	}
	return nextWorkingDay(last, cal)
}

// unshiftedEnd is the Art 3(2)(c) last day before the Art 3(4) shift.
func unshiftedEnd(start Date, p Period) Date { return p.addTo(start) }

// nextWorkingDay returns d, or the first following day that is neither a
// weekend day nor a non-working day of cal (1182/71 Art 3(4)).
func nextWorkingDay(d Date, cal Calendar) (Date, error) {
	if cal == nil {
		cal = weekendsOnly{}
	}
	for range maxShift {
		if !isWeekend(d) && !cal.IsNonWorkingDay(d) {
			return d, nil
		}
		d = d.AddDays(1)
	}
	return Date{}, fmt.Errorf("%w: no working day within %d days of %s", ErrNoWorkingDay, maxShift, d)
}

// Expired reports whether a deadline has passed on day today. A deadline is
// met through the end of its last day (1182/71 Art 3(2)(c): "expiry of the
// last hour"), so it is expired only from the next day on. A zero deadline
// (unknown) never expires: no legal consequence may be drawn from it.
func Expired(deadline, today Date) bool {
	return !deadline.IsZero() && today.After(deadline)
}
