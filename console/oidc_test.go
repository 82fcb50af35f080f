package console

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/caseledger/caseledger/domain"
)

// testIdP is a real OpenID Connect provider in the test process: discovery,
// JWKS, an authorization endpoint that "authenticates" whoever the test
// says, and a token endpoint that checks the client, the redirect URI and
// the PKCE verifier and signs ID tokens with an RSA key (RS256). Tests spoil
// one thing at a time (claims, key, code reuse).
type testIdP struct {
	t        *testing.T
	srv      *httptest.Server
	url      string // the issuer (srv.URL, unless a test names the host otherwise)
	key      *rsa.PrivateKey
	now      func() time.Time
	clientID string
	secret   string
	redirect string

	mu sync.Mutex
	// person is who signs in at the provider next.
	person string
	// spoil changes the ID token's claims before signing.
	spoil func(map[string]any)
	// signKey, when set, signs instead of the published key.
	signKey *rsa.PrivateKey
	// reuse lets an authorization code be redeemed more than once (a
	// provider that does not enforce single use).
	reuse bool
	// interactive: the authorization endpoint shows a page whose button
	// the person presses (as at a real provider), so the way back to the
	// console is a navigation the provider's site started.
	interactive bool
	// down: discovery answers 503.
	down  bool
	codes map[string]*grant
}

type grant struct {
	clientID, redirect, challenge, nonce, person string
	used                                         bool
}

func newTestIdP(t *testing.T, now func() time.Time, redirect string) *testIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &testIdP{t: t, key: key, now: now, clientID: "caseledger-console", secret: "s3cret-of-the-client",
		redirect: redirect, person: "f3b1c2d4-alice", codes: map[string]*grant{}}
	m := http.NewServeMux()
	m.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	m.HandleFunc("GET /keys", p.jwks)
	m.HandleFunc("GET /auth", p.authorize)
	m.HandleFunc("POST /auth", p.authorize)
	m.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewTLSServer(m)
	p.url = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

