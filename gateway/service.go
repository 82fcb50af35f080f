package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/internal/opsdebug"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// ServiceConfig is everything gatewayd serve needs: where to listen and what
// to connect to, and the API server's own settings in Server.
type ServiceConfig struct {
	// ConnectionFile is the org's generated connection JSON (peer, channels,
	// identities per role, TLS identities of the services).
	ConnectionFile string
	// PrivacyURL is the agency's privacy service (https, mutual TLS with the
	// gateway's TLS identity).
	PrivacyURL string
	// Listen is the HTTPS address of the API; OpsListen an optional plain
	// HTTP address serving only /healthz, /readyz and /metrics (open there;
	// on the API port /metrics needs an admin token).
	Listen, OpsListen string
	// Profiling adds Go's /debug/pprof/ endpoints to the operations listener.
	Profiling  bool
	TokensFile string
	// TLSCert/TLSKey of the API listener; default: the org's "gateway" TLS
	// identity from the connection file.
	TLSCert, TLSKey string
	Timeouts        Timeouts
	ShutdownTimeout time.Duration
	// Server holds the server's limits, background work, DataDir (required),
	// MinFreeBytes and Logger. Run sets the rest from what it opens: the
	// agency (Org, MSPID, MemberState) from the connection file, Ledger,
	// Vault, PrivacyReady, Store, Auth and Metrics; values given there are
	// replaced.
	Server Config
	// OnListen, if set, is told the bound API address.
	OnListen func(api net.Addr)
	// Mount, if set, builds the API listener's handler around the API's own
	// (cmd/gatewayd mounts the web console, package console, which calls the
	// API in process with session tokens minted by auth).
	Mount func(api http.Handler, auth *Authenticator) (http.Handler, error)
}

// Run serves the gateway until ctx ends, then shuts down gracefully: stop
// accepting (readiness goes false, new requests get 503), drain requests in
// flight within ShutdownTimeout, stop background work, flush checkpoints.
func Run(ctx context.Context, cfg ServiceConfig) error {
	log := cfg.Server.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.Server.DataDir == "" || cfg.TokensFile == "" || cfg.ConnectionFile == "" || cfg.PrivacyURL == "" {
		return errors.New("gateway: --connection, --privacy-url, --data-dir and --tokens are required")
	}
	conn, err := api.LoadConnection(cfg.ConnectionFile)
	if err != nil {
		return err
	}
	svcTLS, ok := conn.Services["gateway"]
	if !ok {
		return errors.New("gateway: the connection file names no gateway TLS identity")
	}
	if cfg.TLSCert == "" {
		cfg.TLSCert, cfg.TLSKey = svcTLS.CertFile, svcTLS.KeyFile
	}
	serverTLS, err := ServerTLSConfig(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return err
	}
	// The gateway is the privacy service's only client: it presents its own
	// client identity (pinned there; not the key of the public API), and
	// trusts the agency's TLS CA for the service.
	vaultTLS, ok := conn.Services["privacy-client"]
	if !ok {
		vaultTLS = svcTLS // connection files generated before the split
	}
	clientTLS, err := privacy.ClientTLSConfig(vaultTLS.CertFile, vaultTLS.KeyFile, vaultTLS.CAFile)
	if err != nil {
		return err
	}
	// Each transport gets its own copy: HTTP/2 set-up edits the config's
	// NextProtos, which would make a plain HTTP/1 probe speak the wrong protocol.
	vault, err := privacy.NewClient(cfg.PrivacyURL, clientTLS.Clone())
	if err != nil {
		return err
	}
	defer vault.Close()
	probe := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS.Clone()}}
	privacyReady := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(cfg.PrivacyURL, "/")+"/readyz", nil)
		if err != nil {
			return err
		}
		res, err := probe.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("privacy service: %s", res.Status)
		}
		return nil
	}
	metrics, err := NewMetrics()
	if err != nil {
		return err
	}
	ledger, err := NewFabricLedger(conn, FabricOptions{Timeouts: cfg.Timeouts, Logger: log, Metrics: metrics})
	if err != nil {
		return err
	}
	defer ledger.Close()
	store, err := OpenStore(cfg.Server.DataDir, log)
	if err != nil {
		return err
	}
	defer store.Close()
	auth, err := NewAuthenticator(cfg.TokensFile, conn.MSPID, nil)
	if err != nil {
		return err
	}
	if auth.Count() == 0 {
		log.Warn("no API token for this agency in the token file; every call will be refused", "tokens", cfg.TokensFile)
	}
	sc := cfg.Server
	sc.Org, sc.MSPID, sc.MemberState = conn.Org, conn.MSPID, conn.MemberState
	sc.Ledger, sc.Vault, sc.PrivacyReady, sc.Store, sc.Auth, sc.Logger, sc.Metrics = ledger, vault, privacyReady, store, auth, log, metrics
	srv, err := New(sc)
	if err != nil {
		return err
	}
	handler := srv.Handler()
	if cfg.Mount != nil {
		if handler, err = cfg.Mount(handler, auth); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	// No WriteTimeout: event streams are long-lived; every ledger call has
	// its own deadline.
	api := &http.Server{Handler: handler, TLSConfig: serverTLS, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	servers := []*http.Server{api}
	errc := make(chan error, 2)
	go func() { errc <- api.Serve(tls.NewListener(ln, serverTLS)) }()
	if cfg.OpsListen != "" {
		oln, err := net.Listen("tcp", cfg.OpsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen ops: %w", err)
		}
		ops := srv.OpsHandler()
		if cfg.Profiling {
			opsdebug.Mount(ops)
		}
		osrv := &http.Server{Handler: ops, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
		servers = append(servers, osrv)
		go func() { errc <- osrv.Serve(oln) }()
	}
	srv.Start(ctx)
	log.Info("gateway listening", "org", conn.Org, "api", ln.Addr().String(), "channels", len(conn.Channels), "roles", ledger.Roles())
	if cfg.OnListen != nil {
		cfg.OnListen(ln.Addr())
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
			log.Error("server failed", "err", err)
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	srv.BeginShutdown()
	var errs []error
	for _, s := range servers {
		errs = append(errs, s.Shutdown(sctx))
	}
	errs = append(errs, srv.Shutdown(sctx))
	log.Info("gateway stopped")
	return errors.Join(append(errs, serveErr)...)
}
