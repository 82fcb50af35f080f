package main

import (
	"strings"
	"testing"
)

func TestPanicLines(t *testing.T) {
	var log []string
	for i := range 30 {
		log = append(log, "line "+string(rune('a'+i%26)))
	}
	withPanic := append(append([]string{}, log[:20]...), "panic: runtime error: invalid memory address or nil pointer dereference", "goroutine 210 [running]:")
	for _, c := range []struct {
		name, log, first string
		lines            int
	}{
		{"panic and what follows", strings.Join(withPanic, "\n"), "panic: runtime error", 2},
		{"no panic: the last lines", strings.Join(log, "\n"), log[18], 12},
		{"short log", "only line", "only line", 1},
	} {
		got := strings.Split(panicLines(c.log), "\n")
		if len(got) != c.lines || !strings.HasPrefix(got[0], c.first) {
			t.Errorf("%s: %q", c.name, got)
		}
	}
}

func TestHeights(t *testing.T) {
	if got := heights(map[string]uint64{"national": 2697, "dublin": 1595}); got != "dublin 1595, national 2697" {
		t.Fatalf("%q", got)
	}
}
