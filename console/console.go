// Package console is the web console of an agency's gateway: the pages
// caseworkers, Dublin officers and auditors use next to their case files
// (docs/console.md). People sign in with accounts of their agency (users.go);
// every page reads and writes through the gateway's own /v1 handler, in this
// process, with an API token the gateway minted for the user's session and
// role — so the console shows nothing the API would refuse, and the
// gateway's logs name the user. Pages are HTML rendered on the server from
// embedded templates; the only script (embedded too) enhances the live feed.
package console

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/domain"
)

//go:embed assets
var assets embed.FS

// Prefix is where the console is mounted on the gateway's listener.
const Prefix = "/console/"

// Defaults.
const (
	DefaultIdleTimeout  = 15 * time.Minute
	DefaultMaxSession   = 10 * time.Hour
	DefaultSignInLimit  = 5
	DefaultSignInWindow = 15 * time.Minute
	maxForm             = 64 << 10
	maxHashing          = 2
)

// Config assembles a console.
type Config struct {
	// API is the gateway's /v1 handler; Tokens mints the session tokens it
	// accepts (gateway.Authenticator).
	API    http.Handler
	Tokens TokenMinter
	Users  *Users
	// The agency: from its connection file.
	Org, MSPID, MemberState string
	Kind                    domain.AgencyKind
	Logger                  *slog.Logger
	// Now is the clock (fake in tests).
	Now func() time.Time
	// IdleTimeout ends a session unused this long; MaxSession any session
	// this old.
	IdleTimeout, MaxSession time.Duration
	// SignInLimit failed sign-ins per account, and per client address,
	// within SignInWindow lock further attempts until the window passes.
	SignInLimit  int
	SignInWindow time.Duration
	// SSO, when set, offers sign-in with the agency's OpenID Connect
	// provider besides passwords (oidc.go).
	SSO *OIDCConfig
}

// Console serves the pages.
type Console struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	sess   *sessions
	thr    *throttle
	pages  map[string]*template.Template
	msg    catalog
	static http.Handler
	mux    *http.ServeMux
	// hashing bounds the password hashes computed at once: each takes
	// Argon2id's 64 MiB, and sign-ins are not behind the API's admission.
	hashing chan struct{}
	sso     *sso // nil: no single sign-on
	// zone is the agency's member state's (UTC without one, the auditor):
	// "today" on its pages, and the date a form proposes for an act done
	// now, are counted there, as the chaincode dates the recording.
	zone *time.Location
}

// New builds the console.
func New(cfg Config) (*Console, error) {
	if cfg.API == nil || cfg.Tokens == nil || cfg.Users == nil {
		return nil, errors.New("console: API, Tokens and Users are required")
	}
	if !domain.IsMSPID(cfg.MSPID) || cfg.Org == "" {
		return nil, errors.New("console: org and MSP id required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxSession <= 0 {
		cfg.MaxSession = DefaultMaxSession
	}
	if cfg.SignInLimit <= 0 {
		cfg.SignInLimit = DefaultSignInLimit
	}
	if cfg.SignInWindow <= 0 {
		cfg.SignInWindow = DefaultSignInWindow
	}
	zone, err := time.LoadLocation(domain.TimeZone(cfg.MemberState))
	if err != nil {
		return nil, fmt.Errorf("console: time zone of %q: %w", cfg.MemberState, err)
	}
	c := &Console{cfg: cfg, log: cfg.Logger, now: cfg.Now, msg: newCatalog(), zone: zone,
		sess: newSessions(cfg.IdleTimeout, cfg.MaxSession, cfg.Now, cfg.Tokens),
		thr:  newThrottle(cfg.SignInLimit, cfg.SignInWindow, cfg.Now), hashing: make(chan struct{}, maxHashing)}
	if cfg.SSO != nil {
		s, err := newSSO(*cfg.SSO, cfg.Org, cfg.Now)
		if err != nil {
			return nil, err
		}
		c.sso = s
	}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, err
	}
	c.static = http.StripPrefix(Prefix+"static/", http.FileServerFS(static))
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	m := http.NewServeMux()
	m.Handle("GET "+Prefix+"static/", c.static)
	m.HandleFunc("GET "+Prefix+"signin", c.signInPage)
	m.HandleFunc("POST "+Prefix+"signin", c.signIn)
	m.HandleFunc("GET "+Prefix+"lang", c.setLang)
	m.HandleFunc("POST "+Prefix+"sso/start", c.ssoStart)
	m.HandleFunc("GET "+ssoCallbackPath, c.ssoCallback)
	m.Handle("POST "+Prefix+"signout", c.authed(c.signOut))
	m.Handle("GET "+Prefix+"{$}", c.authed(c.worklist))
	m.Handle("GET "+Prefix+"case", c.authed(c.casePage))
	m.Handle("POST "+Prefix+"case/record", c.authed(c.record))
	m.Handle("POST "+Prefix+"case/bind", c.authed(c.bind))
	m.Handle("POST "+Prefix+"find", c.authed(c.find))
	m.Handle("GET "+Prefix+"deadlines", c.authed(c.deadlines))
	m.Handle("GET "+Prefix+"feed", c.authed(c.feed))
	m.Handle("GET "+Prefix+"feed/stream", c.authed(c.feedStream))
	m.Handle("GET "+Prefix+"audit", c.authed(c.auditPage))
	m.Handle("POST "+Prefix+"audit/verify", c.authed(c.auditVerify))
	m.HandleFunc(Prefix, c.notFound)
	c.mux = m
}

