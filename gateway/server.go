// Package gateway is an agency's HTTP API to the ledger: every agency system
// calls its own gateway, which pseudonymises local references through the
// agency's privacy service, signs with the Fabric identity of the caller's
// role, submits through the agency's own peer and answers with the outcome.
// docs/gateway.md describes the API (openapi.yaml is its source of truth),
// authentication, exactly-once writes, events, webhooks and automations.
package gateway

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/diskspace"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// Config assembles a gateway.
type Config struct {
	// Org, MSPID, MemberState describe the agency the gateway serves.
	Org         string
	MSPID       string
	MemberState string
	Ledger      Ledger
	Vault       privacy.Vault
	// PrivacyReady checks the privacy service for /readyz (nil: always ready).
	PrivacyReady func(ctx context.Context) error
	Store        *Store
	Auth         *Authenticator
	Logger       *slog.Logger
	Metrics      *Metrics
	// Now is the clock (fake in tests).
	Now func() time.Time
	// MaxInFlight bounds requests served at once (event streams apart).
	// Up to MaxQueue more wait at most QueueWait for a slot, which absorbs
	// bursts; beyond that the gateway answers 503 OVERLOADED with
	// Retry-After at once. MaxQueue 0 means MaxInFlight, negative no queue;
	// QueueWait 0 means DefaultQueueWait.
	MaxInFlight int
	MaxQueue    int
	QueueWait   time.Duration
	// MinBlockWait bounds the wait for the agency's peer to reach the block
	// a request names in Caseledger-Min-Block (0: DefaultMinBlockWait).
	MinBlockWait time.Duration
	// MaxStreams bounds open event streams.
	MaxStreams int
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration
	// Webhooks configures webhook delivery.
	Webhooks WebhookOptions
	// Automations configures the deadline watcher and the erasure executor.
	Automations AutomationOptions
	// EventRetention trims event-log entries older than this once every
	// durable consumer (webhooks, erasure executor) has passed them
	// (0: keep everything).
	EventRetention time.Duration
	// DataDir is the store's folder, whose free space is exported and
	// checked by /readyz ("": not watched). MinFreeBytes is the readiness
	// threshold (0: DefaultMinFreeBytes; use a DataDir of "" to disable).
	// StatFS probes it (default diskspace.SysStatFS; a fake in tests).
	DataDir      string
	MinFreeBytes uint64
	StatFS       diskspace.StatFS
}

// Server is the gateway's HTTP API and its background work.
type Server struct {
	cfg     Config
	log     *slog.Logger
	m       *Metrics
	ledger  Ledger
	vault   privacy.Vault
	store   *Store
	auth    *Authenticator
	idem    *idempotency
	now     func() time.Time
	mux     *http.ServeMux
	ops     *http.ServeMux
	routes  []route
	sem     chan struct{}
	queued  atomic.Int64
	heights heights
	streams atomic.Int64
	disk    *diskWatch

	evlog    *eventLog
	hooks    *webhooks
	plans    planRunner // erasure plans (erasure_plan.go)
	auditor  *auditVerifier
	closing  chan struct{}
	closeOne sync.Once
	wg       sync.WaitGroup
}

// Defaults.
const (
	DefaultMaxInFlight    = 64
	DefaultQueueWait      = 3 * time.Second
	DefaultMaxStreams     = 64
	DefaultIdempotencyTTL = 24 * time.Hour
	maxJSONBody           = 64 << 10
	maxDocumentBody       = 12 << 20
)

