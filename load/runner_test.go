package load

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// fakeLedger is an in-memory ledger with a driver in front of it whose faults the test chooses.
type fakeLedger struct {
	mu        sync.Mutex
	timelines map[string][]TimelineEntry // by pseudonym
	calls     atomic.Int64
	delay     time.Duration
	// fault decides, per write, what goes wrong: "" nothing, "refuse" (nothing stored),
	// "lose-ack" (stored, client gets an error), "duplicate" (stored twice under two request ids).
	fault func(op Op) string
}

func newFakeLedger() *fakeLedger { return &fakeLedger{timelines: map[string][]TimelineEntry{}} }

var errFake = errors.New("fake failure")

func (f *fakeLedger) Name() string { return "fake" }
func (f *fakeLedger) Close() error { return nil }

func (f *fakeLedger) Do(ctx context.Context, op Op) (Ack, error) {
	f.calls.Add(1)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tl := f.timelines[op.Case.Pseudonym]
	if !op.Kind.Write() {
		return Ack{Events: len(tl)}, nil
	}
	fault := ""
	if f.fault != nil {
		fault = f.fault(op)
	}
	if fault == "refuse" {
		return Ack{}, fmt.Errorf("INVALID_TRANSITION: refused: %w", errFake)
	}
	store := func(reqID string) TimelineEntry {
		e := TimelineEntry{Seq: uint64(len(tl) + 1), Code: op.Event.Code, TxID: uuid.NewString(), RequestID: reqID, MSPID: op.Actor.MSPID}
		tl = append(tl, e)
		return e
	}
	e := store(op.RequestID)
	if fault == "duplicate" {
		store(uuid.NewString())
	}
	f.timelines[op.Case.Pseudonym] = tl
	if fault == "lose-ack" {
		return Ack{}, context.DeadlineExceeded
	}
	return Ack{TxID: e.TxID, Seq: e.Seq}, nil
}

