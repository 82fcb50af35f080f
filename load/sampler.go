package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrProcFormat is returned for a /proc file or pid file that cannot be parsed.
var ErrProcFormat = errors.New("unexpected format")

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat. It is 100 on every
// Linux architecture Go supports (the kernel fixes it for user space, whatever CONFIG_HZ is).
const clockTicks = 100

// ParseStat returns utime+stime (in clock ticks) from the contents of /proc/<pid>/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are counted from the last ')'.
func ParseStat(b []byte) (uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: %w: no command name", ErrProcFormat)
	}
	// After ") " come field 3 (state) onwards; utime and stime are fields 14 and 15.
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %w: %d fields after the command name", ErrProcFormat, len(f))
	}
	ut, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat utime: %w: %v", ErrProcFormat, err)
	}
	st, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat stime: %w: %v", ErrProcFormat, err)
	}
	return ut + st, nil
}

// ParseStatusRSS returns VmRSS in KiB from the contents of /proc/<pid>/status.
func ParseStatusRSS(b []byte) (int64, error) {
	for _, l := range strings.Split(string(b), "\n") {
		v, ok := strings.CutPrefix(l, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("status VmRSS %q: %w", strings.TrimSpace(v), ErrProcFormat)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("status VmRSS %q: %w", f[0], ErrProcFormat)
		}
		return kb, nil
	}
	// Kernel threads and zombies have no VmRSS line.
	return 0, fmt.Errorf("status: %w: no VmRSS", ErrProcFormat)
}

// ParseCPUTotals returns the busy and total clock ticks of all CPUs from the contents of
// /proc/stat (first line: user nice system idle iowait irq softirq steal ...; idle and iowait
// count as not busy).
func ParseCPUTotals(b []byte) (busy, total uint64, err error) {
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("stat: %w: no cpu line", ErrProcFormat)
	}
	for i, v := range f[1:] {
		if i >= 8 { // guest times are already inside user and nice
			break
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("stat cpu field %d: %w", i+1, ErrProcFormat)
		}
		total += n
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, total, nil
}

// ParsePIDFile parses a supervisor pid file: "<pid> <executable>".
func ParsePIDFile(b []byte) (int, string, error) {
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, "", fmt.Errorf("pid file %q: %w", b, ErrProcFormat)
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 1 {
		return 0, "", fmt.Errorf("pid file pid %q: %w", f[0], ErrProcFormat)
	}
	return pid, f[1], nil
}

// Proc is one process to sample.
type Proc struct {
	Name string
	PID  int
	Exe  string // "" skips the executable check
}

// ProcUsage is what one node used during a sampling window. A node restarted during the window
// (another PID under the same name) has the CPU of every incarnation added up.
type ProcUsage struct {
	Name       string
	CPUSeconds float64 // user + system CPU time during the window
	// CPUCores is CPUSeconds divided by the window's wall time: 1.0 is one core fully used.
	CPUCores               float64
	RSSStartKiB, RSSMaxKiB int64
	RSSEndKiB              int64
	Restarts               int  // PID changes seen
	Missing                bool // never seen running
}

// track is the sampler's running state of one named process.
type track struct {
	u          ProcUsage
	seen       bool
	pid        int
	base, last uint64 // ticks of the current incarnation at its first sighting and now
	done       uint64 // ticks used in the window by earlier incarnations
}

// Sampler samples the CPU time and RSS of every node listed in <root>/pids/ (and of extra
// processes, such as the load tool itself) at the start, periodically, and at the end.
type Sampler struct {
	pidDir   string
	procRoot string
	extra    []Proc

	mu      sync.Mutex
	tracks  map[string]*track
	started time.Time
	// busy0 is the machine's busy CPU ticks at the start.
	busy0 uint64
	stop  context.CancelFunc
	done  chan struct{}
}

// NewSampler samples the nodes of the network rooted at root. procRoot is normally "/proc".
func NewSampler(root, procRoot string, extra ...Proc) *Sampler {
	return &Sampler{pidDir: filepath.Join(root, "pids"), procRoot: procRoot, extra: extra, tracks: map[string]*track{}}
}

