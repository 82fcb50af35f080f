package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Single sign-on against the agency's own OpenID Connect provider
// (Keycloak, ADFS, Entra ID, …): the authorization code flow with PKCE
// (S256), state and nonce (docs/console.md, "Single sign-on"). The
// provider says who the person is; the agency's user file says whether she
// may sign in and with which role: the configured claim of her verified ID
// token must equal an enabled account's SSOSubject. Nothing the provider
// returns is kept beyond the callback: the session is the console's own,
// with the API token the gateway mints for the account.

// OIDCConfig configures single sign-on (nil in Config: password sign-in
// only).
type OIDCConfig struct {
	// Issuer is the provider's issuer URL (https); its discovery document
	// is Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID and ClientSecret of the console's client (a confidential
	// client at the provider; the secret comes from a 0600 file, never
	// from a command line).
	ClientID, ClientSecret string
	// RedirectURL is this console's callback as registered at the
	// provider: https://<gateway host>/console/sso/callback.
	RedirectURL string
	// Claim of the ID token that identifies the person, compared exactly
	// with the accounts' SSOSubject: "sub" (the default, stable per
	// provider), or e.g. "preferred_username", "email" (then only with
	// email_verified true), "upn".
	Claim string
	// Name of the provider on the sign-in page ("Sign in with <Name>").
	Name string
	// HTTPClient reaches the provider (with its CA); default: a client
	// with a 15 s timeout and the system's roots.
	HTTPClient *http.Client
}

const (
	ssoCallbackPath = Prefix + "sso/callback"
	// ssoFlowTTL bounds the time between "Sign in with …" and the
	// callback (the pre-sign-in cookie's Max-Age and its sealed expiry).
	ssoFlowTTL = 10 * time.Minute
	// ssoRetry is how long a failed discovery is not retried.
	ssoRetry = 10 * time.Second
	// ssoTimeout bounds one call to the provider.
	ssoTimeout = 15 * time.Second
	// clockLeeway is the skew allowed for iat (go-oidc allows the same for
	// nbf).
	clockLeeway = 5 * time.Minute
)

// Errors of the SSO configuration.
var ErrSSOConfig = errors.New("sso configuration")

func (cfg *OIDCConfig) check() error {
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || iss.Scheme != "https" || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" {
		return fmt.Errorf("%w: the issuer must be an https URL without query or fragment", ErrSSOConfig)
	}
	red, err := url.Parse(cfg.RedirectURL)
	if err != nil || red.Scheme != "https" || red.Host == "" || red.Path != ssoCallbackPath || red.RawQuery != "" {
		return fmt.Errorf("%w: the redirect URL must be https://<gateway host>%s", ErrSSOConfig, ssoCallbackPath)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return fmt.Errorf("%w: client id and client secret are required", ErrSSOConfig)
	}
	if cfg.Claim == "" {
		cfg.Claim = "sub"
	}
	if len(cfg.Claim) > 64 || strings.IndexFunc(cfg.Claim, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' || r == ':')
	}) >= 0 {
		return fmt.Errorf("%w: claim name %q", ErrSSOConfig, cfg.Claim)
	}
	if cfg.Name == "" {
		cfg.Name = iss.Host
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: ssoTimeout}
	}
	return nil
}

// sso is the console's side of the flow.
type sso struct {
	cfg OIDCConfig
	now func() time.Time
	// seal encrypts and authenticates the pre-sign-in cookie with a key
	// drawn at start-up (a restart abandons flows in progress), bound to
	// the org: a cookie of another console opens nowhere else.
	seal cipher.AEAD
	aad  []byte

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
	lastTry  time.Time
	lastErr  error
	// used holds the nonces of ID tokens already accepted, until the
	// token and its flow expired: a callback replayed with its cookie (an
	// authorization code the provider let be redeemed twice) gets nothing.
	used map[string]time.Time
}

func newSSO(cfg OIDCConfig, org string, now func() time.Time) (*sso, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sso{cfg: cfg, now: now, seal: gcm, aad: []byte("caseledger console sso " + org), used: map[string]time.Time{}}, nil
}

func (s *sso) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, ssoTimeout)
	return oidc.ClientContext(ctx, s.cfg.HTTPClient), cancel
}

