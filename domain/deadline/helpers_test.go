package deadline

import "testing"

// day parses a literal date in tests; a typo in a test table fails loudly.
func day(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatalf("bad test date %q: %v", s, err)
	}
	return d
}

// holidays builds a calendar from literal dates.
func holidays(t testing.TB, ss ...string) Holidays {
	t.Helper()
	ds := make([]Date, len(ss))
	for i, s := range ss {
		ds[i] = day(t, s)
	}
	h, err := NewHolidays(ds)
	if err != nil {
		t.Fatalf("bad test holidays: %v", err)
	}
	return h
}
