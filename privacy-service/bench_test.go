package privacy

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// populate creates n mappings "<prefix>-<i>" with concurrent callers (the
// writer batches them) and returns the references.
func populate(tb testing.TB, s *Store, prefix string, n int) []string {
	tb.Helper()
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("%s-%08d", prefix, i)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 128 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if _, _, err := s.Pseudonymize(context.Background(), "national", refs[i]); err != nil {
					tb.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return refs
}

// rss returns the process's resident memory in MiB: total, anonymous (heap,
// stacks) and file-backed (Badger's memory-mapped tables and logs, which the
// kernel may drop under pressure). Free heap is returned to the OS first.
func rss(tb testing.TB) (total, anon, file float64) {
	tb.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc")
	}
	field := func(name string) float64 {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, name+":"); ok {
				kb, _ := strconv.Atoi(strings.Fields(rest)[0])
				return float64(kb) / 1024
			}
		}
		return 0
	}
	return field("VmRSS"), field("RssAnon"), field("RssFile")
}

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkVault measures the figures quoted in docs/privacy-service.md on a
// store of 100,000 mappings:
//
//	go test -run '^$' -bench BenchmarkVault -benchtime 3s ./privacy-service/
func BenchmarkVault(b *testing.B) {
	f := newAPIFixture(b)
	s := f.store
	start := time.Now()
	refs := populate(b, s, "BENCH", 100_000)
	b.Logf("populated %d mappings in %v", len(refs), time.Since(start))
	ctx := context.Background()

	b.Run("resolve-in-process", func(b *testing.B) {
		var ctr atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(ctr.Add(7919))
			for pb.Next() {
				if _, err := s.ResolveRef(ctx, "national", refs[i%len(refs)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resolves/s")
	})

	b.Run("resolve-pseudonym-in-process", func(b *testing.B) {
		ps := make([]string, 1000)
		for i := range ps {
			ps[i], _ = s.ResolveRef(ctx, "national", refs[i])
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.ResolvePseudonym(ctx, "national", ps[i%len(ps)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resolves/s")
	})

	// Over the API: the client the gateway uses (HTTP/1.1 keep-alive pool),
	// and the same calls over HTTP/2 for comparison.
	overAPI := func(b *testing.B, c *Client) {
		var ctr atomic.Int64
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(ctr.Add(7919))
			for pb.Next() {
				if _, err := c.ResolveRef(ctx, "national", refs[i%len(refs)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resolves/s")
	}
	b.Run("resolve-https-loopback", func(b *testing.B) { overAPI(b, f.client(b, "gateway")) })
	b.Run("resolve-https-loopback-h2", func(b *testing.B) {
		tr := &http.Transport{TLSClientConfig: f.pki.clientTLS(b, "gateway"), ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
		c, err := NewClient(f.url, nil, WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			b.Fatal(err)
		}
		overAPI(b, c)
	})

	var gen atomic.Int64
	b.Run("create-concurrent", func(b *testing.B) {
		g := gen.Add(1)
		var ctr atomic.Int64
		b.SetParallelism(32)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ref := fmt.Sprintf("NEWC-%d-%d", g, ctr.Add(1))
				if _, _, err := s.Pseudonymize(ctx, "national", ref); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
	})

	b.Run("create-serial", func(b *testing.B) {
		g := gen.Add(1)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			t0 := time.Now()
			if _, _, err := s.Pseudonymize(ctx, "national", fmt.Sprintf("NEWS-%d-%d", g, i)); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
	})

	b.Run("erase-serial", func(b *testing.B) {
		b.StopTimer()
		victims := populate(b, s, fmt.Sprintf("ERASE%d", gen.Add(1)), b.N)
		lat := make([]time.Duration, 0, b.N)
		b.StartTimer()
		for _, ref := range victims {
			t0 := time.Now()
			if _, err := s.EraseRef(ctx, "national", ref); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		b.ReportMetric(float64(percentile(lat, 0.50).Microseconds()), "p50-µs")
		b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
	})
}

// BenchmarkMillion loads one million mappings and reports the process RSS,
// the create rate, the re-open time and the resolve rate at that size. It
// takes minutes, so it runs only when asked:
//
//	PRIVACY_BENCH_MILLION=1 go test -run '^$' -bench BenchmarkMillion -benchtime 1x -timeout 30m ./privacy-service/
func BenchmarkMillion(b *testing.B) {
	if os.Getenv("PRIVACY_BENCH_MILLION") == "" {
		b.Skip("set PRIVACY_BENCH_MILLION=1 (or to a number of mappings)")
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("PRIVACY_BENCH_MILLION")); err == nil && v > 1 {
		n = v // a smaller size for profiling
	}
	ctx := context.Background()
	dir, kr := b.TempDir(), testKeyring(b)
	s := openTestStore(b, dir, kr, nil)
	rss0, _, _ := rss(b)
	start := time.Now()
	refs := populate(b, s, "M", n)
	loadTime := time.Since(start)
	rssLoaded, anonLoaded, _ := rss(b)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if path := os.Getenv("PRIVACY_BENCH_OPEN_PROFILE"); path != "" {
		pf, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		pprof.StartCPUProfile(pf)
		defer pf.Close()
	}
	start = time.Now()
	s = openTestStore(b, dir, kr, nil)
	openTime := time.Since(start)
	pprof.StopCPUProfile()
	defer s.Close()
	rssReopened, anonReopened, fileReopened := rss(b)
	if c := s.Stats().Cases; c != int64(n) {
		b.Fatalf("cases %d", c)
	}
	var ctr atomic.Int64
	b.ResetTimer()
	t0 := time.Now()
	var done atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(t0) < 3*time.Second {
				i := int(ctr.Add(7919))
				if _, err := s.ResolveRef(ctx, "national", refs[i%n]); err != nil {
					b.Error(err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(done.Load())/time.Since(t0).Seconds(), "resolves/s")
	b.ReportMetric(float64(n)/loadTime.Seconds(), "creates/s")
	b.ReportMetric(openTime.Seconds(), "open-s")
	b.ReportMetric(rss0, "rss-empty-MB")
	b.ReportMetric(rssLoaded, "rss-loaded-MB")
	b.ReportMetric(rssReopened, "rss-reopened-MB")
	b.ReportMetric(anonLoaded, "anon-loaded-MB")
	b.ReportMetric(anonReopened, "anon-reopened-MB")
	b.ReportMetric(fileReopened, "file-reopened-MB")
}