func (p *testIdP) set(f func(p *testIdP)) { p.mu.Lock(); defer p.mu.Unlock(); f(p) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *testIdP) discovery(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	down := p.down
	p.mu.Unlock()
	if down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	u := p.url
	writeJSON(w, 200, map[string]any{"issuer": u, "authorization_endpoint": u + "/auth", "token_endpoint": u + "/token",
		"jwks_uri": u + "/keys", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"}})
}

func (p *testIdP) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

// authorize checks the request as a provider does and sends the browser
// back with a code for the current person.
func (p *testIdP) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid_request", http.StatusBadRequest)
		return
	}
	q := r.Form
	p.mu.Lock()
	interactive := p.interactive
	p.mu.Unlock()
	if interactive && r.Method == http.MethodGet {
		var b strings.Builder
		b.WriteString(`<!doctype html><title>Test IdP</title><form method="post" action="/auth">`)
		for k, vs := range q {
			b.WriteString(`<input type="hidden" name="` + html.EscapeString(k) + `" value="` + html.EscapeString(vs[0]) + `">`)
		}
		b.WriteString(`<button id="idp-signin">Sign in at the provider</button></form>`)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
		return
	}
	if q.Get("response_type") != "code" || q.Get("client_id") != p.clientID || q.Get("redirect_uri") != p.redirect ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || !slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		http.Error(w, "invalid_request", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	code := randomToken()
	p.codes[code] = &grant{clientID: p.clientID, redirect: p.redirect, challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), person: p.person}
	p.mu.Unlock()
	http.Redirect(w, r, p.redirect+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

func (p *testIdP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.clientID || secret != p.secret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.codes[r.PostForm.Get("code")]
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code" || g == nil || (g.used && !p.reuse) ||
		g.redirect != r.PostForm.Get("redirect_uri") || g.clientID != id:
		writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge: // RFC 7636 4.6
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
		return
	}
	g.used = true
	now := p.now()
	claims := map[string]any{"iss": p.url, "sub": g.person, "aud": p.clientID, "azp": p.clientID,
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "nonce": g.nonce,
		"preferred_username": "u-" + g.person, "email": g.person + "@bamf.example", "email_verified": true,
		// What a provider may say about roles: the console must not read it.
		"roles": []string{"admin"}, "groups": []string{"auditors"}}
	if p.spoil != nil {
		p.spoil(claims)
	}
	key := p.key
	if p.signKey != nil {
		key = p.signKey
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		p.t.Error(err)
		return
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		p.t.Error(err)
		return
	}
	raw, _ := jws.CompactSerialize()
	writeJSON(w, 200, map[string]any{"access_token": randomToken(), "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}

// ssoRig is the rig's console, again, with single sign-on against a
// testIdP (one per test: its own throttle and sessions), on the rig's
// real gateway, clock and log.
type ssoRig struct {
	*rig
	idp *testIdP
}

const ssoRedirect = "https://asylum-office.example/console/sso/callback"

func newSSORig(t *testing.T, base *rig, claim string) *ssoRig {
	t.Helper()
	idp := newTestIdP(t, base.clock.Now, ssoRedirect)
	cfg := base.con.cfg
	cfg.SSO = &OIDCConfig{Issuer: idp.srv.URL, ClientID: idp.clientID, ClientSecret: idp.secret, RedirectURL: ssoRedirect,
		Claim: claim, Name: "Test IdP", HTTPClient: idp.srv.Client()}
	con, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(Mount(cfg.API, con))
	t.Cleanup(srv.Close)
	r := *base
	r.t, r.con, r.srv = t, con, srv
	return &ssoRig{rig: &r, idp: idp}
}

// link links (and enables) accounts to subjects in the rig's user file.
func (s *ssoRig) editUsers(f func(uf *UserFile) error) {
	s.t.Helper()
	uf, err := LoadUserFile(s.users)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := f(&uf); err != nil {
		s.t.Fatal(err)
	}
	if err := SaveUserFile(s.users, uf); err != nil {
		s.t.Fatal(err)
	}
	s.clock.Add(2 * time.Second) // the file is re-read at most once a second
}

// start presses "Sign in with …" in browser c and returns the provider's
// authorization URL.
func (s *ssoRig) start(c *http.Client) *url.URL {
	s.t.Helper()
	pg := s.do(c, "GET", "/console/signin", nil)
	res := s.do(c, "POST", "/console/sso/start", url.Values{"csrf": {csrfOf(s.t, pg.body)}, "back": {"/console/feed"}})
	return s.onToProvider(res)
}

// onToProvider is where the answer to "Sign in with …" sends the browser:
// a page of the console that moves on by itself (Refresh) and links it.
func (s *ssoRig) onToProvider(res resp) *url.URL {
	s.t.Helper()
	to, ok := strings.CutPrefix(res.header.Get("Refresh"), "0; url=")
	u, err := url.Parse(to)
	if res.status != 200 || !ok || err != nil || !strings.HasPrefix(to, s.idp.srv.URL+"/auth?") {
		s.t.Fatalf("sso start: %d, Refresh %q\n%s", res.status, res.header.Get("Refresh"), res.body)
	}
	if !strings.Contains(res.body, `<a href="`+s.idp.srv.URL+"/auth?client_id=") {
		s.t.Errorf("no link to the provider:\n%s", res.body)
	}
	return u
}

// authorize is the person at the provider: it answers with the callback's
// query.
func (s *ssoRig) authorize(auth *url.URL) url.Values {
	s.t.Helper()
	c := *s.idp.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Get(auth.String())
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, ssoRedirect+"?") {
		s.t.Fatalf("provider: %d %q", res.StatusCode, loc)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

func (s *ssoRig) callback(c *http.Client, q url.Values) resp {
	s.t.Helper()
	return s.do(c, "GET", "/console/sso/callback?"+q.Encode(), nil)
}

// signedIn: the browser has a working session of user with role.
func (s *ssoRig) signedIn(c *http.Client, user string, role domain.Role) bool {
	s.t.Helper()
	res := s.do(c, "GET", "/console/feed", nil)
	return res.status == 200 && strings.Contains(res.body, "Signed in as "+user+" ("+string(role)+")")
}

func (s *ssoRig) cookie(c *http.Client, name string) string {
	u, _ := url.Parse(s.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// auditLines are the console's audit lines for an action.
func (s *ssoRig) auditLines(action string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(s.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["log"] == "audit" && m["component"] == "console" && m["action"] == action {
			out = append(out, m)
		}
	}
	return out
}

func linkAlice(uf *UserFile) error { return uf.LinkSSO("alice", "f3b1c2d4-alice", false, time.Now()) }

func TestSSOSignInGivesTheAccountsRole(t *testing.T) {
	base := newRig(t)
	s := newSSORig(t, base, "")
	s.editUsers(func(uf *UserFile) error {
		if err := linkAlice(uf); err != nil {
			return err
		}
		return uf.AddSSO("sara", domain.RoleAuditor, "0a9e-sara", time.Now())
	})
	live := s.gw.live()
	c := s.browser()
	res := s.callback(c, s.authorize(s.start(c)))
	if res.status != 200 || res.header.Get("Refresh") != "0; url=/console/feed" || !strings.Contains(res.body, `href="/console/feed"`) {
		t.Fatalf("callback: %d %q\n%s", res.status, res.header.Get("Refresh"), res.body)
	}
	if !strings.Contains(res.header.Get("Content-Security-Policy"), "script-src 'self'") || strings.Contains(res.body, "<script>") {
		t.Error("the callback's page is not under the console's CSP")
	}
	// The provider said roles [admin] and groups [auditors]: alice is the
	// caseworker her account says, and the gateway refuses her the audit.
	if !s.signedIn(c, "alice", domain.RoleCaseworker) {
		t.Fatal("no working session after SSO")
	}
	if res := s.do(c, "GET", "/console/audit", nil); res.status != http.StatusForbidden {
		t.Errorf("the provider's claims gave alice the audit: %d", res.status)
	}
	if s.gw.live() != live+1 {
		t.Errorf("session tokens: %d, want %d", s.gw.live(), live+1)
	}
	if s.cookie(c, "__Host-cl-asylum-office-sso") != "" {
		t.Error("the pre-sign-in cookie outlived the callback")
	}
	lines := s.auditLines("signin")
	if len(lines) != 1 || lines[0]["user"] != "alice" || lines[0]["role"] != "caseworker" || lines[0]["via"] != "sso" || lines[0]["outcome"] != "OK" {
		t.Fatalf("audit: %v", lines)
	}
	// Nothing of the provider's tokens reaches the log.
	if strings.Contains(s.logs.String(), "eyJ") {
		t.Error("a token in the log")
	}
	// An SSO-only account: SSO yes, password no.
	s.idp.set(func(p *testIdP) { p.person = "0a9e-sara" })
	c2 := s.browser()
	s.callback(c2, s.authorize(s.start(c2)))
	if !s.signedIn(c2, "sara", domain.RoleAuditor) {
		t.Fatal("the SSO-only account cannot sign in with SSO")
	}
	if _, ok := s.con.cfg.Users.Authenticate("sara", ""); ok {
		t.Fatal("an SSO-only account signs in with an empty password")
	}
	// Signing out ends the SSO session like any other.
	home := s.do(c, "GET", "/console/feed", nil)
	s.do(c, "POST", "/console/signout", url.Values{"csrf": {csrfOf(t, home.body)}})
	if s.signedIn(c, "alice", domain.RoleCaseworker) {
		t.Fatal("signed out, still in")
	}
}

// Every way a callback can be wrong ends with no session, an audit line
// naming the reason, and a failure counted against the address.
func TestSSORefusals(t *testing.T) {
	base := newRig(t)
	apiToken := base.gw.gatewayOf[aoMSP].tokens[domain.RoleCaseworker]
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	spoil := func(f func(m map[string]any)) func(*ssoRig, *http.Client, url.Values) url.Values {
		return func(s *ssoRig, _ *http.Client, q url.Values) url.Values {
			s.idp.set(func(p *testIdP) { p.spoil = f })
			return q
		}
	}
	for _, tc := range []struct {
		name string
		// before runs after the provider answered, before the callback;
		// it may change the callback's query.
		before  func(s *ssoRig, c *http.Client, q url.Values) url.Values
		outcome string
	}{
		{"wrong state", func(_ *ssoRig, _ *http.Client, q url.Values) url.Values {
			q.Set("state", randomToken())
			return q
		}, "SSO_STATE"},
		{"no state", func(_ *ssoRig, _ *http.Client, q url.Values) url.Values { q.Del("state"); return q }, "SSO_STATE"},
		{"callback in a browser that did not start the flow", func(_ *ssoRig, c *http.Client, q url.Values) url.Values {
			c.Jar, _ = newJar()
			return q
		}, "SSO_NO_FLOW"},
		{"flow older than ten minutes", func(s *ssoRig, _ *http.Client, q url.Values) url.Values {
			s.clock.Add(ssoFlowTTL + time.Second)
			return q
		}, "SSO_FLOW_EXPIRED"},
		{"provider error", func(_ *ssoRig, _ *http.Client, q url.Values) url.Values {
			return url.Values{"state": q["state"], "error": {"access_denied"}}
		}, "SSO_PROVIDER_ERROR"},
		{"missing nonce", spoil(func(m map[string]any) { delete(m, "nonce") }), "SSO_NONCE"},
		{"nonce of another flow", spoil(func(m map[string]any) { m["nonce"] = randomToken() }), "SSO_NONCE"},
		{"wrong audience", spoil(func(m map[string]any) { m["aud"] = "another-client"; m["azp"] = "another-client" }), "SSO_ID_TOKEN"},
		{"several audiences, not authorized party", spoil(func(m map[string]any) {
			m["aud"] = []string{"caseledger-console", "another-client"}
			m["azp"] = "another-client"
		}), "SSO_ID_TOKEN"},
		{"expired token", spoil(func(m map[string]any) {
			m["exp"] = base.clock.Now().Add(-time.Second).Unix()
			m["iat"] = base.clock.Now().Add(-time.Hour).Unix()
		}), "SSO_ID_TOKEN"},
		{"issued in the future", spoil(func(m map[string]any) { m["iat"] = base.clock.Now().Add(time.Hour).Unix() }), "SSO_ID_TOKEN"},
		{"wrong issuer", spoil(func(m map[string]any) { m["iss"] = "https://idp.elsewhere.example" }), "SSO_ID_TOKEN"},
		{"signed with another key", func(s *ssoRig, _ *http.Client, q url.Values) url.Values {
			s.idp.set(func(p *testIdP) { p.signKey = otherKey })
			return q
		}, "SSO_ID_TOKEN"},
		{"unknown subject", func(s *ssoRig, c *http.Client, _ url.Values) url.Values {
			s.idp.set(func(p *testIdP) { p.person = "someone-else" })
			return s.authorize(s.start(c)) // a new flow, for the other person
		}, "UNKNOWN_SUBJECT"},
		{"disabled account", func(s *ssoRig, _ *http.Client, q url.Values) url.Values {
			s.editUsers(func(uf *UserFile) error { return uf.SetDisabled("alice", true, time.Now()) })
			return q
		}, "ACCOUNT_DISABLED"},
		{"PKCE verifier mismatch: a code of another browser's flow injected", func(s *ssoRig, _ *http.Client, q url.Values) url.Values {
			// The attacker's own flow yields a code bound to the attacker's
			// code challenge; the victim's console redeems it with the
			// victim's verifier.
			stolen := s.authorize(s.start(s.browser()))
			q.Set("code", stolen.Get("code"))
			return q
		}, "SSO_EXCHANGE"},
		{"an API token as the code", func(_ *ssoRig, _ *http.Client, q url.Values) url.Values {
			q.Set("code", apiToken)
			return q
		}, "SSO_EXCHANGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSSORig(t, base, "")
			s.editUsers(func(uf *UserFile) error {
				if err := uf.SetDisabled("alice", false, time.Now()); err != nil {
					return err
				}
				return linkAlice(uf)
			})
			live, logged := s.gw.live(), len(s.auditLines("signin-failed")) // the rig's log is shared
			c := s.browser()
			q := tc.before(s, c, s.authorize(s.start(c)))
			res := s.callback(c, q)
			if res.status == 200 || res.header.Get("Refresh") != "" {
				t.Fatalf("refused? %d", res.status)
			}
			if s.cookie(c, "__Host-cl-asylum-office") != "" || s.signedIn(c, "alice", domain.RoleCaseworker) || s.gw.live() != live {
				t.Fatal("a session after a refused callback")
			}
			lines := s.auditLines("signin-failed")[logged:]
			if len(lines) != 1 || lines[0]["outcome"] != tc.outcome || lines[0]["via"] != "sso" {
				t.Fatalf("audit: %v, want outcome %s", lines, tc.outcome)
			}
			if tc.outcome == "ACCOUNT_DISABLED" && lines[0]["user"] != "alice" {
				t.Errorf("the disabled account is not named: %v", lines[0])
			}
			if strings.Contains(s.logs.String(), apiToken) {
				t.Error("the API token reached the log")
			}
			if n := s.failures("ip:127.0.0.1"); n != 1 {
				t.Errorf("failures counted for the address: %d", n)
			}
		})
	}
}

func newJar() (http.CookieJar, error) { return cookiejar.New(nil) }

func (s *ssoRig) failures(key string) int {
	s.con.thr.mu.Lock()
	defer s.con.thr.mu.Unlock()
	return len(s.con.thr.m[key])
}

// A callback replayed with a copy of its pre-sign-in cookie — against a
// provider that lets a code be redeemed twice — finds its nonce used.
func TestSSOReplayedCallbackIsRefused(t *testing.T) {
	s := newSSORig(t, newRig(t), "")
	s.editUsers(linkAlice)
	s.idp.set(func(p *testIdP) { p.reuse = true })
	c := s.browser()
	auth := s.start(c)
	flowCookie := s.cookie(c, "__Host-cl-asylum-office-sso")
	q := s.authorize(auth)
	if res := s.callback(c, q); res.status != 200 || !s.signedIn(c, "alice", domain.RoleCaseworker) {
		t.Fatalf("first callback: %d", res.status)
	}
	thief := s.browser()
	u, _ := url.Parse(s.srv.URL)
	thief.Jar.SetCookies(u, []*http.Cookie{{Name: "__Host-cl-asylum-office-sso", Value: flowCookie, Path: "/"}})
	res := s.callback(thief, q)
	if res.status == 200 || s.signedIn(thief, "alice", domain.RoleCaseworker) {
		t.Fatalf("replayed callback signed in: %d", res.status)
	}
	if l := s.auditLines("signin-failed"); len(l) != 1 || l[0]["outcome"] != "SSO_REPLAY" {
		t.Fatalf("audit: %v", l)
	}
}

// The pre-sign-in cookie: __Host-, Secure, HttpOnly, SameSite=Lax (the
// provider's redirect back is a cross-site navigation), ten minutes; the
// provider gets a challenge, never the verifier.
func TestSSOStartCookieAndRequest(t *testing.T) {
	s := newSSORig(t, newRig(t), "")
	s.editUsers(linkAlice)
	c := s.browser()
	pg := s.do(c, "GET", "/console/signin", nil)
	if !strings.Contains(pg.body, "Sign in with Test IdP") || !strings.Contains(pg.body, `action="/console/sso/start"`) {
		t.Fatal("no SSO button on the sign-in page")
	}
	res := s.do(c, "POST", "/console/sso/start", url.Values{"csrf": {csrfOf(t, pg.body)}, "back": {"https://evil.example/"}})
	var ck *http.Cookie
	for _, k := range (&http.Response{Header: res.header}).Cookies() {
		if k.Name == "__Host-cl-asylum-office-sso" {
			ck = k
		}
	}
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" || ck.MaxAge != 600 {
		t.Fatalf("pre-sign-in cookie: %+v", ck)
	}
	loc := s.onToProvider(res)
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || len(q.Get("state")) != 43 ||
		len(q.Get("nonce")) != 43 || q.Get("redirect_uri") != ssoRedirect || q.Get("scope") != "openid" {
		t.Fatalf("authorization request: %v", q)
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if strings.Contains(ck.Value, q.Get(k)) {
			t.Fatal("the cookie shows what it carries")
		}
	}
	// back is a console path only.
	r2 := s.callback(c, s.authorize(loc))
	if r2.header.Get("Refresh") != "0; url=/console/" {
		t.Errorf("back: %q", r2.header.Get("Refresh"))
	}
	// Without the sign-in page's CSRF token (a cross-site form): no flow.
	if res := s.do(s.browser(), "POST", "/console/sso/start", url.Values{"csrf": {csrfOf(t, pg.body)}}); res.status != http.StatusForbidden {
		t.Errorf("start without the sign-in cookie: %d", res.status)
	}
	// German.
	req, _ := http.NewRequest("GET", s.srv.URL+"/console/signin", nil)
	req.Header.Set("Accept-Language", "de")
	de, err := s.browser().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(de.Body)
	de.Body.Close()
	if !strings.Contains(string(b), "Anmelden mit Test IdP") {
		t.Error("no German SSO button")
	}
}

func TestNoSSOButtonWithoutSSO(t *testing.T) {
	r := newRig(t)
	c := r.browser()
	if pg := r.do(c, "GET", "/console/signin", nil); strings.Contains(pg.body, "sso/start") {
		t.Fatal("an SSO button without SSO")
	}
	if res := r.do(c, "GET", "/console/sso/callback?code=x&state=y", nil); res.status != http.StatusNotFound {
		t.Fatalf("callback without SSO: %d", res.status)
	}
}

// Failed callbacks count like failed passwords: the address is locked,
// even for a callback that would succeed.
func TestSSOCallbackFailuresAreThrottled(t *testing.T) {
	s := newSSORig(t, newRig(t), "")
	s.editUsers(linkAlice)
	// A flow begun before the lock, completed during it.
	c2 := s.browser()
	q := s.authorize(s.start(c2))
	for range DefaultSignInLimit {
		if res := s.callback(s.browser(), url.Values{"code": {"x"}, "state": {"y"}}); res.status != http.StatusUnauthorized {
			t.Fatalf("bad callback: %d", res.status)
		}
	}
	c := s.browser()
	pg := s.do(c, "GET", "/console/signin", nil)
	if res := s.do(c, "POST", "/console/sso/start", url.Values{"csrf": {csrfOf(t, pg.body)}}); res.status != http.StatusTooManyRequests {
		t.Fatalf("start while locked: %d", res.status)
	}
	if res := s.callback(c2, q); res.status != http.StatusTooManyRequests || s.signedIn(c2, "alice", domain.RoleCaseworker) {
		t.Fatalf("callback while locked: %d", res.status)
	}
	// And password sign-in from that address is locked too.
	pg = s.do(c, "GET", "/console/signin", nil)
	if res := s.do(c, "POST", "/console/signin", url.Values{"csrf": {csrfOf(t, pg.body)}, "user": {"otto"}, "password": {pw}}); res.status != http.StatusTooManyRequests {
		t.Fatalf("password sign-in from a locked address: %d", res.status)
	}
	s.clock.Add(DefaultSignInWindow)
	c3 := s.browser()
	s.callback(c3, s.authorize(s.start(c3)))
	if !s.signedIn(c3, "alice", domain.RoleCaseworker) {
		t.Fatal("still locked after the window")
	}
}

// The session cookie an SSO sign-in gave is worthless at another agency's
// console, and so is the flow cookie (sealed for one console).
func TestSSOSessionIsWorthlessAtAnotherAgency(t *testing.T) {
	base := newRig(t)
	s := newSSORig(t, base, "")
	s.editUsers(linkAlice)
	c := s.browser()
	auth := s.start(c)
	flowCookie := s.cookie(c, "__Host-cl-asylum-office-sso")
	q := s.authorize(auth)
	s.callback(c, q)
	sid := s.cookie(c, "__Host-cl-asylum-office")
	if sid == "" || !s.signedIn(c, "alice", domain.RoleCaseworker) {
		t.Fatal("no session")
	}

	// The border police's console, with SSO at the same provider and an
	// alice linked to the same person.
	bp := base.gw.gatewayOf[bpMSP]
	var uf UserFile
	if err := uf.AddSSO("alice", domain.RoleCaseworker, "f3b1c2d4-alice", base.clock.Now()); err != nil {
		t.Fatal(err)
	}
	cfg := s.con.cfg
	cfg.API, cfg.Tokens, cfg.Users, cfg.Org, cfg.MSPID, cfg.Kind = bp.srv.Handler(), bp.auth, StaticUsers(uf), "border-police", bpMSP, domain.AgencyBorderPolice
	other, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(Mount(cfg.API, other))
	defer srv.Close()
	get := func(path string, cks ...*http.Cookie) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for _, ck := range cks {
			req.AddCookie(ck)
		}
		cl := *srv.Client()
		cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := cl.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for _, name := range []string{"__Host-cl-asylum-office", "__Host-cl-border-police"} {
		if res := get("/console/feed", &http.Cookie{Name: name, Value: sid}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("the border police's console took the asylum office's session as %s: %d", name, res.StatusCode)
		}
	}
	// The asylum office's flow cookie and callback at the border police.
	res := get("/console/sso/callback?"+q.Encode(), &http.Cookie{Name: "__Host-cl-border-police-sso", Value: flowCookie})
	if res.StatusCode == 200 {
		t.Fatal("another console's flow cookie opened")
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "__Host-cl-border-police" && ck.Value != "" {
			t.Fatal("a session at the border police")
		}
	}
}

// A provider that cannot be reached: the button answers 503, password
// sign-in still works.
func TestSSOProviderUnreachable(t *testing.T) {
	base := newRig(t)
	s := newSSORig(t, base, "")
	s.idp.srv.Close()
	c := s.browser()
	pg := s.do(c, "GET", "/console/signin", nil)
	if res := s.do(c, "POST", "/console/sso/start", url.Values{"csrf": {csrfOf(t, pg.body)}}); res.status != http.StatusServiceUnavailable ||
		!strings.Contains(res.body, "Test IdP cannot be reached") {
		t.Fatalf("start with the provider down: %d", res.status)
	}
	pg = s.do(c, "GET", "/console/signin", nil)
	if res := s.do(c, "POST", "/console/signin", url.Values{"csrf": {csrfOf(t, pg.body)}, "user": {"alice"}, "password": {pw}}); res.status != http.StatusSeeOther {
		t.Fatalf("password sign-in with the provider down: %d", res.status)
	}
}

// With the claim email, only a verified address counts.
func TestSSOByEmailNeedsAVerifiedAddress(t *testing.T) {
	base := newRig(t)
	s := newSSORig(t, base, "email")
	s.editUsers(func(uf *UserFile) error { return uf.LinkSSO("alice", "f3b1c2d4-alice@bamf.example", false, time.Now()) })
	c := s.browser()
	auth := s.start(c)
	if !strings.Contains(auth.Query().Get("scope"), "email") {
		t.Fatalf("scope: %q", auth.Query().Get("scope"))
	}
	s.callback(c, s.authorize(auth))
	if !s.signedIn(c, "alice", domain.RoleCaseworker) {
		t.Fatal("no session by e-mail")
	}
	s.idp.set(func(p *testIdP) { p.spoil = func(m map[string]any) { m["email_verified"] = false } })
	c2 := s.browser()
	s.callback(c2, s.authorize(s.start(c2)))
	if s.signedIn(c2, "alice", domain.RoleCaseworker) {
		t.Fatal("an unverified address signed in")
	}
	if l := s.auditLines("signin-failed"); len(l) != 1 || l[0]["outcome"] != "SSO_EMAIL_UNVERIFIED" {
		t.Fatalf("audit: %v", l)
	}
}

func TestSSOConfigIsChecked(t *testing.T) {
	good := OIDCConfig{Issuer: "https://idp.example/realms/bamf", ClientID: "c", ClientSecret: "s", RedirectURL: "https://gw.example/console/sso/callback"}
	for name, f := range map[string]func(*OIDCConfig){
		"http issuer":       func(c *OIDCConfig) { c.Issuer = "http://idp.example" },
		"http redirect":     func(c *OIDCConfig) { c.RedirectURL = "http://gw.example/console/sso/callback" },
		"other callback":    func(c *OIDCConfig) { c.RedirectURL = "https://gw.example/elsewhere" },
		"no secret":         func(c *OIDCConfig) { c.ClientSecret = "" },
		"no client":         func(c *OIDCConfig) { c.ClientID = "" },
		"claim with spaces": func(c *OIDCConfig) { c.Claim = "a b" },
	} {
		c := good
		f(&c)
		if _, err := newSSO(c, "asylum-office", time.Now); !errors.Is(err, ErrSSOConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := good
	if _, err := newSSO(c, "asylum-office", time.Now); err != nil {
		t.Fatal(err)
	}
}

func TestUserFileSSOAccounts(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var f UserFile
	if err := f.Add("mara", domain.RoleCaseworker, pw, testKDF, now); err != nil {
		t.Fatal(err)
	}
	if err := f.AddSSO("jonas", domain.RoleDublinOfficer, "sub-jonas", now); err != nil {
		t.Fatal(err)
	}
	if err := f.LinkSSO("mara", "sub-jonas", false, now); !errors.Is(err, ErrUserExists) {
		t.Fatalf("a subject linked twice: %v", err)
	}
	if err := f.LinkSSO("mara", " padded", false, now); !errors.Is(err, ErrUserFile) {
		t.Fatalf("a padded subject: %v", err)
	}
	if err := f.UnlinkSSO("jonas", now); !errors.Is(err, ErrUserFile) {
		t.Fatalf("unlinking an SSO-only account: %v", err)
	}
	if err := f.LinkSSO("mara", "sub-mara", true, now); err != nil || f.Users[0].Hash != "" {
		t.Fatalf("sso-only: %v %q", err, f.Users[0].Hash)
	}
	b, _ := json.Marshal(f)
	g, err := ParseUserFile(b)
	if err != nil || g.Users[1].SSOSubject != "sub-jonas" || g.Users[1].Hash != "" {
		t.Fatalf("round trip: %v %+v", err, g)
	}
	u := StaticUsers(g)
	if usr, ok := u.LookupSSO("sub-mara"); !ok || usr.Name != "mara" {
		t.Fatal("LookupSSO")
	}
	if _, ok := u.Authenticate("jonas", ""); ok {
		t.Fatal("an SSO-only account signed in without a password")
	}
	for name, doc := range map[string]string{
		"neither password nor subject": `{"version":1,"users":[{"name":"a","role":"caseworker","createdAt":"2026-12-04T10:00:00Z","changedAt":"2026-12-04T10:00:00Z"}]}`,
		"duplicate subject": `{"version":1,"users":[{"name":"a","role":"caseworker","ssoSubject":"x","createdAt":"2026-12-04T10:00:00Z","changedAt":"2026-12-04T10:00:00Z"},` +
			`{"name":"b","role":"caseworker","ssoSubject":"x","createdAt":"2026-12-04T10:00:00Z","changedAt":"2026-12-04T10:00:00Z"}]}`,
		"control character": `{"version":1,"users":[{"name":"a","role":"caseworker","ssoSubject":"x\u0007","createdAt":"2026-12-04T10:00:00Z","changedAt":"2026-12-04T10:00:00Z"}]}`,
	} {
		if _, err := ParseUserFile([]byte(doc)); !errors.Is(err, ErrUserFile) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Unlinking the subject (or linking it to someone else) ends the SSO
// sessions it gave; a password session of the same account goes on.
func TestUnlinkingEndsSSOSessions(t *testing.T) {
	s := newSSORig(t, newRig(t), "")
	s.editUsers(linkAlice)
	sso := s.browser()
	s.callback(sso, s.authorize(s.start(sso)))
	pwd, _ := s.signIn("alice")
	if !s.signedIn(sso, "alice", domain.RoleCaseworker) || !s.signedIn(pwd, "alice", domain.RoleCaseworker) {
		t.Fatal("no sessions")
	}
	s.editUsers(func(uf *UserFile) error { return uf.UnlinkSSO("alice", time.Now()) })
	if s.signedIn(sso, "alice", domain.RoleCaseworker) {
		t.Fatal("the SSO session outlived the unlinking")
	}
	if !s.signedIn(pwd, "alice", domain.RoleCaseworker) {
		t.Fatal("the password session ended with the unlinking")
	}
	if l := s.auditLines("session-ended"); len(l) != 1 || l[0]["user"] != "alice" {
		t.Fatalf("audit: %v", l)
	}
}

// An API token is no session: not as a bearer token, not as the cookie.
func TestAPITokenIsNoConsoleSession(t *testing.T) {
	s := newSSORig(t, newRig(t), "")
	tok := s.gw.gatewayOf[aoMSP].tokens[domain.RoleCaseworker]
	req, _ := http.NewRequest("GET", s.srv.URL+"/console/feed", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.AddCookie(&http.Cookie{Name: "__Host-cl-asylum-office", Value: tok})
	res, err := s.browser().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/console/signin") {
		t.Fatalf("an API token opened the console: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

// The sign-in page shown after a refused callback does not link the
// callback (its language switch would send the code and state again).
func TestRefusedCallbackPageDoesNotLinkTheCallback(t *testing.T) {
	s := newSSORig(t, newRig(t), "")
	c := s.browser()
	q := s.authorize(s.start(c)) // alice is not linked: refused
	res := s.callback(c, q)
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "not linked to an active account") {
		t.Fatalf("refused callback: %d\n%s", res.status, res.body)
	}
	if strings.Contains(res.body, q.Get("code")) || strings.Contains(res.body, "sso/callback") {
		t.Fatalf("the page links the callback:\n%s", res.body)
	}
}

// The flow cookie is the one thing of the flow a browser hands back: any
// bytes either fail to open or open to exactly what this console sealed.
func FuzzSSOFlowCookie(f *testing.F) {
	s, err := newSSO(OIDCConfig{Issuer: "https://idp.example", ClientID: "c", ClientSecret: "s",
		RedirectURL: "https://gw.example/console/sso/callback"}, "asylum-office", time.Now)
	if err != nil {
		f.Fatal(err)
	}
	want := flow{State: "st", Nonce: "no", Verifier: "ve", Back: "/console/", Expires: 1}
	sealed := s.sealFlow(want)
	f.Add(sealed)
	f.Add(sealed[:len(sealed)-1])
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := s.openFlow(v)
		if ok && got != want {
			t.Fatalf("opened to something never sealed: %+v", got)
		}
	})
}

// The pages of the SSO flow meet the same basics as every other page
// (language, skip link, main landmark, one h1, no inline code or style,
// the way on as a named link).
func TestSSOPagesMeetTheWCAGBasics(t *testing.T) {
	s := newSSORig(t, newRig(t), "")
	s.editUsers(linkAlice)
	c := s.browser()
	signin := s.do(c, "GET", "/console/signin", nil)
	goPage := s.do(c, "POST", "/console/sso/start", url.Values{"csrf": {csrfOf(t, signin.body)}})
	u := s.onToProvider(goPage)
	done := s.callback(c, s.authorize(u))
	for name, html := range map[string]string{"signin with SSO": signin.body, "on to the provider": goPage.body, "signed in": done.body} {
		for _, must := range []string{`<html lang="en">`, `<a class="skip" href="#main">`, `<main id="main"`, "<title>"} {
			if !strings.Contains(html, must) {
				t.Errorf("%s: lacks %s", name, must)
			}
		}
		if strings.Count(html, "<h1>") != 1 {
			t.Errorf("%s: not one h1", name)
		}
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`), regexp.MustCompile(`\sstyle=`),
			regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`<style`), regexp.MustCompile(`<a [^>]*>\s*</a>`)} {
			if bad.MatchString(html) {
				t.Errorf("%s: %s", name, bad)
			}
		}
	}
	if !strings.Contains(goPage.body, ">Continue to Test IdP</a>") || !strings.Contains(done.body, ">Continue to the console</a>") {
		t.Error("the way on is not a named link")
	}
}

// A provider down when the first person presses the button: 503, tried
// again after ssoRetry (not before), then SSO works without a restart.
func TestSSODiscoveryIsRetried(t *testing.T) {
	s := newSSORig(t, newRig(t), "")
	s.editUsers(linkAlice)
	s.idp.set(func(p *testIdP) { p.down = true })
	press := func(c *http.Client) resp {
		pg := s.do(c, "GET", "/console/signin", nil)
		return s.do(c, "POST", "/console/sso/start", url.Values{"csrf": {csrfOf(t, pg.body)}})
	}
	c := s.browser()
	if res := press(c); res.status != http.StatusServiceUnavailable {
		t.Fatalf("provider down: %d", res.status)
	}
	s.idp.set(func(p *testIdP) { p.down = false })
	if res := press(c); res.status != http.StatusServiceUnavailable {
		t.Fatalf("retried before %s: %d", ssoRetry, res.status)
	}
	s.clock.Add(ssoRetry)
	s.callback(c, s.authorize(s.onToProvider(press(c))))
	if !s.signedIn(c, "alice", domain.RoleCaseworker) {
		t.Fatal("no SSO after the provider came back")
	}
}
