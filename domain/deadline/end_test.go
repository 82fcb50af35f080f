package deadline

import (
	"errors"
	"testing"
	"time"
)

// Regulation 1182/71 Art 3 edge cases.
func TestEnd1182(t *testing.T) {
	de := holidays(t, // a German-like calendar, plus two made-up days for chains
		"2026-04-03", "2026-04-06", // Good Friday, Easter Monday
		"2026-12-24", "2026-12-25", "2026-12-26", "2026-12-31", "2027-01-01")
	tests := []struct {
		name  string
		start string
		p     Period
		cal   Calendar
		want  string
	}{
		// Art 3(1): the event day is not counted.
		{"3(1) 1 day runs to the next day", "2026-07-01", DaysPeriod(1), nil, "2026-07-02"},
		{"3(3) days count weekends: Wed + 10D = Sat -> Mon (3(4))", "2026-07-01", DaysPeriod(10), nil, "2026-07-13"},
		// Art 3(2)(c): weeks end on the same weekday.
		{"3(2)(c) Wed + 3W = Wed", "2026-07-01", WeeksPeriod(3), nil, "2026-07-22"},
		// Art 3(2)(c): months end on the same date or the month's last day.
		{"3(2)(c) 31 Jan + 1M = 29 Feb (leap, Thu)", "2024-01-31", MonthsPeriod(1), nil, "2024-02-29"},
		{"3(2)(c)+3(4) 31 Jan + 1M = 28 Feb Sat -> Mon 2 Mar", "2026-01-31", MonthsPeriod(1), nil, "2026-03-02"},
		{"3(2)(c) 31 Aug + 6M = 29 Feb 2028 (leap, Tue)", "2027-08-31", MonthsPeriod(6), nil, "2028-02-29"},
		{"3(2)(c) 31 Aug + 6M = 28 Feb 2029 (Wed)", "2028-08-31", MonthsPeriod(6), nil, "2029-02-28"},
		{"3(2)(c)+3(4) 31 Aug + 6M = 28 Feb 2026 Sat -> Mon 2 Mar", "2025-08-31", MonthsPeriod(6), nil, "2026-03-02"},
		{"3(2)(c) 28 Feb + 1M = 28 Mar (same date, not month end)", "2030-02-28", MonthsPeriod(1), nil, "2030-03-28"},
		{"3(2)(c)+3(4) 30 Apr + 1M = 30 May Sat -> 1 Jun", "2026-04-30", MonthsPeriod(1), nil, "2026-06-01"},
		{"3(2)(c) year boundary 16 Nov + 3M", "2026-11-16", MonthsPeriod(3), nil, "2027-02-16"},
		// Art 3(4): Saturday, Sunday, public holiday -> next working day.
		{"3(4) ends on Sunday -> Monday", "2027-02-28", MonthsPeriod(1), nil, "2027-03-29"},
		{"3(4) holiday Good Friday, weekend, Easter Monday -> Tuesday", "2026-03-27", WeeksPeriod(1), de, "2026-04-07"},
		{"3(4) same period without the holiday calendar", "2026-03-27", WeeksPeriod(1), nil, "2026-04-03"},
		{"3(4) chain 24-25-26-27 Dec -> Mon 28 Dec", "2026-12-17", WeeksPeriod(1), de, "2026-12-28"},
		{"3(4) chain over the year end 31 Dec, 1-3 Jan -> Mon 4 Jan", "2026-12-17", WeeksPeriod(2), de, "2027-01-04"},
		{"3(4) a working day is not moved", "2026-12-21", DaysPeriod(1), de, "2026-12-22"},
		{"3(4) holiday on a weekday that is not the last day does not matter", "2026-12-21", WeeksPeriod(2), de, "2027-01-04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := End(day(t, tt.start), tt.p, tt.cal)
			if got != day(t, tt.want) {
				t.Fatalf("End(%s, %s) = %v (%s), want %s", tt.start, tt.p, got, got.Weekday(), tt.want)
			}
			if tt.cal != nil && tt.cal.IsNonWorkingDay(got) || got.Weekday() == time.Saturday || got.Weekday() == time.Sunday {
				t.Fatalf("End returned a non-working day %v", got)
			}
		})
	}
}