// Handler serves the console under Prefix, with its security headers.
func (c *Console) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// No inline script or style anywhere: everything comes from the
		// console's own static files.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: under no-referrer a browser sends
		// "Origin: null" with its forms, which sameOrigin must refuse.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Strict-Transport-Security", "max-age=31536000")
		if !strings.HasPrefix(r.URL.Path, Prefix+"static/") {
			h.Set("Cache-Control", "no-store")
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm) // every form is small
		}
		c.mux.ServeHTTP(w, r)
	})
}

// Mount serves the console next to the API on one listener: /console/…
// to the console, "/" redirected to it, everything else to the API.
func Mount(apiHandler http.Handler, c *Console) http.Handler {
	ch := c.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, Prefix):
			ch.ServeHTTP(w, r)
		case r.URL.Path == "/console":
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		case r.URL.Path == "/" && r.Method == http.MethodGet:
			http.Redirect(w, r, Prefix, http.StatusFound)
		default:
			apiHandler.ServeHTTP(w, r)
		}
	})
}

// Sweep ends sessions that expired (call it now and then; requests sweep
// too).
func (c *Console) Sweep() { c.sess.sweep() }

// cookie names carry the org: on one host (the demo) every agency's
// console is reachable under the same host name, and cookies do not
// distinguish ports.
func (c *Console) sessionCookie() string { return "__Host-cl-" + c.cfg.Org }
func (c *Console) signinCookie() string  { return "__Host-cl-" + c.cfg.Org + "-signin" }

const langCookie = "__Host-cl-lang"

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// lang picks the page language: the cookie, else the browser's preference,
// else German.
func (c *Console) lang(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && (ck.Value == "de" || ck.Value == "en") {
		return ck.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "de"):
			return "de"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "de"
}

// setLang switches the language and returns to the page (a path of the
// console only: no open redirect).
func (c *Console) setLang(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	if to != "de" && to != "en" {
		to = "de"
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: to, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// localPath admits only a path of the console ("/console/…" without a
// scheme, host or backslash); anything else is the worklist.
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, Prefix) ||
		strings.ContainsAny(p, "\\\r\n") || strings.HasPrefix(p, "//") {
		return Prefix
	}
	return u.RequestURI()
}

// request is one authenticated page request.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	s    *Session
	lang string
	api  *client.Client
}

// authed resolves the session (redirecting to sign-in without one),
// checks that the account is still enabled with the same role, and checks
// the CSRF token (and Origin) of every POST.
func (c *Console) authed(h func(q *request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ss *Session
		if ck, err := r.Cookie(c.sessionCookie()); err == nil {
			ss, _ = c.sess.get(ck.Value)
		}
		if ss != nil {
			if u, ok := c.cfg.Users.Lookup(ss.User); !ok || u.Role != ss.Role {
				c.sess.endUser(ss.User)
				c.audit("session-ended", ss.User, ss.Role, "ACCOUNT_CHANGED")
				ss = nil
			} else if ss.SSOSubject != "" && u.SSOSubject != ss.SSOSubject {
				c.sess.end(ss.ID) // signed in as a person the account is no longer linked to
				c.audit("session-ended", ss.User, ss.Role, "SSO_UNLINKED")
				ss = nil
			}
		}
		lang := c.lang(r)
		if ss == nil {
			setCookie(w, c.sessionCookie(), "", -1)
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/stream") {
				http.Redirect(w, r, Prefix+"signin?back="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.plainError(w, lang, http.StatusUnauthorized, "err.signin-required")
			return
		}
		if r.Method == http.MethodPost {
			if !c.sameOrigin(r) || !csrfOK(ss, r.PostFormValue("csrf")) {
				c.audit("csrf-refused", ss.User, ss.Role, "CSRF")
				c.plainError(w, lang, http.StatusForbidden, "err.csrf")
				return
			}
		}
		api, err := client.New(client.Config{BaseURL: "https://gateway.invalid", Token: ss.APIToken,
			HTTPClient: &http.Client{Transport: inproc{c.cfg.API}}, Retries: 2, UserAgent: "caseledger-console/1"})
		if err != nil {
			c.plainError(w, lang, http.StatusInternalServerError, "err.internal")
			return
		}
		h(&request{w: w, r: r, s: ss, lang: lang, api: api})
	})
}

// sameOrigin: a POST that names an Origin (every current browser does)
// must come from this host. SameSite=Strict and the CSRF token are the
// main defences; this is a third.
func (c *Console) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// audit writes one line of the console's audit log (the gateway's request
// log names the user's token id "user:<name>" for every API call too).
// Never a reference or pseudonym.
func (c *Console) audit(action, user string, role domain.Role, outcome string, kv ...any) {
	args := append([]any{"log", "audit", "component", "console", "action", action, "user", user, "role", string(role),
		"outcome", outcome, "at", c.now().UTC().Format(time.RFC3339)}, kv...)
	c.log.Info("console", args...)
}

// clientIP is the throttle's key for the address (the gateway is reached
// directly, not through a proxy: RemoteAddr is the peer).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.plainError(w, c.lang(r), http.StatusNotFound, "err.not-found")
}

func (c *Console) plainError(w http.ResponseWriter, lang string, status int, key string) {
	c.render(w, status, "error", page{Lang: lang, Title: c.msg.t(lang, "title.error"), Message: c.msg.t(lang, key)})
}

// durationText says a wait in whole minutes (at least one).
func durationMinutes(d time.Duration) int {
	m := int((d + time.Minute - 1) / time.Minute)
	if m < 1 {
		m = 1
	}
	return m
}
