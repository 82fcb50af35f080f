package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnbounded is returned for a run with neither an operation count nor a duration.
var ErrUnbounded = errors.New("a run needs a bound: operations or duration")

// Config bounds and shapes one run.
type Config struct {
	// Workers is the number of concurrent clients, each walking one case at a time (closed loop).
	Workers int
	// MaxOps bounds the operations started (writes and reads); 0 means no bound by count.
	MaxOps int
	// Duration bounds the time during which operations are started; 0 means no bound by time.
	// Operations in flight at the end are completed (within OpTimeout) and counted.
	Duration time.Duration
	// Rate, if positive, paces the run at this many operations per second in total (writes and
	// reads), whatever the latency: an open-loop load, as long as enough workers are free. 0 runs
	// closed-loop (each worker starts its next operation when the last one ends).
	Rate float64
	// CasesPerWorker is how many cases each worker walks in turn (default 4).
	CasesPerWorker int
	// OpTimeout bounds one operation, retries included (default 60 s).
	OpTimeout time.Duration
	// Seed makes the scripts reproducible (identifiers are always fresh).
	Seed uint64
	// Progress, if set, is called every ProgressEvery (default 5 s) while the run lasts.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// OnWrite, if set, is called after every write (from the worker goroutine).
	OnWrite func(WriteEvent)
}

// Progress is a running total.
type Progress struct {
	Elapsed         time.Duration
	Writes, Reads   int64
	Errors          int64
	WritesPerSecond float64 // over the last interval
}

// WriteEvent is one finished write.
type WriteEvent struct {
	Op         Op
	Start, End time.Time
	Ack        Ack
	Err        error
}

// cursor is a worker's position in one case's script.
type cursor struct {
	c    *Case
	next int
}

// Result is the outcome of one run.
type Result struct {
	Driver  string
	Workers int
	Rate    float64 // the pacing asked for (0: closed loop)
	Round   int     // which repetition of a plan (1-based; 0 outside a plan)
	Start   time.Time
	Elapsed time.Duration
	// Writes and Reads hold the latencies of acknowledged operations.
	Writes, Reads Latencies
	// ByKind holds the latencies of acknowledged operations per operation kind.
	ByKind map[OpKind]*Latencies
	// Errors counts failed operations by class (see Classify); ErrorExamples keeps the first
	// message of each class.
	Errors        map[string]int
	ErrorExamples map[string]string
	// Retries counts attempts a driver repeated (same request, same Idempotency-Key) by class.
	Retries map[string]int
	// WritesPerSecond[i] is the number of writes acknowledged during second i of the run.
	WritesPerSecond []int
	// Cases lists every case the run started, with the outcome of each write.
	Cases []*Case
	// Procs is the CPU and memory of each node during the run (filled by the caller's Sampler).
	Procs []ProcUsage
	// MachineCores is the CPU the whole machine used during the run, in cores (filled by the
	// caller's Sampler); minus the processes in Procs it is what others ran meanwhile.
	MachineCores float64
	// LoadAvg is the machine's 1-minute load average at the start and the end.
	LoadAvg [2]float64
}

// WriteRate is the committed writes per second over the whole run.
func (r *Result) WriteRate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Writes.Count()) / r.Elapsed.Seconds()
}

// ReadRate is the reads per second over the whole run.
func (r *Result) ReadRate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Reads.Count()) / r.Elapsed.Seconds()
}

// OthersCores is the CPU used during the run by processes that are neither nodes of the
// network nor the load tool: noise from whatever else shares the machine.
func (r *Result) OthersCores() float64 {
	sum := 0.0
	for _, p := range r.Procs {
		sum += p.CPUCores
	}
	return max(0, r.MachineCores-sum)
}

// NetworkCPUPerWrite is the CPU the network's nodes (everything in Procs but the load tool)
// spent per committed write, reads included: a figure that depends much less on what else runs
// on the machine than throughput does.
func (r *Result) NetworkCPUPerWrite() time.Duration {
	if r.Writes.Count() == 0 {
		return 0
	}
	sum := 0.0
	for _, p := range r.Procs {
		if !strings.HasPrefix(p.Name, "loadgen") {
			sum += p.CPUSeconds
		}
	}
	return time.Duration(sum / float64(r.Writes.Count()) * float64(time.Second))
}

