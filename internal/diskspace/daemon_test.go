package diskspace

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHandlerReadinessFollowsTheThreshold(t *testing.T) {
	fs := newFakeFS()
	fs.set("/p", 5<<30, false)
	fs.set("/s", 5<<30, false)
	w := Watch{Folders: []Folder{{Name: "peer0-ledger", Path: "/p"}, {Name: "peer0-snapshots", Path: "/s"}}, MinFree: 1 << 30, StatFS: fs.statfs}
	h, err := Handler(w, Metrics{Namespace: "fabric", Of: "x"}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("room: %d %s", code, body)
	}
	fs.set("/s", 100<<20, false)
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "peer0-snapshots folder has 104857600 bytes available") {
		t.Fatalf("snapshots low: %d %s", code, body)
	}
	// Liveness is not readiness: the watcher itself is fine.
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	code, body := get("/metrics")
	for _, want := range []string{`fabric_disk_available_bytes{folder="peer0-snapshots"} 1.048576e+08`,
		`fabric_disk_available_bytes{folder="peer0-ledger"} 5.36870912e+09`, "fabric_disk_min_available_bytes 1.073741824e+09", "go_goroutines"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("metrics lack %q: %d", want, code)
		}
	}
	fs.set("/s", 1<<30, false)
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("freed: %d %s", code, body)
	}
}

func TestLoggerLogsTransitionsOnce(t *testing.T) {
	fs := newFakeFS()
	fs.set("/w", 5<<30, false)
	var buf bytes.Buffer
	l := NewLogger(Watch{Folders: []Folder{{Name: "orderer0-wal", Path: "/w"}}, MinFree: 1 << 30, StatFS: fs.statfs},
		slog.New(slog.NewTextHandler(&buf, nil)))
	l.Probe()
	if buf.Len() != 0 {
		t.Fatalf("logged while fine: %s", buf.String())
	}
	fs.set("/w", 1, false)
	l.Probe()
	l.Probe()
	if n := strings.Count(buf.String(), "orderer0-wal folder has 1 bytes"); n != 1 {
		t.Fatalf("%d warnings: %s", n, buf.String())
	}
	fs.set("/w", 5<<30, false)
	l.Probe()
	if !strings.Contains(buf.String(), "above the threshold again") {
		t.Fatal(buf.String())
	}
}

func TestServeOnLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, "127.0.0.1:0", Watch{Folders: []Folder{{Name: "tmp", Path: t.TempDir()}}, MinFree: 1},
			Metrics{Namespace: "fabric", Of: "x"}, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a net.Addr) { addrs <- a })
	}()
	var a net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatal(err)
	}
	res, err := http.Get("http://" + a.String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("readyz %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestParseFolder(t *testing.T) {
	for _, tc := range []struct {
		in  string
		out Folder
		bad bool
	}{
		{in: "peer0-ledger=/var/hyperledger/production", out: Folder{Name: "peer0-ledger", Path: "/var/hyperledger/production"}},
		{in: "wal=/a=b", out: Folder{Name: "wal", Path: "/a=b"}},
		{in: "ledger", bad: true}, {in: "=/x", bad: true}, {in: "Ledger=/x", bad: true}, {in: "a b=/x", bad: true},
		{in: "ledger=relative/x", bad: true}, {in: "ledger=", bad: true}, {in: `le"dger=/x`, bad: true},
	} {
		got, err := ParseFolder(tc.in)
		if tc.bad != (err != nil) || got != tc.out || (tc.bad && !errors.Is(err, ErrBadFolder)) {
			t.Errorf("ParseFolder(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func FuzzParseFolder(f *testing.F) {
	for _, s := range []string{"peer0-ledger=/var/x", "a=/", "=", "x=y", "wal=/a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFolder(s)
		if err != nil {
			if !errors.Is(err, ErrBadFolder) {
				t.Fatalf("%q: unwrapped %v", s, err)
			}
			return
		}
		// A label is safe in a metric and round-trips.
		if !folderNameRE.MatchString(got.Name) || got.Name+"="+got.Path != s {
			t.Fatalf("%q -> %+v", s, got)
		}
	})
}