// New builds the gateway. Call Start to run its background work.
func New(cfg Config) (*Server, error) {
	if cfg.Ledger == nil || cfg.Vault == nil || cfg.Store == nil || cfg.Auth == nil {
		return nil, errors.New("gateway: ledger, vault, store and authenticator are required")
	}
	if !domain.IsMSPID(cfg.MSPID) {
		return nil, errors.New("gateway: invalid MSP id")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	switch {
	case cfg.MaxQueue == 0:
		cfg.MaxQueue = cfg.MaxInFlight
	case cfg.MaxQueue < 0:
		cfg.MaxQueue = 0
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = DefaultQueueWait
	}
	if cfg.MinBlockWait <= 0 {
		cfg.MinBlockWait = DefaultMinBlockWait
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.IdempotencyTTL <= 0 {
		cfg.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if cfg.Metrics == nil {
		m, err := NewMetrics()
		if err != nil {
			return nil, err
		}
		cfg.Metrics = m
	}
	if cfg.MinFreeBytes == 0 {
		cfg.MinFreeBytes = DefaultMinFreeBytes
	}
	if cfg.StatFS == nil {
		cfg.StatFS = diskspace.SysStatFS
	}
	if cfg.PrivacyReady == nil {
		cfg.PrivacyReady = func(context.Context) error { return nil }
	}
	idem, err := newIdempotency(cfg.Store, cfg.IdempotencyTTL, cfg.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, m: cfg.Metrics, ledger: cfg.Ledger, vault: cfg.Vault, store: cfg.Store,
		auth: cfg.Auth, idem: idem, now: cfg.Now, mux: http.NewServeMux(),
		sem: make(chan struct{}, cfg.MaxInFlight), closing: make(chan struct{}),
	}
	s.disk = newDiskWatch(cfg.DataDir, cfg.MinFreeBytes, cfg.StatFS)
	if err := s.m.Registry().Register(s.disk); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) { // a second server on the same metrics (tests)
			return nil, fmt.Errorf("gateway: disk metrics: %w", err)
		}
	}
	if s.evlog, err = newEventLog(s.store, s.m, s.now); err != nil {
		return nil, err
	}
	s.hooks = newWebhooks(s, cfg.Webhooks)
	s.auditor = newAuditVerifier(s)
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("/", s.notFound)
	s.ops = http.NewServeMux()
	s.ops.HandleFunc("GET /healthz", s.healthz)
	s.ops.HandleFunc("GET /readyz", s.readyz)
	s.ops.Handle("GET /metrics", promhttp.HandlerFor(s.m.Registry(), promhttp.HandlerOpts{}))
	return s, nil
}

// Handler is the whole HTTP API. Its /metrics needs an admin token.
func (s *Server) Handler() http.Handler { return s.mux }

// OpsHandler serves /healthz, /readyz and /metrics without authentication,
// for the operations listener (plain HTTP on loopback or a management
// network, where Prometheus scrapes): metrics say how much an agency works
// and when, which is not for every client of the public API port.
func (s *Server) OpsHandler() *http.ServeMux { return s.ops }

func (s *Server) hMetrics(c *call) {
	promhttp.HandlerFor(s.m.Registry(), promhttp.HandlerOpts{}).ServeHTTP(c.w, c.r)
}

// notFound answers unknown routes, and known paths with another method
// (the catch-all pattern takes those from the mux), as problems.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range s.routes {
		if pathMatches(rt.path, r.URL.Path) {
			allow = append(allow, rt.method)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, newProblem(api.CodeMethodNotAllowed, ""))
		return
	}
	writeProblem(w, newProblem(api.CodeRouteNotFound, ""))
}

// pathMatches compares a route template with a path segment by segment.
func pathMatches(tmpl, path string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if !(strings.HasPrefix(ts[i], "{") && ps[i] != "") && ts[i] != ps[i] {
			return false
		}
	}
	return true
}

// route is one operation of the API. The table is checked against the
// OpenAPI document (openapi_test.go).
type route struct {
	method, path string
	// write routes require an Idempotency-Key; ledger writes also list the
	// roles that may write (never the auditor).
	write bool
	// public routes need no token.
	public bool
	// roles allowed (nil: any authenticated caller).
	roles []domain.Role
	// stream routes (SSE) are not counted against MaxInFlight.
	stream    bool
	bodyLimit int64
	h         func(c *call) (int, any, error)
	raw       func(c *call)
}

// call is one request in a handler.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	caller Caller
	body   []byte
	idem   *idemCall
	id     string
	// minBlock is the block the request depends on (Caseledger-Min-Block; 0: none).
	minBlock uint64
}

func writerRoles() []domain.Role {
	return []domain.Role{domain.RoleCaseworker, domain.RoleDublinOfficer, domain.RoleAdmin}
}

func auditorRoles() []domain.Role { return []domain.Role{domain.RoleAuditor, domain.RoleAdmin} }