// ErrorCount is the number of failed operations.
func (r *Result) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// ErrorClasses lists the error classes, most frequent first.
func (r *Result) ErrorClasses() []string {
	var out []string
	for k := range r.Errors {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if r.Errors[out[i]] != r.Errors[out[j]] {
			return r.Errors[out[i]] > r.Errors[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// Run drives the network through d with cfg.Workers concurrent clients until cfg's bounds are
// reached or ctx is cancelled (cancelling stops starting operations; those in flight finish).
// A write that fails ends its case (the procedure cannot go on); the worker starts a new one.
// Every worker has one operation in flight at a time.
func Run(ctx context.Context, d Driver, w *Workload, cfg Config) (*Result, error) {
	if cfg.Workers < 1 {
		return nil, fmt.Errorf("workers %d: want at least 1", cfg.Workers)
	}
	if cfg.MaxOps <= 0 && cfg.Duration <= 0 {
		return nil, ErrUnbounded
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = time.Minute
	}
	if cfg.CasesPerWorker <= 0 {
		cfg.CasesPerWorker = 4
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 5 * time.Second
	}
	stopCtx, stop := context.WithCancel(ctx)
	defer stop()
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		stopCtx, cancel = context.WithTimeout(stopCtx, cfg.Duration)
		defer cancel()
	}
	// Operations run on a context that the soft stop does not cancel.
	opBase := context.WithoutCancel(ctx)

	r := &Result{Driver: d.Name(), Workers: cfg.Workers, Rate: cfg.Rate, Start: time.Now(), ByKind: map[OpKind]*Latencies{},
		Errors: map[string]int{}, ErrorExamples: map[string]string{}}
	r.LoadAvg[0] = loadAvg1()
	var (
		mu                      sync.Mutex
		started, caseID         atomic.Int64
		nWrites, nReads, nFails atomic.Int64
		wg                      sync.WaitGroup
	)
	record := func(op Op, start, end time.Time, ack Ack, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			class := Classify(err)
			r.Errors[class]++
			if _, ok := r.ErrorExamples[class]; !ok {
				msg := fmt.Sprintf("%s %s by %s/%s: %s", op.Kind, op.Event.Code, op.Actor.MSPID, op.Actor.Role, ErrorText(err))
				if len(msg) > 400 {
					msg = msg[:400] + "…"
				}
				r.ErrorExamples[class] = msg
			}
			return
		}
		lat := end.Sub(start)
		if op.Kind.Write() {
			r.Writes.Add(lat)
			sec := int(end.Sub(r.Start) / time.Second)
			for len(r.WritesPerSecond) <= sec {
				r.WritesPerSecond = append(r.WritesPerSecond, 0)
			}
			r.WritesPerSecond[sec]++
		} else {
			r.Reads.Add(lat)
		}
		l := r.ByKind[op.Kind]
		if l == nil {
			l = &Latencies{}
			r.ByKind[op.Kind] = l
		}
		l.Add(lat)
	}
	// claim reserves one operation under the count bound, waits for its slot when the run is
	// paced, and checks the soft stop.
	var slots atomic.Int64
	claim := func() bool {
		if stopCtx.Err() != nil {
			return false
		}
		if cfg.MaxOps > 0 && started.Add(1) > int64(cfg.MaxOps) {
			return false // not stop(): operations claimed already may still wait for their slot
		}
		if cfg.Rate > 0 {
			at := r.Start.Add(time.Duration(float64(slots.Add(1)-1) / cfg.Rate * float64(time.Second)))
			select {
			case <-stopCtx.Done():
				return false
			case <-time.After(time.Until(at)):
			}
		}
		return true
	}
	worker := func(i int) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
		// Each worker walks several cases in turn, so consecutive steps of one case are a few
		// operations apart: when another agency takes the next step, its peer has committed the
		// previous block by then (as it would have in real life, where steps are minutes apart).
		// Without the gap the next agency's peer may still be a block behind and refuse the step
		// as INVALID_TRANSITION.
		active := make([]*cursor, cfg.CasesPerWorker)
		for turn := 0; ; turn = (turn + 1) % len(active) {
			cur := active[turn]
			if cur == nil || cur.next >= len(cur.c.Ops) {
				cur = &cursor{c: w.NewCase(rng, int(caseID.Add(1)))}
				active[turn] = cur
			}
			if !claim() {
				return
			}
			op := cur.c.Ops[cur.next]
			cur.next++
			if cur.next == 1 {
				mu.Lock()
				r.Cases = append(r.Cases, cur.c)
				mu.Unlock()
			}
			opCtx, cancel := context.WithTimeout(opBase, cfg.OpTimeout)
			start := time.Now()
			ack, err := d.Do(opCtx, op)
			end := time.Now()
			cancel()
			record(op, start, end, ack, err)
			if err != nil {
				nFails.Add(1)
			}
			if !op.Kind.Write() {
				if err == nil {
					nReads.Add(1)
				}
				continue
			}
			out := WriteOutcome{Op: op, Acked: err == nil, Ack: ack}
			if err != nil {
				out.Class = Classify(err)
			} else {
				nWrites.Add(1)
			}
			cur.c.Writes = append(cur.c.Writes, out)
			if cfg.OnWrite != nil {
				cfg.OnWrite(WriteEvent{Op: op, Start: start, End: end, Ack: ack, Err: err})
			}
			if err != nil {
				cur.next = len(cur.c.Ops) // the rest of this case's procedure depends on this step
			}
		}
	}
	progressDone := make(chan struct{})
	if cfg.Progress != nil {
		go func() {
			defer close(progressDone)
			t := time.NewTicker(cfg.ProgressEvery)
			defer t.Stop()
			var last int64
			for {
				select {
				case <-stopCtx.Done():
					return
				case <-t.C:
					wr := nWrites.Load()
					cfg.Progress(Progress{Elapsed: time.Since(r.Start), Writes: wr, Reads: nReads.Load(), Errors: nFails.Load(),
						WritesPerSecond: float64(wr-last) / cfg.ProgressEvery.Seconds()})
					last = wr
				}
			}
		}()
	} else {
		close(progressDone)
	}
	for i := range cfg.Workers {
		wg.Add(1)
		go worker(i)
	}
	wg.Wait()
	stop()
	<-progressDone
	r.Elapsed = time.Since(r.Start)
	r.LoadAvg[1] = loadAvg1()
	sort.Slice(r.Cases, func(i, j int) bool { return r.Cases[i].ID < r.Cases[j].ID })
	return r, nil
}