// everyDayOff is a junk calendar.
type everyDayOff struct{}

func (everyDayOff) IsNonWorkingDay(Date) bool { return true }

// weekendWorking claims weekends are working days; Art 3(4) names them anyway.
type weekendWorking struct{}

func (weekendWorking) IsNonWorkingDay(Date) bool { return false }

func TestEndFailures(t *testing.T) {
	start := day(t, "2026-07-01")
	tests := []struct {
		name  string
		start Date
		p     Period
		cal   Calendar
		want  error
	}{
		{"zero start", Date{}, MonthsPeriod(1), nil, ErrInvalidDate},
		{"zero period", start, Period{}, nil, ErrInvalidPeriod},
		{"bad unit", start, Period{N: 1, Unit: 7}, nil, ErrInvalidPeriod},
		{"beyond year 9999", day(t, "9999-06-01"), MonthsPeriod(12), nil, ErrInvalidDate},
		{"no working day ever", start, WeeksPeriod(1), everyDayOff{}, ErrNoWorkingDay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := PeriodEnd(tt.start, tt.p, tt.cal); !errors.Is(err, tt.want) {
				t.Fatalf("PeriodEnd = %v, want %v", err, tt.want)
			}
			if got := End(tt.start, tt.p, tt.cal); !got.IsZero() {
				t.Fatalf("End = %v, want the zero Date", got)
			}
		})
	}
	// Saturday end stays non-working even if a calendar says otherwise.
	if got := End(day(t, "2026-07-03"), DaysPeriod(1), weekendWorking{}); got != day(t, "2026-07-06") {
		t.Fatalf("End with weekendWorking = %v, want Monday 2026-07-06", got)
	}
}

func TestExpired(t *testing.T) {
	due := day(t, "2026-09-16")
	tests := []struct {
		today string
		want  bool
	}{
		{"2026-09-15", false},
		{"2026-09-16", false}, // met through the end of its last day
		{"2026-09-17", true},
		{"2027-01-01", true},
	}
	for _, tt := range tests {
		if got := Expired(due, day(t, tt.today)); got != tt.want {
			t.Errorf("Expired(%v, %s) = %v, want %v", due, tt.today, got, tt.want)
		}
	}
	if Expired(Date{}, day(t, "2030-01-01")) {
		t.Error("an unknown (zero) deadline must never expire")
	}
}

// TestEndProperties checks End against the definitions over many starts:
// never before the unshifted day, never on a non-working day, and only
// shifted across non-working days.
func TestEndProperties(t *testing.T) {
	cal := holidays(t, "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14", "2026-05-25", "2026-10-03", "2026-12-25", "2026-12-26",
		"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-01", "2027-05-06", "2027-05-17", "2027-10-03", "2027-12-24", "2027-12-25", "2027-12-26")
	periods := []Period{DaysPeriod(1), DaysPeriod(10), WeeksPeriod(1), WeeksPeriod(2), WeeksPeriod(3), MonthsPeriod(1), MonthsPeriod(2), MonthsPeriod(6)}
	start := day(t, "2025-12-01")
	for i := 0; i < 400; i++ {
		s := start.AddDays(i)
		for _, p := range periods {
			end := End(s, p, cal)
			raw := p.addTo(s)
			if end.Before(raw) || cal.IsNonWorkingDay(end) {
				t.Fatalf("End(%v, %v) = %v: before %v or non-working", s, p, end, raw)
			}
			for d := raw; d.Before(end); d = d.AddDays(1) {
				if !cal.IsNonWorkingDay(d) {
					t.Fatalf("End(%v, %v) = %v skipped working day %v", s, p, end, d)
				}
			}
			if p.Unit == Months {
				// Same date, or the last day of a shorter month.
				if raw.Day() != s.Day() && raw.AddDays(1).Day() != 1 {
					t.Fatalf("%v + %v = %v is neither the same date nor a month end", s, p, raw)
				}
			}
			if p.Unit == Weeks && raw.Weekday() != s.Weekday() {
				t.Fatalf("%v + %v = %v is not the same weekday", s, p, raw)
			}
		}
	}
}