func (s *Server) routeTable() []route {
	w := func(method, path string, h func(c *call) (int, any, error)) route {
		return route{method: method, path: path, write: true, roles: writerRoles(), h: h}
	}
	r := func(method, path string, h func(c *call) (int, any, error)) route {
		return route{method: method, path: path, h: h}
	}
	a := func(method, path string, h func(c *call) (int, any, error)) route {
		return route{method: method, path: path, roles: auditorRoles(), h: h}
	}
	doc := func(rt route) route { rt.bodyLimit = maxDocumentBody; return rt }
	return []route{
		{method: "GET", path: "/v1/openapi.yaml", public: true, raw: s.hOpenAPI},
		r("GET", "/v1/whoami", s.hWhoami),
		r("GET", "/v1/vocabulary", s.hVocabulary),
		w("POST", "/v1/cases", s.hRegister),
		w("POST", "/v1/cases/bind", s.hBind),
		w("POST", "/v1/cases/events", s.hRecordEvent),
		r("POST", "/v1/cases/state", s.hState),
		r("POST", "/v1/cases/timeline", s.hTimeline),
		r("GET", "/v1/cases", s.hListByStatus),
		w("POST", "/v1/dublin/requests", s.hDublinRequest),
		w("POST", "/v1/dublin/replies", s.hDublinReply),
		w("POST", "/v1/dublin/transfers", s.hDublinTransfer),
		w("POST", "/v1/dublin/deadlines/resolve", s.hResolveDeadlines),
		r("GET", "/v1/dublin/deadlines", s.hDeadlineBoard),
		{method: "POST", path: "/v1/dublin/holidays", write: true, roles: []domain.Role{domain.RoleDublinOfficer, domain.RoleAdmin}, h: s.hSetHolidays},
		r("GET", "/v1/dublin/holidays", s.hGetHolidays),
		doc(w("POST", "/v1/documents/anchor", s.hAnchor)),
		doc(r("POST", "/v1/documents/verify", s.hVerifyAnchor)),
		r("POST", "/v1/documents/list", s.hListAnchors),
		w("POST", "/v1/erasures", s.hRequestErasure),
		r("POST", "/v1/erasures/status", s.hErasureStatus),
		r("GET", "/v1/erasures/open", s.hOpenErasures),
		{method: "POST", path: "/v1/erasures/reconcile", roles: []domain.Role{domain.RoleAdmin}, h: s.hReconcileErasures},
		{method: "POST", path: "/v1/rights/rectify", write: true, roles: rightsRoles(), h: s.hRectify},
		{method: "POST", path: "/v1/rights/export", roles: rightsRoles(), h: s.hExport},
		{method: "GET", path: "/v1/automations/refusals", roles: []domain.Role{domain.RoleAdmin}, h: s.hAutomationRefusals},
		{method: "GET", path: "/v1/events", stream: true, raw: s.hEvents},
		{method: "POST", path: "/v1/webhooks", write: true, h: s.hCreateWebhook},
		r("GET", "/v1/webhooks", s.hListWebhooks),
		{method: "DELETE", path: "/v1/webhooks/{id}", write: true, h: s.hDeleteWebhook},
		a("POST", "/v1/audit/history", s.hAuditHistory),
		a("GET", "/v1/audit/writes", s.hAuditWrites),
		a("GET", "/v1/audit/late", s.hAuditLate),
		a("GET", "/v1/audit/erasures", s.hAuditErasures),
		a("GET", "/v1/audit/verification", s.hAuditReport),
		a("POST", "/v1/audit/verification", s.hAuditVerify),
		{method: "GET", path: "/metrics", roles: []domain.Role{domain.RoleAdmin}, raw: s.hMetrics},
	}
}

// Routes lists "METHOD path" of every operation (OpenAPI check).
func (s *Server) Routes() []string {
	out := opsRoutes()
	for _, rt := range s.routes {
		out = append(out, rt.method+" "+rt.path)
	}
	return out
}

