package deadline

import "testing"

func BenchmarkTransferDeadline(b *testing.B) {
	c, _ := NewClock(DublinIII, DefaultConfig())
	cal, _ := NewHolidays([]Date{{2026, 12, 25}, {2026, 12, 26}, {2027, 1, 1}})
	f := TransferFacts{Accepted: Date{2026, 6, 25}}
	for b.Loop() {
		if _, err := c.TransferDeadline(f, cal); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	cfg := DefaultConfig()
	for b.Loop() {
		if _, err := Lookup(AMMR, Transfer, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewClock(b *testing.B) {
	cfg := DefaultConfig()
	for b.Loop() {
		if _, err := NewClock(AMMR, cfg); err != nil {
			b.Fatal(err)
		}
	}
}
