package deadline

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: "2026-07-01", want: Date{2026, time.July, 1}},
		{in: "2028-02-29", want: Date{2028, time.February, 29}},
		{in: "0001-01-01", want: Date{1, time.January, 1}},
		{in: "9999-12-31", want: Date{9999, time.December, 31}},
		{in: "2027-02-29", wantErr: true}, // not a leap year
		{in: "2100-02-29", wantErr: true}, // century, not leap
		{in: "2000-02-29", want: Date{2000, time.February, 29}},
		{in: "2026-04-31", wantErr: true},
		{in: "2026-13-01", wantErr: true},
		{in: "2026-00-10", wantErr: true},
		{in: "2026-01-00", wantErr: true},
		{in: "0000-01-01", wantErr: true},
		{in: "2026-7-01", wantErr: true},
		{in: "2026-07-1", wantErr: true},
		{in: "26-07-01", wantErr: true},
		{in: "2026/07/01", wantErr: true},
		{in: "2026-07-01T00:00:00Z", wantErr: true},
		{in: " 2026-07-01", wantErr: true},
		{in: "2026-07-01 ", wantErr: true},
		{in: "+026-07-01", wantErr: true},
		{in: "2026-+7-01", wantErr: true},
		{in: "2026-07-０1", wantErr: true}, // full-width digit
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidDate) {
					t.Fatalf("ParseDate(%q) = %v, %v; want ErrInvalidDate", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestDateOfUsesUTC(t *testing.T) {
	berlin := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		name string
		ts   time.Time
		want string
	}{
		{"UTC midnight", time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "2026-07-01"},
		{"last nanosecond of the day", time.Date(2026, 6, 30, 23, 59, 59, 999999999, time.UTC), "2026-06-30"},
		// 01:30 in Berlin on 1 July is still 30 June in UTC.
		{"local time ahead of UTC", time.Date(2026, 7, 1, 1, 30, 0, 0, berlin), "2026-06-30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DateOf(tt.ts); got != day(t, tt.want) {
				t.Fatalf("DateOf(%v) = %v, want %v", tt.ts, got, tt.want)
			}
		})
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		name string
		got  Date
		want string
	}{
		{"AddDays over a year end", day(t, "2026-12-30").AddDays(3), "2027-01-02"},
		{"AddDays negative", day(t, "2026-03-01").AddDays(-1), "2026-02-28"},
		{"AddDays leap day", day(t, "2028-02-28").AddDays(1), "2028-02-29"},
		{"AddMonths 31 Jan + 1 (1182/71 Art 3(2)(c))", day(t, "2026-01-31").AddMonths(1), "2026-02-28"},
		{"AddMonths 31 Jan + 1 leap", day(t, "2028-01-31").AddMonths(1), "2028-02-29"},
		{"AddMonths 31 Aug + 6", day(t, "2025-08-31").AddMonths(6), "2026-02-28"},
		{"AddMonths 31 Aug + 6 leap", day(t, "2027-08-31").AddMonths(6), "2028-02-29"},
		{"AddMonths 30 Apr + 1 stays on the 30th", day(t, "2026-04-30").AddMonths(1), "2026-05-30"},
		{"AddMonths 28 Feb + 1 is the 28th, not month end", day(t, "2026-02-28").AddMonths(1), "2026-03-28"},
		{"AddMonths over year end", day(t, "2026-11-15").AddMonths(3), "2027-02-15"},
		{"AddMonths 36", day(t, "2026-06-03").AddMonths(36), "2029-06-03"},
		{"AddMonths negative", day(t, "2026-03-31").AddMonths(-1), "2026-02-28"},
		{"AddMonths negative over year", day(t, "2026-01-15").AddMonths(-13), "2024-12-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != day(t, tt.want) {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if !(Date{}).AddDays(5).IsZero() || !(Date{}).AddMonths(5).IsZero() {
		t.Error("arithmetic on the zero Date must stay zero")
	}
}

func TestDateCompare(t *testing.T) {
	a, b := day(t, "2026-06-30"), day(t, "2026-07-01")
	if a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Fatalf("Compare wrong: %d %d %d", a.Compare(b), b.Compare(a), a.Compare(a))
	}
	if !a.Before(b) || a.After(b) || !b.After(a) || !a.Equal(day(t, "2026-06-30")) || a.Equal(b) {
		t.Fatal("Before/After/Equal disagree with Compare")
	}
	if day(t, "2025-12-31").Compare(day(t, "2026-01-01")) != -1 || day(t, "2026-02-28").Compare(day(t, "2026-01-31")) != 1 {
		t.Fatal("Compare must order by year, then month, then day")
	}
	if got := a.DaysUntil(day(t, "2026-12-31")); got != 184 {
		t.Fatalf("DaysUntil = %d, want 184", got)
	}
}

func TestDateJSON(t *testing.T) {
	type wrapper struct {
		D Date `json:"d"`
		Z Date `json:"z"`
	}
	in := wrapper{D: day(t, "2026-07-01")}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"d":"2026-07-01","z":null}` {
		t.Fatalf("Marshal = %s", b)
	}
	var out wrapper
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("round trip = %+v, %v", out, err)
	}
	for _, bad := range []string{`{"d":"2026-7-1"}`, `{"d":20260701}`, `{"d":""}`, `{"d":"2026-07-01T00:00:00Z"}`, `{"d":["2026-07-01"]}`} {
		if err := json.Unmarshal([]byte(bad), &out); !errors.Is(err, ErrInvalidDate) {
			t.Errorf("Unmarshal(%s) = %v, want ErrInvalidDate", bad, err)
		}
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-07-01", "2028-02-29", "2027-02-29", "0000-00-00", "9999-12-31", "2026-7-1", "", "2026-07-01T00:00:00Z", "-001-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidDate) {
				t.Fatalf("error %v does not wrap ErrInvalidDate", err)
			}
			return
		}
		// Strict: only the canonical text parses, so String is the identity.
		if d.String() != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
		}
		// The same day through the time package.
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil || DateOf(tm) != d {
			t.Fatalf("time.Parse disagrees: %v %v vs %v", tm, err, d)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Date
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("JSON round trip %s -> %v, %v", b, back, err)
		}
	})
}