// opsRoutes are served outside /v1, without authentication (/metrics is a
// route of the table on the API port: admin only; open on OpsHandler).
func opsRoutes() []string { return []string{"GET /healthz", "GET /readyz"} }

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets event streams through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap is the middleware chain of one route: request id, log and metrics
// (route template only), concurrency limit, authentication, role check,
// body, idempotency, handler.
func (s *Server) wrap(rt route) http.Handler {
	label := rt.method + " " + rt.path
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: rw}
		c := &call{s: s, w: sw, r: r, ctx: r.Context(), id: uuid.NewString()}
		sw.Header().Set(api.HeaderRequestID, c.id)
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("handler panic", "route", label, "request", c.id, "panic", fmt.Sprint(v))
				if sw.status == 0 {
					writeProblem(sw, newProblem(string(domain.KindInternal), ""))
				}
			}
			st := sw.status
			if st == 0 {
				st = http.StatusOK
			}
			s.m.requests.WithLabelValues(rt.path, rt.method, fmt.Sprint(st)).Inc()
			s.m.latency.WithLabelValues(rt.path).Observe(time.Since(start).Seconds())
			// Only the template is logged: a path or query could carry an identifier.
			s.log.Info("request", "route", label, "status", st, "ms", time.Since(start).Milliseconds(),
				"request", c.id, "token", c.caller.TokenID, "role", string(c.caller.Role))
		}()
		if s.isClosing() && !rt.public {
			writeProblem(sw, newProblem(api.CodeShuttingDown, ""))
			return
		}
		if !rt.stream {
			if reason := s.admit(r.Context()); reason != "" {
				s.m.rejected.WithLabelValues(reason).Inc()
				writeProblem(sw, newProblem(api.CodeOverloaded, "too many requests in flight; retry later"))
				return
			}
			defer func() { <-s.sem }()
			s.m.inflight.Inc()
			defer s.m.inflight.Dec()
		}
		if !rt.public {
			caller, ok := s.authenticate(r)
			if !ok {
				s.m.rejected.WithLabelValues("unauthenticated").Inc()
				sw.Header().Set("WWW-Authenticate", `Bearer realm="caseledger"`)
				writeProblem(sw, newProblem(string(domain.KindUnauthenticated), "a valid bearer token is required"))
				return
			}
			c.caller = caller
			if rt.roles != nil && !slices.Contains(rt.roles, caller.Role) {
				s.m.rejected.WithLabelValues("forbidden").Inc()
				writeProblem(sw, problemf(string(domain.KindForbidden), "role %s may not call this operation", caller.Role))
				return
			}
		}
		mb, bad := parseMinBlock(r)
		if bad != nil {
			writeProblem(sw, bad)
			return
		}
		c.minBlock = mb
		if rt.raw != nil {
			rt.raw(c)
			return
		}
		if p := c.readBody(rt); p != nil {
			writeProblem(sw, p)
			return
		}
		if rt.write {
			s.serveWrite(c, rt)
			return
		}
		c.respond(rt.h(c))
	})
}

// admit takes a slot for a request, waiting behind at most MaxQueue others
// for at most QueueWait. It returns why not ("" when admitted).
func (s *Server) admit(ctx context.Context) string {
	select {
	case s.sem <- struct{}{}:
		return ""
	default:
	}
	if s.queued.Add(1) > int64(s.cfg.MaxQueue) {
		s.queued.Add(-1)
		return "overloaded"
	}
	defer s.queued.Add(-1)
	s.m.queued.Inc()
	defer s.m.queued.Dec()
	t := time.NewTimer(s.cfg.QueueWait)
	defer t.Stop()
	select {
	case s.sem <- struct{}{}:
		return ""
	case <-t.C:
		return "queue-timeout"
	case <-ctx.Done():
		return "client-gone"
	case <-s.closing:
		return "shutting-down"
	}
}

func (s *Server) authenticate(r *http.Request) (Caller, bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return Caller{}, false
	}
	return s.auth.Authenticate(strings.TrimSpace(tok))
}

// readBody reads a POST body (bounded, JSON only).
func (c *call) readBody(rt route) *api.Problem {
	if c.r.Method != http.MethodPost {
		return nil
	}
	limit := rt.bodyLimit
	if limit == 0 {
		limit = maxJSONBody
	}
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return newProblem(api.CodeUnsupportedMediaType, "send application/json")
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problemf(api.CodePayloadTooLarge, "at most %d bytes", limit)
		}
		return newProblem(string(domain.KindInvalidArgument), "unreadable body")
	}
	c.body = b
	return nil
}