func testWorkload(t *testing.T) *Workload {
	t.Helper()
	w, err := NewWorkload(demoDesc(t), DefaultMix(), "t", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestRunStopsAtTheOperationBound(t *testing.T) {
	f := newFakeLedger()
	var onWrite atomic.Int64
	r, err := Run(context.Background(), f, testWorkload(t), Config{Workers: 8, MaxOps: 500, Seed: 1,
		OnWrite: func(WriteEvent) { onWrite.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.calls.Load(); got != 500 {
		t.Fatalf("driver saw %d operations, want exactly 500", got)
	}
	if r.Writes.Count()+r.Reads.Count() != 500 || r.ErrorCount() != 0 {
		t.Fatalf("writes %d reads %d errors %v", r.Writes.Count(), r.Reads.Count(), r.Errors)
	}
	if int(onWrite.Load()) != r.Writes.Count() {
		t.Fatalf("OnWrite called %d times for %d writes", onWrite.Load(), r.Writes.Count())
	}
	sum := 0
	for _, n := range r.WritesPerSecond {
		sum += n
	}
	if sum != r.Writes.Count() {
		t.Fatalf("per-second counts add up to %d, writes %d", sum, r.Writes.Count())
	}
	if r.Reads.Count() == 0 || len(r.ByKind[OpRegister].samples) == 0 || len(r.ByKind[OpEvent].samples) == 0 {
		t.Fatalf("mix not exercised: reads %d, by kind %v", r.Reads.Count(), r.ByKind)
	}
	v := Verification{}
	for _, c := range r.Cases {
		v.AckedWrites += len(c.Writes)
		v.checkCase(c, f.timelines[c.Pseudonym], len(c.Writes))
	}
	if !v.OK() {
		t.Fatalf("a clean run does not verify: %+v", v)
	}
}

func TestRunStopsAtTheDurationAndOnCancel(t *testing.T) {
	f := newFakeLedger()
	f.delay = 5 * time.Millisecond
	start := time.Now()
	r, err := Run(context.Background(), f, testWorkload(t), Config{Workers: 4, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 300*time.Millisecond || el > 2*time.Second {
		t.Fatalf("duration-bound run took %v", el)
	}
	if r.Writes.Count() == 0 || r.WriteRate() <= 0 {
		t.Fatalf("no writes: %+v", r.Writes.Summary())
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	if _, err := Run(ctx, f, testWorkload(t), Config{Workers: 4, Duration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("cancelled run took %v", el)
	}
	if _, err := Run(context.Background(), f, testWorkload(t), Config{Workers: 4}); !errors.Is(err, ErrUnbounded) {
		t.Fatalf("unbounded run: %v", err)
	}
	if _, err := Run(context.Background(), f, testWorkload(t), Config{Workers: 0, MaxOps: 1}); err == nil {
		t.Fatal("zero workers accepted")
	}
}

func TestAFailedWriteEndsItsCase(t *testing.T) {
	f := newFakeLedger()
	f.fault = func(op Op) string {
		if op.Event.Code == "HEARING_HELD" || op.Event.Code == "REQUEST_ACCEPTED" {
			return "refuse"
		}
		return ""
	}
	r, err := Run(context.Background(), f, testWorkload(t), Config{Workers: 3, MaxOps: 400, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors["chaincode/INVALID_TRANSITION"] == 0 || len(r.Errors) != 1 {
		t.Fatalf("errors %v", r.Errors)
	}
	for _, c := range r.Cases {
		for i, w := range c.Writes {
			failed := w.Op.Event.Code == "HEARING_HELD" || w.Op.Event.Code == "REQUEST_ACCEPTED"
			if failed == w.Acked {
				t.Fatalf("case %d write %s acked=%v", c.ID, w.Op.Event.Code, w.Acked)
			}
			if failed && i != len(c.Writes)-1 {
				t.Fatalf("case %d went on after a failed %s", c.ID, w.Op.Event.Code)
			}
		}
	}
}

// TestVerificationFindsLostAndDuplicatedWrites runs against a fake ledger that loses
// acknowledgements (allowed: at most one unacknowledged write per case) or stores a write twice
// (must be reported).
func TestVerificationFindsLostAndDuplicatedWrites(t *testing.T) {
	tests := []struct {
		name       string
		fault      string
		wantOK     bool
		wantUnack  bool
		wantReport string
	}{
		{"lost acknowledgement", "lose-ack", true, true, ""},
		{"duplicated write", "duplicate", false, false, "beyond the"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeLedger()
			var n atomic.Int64
			f.fault = func(op Op) string {
				if op.Kind == OpEvent && n.Add(1)%7 == 0 {
					return tc.fault
				}
				return ""
			}
			r, err := Run(context.Background(), f, testWorkload(t), Config{Workers: 4, MaxOps: 300, Seed: 9})
			if err != nil {
				t.Fatal(err)
			}
			v := Verification{}
			for _, c := range r.Cases {
				for _, w := range c.Writes {
					if w.Acked {
						v.AckedWrites++
					}
				}
				nAcked := 0
				for _, w := range c.Writes {
					if w.Acked {
						nAcked++
					}
				}
				v.checkCase(c, f.timelines[c.Pseudonym], nAcked)
			}
			if v.OK() != tc.wantOK {
				t.Fatalf("OK=%v, problems %v", v.OK(), v.Problems)
			}
			if (v.UnackedStored > 0) != tc.wantUnack {
				t.Fatalf("unacknowledged but stored: %d", v.UnackedStored)
			}
			if tc.wantReport != "" && !strings.Contains(strings.Join(v.Problems, "\n"), tc.wantReport) {
				t.Fatalf("problems %v do not mention %q", v.Problems, tc.wantReport)
			}
		})
	}
}

// orderDriver records the case of every operation, in order.
type orderDriver struct {
	fakeLedger
	order []int
}

func (o *orderDriver) Do(ctx context.Context, op Op) (Ack, error) {
	o.order = append(o.order, op.Case.ID) // one worker: no concurrent calls
	return o.fakeLedger.Do(ctx, op)
}

func TestAWorkerTakesTurnsBetweenCases(t *testing.T) {
	d := &orderDriver{fakeLedger: *newFakeLedger()}
	if _, err := Run(context.Background(), d, testWorkload(t), Config{Workers: 1, MaxOps: 200, CasesPerWorker: 3}); err != nil {
		t.Fatal(err)
	}
	if len(d.order) != 200 {
		t.Fatalf("%d operations", len(d.order))
	}
	for i := 1; i < len(d.order); i++ {
		if d.order[i] == d.order[i-1] {
			t.Fatalf("operations %d and %d both on case %d: %v", i-1, i, d.order[i], d.order[max(0, i-5):i+1])
		}
	}
}

func TestAPacedRunKeepsItsRate(t *testing.T) {
	f := newFakeLedger()
	f.delay = 20 * time.Millisecond // 8 workers could do 400 ops/s closed-loop
	start := time.Now()
	r, err := Run(context.Background(), f, testWorkload(t), Config{Workers: 8, MaxOps: 50, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	// 50 operations at 100/s: the last starts at 0.49 s.
	if el < 490*time.Millisecond || el > 1500*time.Millisecond {
		t.Fatalf("50 operations at 100/s took %v", el)
	}
	if r.Rate != 100 || r.Writes.Count()+r.Reads.Count() != 50 {
		t.Fatalf("rate %v, operations %d", r.Rate, r.Writes.Count()+r.Reads.Count())
	}
}

func TestResultFigures(t *testing.T) {
	r := &Result{Elapsed: 2 * time.Second, MachineCores: 1.9, Procs: []ProcUsage{
		{Name: "peer0.a", CPUSeconds: 1.5, CPUCores: 0.75},
		{Name: "orderer0", CPUSeconds: 0.5, CPUCores: 0.25},
		{Name: "loadgen (this process)", CPUSeconds: 0.4, CPUCores: 0.2},
	}}
	for range 100 {
		r.Writes.Add(time.Millisecond)
	}
	if got := r.NetworkCPUPerWrite(); got != 20*time.Millisecond {
		t.Fatalf("CPU per write %v, want 20ms (2 s of node CPU over 100 writes, the load tool not counted)", got)
	}
	if got := r.OthersCores(); got < 0.699 || got > 0.701 {
		t.Fatalf("others %v, want 0.7", got)
	}
	if got := r.WriteRate(); got != 50 {
		t.Fatalf("rate %v", got)
	}
	rs := []*Result{{Driver: "bare", Workers: 8, Elapsed: time.Second}, {Driver: "gateway", Workers: 8, Elapsed: time.Second}, {Driver: "gateway", Workers: 16, Elapsed: time.Second}}
	for range 10 {
		rs[0].Writes.Add(time.Millisecond)
	}
	for range 9 {
		rs[1].Writes.Add(time.Millisecond)
	}
	q := Ratios(rs, "gateway", "bare")
	if len(q) != 1 || q[0].Workers != 8 || q[0].Value < 0.8999 || q[0].Value > 0.9001 || q[0].Rounds != 1 {
		t.Fatalf("ratios %+v", q)
	}
	// A second round: bare 20 writes in 2 s (10/s), gateway 6 in 1 s. Pooled: gateway 15/2 s,
	// bare 30/3 s, so 7.5/10 = 0.75; per round 0.9 and 0.6.
	r2b := &Result{Driver: "bare", Workers: 8, Elapsed: 2 * time.Second}
	r2g := &Result{Driver: "gateway", Workers: 8, Elapsed: time.Second}
	for range 20 {
		r2b.Writes.Add(time.Millisecond)
	}
	for range 6 {
		r2g.Writes.Add(time.Millisecond)
	}
	q = Ratios(append(rs, r2b, r2g), "gateway", "bare")
	if len(q) != 1 || q[0].Rounds != 2 || q[0].Value < 0.7499 || q[0].Value > 0.7501 || q[0].Min < 0.599 || q[0].Min > 0.601 || q[0].Max < 0.899 || q[0].Max > 0.901 {
		t.Fatalf("pooled ratios %+v", q)
	}
}

func TestRoundsAlternateTheDriversOrder(t *testing.T) {
	drivers := []string{"bare", "gateway"}
	var seq []string
	for round := 1; round <= 4; round++ {
		seq = append(seq, roundOrder(drivers, round)...)
	}
	want := []string{"bare", "gateway", "gateway", "bare", "bare", "gateway", "gateway", "bare"}
	if !slices.Equal(seq, want) {
		t.Fatalf("order over 4 rounds = %v, want %v", seq, want)
	}
	if !slices.Equal(drivers, []string{"bare", "gateway"}) {
		t.Fatalf("the plan's own list was reordered: %v", drivers)
	}
}

func TestCPUByKindPoolsRounds(t *testing.T) {
	run := func(writes int, procs ...ProcUsage) *Result {
		r := &Result{Driver: "gateway", Workers: 8, Elapsed: time.Second, Procs: procs}
		for range writes {
			r.Writes.Add(time.Millisecond)
		}
		return r
	}
	rs := []*Result{
		run(100, ProcUsage{Name: "peer0.a", CPUSeconds: 1}, ProcUsage{Name: "peer0.b", CPUSeconds: 0.5}, ProcUsage{Name: "gateway.a", CPUSeconds: 0.3}),
		run(50, ProcUsage{Name: "peer0.a", CPUSeconds: 0.75}, ProcUsage{Name: "loadgen (this process)", CPUSeconds: 0.15}),
	}
	writes, per := CPUByKind(rs)
	if writes != 150 {
		t.Fatalf("writes %d, want 150", writes)
	}
	for kind, want := range map[string]float64{"peer": 15, "gateway": 2, "loadgen": 1, "orderer": 0} {
		if got := per[kind]; got < want-1e-9 || got > want+1e-9 {
			t.Errorf("%s: %.3f ms/write, want %.3f", kind, got, want)
		}
	}
	var out strings.Builder
	printCPUByKind(&out, rs)
	if !strings.Contains(out.String(), "gateway") || !strings.Contains(out.String(), "15.00") {
		t.Fatalf("table:\n%s", out.String())
	}
}
