package deadline

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNewHolidays(t *testing.T) {
	h := holidays(t, "2026-12-25", "2026-01-01", "2026-12-26")
	if got := fmt.Sprint(h.Dates()); got != "[2026-01-01 2026-12-25 2026-12-26]" {
		t.Fatalf("Dates() = %s, want sorted", got)
	}
	if !h.IsHoliday(day(t, "2026-12-25")) || h.IsHoliday(day(t, "2026-12-24")) {
		t.Fatal("IsHoliday wrong")
	}
	tests := []struct {
		name string
		day  string
		want bool
	}{
		{"listed holiday on a Friday", "2026-12-25", true},
		{"ordinary Thursday", "2026-12-24", false},
		{"unlisted Saturday", "2026-10-03", true},
		{"unlisted Sunday", "2026-12-27", true},
		{"ordinary Monday", "2026-12-28", false},
	}
	for _, tt := range tests {
		if got := h.IsNonWorkingDay(day(t, tt.day)); got != tt.want {
			t.Errorf("%s: IsNonWorkingDay(%s) = %v, want %v", tt.name, tt.day, got, tt.want)
		}
	}
	var zero Holidays
	if zero.IsNonWorkingDay(day(t, "2026-12-25")) || !zero.IsNonWorkingDay(day(t, "2026-12-26")) {
		t.Fatal("zero Holidays must be weekends only")
	}
}

func TestNewHolidaysRefusesJunk(t *testing.T) {
	many := make([]Date, MaxHolidaysPerYear+1)
	for i := range many {
		many[i] = day(t, "2026-01-01").AddDays(i)
	}
	tests := []struct {
		name  string
		dates []Date
	}{
		{"duplicate", []Date{day(t, "2026-12-25"), day(t, "2026-12-25")}},
		{"zero date", []Date{{}}},
		{"before MinHolidayYear", []Date{day(t, "1999-12-31")}},
		{"after MaxHolidayYear", []Date{day(t, "2101-01-01")}},
		{"too many in one year", many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewHolidays(tt.dates); !errors.Is(err, ErrInvalidHolidays) {
				t.Fatalf("NewHolidays = %v, want ErrInvalidHolidays", err)
			}
		})
	}
	// The per-year cap is per year: the same count spread over two years is fine.
	spread := append(many[:MaxHolidaysPerYear:MaxHolidaysPerYear], day(t, "2027-01-01"))
	if _, err := NewHolidays(spread); err != nil {
		t.Fatalf("per-year cap counted across years: %v", err)
	}
}

func TestHolidaysJSON(t *testing.T) {
	h := holidays(t, "2026-12-25", "2026-01-01")
	b, err := json.Marshal(h)
	if err != nil || string(b) != `["2026-01-01","2026-12-25"]` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back Holidays
	if err := json.Unmarshal(b, &back); err != nil || fmt.Sprint(back.Dates()) != fmt.Sprint(h.Dates()) {
		t.Fatalf("round trip = %v, %v", back.Dates(), err)
	}
	if b, _ := json.Marshal(Holidays{}); string(b) != `[]` {
		t.Fatalf("empty Marshal = %s", b)
	}
	bad := map[string]string{
		"unsorted":     `["2026-12-25","2026-01-01"]`,
		"duplicate":    `["2026-12-25","2026-12-25"]`,
		"null":         `null`,
		"object":       `{"dates":["2026-12-25"]}`,
		"number":       `[20261225]`,
		"loose format": `["2026-12-5"]`,
		"with time":    `["2026-12-25T00:00:00Z"]`,
		"out of range": `["1990-01-01"]`,
		"null element": `[null]`,
		"trailing":     `["2026-12-25"] []`,
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			var h Holidays
			if err := json.Unmarshal([]byte(in), &h); err == nil {
				t.Fatalf("Unmarshal(%s) accepted junk: %v", in, h.Dates())
			}
		})
	}
	// A list longer than any valid calendar is refused before parsing dates.
	huge := "[" + strings.Repeat(`"2026-01-01",`, (MaxHolidayYear-MinHolidayYear+1)*MaxHolidaysPerYear) + `"2026-01-01"]`
	if err := json.Unmarshal([]byte(huge), &back); !errors.Is(err, ErrInvalidHolidays) {
		t.Fatalf("huge list = %v", err)
	}
}

func FuzzHolidaysJSON(f *testing.F) {
	for _, s := range []string{`[]`, `["2026-01-01","2026-12-25"]`, `["2026-12-25","2026-01-01"]`, `["2026-12-25","2026-12-25"]`, `null`, `[null]`, `["2101-01-01"]`, `{}`, `["2026-02-29"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Holidays
		if err := json.Unmarshal(b, &h); err != nil {
			return
		}
		ds := h.Dates()
		for i, d := range ds {
			if d.Year() < MinHolidayYear || d.Year() > MaxHolidayYear {
				t.Fatalf("accepted out-of-range %v", d)
			}
			if i > 0 && !ds[i-1].Before(d) {
				t.Fatalf("accepted unsorted or duplicated %v", ds)
			}
			if !h.IsHoliday(d) {
				t.Fatalf("IsHoliday(%v) false for a listed day", d)
			}
		}
		// Canonical: re-encoding and re-decoding is stable, and NewHolidays agrees.
		out, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		var again Holidays
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		if out2, _ := json.Marshal(again); string(out2) != string(out) {
			t.Fatalf("not canonical: %s vs %s", out, out2)
		}
		if _, err := NewHolidays(ds); err != nil {
			t.Fatalf("NewHolidays refuses what JSON accepted: %v", err)
		}
	})
}
