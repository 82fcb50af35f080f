package privacy

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
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

func rssMB(tb testing.TB) float64 {
	tb.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.Fields(rest)[0])
			return float64(kb) / 1024
		}
	}
	return 0
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

	b.Run("resolve-https-loopback", func(b *testing.B) {
		c := f.client(b, "gateway")
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
		b.Skip("set PRIVACY_BENCH_MILLION=1")
	}
	const n = 1_000_000
	ctx := context.Background()
	dir, kr := b.TempDir(), testKeyring(b)
	s := openTestStore(b, dir, kr, nil)
	rss0 := rssMB(b)
	start := time.Now()
	refs := populate(b, s, "M", n)
	loadTime := time.Since(start)
	runtime.GC()
	rssLoaded := rssMB(b)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	start = time.Now()
	s = openTestStore(b, dir, kr, nil)
	openTime := time.Since(start)
	defer s.Close()
	runtime.GC()
	rssReopened := rssMB(b)
	if c := s.Stats().Cases; c != n {
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
}
