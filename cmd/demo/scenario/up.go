package scenario

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/caseledger/caseledger/client/progress"
	"github.com/caseledger/caseledger/network"
)

// UpOptions say which network to bring up for the demo.
type UpOptions struct {
	// ModuleDir is the caseledger module (binaries are built from it).
	ModuleDir string
	// Description is the network (the built-in "demo" topology).
	Description network.Description
	// Root is the network's folder (default <module>/.run/<name>).
	Root string
	// Out receives progress lines.
	Out io.Writer
}

// Timings are how long bringing the system up took, per stage.
type Timings struct {
	Fabric, Network, Services time.Duration
}

// Up builds what is missing and brings the network, chaincode servers,
// privacy services and gateways up, with a progress line per stage. A
// running system is left as it is (nodes already running are kept). The
// network's own log goes to <root>-up.log next to the root (the root itself
// may be wiped when a half-generated network is regenerated).
func Up(ctx context.Context, o UpOptions) (*network.Network, Timings, string, error) {
	var t Timings
	if o.Root == "" {
		o.Root = filepath.Join(o.ModuleDir, ".run", o.Description.Name)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, t, "", err
	}
	logPath := root + "-up.log"
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, t, logPath, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, t, logPath, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n=== %s demo up\n", time.Now().UTC().Format(time.RFC3339))

	start := time.Now()
	fmt.Fprintln(o.Out, "… Fabric v2.5.0 and Fabric CA binaries (built once from the Go module proxy into ~/.cache/caseledger; a cold build takes about 3 minutes)")
	bin, err := network.EnsureFabric(ctx, o.ModuleDir)
	if err != nil {
		return nil, t, logPath, err
	}
	t.Fabric = time.Since(start)
	fmt.Fprintf(o.Out, "✔ Fabric binaries ready (%s)\n", t.Fabric.Round(100*time.Millisecond))

	line := progress.Start(o.Out, fmt.Sprintf("network %s: CAs, identities, 3 Raft orderers, 5 peers, channels, chaincode", o.Description.Name))
	logger := slog.New(&statusHandler{next: slog.NewTextHandler(logf, nil), status: line.Status})
	n, err := network.New(o.Description, network.Options{Root: root, FabricBin: bin, ModuleDir: o.ModuleDir, Logger: logger})
	if err != nil {
		line.Fail("%v", err)
		return nil, t, logPath, err
	}
	start = time.Now()
	if err := n.Up(ctx); err != nil {
		line.Fail("%v", err)
		return n, t, logPath, err
	}
	t.Network = time.Since(start)
	line.Done("")

	line = progress.Start(o.Out, "privacy services and gateways of the 5 agencies (built from this module)")
	start = time.Now()
	if err := n.UpServices(ctx); err != nil {
		line.Fail("%v", err)
		return n, t, logPath, err
	}
	t.Services = time.Since(start)
	line.Done("")
	return n, t, logPath, nil
}

// statusHandler shows each log message of the network as the progress
// line's status and passes the record on to the log file.
type statusHandler struct {
	next   slog.Handler
	status func(format string, args ...any)
}

func (h *statusHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *statusHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		h.status("%s", r.Message)
	}
	return h.next.Handle(ctx, r)
}

func (h *statusHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &statusHandler{next: h.next.WithAttrs(as), status: h.status}
}

func (h *statusHandler) WithGroup(name string) slog.Handler {
	return &statusHandler{next: h.next.WithGroup(name), status: h.status}
}