// Procs lists the processes the sampler would sample now: every readable pid file (sorted by
// name) and the extras.
func (s *Sampler) Procs() []Proc {
	var out []Proc
	files, _ := filepath.Glob(filepath.Join(s.pidDir, "*.pid"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, exe, err := ParsePIDFile(b)
		if err != nil {
			continue
		}
		out = append(out, Proc{Name: strings.TrimSuffix(filepath.Base(f), ".pid"), PID: pid, Exe: exe})
	}
	return append(out, s.extra...)
}

// sampleOne reads one process's CPU ticks and RSS; ok is false if it is gone or another program.
func (s *Sampler) sampleOne(p Proc) (ticks uint64, rss int64, ok bool) {
	dir := filepath.Join(s.procRoot, strconv.Itoa(p.PID))
	if p.Exe != "" {
		link, err := os.Readlink(filepath.Join(dir, "exe"))
		if err != nil || strings.TrimSuffix(link, " (deleted)") != p.Exe {
			return 0, 0, false
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return 0, 0, false
	}
	if ticks, err = ParseStat(b); err != nil {
		return 0, 0, false
	}
	b, err = os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return 0, 0, false
	}
	if rss, err = ParseStatusRSS(b); err != nil {
		return 0, 0, false
	}
	return ticks, rss, true
}

// Sample takes one sample of every process.
func (s *Sampler) Sample() {
	procs := s.Procs()
	s.mu.Lock()
	defer s.mu.Unlock()
	inWindow := !s.started.IsZero()
	for _, p := range procs {
		t := s.tracks[p.Name]
		if t == nil {
			t = &track{u: ProcUsage{Name: p.Name}}
			s.tracks[p.Name] = t
		}
		ticks, rss, ok := s.sampleOne(p)
		if !ok {
			continue
		}
		switch {
		case !t.seen || p.PID != t.pid:
			if t.seen {
				t.done += t.last - t.base
				t.u.Restarts++
			} else {
				t.u.RSSStartKiB = rss
			}
			t.seen, t.pid, t.base, t.last = true, p.PID, ticks, ticks
			// A process first seen after the start began during the window: all its CPU time
			// belongs to the window.
			if inWindow {
				t.base = 0
			}
		default:
			t.last = ticks
		}
		t.u.RSSEndKiB = rss
		t.u.RSSMaxKiB = max(t.u.RSSMaxKiB, rss)
	}
}

// Start takes the first sample and then one every interval until Stop.
func (s *Sampler) Start(interval time.Duration) {
	s.Sample()
	busy, _, _ := s.cpuTotals()
	s.mu.Lock()
	s.started = time.Now()
	s.busy0 = busy
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.Sample()
			}
		}
	}()
}

func (s *Sampler) cpuTotals() (uint64, uint64, error) {
	b, err := os.ReadFile(filepath.Join(s.procRoot, "stat"))
	if err != nil {
		return 0, 0, err
	}
	return ParseCPUTotals(b)
}

// Machine is the whole machine's CPU use during the window, in cores (busy ticks over wall
// ticks of one CPU): on 2 cores at most 2. 0 if /proc/stat is unreadable.
func (s *Sampler) Machine() float64 {
	busy, _, err := s.cpuTotals()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || s.started.IsZero() || busy < s.busy0 {
		return 0
	}
	wall := time.Since(s.started).Seconds()
	if wall <= 0 {
		return 0
	}
	return float64(busy-s.busy0) / clockTicks / wall
}

// Stop takes the last sample and returns every process's usage, sorted by name.
func (s *Sampler) Stop() []ProcUsage {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
	s.Sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	wall := time.Since(s.started).Seconds()
	var out []ProcUsage
	for _, t := range s.tracks {
		u := t.u
		u.Missing = !t.seen
		u.CPUSeconds = float64(t.done+t.last-t.base) / clockTicks
		if wall > 0 && !s.started.IsZero() {
			u.CPUCores = u.CPUSeconds / wall
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// loadAvg1 is the 1-minute load average (0 if unreadable).
func loadAvg1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	v, err := ParseLoadAvg(b)
	if err != nil {
		return 0
	}
	return v
}

// ParseLoadAvg returns the 1-minute load average from the contents of /proc/loadavg.
func ParseLoadAvg(b []byte) (float64, error) {
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0, fmt.Errorf("loadavg %q: %w", b, ErrProcFormat)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || !(v >= 0) || math.IsInf(v, 0) { // also refuses NaN

		return 0, fmt.Errorf("loadavg %q: %w", f[0], ErrProcFormat)
	}
	return v, nil
}
