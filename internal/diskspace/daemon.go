package diskspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The Fabric peer and orderer panic on a full disk, and their operations
// endpoint takes no custom health check without changing Fabric. So a
// small watcher (cmd/diskwatch) runs next to them on the same host and
// serves the free space of their data folders and a readiness that goes
// false below the threshold, before the node fails (docs/operations.md).

// ErrBadFolder is returned by ParseFolder.
var ErrBadFolder = errors.New("invalid folder")

var folderNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// ParseFolder reads NAME=PATH (the watcher's --folder): a lower-case label
// and an absolute path.
func ParseFolder(s string) (Folder, error) {
	name, path, ok := strings.Cut(s, "=")
	switch {
	case !ok:
		return Folder{}, fmt.Errorf("%w: %q: want NAME=PATH", ErrBadFolder, s)
	case !folderNameRE.MatchString(name):
		return Folder{}, fmt.Errorf("%w: name %q: lower-case letters, digits and dashes", ErrBadFolder, name)
	case !strings.HasPrefix(path, "/") || strings.ContainsRune(path, 0):
		return Folder{}, fmt.Errorf("%w: %s: path %q is not absolute", ErrBadFolder, name, path)
	}
	return Folder{Name: name, Path: path}, nil
}

// Handler serves the watcher's operations endpoints: /healthz (the watcher
// runs), /readyz (200, or 503 naming the folder below the threshold) and
// /metrics (m's series, plus Go and process metrics on reg).
func Handler(w Watch, m Metrics, reg *prometheus.Registry) (http.Handler, error) {
	for _, c := range []prometheus.Collector{NewCollector(w, m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/plain")
		_, _ = rw.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/plain")
		if err := w.Check(); err != nil {
			rw.Header().Set("Retry-After", "60")
			rw.WriteHeader(http.StatusServiceUnavailable)
			_, _ = rw.Write([]byte(err.Error() + "\n"))
			return
		}
		_, _ = rw.Write([]byte("ready\n"))
	})
	return mux, nil
}

// Logger logs each change of the watch's state (low or unknown, and back),
// so the node's host log says when the space ran short even if nobody
// scrapes the metrics.
type Logger struct {
	w    Watch
	log  *slog.Logger
	last string
}

// NewLogger returns a Logger over w.
func NewLogger(w Watch, log *slog.Logger) *Logger { return &Logger{w: w, log: log} }

// Probe checks once and logs if the state changed since the last probe.
func (l *Logger) Probe() {
	msg := ""
	if err := l.w.Check(); err != nil {
		msg = err.Error()
	}
	if msg == l.last {
		return
	}
	if msg == "" {
		l.log.Info("free space above the threshold again")
	} else {
		l.log.Warn("free space", "problem", msg)
	}
	l.last = msg
}

// Run probes every interval until ctx ends.
func (l *Logger) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		l.Probe()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Serve runs the watcher on listen until ctx ends. onListen, if set, gets
// the bound address.
func Serve(ctx context.Context, listen string, w Watch, m Metrics, interval time.Duration, log *slog.Logger, onListen func(net.Addr)) error {
	h, err := Handler(w, m, prometheus.NewRegistry())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	if onListen != nil {
		onListen(ln.Addr())
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go NewLogger(w, log).Run(lctx, interval)
	go func() {
		<-ctx.Done()
		sctx, c := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("watching", "listen", ln.Addr().String(), "folders", len(w.Folders), "min_free", w.MinFree)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