// discover fetches the provider's discovery document once (lazily: the
// gateway starts while the provider is unreachable; password sign-in
// works meanwhile), retried at most every ssoRetry.
func (s *sso) discover(parent context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oauth != nil {
		return s.oauth, s.verifier, nil
	}
	if s.lastErr != nil && s.now().Sub(s.lastTry) < ssoRetry {
		return nil, nil, s.lastErr
	}
	s.lastTry = s.now()
	// Not ended by the request that happened to trigger it: a browser
	// that gives up must not fail the discovery for everyone for ssoRetry.
	ctx, cancel := s.ctx(context.WithoutCancel(parent))
	defer cancel()
	p, err := oidc.NewProvider(ctx, s.cfg.Issuer) // checks the document's issuer too
	if err == nil {
		var meta struct {
			PKCE []string `json:"code_challenge_methods_supported"`
		}
		if err = p.Claims(&meta); err == nil && len(meta.PKCE) > 0 && !slices.Contains(meta.PKCE, "S256") {
			err = fmt.Errorf("%w: the provider does not support PKCE with S256 (%v)", ErrSSOConfig, meta.PKCE)
		}
	}
	if err != nil {
		s.lastErr = fmt.Errorf("sso discovery: %w", err)
		return nil, nil, s.lastErr
	}
	scopes := []string{oidc.ScopeOpenID}
	switch s.cfg.Claim {
	case "email":
		scopes = append(scopes, "email")
	case "sub":
	default:
		scopes = append(scopes, "profile")
	}
	s.oauth = &oauth2.Config{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.cfg.RedirectURL, Scopes: scopes}
	// Signature (with the provider's advertised algorithms and its JWKS),
	// issuer, audience and expiry.
	s.verifier = p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.now})
	s.lastErr = nil
	return s.oauth, s.verifier, nil
}

// flow is what the pre-sign-in cookie carries between "Sign in with …"
// and the callback, sealed.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Back     string `json:"b"`
	Expires  int64  `json:"e"`
}

func (s *sso) sealFlow(f flow) string {
	b, _ := json.Marshal(f)
	n := make([]byte, s.seal.NonceSize())
	_, _ = rand.Read(n)
	return base64.RawURLEncoding.EncodeToString(s.seal.Seal(n, n, b, s.aad))
}

func (s *sso) openFlow(v string) (flow, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < s.seal.NonceSize() {
		return flow{}, false
	}
	plain, err := s.seal.Open(nil, b[:s.seal.NonceSize()], b[s.seal.NonceSize():], s.aad)
	if err != nil {
		return flow{}, false
	}
	var f flow
	if json.Unmarshal(plain, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return flow{}, false
	}
	return f, true
}

// useNonce marks a nonce used; false if it was used before.
func (s *sso) useNonce(nonce string, until time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for n, t := range s.used {
		if now.After(t) {
			delete(s.used, n)
		}
	}
	if _, ok := s.used[nonce]; ok {
		return false
	}
	s.used[nonce] = until
	return true
}

// The pre-sign-in cookie is SameSite=Lax, unlike every other cookie of the
// console: the provider sends the browser back with a top-level GET
// navigation from its own site, and a Strict cookie is not sent with a
// navigation another site started. Lax is sent with exactly that (a
// cross-site top-level GET) and with no cross-site POST, frame or
// subresource; it holds only the sealed state of one flow, not a session.
func (c *Console) ssoCookie() string { return "__Host-cl-" + c.cfg.Org + "-sso" }

