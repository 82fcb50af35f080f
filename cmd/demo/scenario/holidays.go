package scenario

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/caseledger/caseledger/api"
)

// publicHolidays lists a member state's nationwide public holidays in a year (the demo's two states;
// regional holidays are left out). Dublin periods ending on one end on the next working day.
func publicHolidays(state string, year int) []string {
	easter := easterSunday(year)
	fixed := func(m time.Month, d int) time.Time { return time.Date(year, m, d, 0, 0, 0, 0, time.UTC) }
	rel := func(days int) time.Time { return easter.AddDate(0, 0, days) }
	var days []time.Time
	switch state {
	case "DE":
		days = []time.Time{fixed(1, 1), rel(-2), rel(1), fixed(5, 1), rel(39), rel(50), fixed(10, 3), fixed(12, 25), fixed(12, 26)}
	case "AT":
		days = []time.Time{fixed(1, 1), fixed(1, 6), rel(1), fixed(5, 1), rel(39), rel(50), rel(60), fixed(8, 15),
			fixed(10, 26), fixed(11, 1), fixed(12, 8), fixed(12, 25), fixed(12, 26)}
	}
	out := make([]string, 0, len(days))
	for _, d := range days {
		out = append(out, d.Format(time.DateOnly))
	}
	slices.Sort(out) // Ascension can fall before 1 May
	return out
}

// easterSunday is the Gregorian Easter date (the anonymous Gregorian algorithm, Meeus/Jones/Butcher).
func easterSunday(year int) time.Time {
	a, b, c := year%19, year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// holidays: each Dublin unit keeps its own state's calendar on the ledger for this year and the next
// (a transfer period of six months reaches into it).
func (s *scenario) holidays(ctx context.Context) error {
	year := s.cal.today.Year()
	for _, u := range []struct {
		a     actor
		state string
	}{{s.aoDU, "DE"}, {s.ps, "AT"}} {
		for _, y := range []int{year, year + 1} {
			cal, err := u.a.c.SetHolidays(ctx, api.HolidaysRequest{Year: y, Dates: publicHolidays(u.state, y)})
			if err != nil {
				return stepErr(fmt.Sprintf("%s records %s holidays %d", u.a, u.state, y), err)
			}
			s.say("%-28s keeps %s's public holidays %d on the ledger (%d days)", u.a, cal.MemberState, cal.Year, cal.Holidays.Len())
		}
	}
	return nil
}
