package deadline

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in      string
		want    Period
		wantErr bool
	}{
		{in: "2M", want: MonthsPeriod(2)},
		{in: "3W", want: WeeksPeriod(3)},
		{in: "10D", want: DaysPeriod(10)},
		{in: "18M", want: MonthsPeriod(18)},
		{in: "120M", want: MonthsPeriod(MaxMonths)},
		{in: "520W", want: WeeksPeriod(MaxWeeks)},
		{in: "3660D", want: DaysPeriod(MaxDays)},
		{in: "NONE", want: Period{}},
		{in: "121M", wantErr: true},
		{in: "521W", wantErr: true},
		{in: "3661D", wantErr: true},
		{in: "0M", wantErr: true},
		{in: "02M", wantErr: true},
		{in: "-2M", wantErr: true},
		{in: "+2M", wantErr: true},
		{in: "2m", wantErr: true},
		{in: "2Y", wantErr: true},
		{in: "M", wantErr: true},
		{in: "2", wantErr: true},
		{in: "2 M", wantErr: true},
		{in: " 2M", wantErr: true},
		{in: "none", wantErr: true},
		{in: "99999M", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePeriod(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidPeriod) {
					t.Fatalf("ParsePeriod(%q) = %v, %v; want ErrInvalidPeriod", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePeriod(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestPeriodValidate(t *testing.T) {
	for _, p := range []Period{{}, {N: 0, Unit: Months}, {N: -1, Unit: Days}, {N: 3, Unit: 0}, {N: 3, Unit: 9}, {N: MaxMonths + 1, Unit: Months}} {
		if err := p.Validate(); !errors.Is(err, ErrInvalidPeriod) {
			t.Errorf("Validate(%#v) = %v, want ErrInvalidPeriod", p, err)
		}
		if _, err := json.Marshal(p); p != (Period{}) && err == nil {
			t.Errorf("Marshal(%#v) accepted an invalid period", p)
		}
	}
}

func TestPeriodJSON(t *testing.T) {
	in := map[string]Period{"a": MonthsPeriod(6), "b": {}}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"a":"6M","b":"NONE"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var out map[string]Period
	if err := json.Unmarshal(b, &out); err != nil || out["a"] != in["a"] || out["b"] != in["b"] {
		t.Fatalf("round trip = %v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"a":"6 months"}`), &out); !errors.Is(err, ErrInvalidPeriod) {
		t.Fatalf("Unmarshal junk = %v", err)
	}
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2M", "3W", "10D", "NONE", "0M", "02M", "-1D", "120M", "121M", "9999D", "M", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPeriod) {
				t.Fatalf("error %v does not wrap ErrInvalidPeriod", err)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("ParsePeriod(%q).String() = %q", s, p.String())
		}
		if !p.IsZero() {
			if err := p.Validate(); err != nil {
				t.Fatalf("parsed period %v does not validate: %v", p, err)
			}
			// Every valid period computes an end from any sane start.
			start := Date{year: 2026, month: 1, day: 31}
			if end := End(start, p, nil); !end.After(start) {
				t.Fatalf("End(%v, %v) = %v, not after the start", start, p, end)
			}
		}
	})
}