func (c *Console) setSSOCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: c.ssoCookie(), Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// ssoStart is the "Sign in with …" button: a form with the sign-in page's
// pre-session CSRF token (so no other site can start a flow in a
// person's browser), then on to the provider.
func (c *Console) ssoStart(w http.ResponseWriter, r *http.Request) {
	lang := c.lang(r)
	if c.sso == nil {
		c.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		c.showSignIn(w, signinPage(r), http.StatusBadRequest, c.msg.t(lang, "err.bad-form"))
		return
	}
	ck, err := r.Cookie(c.signinCookie())
	if err != nil || !c.sameOrigin(r) || !csrfOK(&Session{CSRF: ck.Value}, r.PostForm.Get("csrf")) {
		c.audit("signin-refused", "", "", "CSRF", "via", "sso")
		c.showSignIn(w, signinPage(r), http.StatusForbidden, c.msg.t(lang, "err.csrf"))
		return
	}
	if wait := c.thr.wait("ip:" + clientIP(r)); wait > 0 {
		c.audit("signin-throttled", "", "", "THROTTLED", "via", "sso")
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		c.showSignIn(w, signinPage(r), http.StatusTooManyRequests, c.msg.t(lang, "err.throttled", durationMinutes(wait)))
		return
	}
	oc, _, err := c.sso.discover(r.Context())
	if err != nil {
		c.log.Warn("console sso", "err", err)
		c.showSignIn(w, signinPage(r), http.StatusServiceUnavailable, c.msg.t(lang, "err.sso-unavailable", c.sso.cfg.Name))
		return
	}
	f := flow{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Back: localPath(r.PostForm.Get("back")), Expires: c.now().Add(ssoFlowTTL).Unix()}
	c.setSSOCookie(w, c.sso.sealFlow(f), int(ssoFlowTTL/time.Second))
	// Not a redirect either: the CSP's form-action 'self' also covers the
	// redirects after a form is sent (browsers enforce it), and the
	// provider is another origin. A page that moves on by itself (Refresh
	// header; and a link) is a navigation, not a form submission.
	auth := oc.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	w.Header().Set("Refresh", "0; url="+auth)
	c.render(w, http.StatusOK, "ssogo", page{Lang: lang, Title: c.msg.t(lang, "title.sso-go", c.sso.cfg.Name), Org: c.cfg.Org, Path: Prefix + "signin",
		MSPID: c.cfg.MSPID, Data: struct{ URL, Name string }{auth, c.sso.cfg.Name}})
}

// ssoFailure is one refused callback, for the audit line and the throttle.
type ssoFailure struct {
	outcome string
	user    string
	kv      []any
	msg     string // catalog key
	status  int
}

// ssoCallback completes the flow: state, code exchange with the PKCE
// verifier, ID token (signature, issuer, audience, expiry, nonce once),
// then the account linked to the configured claim, which must be enabled.
// Every refusal counts against the client address like a failed password.
func (c *Console) ssoCallback(w http.ResponseWriter, r *http.Request) {
	lang := c.lang(r)
	if c.sso == nil {
		c.notFound(w, r)
		return
	}
	ip := clientIP(r)
	if wait := c.thr.wait("ip:" + ip); wait > 0 {
		c.audit("signin-throttled", "", "", "THROTTLED", "via", "sso")
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		c.showSignIn(w, signinPage(r), http.StatusTooManyRequests, c.msg.t(lang, "err.throttled", durationMinutes(wait)))
		return
	}
	c.setSSOCookie(w, "", -1) // one callback per flow, whatever happens
	u, back, fail := c.ssoVerify(r)
	if fail != nil {
		c.thr.fail("ip:" + ip)
		if fail.user != "" {
			c.thr.fail("user:" + fail.user)
		}
		c.audit("signin-failed", fail.user, "", fail.outcome, append([]any{"via", "sso"}, fail.kv...)...)
		c.showSignIn(w, signinPage(r), fail.status, c.msg.t(lang, fail.msg, c.sso.cfg.Name))
		return
	}
	ss, err := c.sess.create(u, u.SSOSubject)
	if err != nil {
		c.log.Error("console session", "err", err)
		c.showSignIn(w, signinPage(r), http.StatusInternalServerError, c.msg.t(lang, "err.internal"))
		return
	}
	c.thr.clear("user:" + u.Name)
	setCookie(w, c.signinCookie(), "", -1)
	setCookie(w, c.sessionCookie(), ss.ID, 0)
	c.audit("signin", u.Name, u.Role, "OK", "via", "sso", "issuer", c.sso.cfg.Issuer)
	// Not a redirect: this response ends a navigation the provider's site
	// started, and the browser would not send the SameSite=Strict session
	// cookie with a redirect from it. A page of this console that moves on
	// by itself (Refresh, no script; and a link) starts a same-site one.
	w.Header().Set("Refresh", "0; url="+back)
	c.render(w, http.StatusOK, "ssodone", page{Lang: lang, Title: c.msg.t(lang, "title.sso-done"), Org: c.cfg.Org, Path: back,
		MSPID: c.cfg.MSPID, Data: struct{ Back string }{back}})
}

