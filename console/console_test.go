package console

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// cheap Argon2id parameters keep the tests fast; the format and the code
// path are the production ones.
var testKDF = KDF{Memory: 64, Time: 1, Threads: 1}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lockedBuffer is the log sink: the server's goroutines write, the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

type rig struct {
	t     *testing.T
	clock *fakeClock
	gw    *realGateway
	con   *Console
	srv   *httptest.Server
	logs  *lockedBuffer
	users string
}

const pw = "correct horse battery"

func newRig(t *testing.T) *rig {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	var uf UserFile
	for _, u := range []struct {
		n string
		r domain.Role
	}{{"alice", domain.RoleCaseworker}, {"otto", domain.RoleAuditor}, {"jonas", domain.RoleDublinOfficer}} {
		if err := uf.Add(u.n, u.r, pw, testKDF, clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), DefaultUsersFile)
	if err := SaveUserFile(path, uf); err != nil {
		t.Fatal(err)
	}
	users, err := OpenUsers(path, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	gw := newRealGateway(t, clock.Now, logs)
	con, err := New(Config{API: gw, Tokens: gw, Users: users, Org: "asylum-office", MSPID: "AsylumOfficeMSP", MemberState: "DE",
		Kind: domain.AgencyAsylumOffice, Now: clock.Now, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(Mount(gw, con))
	t.Cleanup(srv.Close)
	return &rig{t: t, clock: clock, gw: gw, con: con, srv: srv, logs: logs, users: path}
}

// browser is a client with a cookie jar that does not follow redirects.
func (r *rig) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *r.srv.Client() // a copy: the server's client is shared
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

type resp struct {
	status int
	body   string
	header http.Header
}

func (r *rig) do(c *http.Client, method, path string, form url.Values) resp {
	r.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, r.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", "en")
	res, err := c.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, string(b), res.Header}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", html)
	}
	return m[1]
}

// signIn signs in and returns the browser and the session's CSRF token.
func (r *rig) signIn(user string) (*http.Client, string) {
	r.t.Helper()
	c := r.browser()
	pg := r.do(c, "GET", "/console/signin", nil)
	res := r.do(c, "POST", "/console/signin", url.Values{"csrf": {csrfOf(r.t, pg.body)}, "user": {user}, "password": {pw}, "back": {"/console/"}})
	if res.status != http.StatusSeeOther {
		r.t.Fatalf("sign-in of %s: %d\n%s", user, res.status, res.body)
	}
	home := r.do(c, "GET", "/console/feed", nil)
	if home.status != 200 {
		r.t.Fatalf("after sign-in: %d", home.status)
	}
	return c, csrfOf(r.t, home.body)
}

func TestNoPageWithoutSignIn(t *testing.T) {
	r := newRig(t)
	c := r.browser()
	for _, p := range []string{"/console/", "/console/case?channel=national&p=x", "/console/deadlines", "/console/feed", "/console/audit"} {
		res := r.do(c, "GET", p, nil)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/console/signin") {
			t.Errorf("GET %s without a session: %d %s", p, res.status, res.header.Get("Location"))
		}
	}
	if res := r.do(c, "GET", "/console/feed/stream", nil); res.status != http.StatusUnauthorized {
		t.Errorf("stream without a session: %d", res.status)
	}
	if res := r.do(c, "POST", "/console/case/record", url.Values{"csrf": {"x"}}); res.status != http.StatusUnauthorized {
		t.Errorf("POST without a session: %d", res.status)
	}
	if len(r.gw.callList()) != 0 {
		t.Errorf("the API was called without a session: %v", r.gw.callList())
	}
}

