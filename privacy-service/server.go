package privacy

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/caseledger/caseledger/api"
)

// ServerConfig configures the HTTP API.
type ServerConfig struct {
	Store *Store
	// Logger gets operational logs, Audit one line per call. Neither ever
	// receives a local reference or a pseudonym.
	Logger *slog.Logger
	Audit  *slog.Logger
	// AllowedCNs / AllowedOUs pin the gateway's client certificate (in
	// addition to it being signed by the agency CA). Empty: any certificate
	// the CA signed.
	AllowedCNs []string
	AllowedOUs []string
	// AllowedKeys pins the gateway's client certificate by public key: hex
	// SHA-256 of its SubjectPublicKeyInfo (KeyPin). Names alone are not
	// enough: anyone who can get a certificate from the agency's TLS CA can
	// choose its CN. Empty: no pin.
	AllowedKeys []string
	// AdminCNs may call /v1/admin/* (backup, restore). Empty: nobody.
	// AdminKeys, if set, pins those identities by public key like
	// AllowedKeys (a CN is whatever the enrolling party asked the CA for).
	AdminCNs  []string
	AdminKeys []string
	// MaxBodyBytes bounds a request (default DefaultMaxBodyBytes);
	// MaxRestoreBytes bounds an uploaded backup (default 4 GiB).
	MaxBodyBytes    int64
	MaxRestoreBytes int64
	// Registry receives the metrics (default: a new registry).
	Registry *prometheus.Registry
	// Disk watches the free space of the service's folders (metrics and
	// readiness); no folders: no watch.
	Disk DiskConfig
}

// Server is the vault's HTTP API.
type Server struct {
	cfg      ServerConfig
	store    *Store
	mux      *http.ServeMux
	ops      *http.ServeMux
	reqs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	disk     *diskWatch
}

// NewServer builds the API on a store.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: server needs a store", ErrInvalidInput)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Audit == nil {
		cfg.Audit = cfg.Logger
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxRestoreBytes <= 0 {
		cfg.MaxRestoreBytes = 4 << 30
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		cfg: cfg, store: cfg.Store, mux: http.NewServeMux(), ops: http.NewServeMux(),
		reqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "privacy_http_requests_total",
			Help: "API calls by operation and outcome code.",
		}, []string{"op", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "privacy_http_request_seconds",
			Help:    "API call latency by operation.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 18),
		}, []string{"op"}),
		disk: newDiskWatch(cfg.Disk),
	}
	cs := cfg.Store.Collectors()
	if len(cfg.Disk.Folders) > 0 {
		cs = append(cs, s.disk)
	}
	for _, c := range append(cs, s.reqs, s.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})) {
		if err := cfg.Registry.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("metrics: %w", err)
			}
		}
	}
	s.routes()
	return s, nil
}

// Handler is the full API (behind mTLS).
func (s *Server) Handler() http.Handler { return s.mux }

// OpsHandler serves only /healthz, /readyz and /metrics, for a plain-HTTP
// listener on an internal address (probes, Prometheus).
func (s *Server) OpsHandler() http.Handler { return s.ops }

type handlerFunc func(w http.ResponseWriter, r *http.Request, domain string) (status int, body any, err error)

func (s *Server) routes() {
	data := map[string]handlerFunc{
		"pseudonymize":      s.hPseudonymize,
		"bind":              s.hBind,
		"resolve-ref":       s.hResolveRef,
		"resolve-pseudonym": s.hResolvePseudonym,
		"link":              s.hLink,
		"link-new":          s.hLinkNew,
		"linked":            s.hLinked,
		"anchor-key":        s.hAnchorKey,
		"rectify":           s.hRectify,
		"erase":             s.hErase,
		"erase-entry":       s.hEraseEntry,
		"list":              s.hList,
		"export":            s.hExport,
	}
	for op, h := range data {
		s.mux.Handle("POST /v1/domains/{domain}/"+op, s.wrap(op, false, h))
	}
	s.mux.Handle("POST /v1/generation", s.wrap("generation", false, s.hGeneration))
	s.mux.Handle("POST /v1/admin/backup", s.wrap("backup", true, s.hBackup))
	s.mux.Handle("POST /v1/admin/restore", s.wrap("restore", true, s.hRestore))
	for _, mux := range []*http.ServeMux{s.mux, s.ops} {
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("ok\n"))
		})
		mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
			if err := s.Ready(); err != nil {
				writeProblem(w, "", err)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("ready\n"))
		})
	}
	metrics := promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{})
	s.ops.Handle("GET /metrics", metrics)
	s.mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.authorize(identity(r), false); err != nil {
			writeProblem(w, "", err)
			return
		}
		metrics.ServeHTTP(w, r)
	}))
	// Everything else: a problem body, not the mux's plain-text 404/405.
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, "", fmt.Errorf("%w: no such route", ErrNotFound))
	})
}