func (c *Console) ssoVerify(r *http.Request) (User, string, *ssoFailure) {
	refuse := func(outcome string, kv ...any) *ssoFailure {
		return &ssoFailure{outcome: outcome, kv: kv, msg: "err.sso-failed", status: http.StatusUnauthorized}
	}
	q := r.URL.Query()
	ck, err := r.Cookie(c.ssoCookie())
	if err != nil {
		return User{}, "", refuse("SSO_NO_FLOW")
	}
	f, ok := c.sso.openFlow(ck.Value)
	if !ok {
		return User{}, "", refuse("SSO_NO_FLOW")
	}
	if c.now().Unix() > f.Expires {
		return User{}, "", refuse("SSO_FLOW_EXPIRED")
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return User{}, "", refuse("SSO_STATE")
	}
	if e := q.Get("error"); e != "" {
		return User{}, "", refuse("SSO_PROVIDER_ERROR", "error", oauthErrorCode(e))
	}
	code := q.Get("code")
	if code == "" {
		return User{}, "", refuse("SSO_NO_CODE")
	}
	oc, verifier, err := c.sso.discover(r.Context())
	if err != nil {
		c.log.Warn("console sso", "err", err)
		return User{}, "", &ssoFailure{outcome: "SSO_UNAVAILABLE", msg: "err.sso-unavailable", status: http.StatusServiceUnavailable}
	}
	ctx, cancel := c.sso.ctx(r.Context())
	defer cancel()
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return User{}, "", refuse("SSO_EXCHANGE", "error", oauthErrorCode(re.ErrorCode))
		}
		c.log.Warn("console sso token exchange", "err", err)
		return User{}, "", refuse("SSO_EXCHANGE")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return User{}, "", refuse("SSO_NO_ID_TOKEN")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return User{}, "", refuse("SSO_ID_TOKEN", "reason", err.Error())
	}
	var cl map[string]any
	if err := idt.Claims(&cl); err != nil {
		return User{}, "", refuse("SSO_ID_TOKEN", "reason", "claims")
	}
	// OpenID Connect Core 3.1.3.7: with several audiences, the token must
	// name this client as the authorized party (go-oidc checks only that
	// the audience contains it).
	if azp, _ := cl["azp"].(string); len(idt.Audience) > 1 && azp != c.sso.cfg.ClientID {
		return User{}, "", refuse("SSO_ID_TOKEN", "reason", "azp")
	}
	if idt.IssuedAt.After(c.now().Add(clockLeeway)) {
		return User{}, "", refuse("SSO_ID_TOKEN", "reason", "issued in the future")
	}
	if idt.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return User{}, "", refuse("SSO_NONCE")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return User{}, "", refuse("SSO_ID_TOKEN", "reason", "at_hash")
		}
	}
	if !c.sso.useNonce(f.Nonce, maxTime(idt.Expiry, time.Unix(f.Expires, 0)).Add(clockLeeway)) {
		return User{}, "", refuse("SSO_REPLAY")
	}
	subject, ok := cl[c.sso.cfg.Claim].(string)
	if !ok || !ValidSSOSubject(subject) {
		return User{}, "", refuse("SSO_NO_CLAIM", "claim", c.sso.cfg.Claim)
	}
	if c.sso.cfg.Claim == "email" {
		if v, _ := cl["email_verified"].(bool); !v {
			return User{}, "", refuse("SSO_EMAIL_UNVERIFIED")
		}
	}
	u, ok := c.cfg.Users.LookupSSO(subject)
	switch {
	case !ok:
		// A verified identity of the agency's own provider (no password
		// typed): logged so the admin can link it.
		f := refuse("UNKNOWN_SUBJECT", "subject", subject)
		f.msg = "err.sso-no-account"
		return User{}, "", f
	case u.Disabled:
		return User{}, "", &ssoFailure{outcome: "ACCOUNT_DISABLED", user: u.Name, msg: "err.sso-no-account", status: http.StatusForbidden}
	}
	// The role is the account's: nothing the provider says about groups or
	// roles is read.
	return u, f.Back, nil
}

// oauthErrorCode keeps an OAuth error code printable for the log (it
// comes from the provider, or from the query).
func oauthErrorCode(s string) string {
	if len(s) > 64 || strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '_') }) >= 0 {
		return "(other)"
	}
	return s
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// signinPage is r as if it asked for the sign-in page: the page shown
// after a refused start or callback must not link back to them (the
// language switch would send the callback's code and state again).
func signinPage(r *http.Request) *http.Request {
	c := r.WithContext(r.Context())
	c.URL = &url.URL{Path: Prefix + "signin"}
	return c
}

// ssoName is the provider's name for the sign-in page ("": no SSO).
func (c *Console) ssoName() string {
	if c.sso == nil {
		return ""
	}
	return c.sso.cfg.Name
}