func TestSignInCookiesAndHeaders(t *testing.T) {
	r := newRig(t)
	c := r.browser()
	pg := r.do(c, "GET", "/console/signin", nil)
	req, _ := http.NewRequest("POST", r.srv.URL+"/console/signin", strings.NewReader(url.Values{"csrf": {csrfOf(t, pg.body)},
		"user": {"alice"}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "__Host-cl-asylum-office" && ck.Value != "" {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("no session cookie: %v", res.Header["Set-Cookie"])
	}
	if !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.Domain != "" {
		t.Errorf("session cookie flags: %+v", session)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	if !strings.Contains(r.logs.String(), `"action":"signin","user":"alice","role":"caseworker","outcome":"OK"`) {
		t.Errorf("no audit line for the sign-in:\n%s", r.logs)
	}
}

func TestSignInRefusals(t *testing.T) {
	r := newRig(t)
	c := r.browser()
	pg := r.do(c, "GET", "/console/signin", nil)
	tok := csrfOf(t, pg.body)
	// Without the pre-session token (a cross-site form): refused.
	if res := r.do(r.browser(), "POST", "/console/signin", url.Values{"csrf": {tok}, "user": {"alice"}, "password": {pw}}); res.status != http.StatusForbidden {
		t.Errorf("sign-in without the sign-in cookie: %d", res.status)
	}
	// An API token is not a password of any account.
	if res := r.do(c, "POST", "/console/signin", url.Values{"csrf": {tok}, "user": {"alice"}, "password": {"clg_" + randomToken()}}); res.status != http.StatusUnauthorized {
		t.Errorf("API token as password: %d", res.status)
	}
	tok = csrfOf(t, r.do(c, "GET", "/console/signin", nil).body)
	if res := r.do(c, "POST", "/console/signin", url.Values{"csrf": {tok}, "user": {"clg_" + randomToken()}, "password": {"x"}}); res.status != http.StatusUnauthorized {
		t.Errorf("API token as user: %d", res.status)
	}
	if strings.Contains(r.logs.String(), "clg_") {
		t.Error("what was typed as a user name reached the log")
	}
}

func TestSignInThrottling(t *testing.T) {
	r := newRig(t)
	c := r.browser()
	try := func(p string) int {
		pg := r.do(c, "GET", "/console/signin", nil)
		return r.do(c, "POST", "/console/signin", url.Values{"csrf": {csrfOf(t, pg.body)}, "user": {"alice"}, "password": {p}}).status
	}
	for i := range DefaultSignInLimit {
		if st := try("wrong password " + string(rune('a'+i))); st != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, st)
		}
	}
	// Locked now, even with the right password.
	if st := try(pw); st != http.StatusTooManyRequests {
		t.Fatalf("after %d failures, the right password: %d", DefaultSignInLimit, st)
	}
	r.clock.Add(DefaultSignInWindow - time.Minute)
	if st := try(pw); st != http.StatusTooManyRequests {
		t.Fatalf("inside the window: %d", st)
	}
	r.clock.Add(2 * time.Minute)
	if st := try(pw); st != http.StatusSeeOther {
		t.Fatalf("after the window: %d", st)
	}
}

func TestThrottleCountsPerKeyInAWindow(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	th := newThrottle(3, 10*time.Minute, clock.Now)
	for range 3 {
		th.fail("a")
		clock.Add(time.Minute)
	}
	if w := th.wait("a"); w != 7*time.Minute {
		t.Fatalf("wait after 3 failures: %s", w)
	}
	if w := th.wait("b"); w != 0 {
		t.Fatalf("another key waits: %s", w)
	}
	clock.Add(7 * time.Minute) // the first failure leaves the window
	if w := th.wait("a"); w != 0 {
		t.Fatalf("after the window: %s", w)
	}
	th.fail("a")
	th.clear("a")
	if w := th.wait("a"); w != 0 || len(th.m) != 0 {
		t.Fatalf("clear: %s %v", w, th.m)
	}
}

func TestSessionIdleTimeoutAndSignOut(t *testing.T) {
	r := newRig(t)
	c, _ := r.signIn("alice")
	if r.gw.live() != 1 {
		t.Fatalf("session tokens: %d", r.gw.live())
	}
	r.clock.Add(DefaultIdleTimeout - time.Second)
	if res := r.do(c, "GET", "/console/feed", nil); res.status != 200 {
		t.Fatalf("within the idle timeout: %d", res.status)
	}
	r.clock.Add(DefaultIdleTimeout + time.Second)
	if res := r.do(c, "GET", "/console/feed", nil); res.status != http.StatusSeeOther {
		t.Fatalf("after the idle timeout: %d", res.status)
	}
	if r.gw.live() != 0 {
		t.Fatal("the expired session's API token lives on")
	}
	// Sign out ends the session and its token.
	c, tok := r.signIn("alice")
	if res := r.do(c, "POST", "/console/signout", url.Values{"csrf": {tok}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.status)
	}
	if res := r.do(c, "GET", "/console/feed", nil); res.status != http.StatusSeeOther || r.gw.live() != 0 {
		t.Fatalf("after sign-out: %d, tokens %d", res.status, r.gw.live())
	}
	// A session ends at its maximum age however busy.
	c, _ = r.signIn("alice")
	for i := time.Duration(0); i < DefaultMaxSession; i += 10 * time.Minute {
		r.clock.Add(10 * time.Minute)
		r.do(c, "GET", "/console/feed", nil)
	}
	r.clock.Add(time.Minute)
	if res := r.do(c, "GET", "/console/feed", nil); res.status != http.StatusSeeOther {
		t.Fatalf("past the maximum session age: %d", res.status)
	}
}

func TestDisabledAccountIsSignedOut(t *testing.T) {
	r := newRig(t)
	c, _ := r.signIn("alice")
	uf, err := LoadUserFile(r.users)
	if err != nil {
		t.Fatal(err)
	}
	if err := uf.SetDisabled("alice", true, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := SaveUserFile(r.users, uf); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(2 * time.Second) // the file is re-read at most once a second
	if res := r.do(c, "GET", "/console/feed", nil); res.status != http.StatusSeeOther || r.gw.live() != 0 {
		t.Fatalf("disabled account: %d, tokens %d", res.status, r.gw.live())
	}
}

func TestFormsNeedTheSessionsCSRFToken(t *testing.T) {
	r := newRig(t)
	c, tok := r.signIn("alice")
	form := url.Values{"channel": {"national"}, "p": {r.gw.pseudonym()}, "step": {"IDENTITY_CHECKED"},
		"occurredOn": {"2026-12-04"}, "f.eurodacHit": {"NONE"}, "idem": {"k1"}}
	for name, f := range map[string]url.Values{"none": form, "wrong": with(form, "csrf", "x"+tok[1:])} {
		if res := r.do(c, "POST", "/console/case/record", f); res.status != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d", name, res.status)
		}
	}
	// Another session's token is worthless here.
	_, other := r.signIn("alice")
	if res := r.do(c, "POST", "/console/case/record", with(form, "csrf", other)); res.status != http.StatusForbidden {
		t.Errorf("another session's CSRF token: %d", res.status)
	}
	// A cross-origin POST with the right token is refused too.
	req, _ := http.NewRequest("POST", r.srv.URL+"/console/case/record", strings.NewReader(with(form, "csrf", tok).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if res, err := c.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: %v %v", res.StatusCode, err)
	}
	if r.gw.status() != domain.StRegistered {
		t.Fatal("a refused form recorded the step")
	}
	res := r.do(c, "POST", "/console/case/record", with(form, "csrf", tok))
	if res.status != http.StatusSeeOther || r.gw.status() != domain.StIdentityChecked {
		t.Fatalf("with the token: %d %s", res.status, r.gw.status())
	}
	// The same form sent again is the same write (same Idempotency-Key).
	if res := r.do(c, "POST", "/console/case/record", with(form, "csrf", tok)); res.status != http.StatusSeeOther || r.gw.eventCount() != 1 {
		t.Fatalf("resent form: %d, %d events", res.status, r.gw.eventCount())
	}
	if !strings.Contains(r.logs.String(), `"action":"record","user":"alice","role":"caseworker","outcome":"OK"`) {
		t.Errorf("no audit line naming the user:\n%s", r.logs)
	}
	// The gateway's request log names the user and the role of the call.
	if !slices.Contains(r.gw.callList(), "POST /v1/cases/events") ||
		!strings.Contains(r.logs.String(), `"route":"POST /v1/cases/events","status":200,`) ||
		!regexp.MustCompile(`"route":"POST /v1/cases/events","status":200,[^\n]*"token":"user:alice","role":"caseworker"`).MatchString(r.logs.String()) {
		t.Errorf("the API was not called as the user: %v\n%s", r.gw.callList(), r.logs)
	}
}

func with(v url.Values, k, val string) url.Values {
	out := url.Values{}
	for kk, vv := range v {
		out[kk] = vv
	}
	out.Set(k, val)
	return out
}

func TestWorklistCaseAndRefusalInPlainWords(t *testing.T) {
	r := newRig(t)
	c, tok := r.signIn("alice")
	wl := r.do(c, "GET", "/console/", nil)
	if wl.status != 200 || !strings.Contains(wl.body, "BAMF-7") || !strings.Contains(wl.body, "Identity checked") {
		t.Fatalf("worklist: %d\n%s", wl.status, wl.body)
	}
	pg := r.do(c, "GET", "/console/case?channel=national&p="+r.gw.pseudonym()+"&step=IDENTITY_CHECKED", nil)
	if pg.status != 200 || !strings.Contains(pg.body, `name="f.eurodacHit"`) || !strings.Contains(pg.body, `<option value="CATEGORY_1"`) {
		t.Fatalf("step form: %d\n%s", pg.status, pg.body)
	}
	// Only the steps of the workflow table are offered: FILE_CREATED does
	// not follow REGISTERED.
	if strings.Contains(pg.body, "step=FILE_CREATED") {
		t.Error("the case page offers a step the workflow does not allow")
	}
	res := r.do(c, "POST", "/console/case/record", url.Values{"csrf": {tok}, "channel": {"national"}, "p": {r.gw.pseudonym()},
		"step": {"IDENTITY_CHECKED"}, "occurredOn": {"2026-12-04"}, "idem": {"k2"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "A value is invalid or missing.") ||
		!strings.Contains(res.body, "eurodacHit: field required for IDENTITY_CHECKED") || !strings.Contains(res.body, "INVALID_ARGUMENT") {
		t.Fatalf("refusal: %d\n%s", res.status, res.body)
	}
	// A step out of order (crafted form): the API's refusal, in plain words.
	res = r.do(c, "POST", "/console/case/record", url.Values{"csrf": {tok}, "channel": {"national"}, "p": {r.gw.pseudonym()},
		"step": {"HEARING_HELD"}, "occurredOn": {"2026-12-04"}, "idem": {"k3"}})
	if !strings.Contains(res.body, "This step is not possible in the case&#39;s current status.") || !strings.Contains(res.body, "INVALID_TRANSITION") {
		t.Fatalf("out-of-order step: %d\n%s", res.status, res.body)
	}
}

func TestCaseworkerGetsTheAPIsRefusalOfAuditPages(t *testing.T) {
	r := newRig(t)
	c, _ := r.signIn("alice")
	res := r.do(c, "GET", "/console/audit", nil)
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "Your agency or your role may not do this.") {
		t.Fatalf("caseworker on the audit page: %d\n%s", res.status, res.body)
	}
	if strings.Contains(r.do(c, "GET", "/console/feed", nil).body, `href="/console/audit"`) {
		t.Error("the caseworker's navigation links the audit page")
	}
}

func TestSessionCookieIsWorthlessAtAnotherConsole(t *testing.T) {
	r := newRig(t)
	other := newRig(t)
	c, _ := r.signIn("alice")
	u, _ := url.Parse(r.srv.URL)
	var sid string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "__Host-cl-asylum-office" {
			sid = ck.Value
		}
	}
	req, _ := http.NewRequest("GET", other.srv.URL+"/console/feed", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-cl-asylum-office", Value: sid})
	res, err := other.browser().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another console took the cookie: %d", res.StatusCode)
	}
}

// Every page: a lang attribute, a skip link to the main landmark, a label
// for every input, no inline script, style or event handler (the CSP
// would block them; their absence is checked here).
func TestPagesMeetTheWCAGBasics(t *testing.T) {
	r := newRig(t)
	anon := r.browser()
	c, _ := r.signIn("alice")
	du, _ := r.signIn("jonas")
	pages := map[string]string{
		"signin":    r.do(anon, "GET", "/console/signin", nil).body,
		"worklist":  r.do(c, "GET", "/console/", nil).body,
		"case":      r.do(c, "GET", "/console/case?channel=national&p="+r.gw.pseudonym()+"&step=IDENTITY_CHECKED", nil).body,
		"feed":      r.do(c, "GET", "/console/feed", nil).body,
		"error":     r.do(c, "GET", "/console/nothing", nil).body,
		"deadlines": r.do(du, "GET", "/console/deadlines", nil).body,
	}
	if strings.Contains(pages["deadlines"], `role="alert"`) {
		t.Errorf("the Dublin officer's deadline board:\n%s", pages["deadlines"])
	}
	inputRe := regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRe := regexp.MustCompile(`\bid="([^"]+)"`)
	for name, html := range pages {
		for _, must := range []string{`<html lang="en">`, `<a class="skip" href="#main">`, `<main id="main"`, "<h1>", "<title>"} {
			if !strings.Contains(html, must) {
				t.Errorf("%s: lacks %s", name, must)
			}
		}
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`), regexp.MustCompile(`\sstyle=`),
			regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`<style`)} {
			if bad.MatchString(html) {
				t.Errorf("%s: inline code or style %s", name, bad)
			}
		}
		for _, in := range inputRe.FindAllString(html, -1) {
			if strings.Contains(in, `type="hidden"`) {
				continue
			}
			m := idRe.FindStringSubmatch(in)
			if m == nil || !strings.Contains(html, `<label for="`+m[1]+`"`) {
				t.Errorf("%s: input without a label: %s", name, in)
			}
		}
	}
}

func TestLanguageSwitch(t *testing.T) {
	r := newRig(t)
	c := r.browser()
	res := r.do(c, "GET", "/console/lang?to=de&back=/console/signin", nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/console/signin" {
		t.Fatalf("switch: %d %s", res.status, res.header.Get("Location"))
	}
	pg := r.do(c, "GET", "/console/signin", nil)
	if !strings.Contains(pg.body, `<html lang="de">`) || !strings.Contains(pg.body, "Benutzername") {
		t.Fatal("German page expected")
	}
	for _, back := range []string{"https://evil.example/", "//evil.example/console/", "/v1/whoami", "/console/\\evil", "javascript:alert(1)"} {
		if got := localPath(back); got != Prefix {
			t.Errorf("localPath(%q) = %q", back, got)
		}
	}
	if got := localPath("/console/case?channel=national&p=x"); got != "/console/case?channel=national&p=x" {
		t.Errorf("a console path: %q", got)
	}
}

func TestUserFile(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var f UserFile
	if err := f.Add("alice", domain.RoleCaseworker, pw, testKDF, now); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name, pw string
		role     domain.Role
		want     error
	}{
		{"alice", pw, domain.RoleCaseworker, ErrUserExists},
		{"Bob", pw, domain.RoleCaseworker, ErrUserFile},
		{"bob", pw, "root", ErrUserFile},
		{"bob", "short", domain.RoleCaseworker, ErrBadPassword},
	} {
		if err := f.Add(bad.name, bad.role, bad.pw, testKDF, now); !errors.Is(err, bad.want) {
			t.Errorf("Add(%q, %q): %v, want %v", bad.name, bad.role, err, bad.want)
		}
	}
	path := filepath.Join(t.TempDir(), "u.json")
	if err := SaveUserFile(path, f); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), pw) || !strings.Contains(string(raw), "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("stored form:\n%s", raw)
	}
	u, err := OpenUsers(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Authenticate("alice", pw); !ok {
		t.Fatal("right password refused")
	}
	if _, ok := u.Authenticate("alice", pw+"x"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, ok := u.Authenticate("nobody", pw); ok {
		t.Fatal("unknown user accepted")
	}
	if err := f.SetPassword("alice", "another long password", testKDF, now); err != nil {
		t.Fatal(err)
	}
	if VerifyPassword(f.Users[0].Hash, pw) || !VerifyPassword(f.Users[0].Hash, "another long password") {
		t.Fatal("passwd did not replace the password")
	}
	if err := f.SetPassword("nobody", pw, testKDF, now); !errors.Is(err, ErrUnknownUser) {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"unknown field": `{"version":1,"users":[],"x":1}`,
		"version":       `{"version":2,"users":[]}`,
		"trailing":      `{"version":1,"users":[]} {}`,
		"duplicate":     `{"version":1,"users":[` + userJSON("a") + `,` + userJSON("a") + `]}`,
		"huge memory":   `{"version":1,"users":[{"name":"a","role":"caseworker","hash":"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5","createdAt":"2026-01-01T00:00:00Z","changedAt":"2026-01-01T00:00:00Z"}]}`,
	} {
		if _, err := ParseUserFile([]byte(doc)); !errors.Is(err, ErrUserFile) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseUserFile([]byte(`{"version":1,"users":[` + userJSON("a") + `]}`)); err != nil {
		t.Fatal(err)
	}
}

func userJSON(name string) string {
	return `{"name":"` + name + `","role":"caseworker","hash":"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5","createdAt":"2026-01-01T00:00:00Z","changedAt":"2026-01-01T00:00:00Z"}`
}

func FuzzParseUserFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"users":[` + userJSON("a") + `]}`))
	f.Add([]byte(`{"version":1,"users":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		uf, err := ParseUserFile(b)
		if err != nil {
			return
		}
		for _, u := range uf.Users {
			if !ValidUserName(u.Name) || !u.Role.Valid() {
				t.Fatalf("accepted %+v", u)
			}
			VerifyPassword(u.Hash, "x") // bounded parameters: must not blow up
		}
	})
}

// Password hashes (64 MiB each) are computed at most maxHashing at once;
// a sign-in that cannot get a slot within seconds is told to retry.
func TestSignInsShareFewHashingSlots(t *testing.T) {
	r := newRig(t)
	for range maxHashing {
		r.con.hashing <- struct{}{}
	}
	c := r.browser()
	pg := r.do(c, "GET", "/console/signin", nil)
	res := r.do(c, "POST", "/console/signin", url.Values{"csrf": {csrfOf(t, pg.body)}, "user": {"alice"}, "password": {pw}})
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
		t.Fatalf("sign-in with every slot taken: %d", res.status)
	}
	<-r.con.hashing
	pg = r.do(c, "GET", "/console/signin", nil)
	if res := r.do(c, "POST", "/console/signin", url.Values{"csrf": {csrfOf(t, pg.body)}, "user": {"alice"}, "password": {pw}}); res.status != http.StatusSeeOther {
		t.Fatalf("with a slot free: %d", res.status)
	}
}

func TestSessionsPerUserAreBounded(t *testing.T) {
	r := newRig(t)
	var first *http.Client
	for i := range maxSessionsPerUser + 1 {
		c, _ := r.signIn("alice")
		if i == 0 {
			first = c
		}
		r.clock.Add(time.Second)
	}
	if r.gw.live() != maxSessionsPerUser {
		t.Fatalf("%d session tokens live", r.gw.live())
	}
	if res := r.do(first, "GET", "/console/feed", nil); res.status != http.StatusSeeOther {
		t.Fatalf("the oldest session survived: %d", res.status)
	}
}
