package privacy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/caseledger/caseledger/internal/opsdebug"
)

// ServerTLSConfig loads the service's certificate and the agency CA that
// must have signed every client certificate. A connection without a client
// certificate is accepted at the TLS layer only so that the API can answer it
// with an UNAUTHENTICATED problem (health probes stay reachable); a
// certificate that does not verify is refused in the handshake.
func ServerTLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: server key pair: %w", err)
	}
	pool, err := loadCAPool(clientCAFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}

// ClientTLSConfig builds the gateway side: its client certificate and the CA
// that signed the service's certificate.
func ClientTLSConfig(certFile, keyFile, serverCAFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: client key pair: %w", err)
	}
	pool, err := loadCAPool(serverCAFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, RootCAs: pool}, nil
}

func loadCAPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls: CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: no certificate in CA file %s", ErrInvalidInput, path)
	}
	return pool, nil
}

// LoadKEK reads the keyring from a file, or, when file is empty, from the
// value of an environment secret.
func LoadKEK(file, envValue string) (*Keyring, error) {
	switch {
	case file != "":
		return LoadKeyringFile(file)
	case envValue != "":
		return ParseKeyring([]byte(envValue))
	default:
		return nil, fmt.Errorf("%w: no key-encryption key: set --kek-file or PRIVACYD_KEK", ErrInvalidInput)
	}
}

// DaemonConfig is everything privacyd serve needs.
type DaemonConfig struct {
	Store           Options
	Listen          string // mTLS API, e.g. ":8443"
	OpsListen       string // optional plain HTTP for /healthz /readyz /metrics
	Profiling       bool   // adds Go's /debug/pprof/ endpoints to the ops listener
	TLS             *tls.Config
	AllowedCNs      []string
	AllowedOUs      []string
	AllowedKeys     []string
	AdminKeys       []string
	AdminCNs        []string
	ShutdownTimeout time.Duration
	Audit           *slog.Logger
	// KEKFile is the keyring file, if any: its folder's free space is
	// watched with the data and tombstone folders.
	KEKFile string
	// MinFreeBytes is the readiness threshold of free space (0: none).
	MinFreeBytes uint64
	// StatFS probes free space (default SysStatFS).
	StatFS StatFS
	// OnListen, if set, is told the bound addresses (tests, scripts).
	OnListen func(api, ops net.Addr)
}

// RunDaemon opens the store, serves until ctx is cancelled, then shuts down
// gracefully: stop accepting, finish calls in flight, close the store.
func RunDaemon(ctx context.Context, cfg DaemonConfig) error {
	log := cfg.Store.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
		cfg.Store.Logger = log
	}
	if cfg.TLS == nil {
		return fmt.Errorf("%w: TLS configuration is required", ErrInvalidInput)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	store, err := Open(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer store.Close()
	srv, err := NewServer(ServerConfig{Store: store, Logger: log, Audit: cfg.Audit,
		AllowedCNs: cfg.AllowedCNs, AllowedOUs: cfg.AllowedOUs, AllowedKeys: cfg.AllowedKeys,
		AdminCNs: cfg.AdminCNs, AdminKeys: cfg.AdminKeys,
		Disk: DiskConfig{Folders: store.Folders(cfg.KEKFile), MinFreeBytes: cfg.MinFreeBytes, StatFS: cfg.StatFS}})
	if err != nil {
		return err
	}
	tcfg := cfg.TLS.Clone()
	if len(tcfg.NextProtos) == 0 {
		tcfg.NextProtos = []string{"h2", "http/1.1"}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	api := &http.Server{Handler: srv.Handler(), TLSConfig: tcfg, ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	servers := []*http.Server{api}
	errc := make(chan error, 2)
	go func() { errc <- api.Serve(tlsListener(ln, tcfg)) }()
	var opsAddr net.Addr
	if cfg.OpsListen != "" {
		oln, err := net.Listen("tcp", cfg.OpsListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen ops: %w", err)
		}
		opsAddr = oln.Addr()
		opsHandler := srv.OpsHandler()
		if cfg.Profiling {
			mux := http.NewServeMux()
			mux.Handle("/", opsHandler)
			opsdebug.Mount(mux)
			opsHandler = mux
		}
		ops := &http.Server{Handler: opsHandler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
		servers = append(servers, ops)
		go func() { errc <- ops.Serve(oln) }()
	}
	log.Info("privacy service listening", "api", ln.Addr().String(), "domains", store.Domains())
	if cfg.OnListen != nil {
		cfg.OnListen(ln.Addr(), opsAddr)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("server failed", "err", err)
		}
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, s := range slices.Backward(servers) {
		errs = append(errs, s.Shutdown(sctx))
	}
	errs = append(errs, store.Close())
	return errors.Join(errs...)
}

func tlsListener(ln net.Listener, cfg *tls.Config) net.Listener { return tls.NewListener(ln, cfg) }

// RotateKEKFile rotates the keyring file and re-wraps the store's data keys
// (service stopped). The new keyring, holding old and new versions, is
// written first, so a crash in between leaves a store that still opens; run
// it again to finish. Retire the old version afterwards with RetireKEKVersion.
func RotateKEKFile(ctx context.Context, kekFile string, opts Options) (newVersion uint32, rewrapped int, err error) {
	cur, err := LoadKeyringFile(kekFile)
	if err != nil {
		return 0, 0, err
	}
	next, err := cur.Rotated()
	if err != nil {
		return 0, 0, err
	}
	if err := WriteKeyringFile(kekFile, next); err != nil {
		return 0, 0, err
	}
	opts.KEK = next
	s, err := Open(ctx, opts)
	if err != nil {
		return 0, 0, err
	}
	n, err := s.RotateKEK(ctx, next)
	return next.ActiveVersion(), n, errors.Join(err, s.Close())
}

// RetireKEKVersion removes a KEK version from the keyring file once no data
// key of the store is wrapped under it. Every backup and stray copy wrapped
// under that version is unreadable from then on.
func RetireKEKVersion(ctx context.Context, kekFile string, version uint32, opts Options) error {
	cur, err := LoadKeyringFile(kekFile)
	if err != nil {
		return err
	}
	next, err := cur.Without(version)
	if err != nil {
		return err
	}
	opts.KEK = cur
	s, err := Open(ctx, opts)
	if err != nil {
		return err
	}
	inUse, err := s.KEKVersionsInUse(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n := inUse[version]; n > 0 {
		return fmt.Errorf("%w: %d data keys are still wrapped under version %d; rotate first", ErrConflict, n, version)
	}
	return WriteKeyringFile(kekFile, next)
}

// BackupToFile writes a backup of an open store to path (0600, synced).
func BackupToFile(ctx context.Context, s *Store, path string) (BackupStats, error) {
	return writeSecureFile(path, func(w io.Writer) (BackupStats, error) { return s.Backup(ctx, w) })
}

func writeSecureFile(path string, fill func(io.Writer) (BackupStats, error)) (BackupStats, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return BackupStats{}, fmt.Errorf("backup file: %w", err)
	}
	st, err := fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return st, fmt.Errorf("backup file: %w", err)
	}
	return st, nil
}

// BackupFileFromServer fetches a backup of a running service into path.
func BackupFileFromServer(ctx context.Context, c *Client, path string) error {
	_, err := writeSecureFile(path, func(w io.Writer) (BackupStats, error) { return BackupStats{}, c.Backup(ctx, w) })
	return err
}
