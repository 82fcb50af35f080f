package load

import (
	"testing"
	"time"
)

func ms_(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentiles(t *testing.T) {
	tests := []struct {
		name    string
		samples []int // ms
		p       float64
		want    int
	}{
		{"empty", nil, 50, 0},
		{"one sample", []int{7}, 99, 7},
		{"median of 1..10 is 5 (nearest rank)", []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 50, 5},
		{"p90 of 1..10", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
		{"p91 of 1..10 rounds up", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 91, 10},
		{"p100 is the max", []int{3, 1, 2}, 100, 3},
		{"tiny p is the min", []int{3, 1, 2}, 0.0001, 1},
		{"p99 of 100 samples is the 99th", seq(100), 99, 99},
		{"p95 of 1000 samples", seq(1000), 95, 950},
		{"duplicates", []int{5, 5, 5, 1}, 50, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l Latencies
			for _, s := range tc.samples {
				l.Add(ms_(s))
			}
			if got := l.Percentile(tc.p); got != ms_(tc.want) {
				t.Fatalf("p%v = %v, want %v", tc.p, got, ms_(tc.want))
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = n - i // descending, so sorting matters
	}
	return out
}

func TestSummaryAndMerge(t *testing.T) {
	var a, b Latencies
	for _, v := range []int{10, 20, 30} {
		a.Add(ms_(v))
	}
	_ = a.Percentile(50) // sorts; a later Add must unsort
	a.Add(ms_(1))
	for _, v := range []int{40, 50} {
		b.Add(ms_(v))
	}
	a.Merge(&b)
	s := a.Summary()
	want := Summary{Count: 6, Mean: ms_(151) / 6, P50: ms_(20), P95: ms_(50), P99: ms_(50), Max: ms_(50)}
	if s != want {
		t.Fatalf("summary %+v, want %+v", s, want)
	}
	if p := a.Percentile(1); p != ms_(1) {
		t.Fatalf("min after merge %v", p)
	}
}
