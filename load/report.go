package load

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the machine-readable form of a run (loadgen --json).
type Report struct {
	Driver          string               `json:"driver"`
	Workers         int                  `json:"workers"`
	Rate            float64              `json:"rate,omitempty"`
	Round           int                  `json:"round"`
	MachineCores    float64              `json:"machineCores"`
	OthersCores     float64              `json:"othersCores"`
	CPUMsPerWrite   float64              `json:"networkCpuMsPerWrite"`
	ElapsedSeconds  float64              `json:"elapsedSeconds"`
	WritesPerSecond float64              `json:"writesPerSecond"`
	ReadsPerSecond  float64              `json:"readsPerSecond"`
	Writes          SummaryMS            `json:"writes"`
	Reads           SummaryMS            `json:"reads"`
	ByKind          map[string]SummaryMS `json:"byKind"`
	Errors          map[string]int       `json:"errors"`
	Retries         map[string]int       `json:"retries,omitempty"`
	LoadAvg         [2]float64           `json:"loadAvg"`
	Procs           []ProcUsage          `json:"procs"`
}

// SummaryMS is a Summary in milliseconds.
type SummaryMS struct {
	Count int     `json:"count"`
	Mean  float64 `json:"meanMs"`
	P50   float64 `json:"p50Ms"`
	P95   float64 `json:"p95Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (s Summary) ms() SummaryMS {
	return SummaryMS{Count: s.Count, Mean: ms(s.Mean), P50: ms(s.P50), P95: ms(s.P95), P99: ms(s.P99), Max: ms(s.Max)}
}

// Report builds the machine-readable form.
func (r *Result) Report() Report {
	rep := Report{Driver: r.Driver, Workers: r.Workers, Rate: r.Rate, Round: r.Round, MachineCores: r.MachineCores, OthersCores: r.OthersCores(), CPUMsPerWrite: float64(r.NetworkCPUPerWrite().Microseconds()) / 1000, ElapsedSeconds: r.Elapsed.Seconds(),
		WritesPerSecond: r.WriteRate(), ReadsPerSecond: r.ReadRate(),
		Writes: r.Writes.Summary().ms(), Reads: r.Reads.Summary().ms(), ByKind: map[string]SummaryMS{},
		Errors: r.Errors, Retries: r.Retries, LoadAvg: r.LoadAvg, Procs: r.Procs}
	for k, l := range r.ByKind {
		rep.ByKind[k.String()] = l.Summary().ms()
	}
	return rep
}

// WriteJSON writes the reports of several runs as one JSON document.
func WriteJSON(w io.Writer, results []*Result, ratios []Ratio) error {
	doc := struct {
		Runs   []Report `json:"runs"`
		Ratios []Ratio  `json:"ratios,omitempty"`
	}{Ratios: ratios}
	for _, r := range results {
		doc.Runs = append(doc.Runs, r.Report())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

func fmtMS(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", ms(d))
}

// Print writes a human-readable report of one run.
func (r *Result) Print(w io.Writer) {
	pace := ""
	if r.Rate > 0 {
		pace = fmt.Sprintf(", paced at %.0f ops/s", r.Rate)
	}
	fmt.Fprintf(w, "\n== %s, %d workers%s, %.1f s (load average %.2f -> %.2f; machine CPU %.2f cores, of which other programs %.2f)\n",
		r.Driver, r.Workers, pace, r.Elapsed.Seconds(), r.LoadAvg[0], r.LoadAvg[1], r.MachineCores, r.OthersCores())
	fmt.Fprintf(w, "committed writes %d (%.1f/s), reads %d (%.1f/s), errors %d, cases %d\n",
		r.Writes.Count(), r.WriteRate(), r.Reads.Count(), r.ReadRate(), r.ErrorCount(), len(r.Cases))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "latency ms\tcount\tmean\tp50\tp95\tp99\tmax\t")
	row := func(name string, l *Latencies) {
		s := l.Summary()
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", name, s.Count, fmtMS(s.Mean), fmtMS(s.P50), fmtMS(s.P95), fmtMS(s.P99), fmtMS(s.Max))
	}
	row("writes", &r.Writes)
	for _, k := range []OpKind{OpRegister, OpEvent, OpResolve} {
		if l := r.ByKind[k]; l != nil {
			row("  "+k.String(), l)
		}
	}
	row("reads", &r.Reads)
	tw.Flush()
	if len(r.Errors) > 0 {
		fmt.Fprintln(w, "errors by class:")
		for _, c := range r.ErrorClasses() {
			fmt.Fprintf(w, "  %6d  %s  (e.g. %s)\n", r.Errors[c], c, oneLine(r.ErrorExamples[c]))
		}
	}
	if len(r.Retries) > 0 {
		fmt.Fprintf(w, "repeated attempts (same Idempotency-Key): %s\n", FormatRetries(r.Retries))
	}
	if len(r.Procs) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "process\tCPU cores\tCPU s\tRSS start MiB\tRSS max MiB\tRSS end MiB\trestarts\t")
		for _, p := range r.Procs {
			if p.Missing {
				fmt.Fprintf(tw, "%s\tnot running\t\t\t\t\t\t\n", p.Name)
				continue
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%.1f\t%.0f\t%.0f\t%.0f\t%d\t\n", p.Name, p.CPUCores, p.CPUSeconds,
				kib2mib(p.RSSStartKiB), kib2mib(p.RSSMaxKiB), kib2mib(p.RSSEndKiB), p.Restarts)
		}
		tw.Flush()
	}
}

func kib2mib(k int64) float64 { return float64(k) / 1024 }

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// Ratio compares two drivers at the same concurrency (and pacing).
type Ratio struct {
	Workers int     `json:"workers"`
	Rate    float64 `json:"rate,omitempty"`
	Of      string  `json:"of"`
	Over    string  `json:"over"`
	Value   float64 `json:"value"` // Of's committed writes/s divided by Over's
	Rounds  int     `json:"rounds"`
	// Min and Max are the lowest and highest ratio of one round to the same round's other run.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

type level struct {
	workers int
	rate    float64
}

// Ratios pairs up runs of driver "of" and driver "over" at the same number of workers and
// pacing. With several rounds, the writes and the time of every round are pooled (total writes
// over total time per driver), and Min/Max show the spread of the per-round ratios.
func Ratios(results []*Result, of, over string) []Ratio {
	type pool struct {
		writes  int
		elapsed time.Duration
		rates   []float64 // per round, in order
	}
	pools := map[string]map[level]*pool{of: {}, over: {}}
	for _, r := range results {
		m, ok := pools[r.Driver]
		if !ok {
			continue
		}
		k := level{r.Workers, r.Rate}
		if m[k] == nil {
			m[k] = &pool{}
		}
		m[k].writes += r.Writes.Count()
		m[k].elapsed += r.Elapsed
		m[k].rates = append(m[k].rates, r.WriteRate())
	}
	var out []Ratio
	for k, a := range pools[of] {
		b, ok := pools[over][k]
		if !ok || b.writes == 0 || a.elapsed <= 0 || b.elapsed <= 0 {
			continue
		}
		q := Ratio{Workers: k.workers, Rate: k.rate, Of: of, Over: over, Rounds: min(len(a.rates), len(b.rates)),
			Value: (float64(a.writes) / a.elapsed.Seconds()) / (float64(b.writes) / b.elapsed.Seconds())}
		for i := 0; i < q.Rounds; i++ {
			if b.rates[i] == 0 {
				continue
			}
			v := a.rates[i] / b.rates[i]
			if q.Min == 0 || v < q.Min {
				q.Min = v
			}
			q.Max = max(q.Max, v)
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Workers != out[j].Workers {
			return out[i].Workers < out[j].Workers
		}
		return out[i].Rate < out[j].Rate
	})
	return out
}

// PrintSummary writes one line per run and the ratios: the table docs/performance.md quotes.
func PrintSummary(w io.Writer, results []*Result, ratios []Ratio) {
	fmt.Fprintln(w, "\n== summary")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tdriver\tworkers\tpace ops/s\twrites/s\treads/s\twrite p50 ms\tp95\tp99\terrors\tCPU ms/write\tnetwork CPU\tothers CPU\tload avg\t")
	for _, r := range results {
		s := r.Writes.Summary()
		pace := "-"
		if r.Rate > 0 {
			pace = fmt.Sprintf("%.0f", r.Rate)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%.1f\t%.1f\t%s\t%s\t%s\t%d\t%.1f\t%.2f\t%.2f\t%.1f\t\n", r.Round, r.Driver, r.Workers, pace, r.WriteRate(), r.ReadRate(),
			fmtMS(s.P50), fmtMS(s.P95), fmtMS(s.P99), r.ErrorCount(), float64(r.NetworkCPUPerWrite().Microseconds())/1000,
			r.MachineCores-r.OthersCores(), r.OthersCores(), r.LoadAvg[1])
	}
	tw.Flush()
	printCPUByKind(w, results)
	for _, q := range ratios {
		pace := ""
		if q.Rate > 0 {
			pace = fmt.Sprintf(", paced at %.0f ops/s", q.Rate)
		}
		spread := ""
		if q.Rounds > 1 {
			spread = fmt.Sprintf(" (%d rounds pooled; per round %.3f … %.3f)", q.Rounds, q.Min, q.Max)
		}
		fmt.Fprintf(w, "ratio %s / %s at %d workers%s: %.3f%s\n", q.Of, q.Over, q.Workers, pace, q.Value, spread)
	}
}

// procKinds are the groups of processes of the CPU table, by name prefix.
var procKinds = []string{"peer", "orderer", "ccserver", "gateway", "privacy", "loadgen"}

// CPUByKind is the CPU time per committed write of each kind of process,
// pooled over the runs given (ms; loadgen is the tool itself).
func CPUByKind(runs []*Result) (writes int, perWrite map[string]float64) {
	sec := map[string]float64{}
	for _, r := range runs {
		writes += r.Writes.Count()
		for _, p := range r.Procs {
			for _, k := range procKinds {
				if strings.HasPrefix(p.Name, k) {
					sec[k] += p.CPUSeconds
				}
			}
		}
	}
	perWrite = map[string]float64{}
	if writes > 0 {
		for k, v := range sec {
			perWrite[k] = v * 1000 / float64(writes)
		}
	}
	return writes, perWrite
}

// printCPUByKind writes where the CPU went per driver and level, rounds pooled.
func printCPUByKind(w io.Writer, results []*Result) {
	type key struct {
		workers int
		rate    float64
		driver  string
	}
	groups := map[key][]*Result{}
	var keys []key
	for _, r := range results {
		k := key{r.Workers, r.Rate, r.Driver}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if keys[i].workers != keys[j].workers {
			return keys[i].workers < keys[j].workers
		}
		if keys[i].rate != keys[j].rate {
			return keys[i].rate < keys[j].rate
		}
		return keys[i].driver < keys[j].driver
	})
	fmt.Fprintln(w, "\nCPU ms per committed write by kind of process (rounds pooled; the bare client signs in loadgen)")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "workers\tpace ops/s\tdriver\t")
	for _, k := range procKinds {
		fmt.Fprintf(tw, "%s\t", k)
	}
	fmt.Fprintln(tw, "network\t")
	for _, k := range keys {
		_, per := CPUByKind(groups[k])
		pace := "-"
		if k.rate > 0 {
			pace = fmt.Sprintf("%.0f", k.rate)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t", k.workers, pace, k.driver)
		total := 0.0
		for _, kind := range procKinds {
			fmt.Fprintf(tw, "%.2f\t", per[kind])
			if kind != "loadgen" {
				total += per[kind]
			}
		}
		fmt.Fprintf(tw, "%.1f\t\n", total)
	}
	tw.Flush()
}