// serveWrite runs a write under its Idempotency-Key.
func (s *Server) serveWrite(c *call, rt route) {
	key := c.r.Header.Get(api.HeaderIdempotencyKey)
	if key == "" {
		s.m.rejected.WithLabelValues("no-idempotency-key").Inc()
		writeProblem(c.w, newProblem(api.CodeIdempotencyKeyRequired, ""))
		return
	}
	if !validIdemKey(key) {
		writeProblem(c.w, newProblem(string(domain.KindInvalidArgument), "Idempotency-Key: 1 to 128 visible ASCII characters"))
		return
	}
	fp := s.idem.fingerprint([]byte(rt.method), []byte(rt.path), []byte(c.r.PathValue("id")), c.body)
	ic, p, err := s.idem.begin(c.caller.TokenID, key, fp)
	switch {
	case err != nil:
		s.log.Error("idempotency store", "err", err)
		writeProblem(c.w, newProblem(string(domain.KindInternal), ""))
		return
	case p != nil:
		writeProblem(c.w, p)
		return
	case ic.replay:
		s.m.replays.Inc()
		c.w.Header().Set("Idempotent-Replayed", "true")
		c.w.Header().Set("Content-Type", ic.rec.ContentType)
		c.w.WriteHeader(ic.rec.Status)
		_, _ = c.w.Write(ic.rec.Body)
		return
	}
	c.idem = ic
	rec := &recorder{ResponseWriter: c.w}
	c.w = rec
	finished := false
	defer func() {
		if !finished {
			// The handler panicked (wrap recovers and answers 500): release the
			// key without an outcome, so a retry runs the write again instead
			// of finding it in progress until the gateway restarts.
			ic.release()
		}
	}()
	c.respond(rt.h(c))
	finished = true
	if err := ic.finish(rec.status, rec.Header().Get("Content-Type"), rec.buf.Bytes()); err != nil {
		s.log.Error("idempotency store", "err", err)
	}
}

// respond writes a handler's result.
func (c *call) respond(status int, body any, err error) {
	if err != nil {
		p := problemOf(err)
		if p.Status >= 500 {
			c.s.log.Warn("request failed", "request", c.id, "code", p.Code, "err", err)
		}
		cp := *p
		cp.Instance = "urn:uuid:" + c.id
		writeProblem(c.w, &cp)
		return
	}
	if body == nil {
		c.w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		writeProblem(c.w, newProblem(string(domain.KindInternal), ""))
		return
	}
	c.w.Header().Set("Content-Type", "application/json")
	c.w.WriteHeader(status)
	_, _ = c.w.Write(append(b, '\n'))
}

func (s *Server) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz: the peer answers and the privacy service is ready.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.isClosing() {
		writeProblem(w, newProblem(api.CodeShuttingDown, ""))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.ledger.Ping(ctx); err != nil {
		writeProblem(w, newProblem(api.CodeLedgerUnavailable, "peer not reachable"))
		return
	}
	if err := s.cfg.PrivacyReady(ctx); err != nil {
		writeProblem(w, newProblem(api.CodePrivacyUnavailable, "privacy service not ready"))
		return
	}
	if err := s.disk.check(); err != nil {
		writeProblem(w, newProblem(api.CodeStorageLow, err.Error()))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ready\n"))
}

// Start runs the background work: the event log follower of every channel,
// webhook delivery, the automations and (on an auditor's gateway) the audit
// verifier. It returns at once; Shutdown stops it.
func (s *Server) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() { <-s.closing; cancel() }()
	for _, ch := range s.ledger.Channels() {
		s.goRun(func() { s.evlog.follow(ctx, s, ch.Name) })
	}
	s.goRun(func() { s.hooks.run(ctx) })
	s.startAutomations(ctx)
	s.startReconciler(ctx)
	if s.cfg.EventRetention > 0 {
		s.goRun(func() { s.retainEvents(ctx) })
	}
}

func (s *Server) goRun(f func()) {
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f() }()
}

// Shutdown stops background work (event followers flush their checkpoints,
// webhook deliveries in flight finish or are retried after the restart) and
// waits for it until ctx ends. Call it after the HTTP server has drained.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOne.Do(func() { close(s.closing) })
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("gateway: background work did not stop: %w", ctx.Err())
	}
	return s.store.Sync()
}

// BeginShutdown makes the gateway refuse new work (503, readiness false)
// while in-flight requests drain; event streams end.
func (s *Server) BeginShutdown() { s.closeOne.Do(func() { close(s.closing) }) }

// ServerTLSConfig loads the gateway's HTTPS certificate.
func ServerTLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("gateway TLS: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}, nil
}

// decodeJSON strictly decodes one JSON value: unknown fields and trailing
// data are refused, and errors never quote the input.
func decodeJSON(data []byte, v any) error { return domain.DecodeStrict(data, v) }