// KeyPin is the pin of a certificate's public key: lower-case hex SHA-256 of
// its DER SubjectPublicKeyInfo (stays the same when a certificate is
// re-issued for the same key).
func KeyPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// Ready is the readiness check: the store accepts writes and every watched
// folder has at least the configured free space.
func (s *Server) Ready() error {
	if err := s.store.Ready(); err != nil {
		return err
	}
	return s.disk.check()
}

// identity returns the caller's verified client certificate.
func identity(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}

func (s *Server) authorize(cert *x509.Certificate, admin bool) error {
	if cert == nil {
		return fmt.Errorf("%w: a client certificate signed by the agency CA is required", ErrUnauthenticated)
	}
	if admin {
		if !slices.Contains(s.cfg.AdminCNs, cert.Subject.CommonName) ||
			(len(s.cfg.AdminKeys) > 0 && !slices.Contains(s.cfg.AdminKeys, KeyPin(cert))) {
			return fmt.Errorf("%w: this identity may not call admin operations", ErrForbidden)
		}
		return nil
	}
	if len(s.cfg.AllowedKeys) > 0 && !slices.Contains(s.cfg.AllowedKeys, KeyPin(cert)) {
		return fmt.Errorf("%w: this identity is not the agency gateway", ErrForbidden)
	}
	if len(s.cfg.AllowedCNs) > 0 && !slices.Contains(s.cfg.AllowedCNs, cert.Subject.CommonName) {
		return fmt.Errorf("%w: this identity is not the agency gateway", ErrForbidden)
	}
	if len(s.cfg.AllowedOUs) > 0 && !slices.ContainsFunc(cert.Subject.OrganizationalUnit, func(ou string) bool {
		return slices.Contains(s.cfg.AllowedOUs, ou)
	}) {
		return fmt.Errorf("%w: this identity is not the agency gateway", ErrForbidden)
	}
	return nil
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// wrap adds authentication, the problem mapping, metrics and the audit line.
// The audit line names the operation, the configured domain, the caller's
// certificate subject and serial, the outcome and a request id — no
// reference, no pseudonym.
func (s *Server) wrap(op string, admin bool, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		reqID := newRequestID()
		w.Header().Set(api.HeaderRequestID, reqID)
		cert := identity(r)
		domain := r.PathValue("domain")
		if _, ok := s.store.domains[domain]; !ok && domain != "" {
			domain = "(unknown)" // never echo an arbitrary path segment into logs
		}
		status, body, err := 0, any(nil), s.authorize(cert, admin)
		if err == nil {
			if err = checkContentType(r.Header.Get("Content-Type"), admin); err == nil {
				status, body, err = h(w, r, r.PathValue("domain"))
			}
		}
		code := "OK"
		if err != nil {
			code = string(CodeOf(err))
			if CodeOf(err) == CodeInternal {
				s.cfg.Logger.Error("internal error", "op", op, "request_id", reqID, "err", err)
			}
			writeProblem(w, reqID, err)
		} else if body != nil {
			writeJSON(w, status, body)
		} else if status != 0 {
			w.WriteHeader(status)
		}
		elapsed := time.Since(start)
		s.reqs.WithLabelValues(op, code).Inc()
		s.duration.WithLabelValues(op).Observe(elapsed.Seconds())
		caller, serial := "", ""
		if cert != nil {
			caller, serial = cert.Subject.CommonName, cert.SerialNumber.Text(16)
		}
		s.cfg.Audit.LogAttrs(r.Context(), slog.LevelInfo, "privacy.call",
			slog.String("request_id", reqID), slog.String("op", op), slog.String("domain", domain),
			slog.String("caller_cn", caller), slog.String("caller_serial", serial),
			slog.String("outcome", code), slog.Int64("micros", elapsed.Microseconds()))
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func writeProblem(w http.ResponseWriter, reqID string, err error) {
	p := problemFor(err)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	if reqID != "" {
		w.Header().Set(api.HeaderRequestID, reqID)
	}
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func (s *Server) decode(r *http.Request, v requestValidator) error {
	return decodeRequest(r.Body, s.cfg.MaxBodyBytes, v)
}

func createdStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

func (s *Server) hPseudonymize(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req RefRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	p, created, err := s.store.Pseudonymize(r.Context(), domain, req.LocalRef)
	return createdStatus(created), PseudonymResponse{Pseudonym: p, Created: created}, err
}

func (s *Server) hBind(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req BindRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	created, err := s.store.Bind(r.Context(), domain, req.Pseudonym, req.LocalRef)
	return createdStatus(created), PseudonymResponse{Pseudonym: req.Pseudonym, Created: created}, err
}

func (s *Server) hResolveRef(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req RefRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	p, err := s.store.ResolveRef(r.Context(), domain, req.LocalRef)
	return http.StatusOK, PseudonymResponse{Pseudonym: p}, err
}

func (s *Server) hResolvePseudonym(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req PseudonymRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	refs, err := s.store.ResolvePseudonym(r.Context(), domain, req.Pseudonym)
	return http.StatusOK, RefsResponse{LocalRefs: refs}, err
}

func (s *Server) hLink(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req LinkRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.ToPseudonym == "" {
		return 0, nil, fmt.Errorf("%w: toPseudonym is required (use link-new to create one)", ErrInvalidInput)
	}
	err := s.store.Link(r.Context(), domain, req.Pseudonym, req.ToDomain, req.ToPseudonym)
	return http.StatusOK, PseudonymResponse{Pseudonym: req.ToPseudonym}, err
}

func (s *Server) hLinkNew(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req LinkRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.ToPseudonym != "" {
		return 0, nil, fmt.Errorf("%w: link-new creates the pseudonym; omit toPseudonym", ErrInvalidInput)
	}
	p, created, err := s.store.LinkNew(r.Context(), domain, req.Pseudonym, req.ToDomain)
	return createdStatus(created), PseudonymResponse{Pseudonym: p, Created: created}, err
}

func (s *Server) hLinked(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req LinkRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	p, err := s.store.Linked(r.Context(), domain, req.Pseudonym, req.ToDomain)
	return http.StatusOK, PseudonymResponse{Pseudonym: p}, err
}

func (s *Server) hAnchorKey(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req PseudonymRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	k, err := s.store.AnchorKey(r.Context(), domain, req.Pseudonym)
	return http.StatusOK, AnchorKeyResponse{Key: k}, err
}

func (s *Server) hRectify(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req RectifyRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, s.store.Rectify(r.Context(), domain, req.Pseudonym, req.OldLocalRef, req.NewLocalRef)
}

func (s *Server) hErase(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req EraseRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	var er Erasure
	var err error
	if req.Pseudonym != "" {
		er, err = s.store.ErasePseudonym(r.Context(), domain, req.Pseudonym)
	} else {
		er, err = s.store.EraseRef(r.Context(), domain, req.LocalRef)
	}
	return http.StatusOK, er, err
}

func (s *Server) hEraseEntry(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req EraseEntryRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	er, err := s.store.EraseEntry(r.Context(), domain, req.Pseudonym)
	return http.StatusOK, er, err
}

func (s *Server) hList(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req ListRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	ps, next, err := s.store.List(r.Context(), domain, req.After, req.Limit)
	return http.StatusOK, ListResponse{Pseudonyms: ps, Next: next}, err
}

func (s *Server) hExport(_ http.ResponseWriter, r *http.Request, domain string) (int, any, error) {
	var req RefRequest
	if err := s.decode(r, &req); err != nil {
		return 0, nil, err
	}
	ex, err := s.store.Export(r.Context(), domain, req.LocalRef)
	return http.StatusOK, ex, err
}

func (s *Server) hGeneration(_ http.ResponseWriter, r *http.Request, _ string) (int, any, error) {
	g, err := s.store.Generation(r.Context())
	return http.StatusOK, GenerationResponse{Generation: g}, err
}

// hBackup streams a backup. Errors after the first byte cannot become a
// problem body; the missing end frame makes the backup fail verification.
func (s *Server) hBackup(w http.ResponseWriter, r *http.Request, _ string) (int, any, error) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	st, err := s.store.Backup(r.Context(), w)
	if err != nil {
		s.cfg.Logger.Error("backup failed", "err", err)
		panic(http.ErrAbortHandler) // cut the connection: the client sees a truncated body
	}
	s.cfg.Logger.Info("backup written", "records", st.Records, "tombstones", st.Tombstones)
	return 0, nil, nil
}

func (s *Server) hRestore(_ http.ResponseWriter, r *http.Request, _ string) (int, any, error) {
	if r.ContentLength > s.cfg.MaxRestoreBytes {
		return 0, nil, fmt.Errorf("%w: backup exceeds %d bytes", ErrTooLarge, s.cfg.MaxRestoreBytes)
	}
	st, err := s.store.Restore(r.Context(), http.MaxBytesReader(nil, r.Body, s.cfg.MaxRestoreBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = fmt.Errorf("%w: backup exceeds %d bytes", ErrTooLarge, s.cfg.MaxRestoreBytes)
	}
	return http.StatusOK, st, err
}
