package diskspace

import (
	"errors"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// fakeFS reports settable free space per path (one fake of statfs).
type fakeFS struct {
	mu    sync.Mutex
	avail map[string]uint64
	fail  map[string]bool
}

func newFakeFS() *fakeFS { return &fakeFS{avail: map[string]uint64{}, fail: map[string]bool{}} }

func (f *fakeFS) statfs(path string) (uint64, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[path] {
		return 0, 0, io.ErrUnexpectedEOF
	}
	return f.avail[path], 100 << 30, nil
}

func (f *fakeFS) set(path string, avail uint64, fail bool) {
	f.mu.Lock()
	f.avail[path], f.fail[path] = avail, fail
	f.mu.Unlock()
}

func TestCheckFlipsAtTheThreshold(t *testing.T) {
	fs := newFakeFS()
	w := Watch{Folders: []Folder{{"ledger", "/p"}, {"snapshots", "/s"}}, MinFree: 1 << 30, StatFS: fs.statfs}
	for _, tc := range []struct {
		name         string
		ledger, snap uint64
		snapFail     bool
		want         string // "" ready
		low          bool
	}{
		{name: "room", ledger: 5 << 30, snap: 5 << 30},
		{name: "exactly the threshold", ledger: 1 << 30, snap: 1 << 30},
		{name: "one byte under", ledger: 1<<30 - 1, snap: 5 << 30, want: "ledger folder has 1073741823 bytes available, below the 1073741824-byte threshold", low: true},
		{name: "second folder", ledger: 5 << 30, snap: 0, want: "snapshots folder has 0 bytes", low: true},
		{name: "unknown", ledger: 5 << 30, snapFail: true, want: "free space of the snapshots folder unknown"},
		{name: "freed again", ledger: 2 << 30, snap: 2 << 30},
	} {
		fs.set("/p", tc.ledger, false)
		fs.set("/s", tc.snap, tc.snapFail)
		err := w.Check()
		if tc.want == "" {
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, ErrLow) != tc.low {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
}

func TestZeroThresholdIsOff(t *testing.T) {
	w := Watch{Folders: []Folder{{"data", "/d"}}, StatFS: func(string) (uint64, uint64, error) { return 0, 0, io.ErrUnexpectedEOF }}
	if err := w.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorSeriesCarryTheFolderLabel(t *testing.T) {
	fs := newFakeFS()
	fs.set("/o/ledger", 123456789, false)
	fs.set("/o/wal", 5<<30, false)
	fs.set("/o/snap", 0, true)
	c := NewCollector(Watch{Folders: []Folder{{"orderer0-ledger", "/o/ledger"}, {"orderer0-wal", "/o/wal"}, {"orderer0-snapshot", "/o/snap"}},
		MinFree: 1 << 30, StatFS: fs.statfs}, Metrics{Namespace: "fabric", Of: "the Fabric nodes' data folders"})
	body := scrape(t, c)
	for _, want := range []string{
		`# HELP fabric_disk_available_bytes Bytes available on the file system of the Fabric nodes' data folders.`,
		`fabric_disk_available_bytes{folder="orderer0-ledger"} 1.23456789e+08`,
		`fabric_disk_available_bytes{folder="orderer0-wal"} 5.36870912e+09`,
		`fabric_disk_size_bytes{folder="orderer0-ledger"} 1.073741824e+11`,
		`fabric_disk_size_bytes{folder="orderer0-wal"} 1.073741824e+11`,
		"fabric_disk_min_available_bytes 1.073741824e+09",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	// The folder whose file system cannot be read has no series.
	if strings.Contains(body, "orderer0-snapshot") {
		t.Errorf("series for an unreadable folder:\n%s", body)
	}
}

func TestCollectorUnlabelled(t *testing.T) {
	c := NewCollector(Watch{Folders: []Folder{{"data", "/g"}}, MinFree: 1 << 30,
		StatFS: func(string) (uint64, uint64, error) { return 512 << 20, 100 << 30, nil }},
		Metrics{Namespace: "gateway", Of: "the gateway's data folder", Unlabelled: true})
	body := scrape(t, c)
	for _, want := range []string{"gateway_disk_available_bytes 5.36870912e+08", "gateway_disk_size_bytes 1.073741824e+11", "gateway_disk_min_available_bytes 1.073741824e+09"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	// No folder: no series at all.
	if body := scrape(t, NewCollector(Watch{}, Metrics{Namespace: "x", Of: "y"})); strings.Contains(body, "x_disk") {
		t.Fatalf("series without folders:\n%s", body)
	}
}

func TestUsage(t *testing.T) {
	fs := newFakeFS()
	fs.set("/a", 7, false)
	fs.set("/b", 0, true)
	u := Watch{Folders: []Folder{{"a", "/a"}, {"b", "/b"}}, StatFS: fs.statfs}.Usage()
	if len(u) != 2 || u[0].Name != "a" || u[0].Avail != 7 || u[0].Total != 100<<30 || u[0].Err != nil || u[1].Err == nil {
		t.Fatalf("%+v", u)
	}
}

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		bad  bool
	}{
		{in: "0", want: 0}, {in: "1024", want: 1024}, {in: "1GiB", want: 1 << 30}, {in: "512 MiB", want: 512 << 20},
		{in: "2G", want: 2 << 30}, {in: "3K", want: 3 << 10}, {in: "1TiB", want: 1 << 40},
		{in: "", bad: true}, {in: "-1", bad: true}, {in: "1.5GiB", bad: true}, {in: "GiB", bad: true},
		{in: "1PiB", bad: true}, {in: "99999999999999999999", bad: true}, {in: "17179869184GiB", bad: true},
	} {
		got, err := ParseBytes(tc.in)
		if tc.bad != (err != nil) || (!tc.bad && got != tc.want) || (tc.bad && !errors.Is(err, ErrBadSize)) {
			t.Errorf("ParseBytes(%q) = %d, %v", tc.in, got, err)
		}
	}
}

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"0", "1GiB", "512 MiB", "17179869184GiB", "3K", " 9 T "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err != nil {
			if !errors.Is(err, ErrBadSize) {
				t.Fatalf("%q: unwrapped error %v", s, err)
			}
			return
		}
		// An accepted size reads back from its plain byte count.
		if m, err := ParseBytes(strconv.FormatUint(n, 10)); err != nil || m != n {
			t.Fatalf("%q = %d, read back as %d, %v", s, n, m, err)
		}
	})
}

func TestSysStatFS(t *testing.T) {
	avail, total, err := SysStatFS(t.TempDir())
	if err != nil || total == 0 || avail > total {
		t.Fatalf("statfs: %d of %d: %v", avail, total, err)
	}
	if _, _, err := SysStatFS(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Fatal("statfs of a missing folder succeeded")
	}
	// The default probe of a Watch is statfs(2).
	if err := (Watch{Folders: []Folder{{"tmp", t.TempDir()}}, MinFree: 1}).Check(); err != nil {
		t.Fatal(err)
	}
}

// scrape serves c alone on a pedantic registry, as /metrics would.
func scrape(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}
