//go:build integration

package test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	clclient "github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/console"
	"github.com/caseledger/caseledger/domain"
	clnet "github.com/caseledger/caseledger/network"
)

// TestConsoleInTheBrowser drives each agency's web console (package console) in headless
// Chromium against the real network: the border police register a case through the API; the
// asylum office's caseworker signs in, finds it on the worklist, takes part and records the
// identity check from the form with the keyboard alone; the border police's console shows it
// in its live feed; a step dated before the registration is refused in plain words; a form
// without its CSRF token and a caseworker on the auditor's pages are refused; inline script is
// blocked by the CSP; the Dublin officer's deadline board shows the reply deadline of a
// take-charge request; the auditor verifies both channels; sign-out ends the session. Every
// page passes an accessibility check (WCAG 2.1 AA basics, contrast included) and is
// screenshotted (CASELEDGER_CONSOLE_SCREENSHOTS=dir keeps them; docs/console.md shows them).
func TestConsoleInTheBrowser(t *testing.T) {
	upServices(t)
	consoleFlow(t, consoleEnv{
		// The agencies' admins create accounts (what `gatewayd users add` does); a running
		// gateway re-reads the file within a second.
		addUser: func(org string, role domain.Role) (string, string) {
			path := filepath.Join(itNet.GatewayDataDir(org), console.DefaultUsersFile)
			uf, err := console.LoadUserFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := console.GeneratePassword()
			name := "it-" + string(role)
			if err := uf.SetPassword(name, p, console.DefaultKDF, time.Now()); errors.Is(err, console.ErrUnknownUser) {
				err = uf.Add(name, role, p, console.DefaultKDF, time.Now())
				if err != nil {
					t.Fatal(err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if err := console.SaveUserFile(path, uf); err != nil {
				t.Fatal(err)
			}
			return name, p
		},
		url: func(org string) string {
			info, err := cluster.API(org)
			if err != nil {
				t.Fatal(err)
			}
			return info.URL + console.Prefix
		},
		http: func(org string) *http.Client { return httpsClient(t, org) },
	})
}

// consoleEnv is where the consoles are and how accounts are made.
type consoleEnv struct {
	addUser func(org string, role domain.Role) (name, password string)
	url     func(org string) string
	http    func(org string) *http.Client
}

func consoleFlow(t *testing.T, env consoleEnv) {
	chrome := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	users := map[string][2]string{}
	for _, a := range []struct {
		org  string
		role domain.Role
	}{{"border-police", domain.RoleCaseworker}, {"asylum-office", domain.RoleCaseworker},
		{"asylum-office", domain.RoleDublinOfficer}, {"auditor", domain.RoleAuditor}} {
		n, p := env.addUser(a.org, a.role)
		users[a.org+"/"+string(a.role)] = [2]string{n, p}
	}
	time.Sleep(1100 * time.Millisecond) // a gateway re-reads the user file at most once a second
	urlOf := env.url
	apiClient := func(org, role string) *clclient.Client {
		info, err := cluster.API(org)
		if err != nil {
			t.Fatal(err)
		}
		c, err := clclient.New(clclient.Config{BaseURL: info.URL, CAFile: info.CAFile, Token: info.Tokens[role]})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ao, bp := urlOf("asylum-office"), urlOf("border-police")

	// The border police register an arrival through the API, as their system would.
	bpRef, aoRef := "BPOL-UI-"+uuid.NewString()[:8], "BAMF-UI-"+uuid.NewString()[:8]
	noteRealIdentifiers(bpRef, aoRef)
	today := time.Now().UTC().Format(time.DateOnly)
	reg, err := apiClient("border-police", "caseworker").Register(ctx, api.RegisterRequest{Channel: "national", LocalRef: bpRef, OccurredOn: today})
	if err != nil {
		t.Fatal(err)
	}
	pseudonym := reg.Pseudonym

	shots := os.Getenv("CASELEDGER_CONSOLE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	actx, stopAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.Flag("ignore-certificate-errors", true),
		chromedp.WindowSize(1280, 900))...)
	defer stopAlloc()
	browser, stopBrowser := chromedp.NewContext(actx)
	defer stopBrowser() // ends the Chromium process
	if err := chromedp.Do(browser); err != nil {
		t.Fatal(err)
	}
	tab := func() (context.Context, context.CancelFunc) {
		// A browser context of its own per person: cookies are per host, not per port, and two
		// people of one agency must not share a jar.
		c, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		if err := chromedp.Do(c); err != nil { // open the tab without a deadline (see chromedp.Run)
			t.Fatal(err)
		}
		return c, cancel
	}
	// Each step gets a minute: a page that never shows what the test waits for fails the test
	// with its HTML instead of hanging.
	step := func(c context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(c, time.Minute)
	}
	fail := func(c context.Context, what string, err error) {
		t.Helper()
		sc, cancel := context.WithTimeout(c, 5*time.Second)
		defer cancel()
		html, _ := chromedp.Run(sc, chromedp.OuterHTML(chromedp.CSS("main")))
		t.Fatalf("%s: %v\n%s", what, err, html)
	}
	run := func(c context.Context, what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sc, cancel := step(c)
		defer cancel()
		if err := chromedp.Do(sc, acts...); err != nil {
			fail(c, what, err)
		}
	}
	evalBool := func(c context.Context, js string) bool {
		t.Helper()
		v, err := chromedp.Run(c, chromedp.Evaluate[bool](js))
		if err != nil {
			fail(c, js, err)
		}
		return v
	}
	evalString := func(c context.Context, js string) string {
		t.Helper()
		v, err := chromedp.Run(c, chromedp.Evaluate[string](js))
		if err != nil {
			fail(c, js, err)
		}
		return v
	}
	// waitJS waits for a condition across a navigation (an evaluation may fail while the page
	// is replaced).
	waitJS := func(c context.Context, js string) {
		t.Helper()
		for range 60 {
			sc, cancel := context.WithTimeout(c, 5*time.Second)
			ok, err := chromedp.Run(sc, chromedp.Evaluate[bool](js))
			cancel()
			if err == nil && ok {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		fail(c, "waiting for "+js, errors.New("timed out"))
	}
	text := func(c context.Context, sel string) string {
		t.Helper()
		v, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail(c, "text of "+sel, err)
		}
		return v
	}
	axeSource := axeCore(t)
	axePages, axeFound := 0, 0
	defer func() { t.Logf("axe-core: %d pages checked, %d serious or critical violations", axePages, axeFound) }()
	check := func(c context.Context, name string) {
		t.Helper()
		problems, err := chromedp.Run(c, chromedp.Evaluate[[]string](a11yCheck))
		if err != nil {
			fail(c, "accessibility check of "+name, err)
		}
		if len(problems) > 0 {
			t.Errorf("%s: accessibility: %s", name, strings.Join(problems, "; "))
		}
		// axe-core, injected through DevTools (the page's CSP allows no script of ours, and
		// needs not to: an evaluation from DevTools is not the page's).
		if _, err := chromedp.Run(c, chromedp.Evaluate[any](axeSource+";true")); err != nil {
			fail(c, "injecting axe-core into "+name, err)
		}
		res, err := chromedp.Run(c, chromedp.Evaluate[axeResults](axeRun, chromedp.EvalAwaitPromise))
		if err != nil {
			fail(c, "axe-core on "+name, err)
		}
		axePages++
		// What axe-core could not decide fails too at impact serious or critical (the language
		// switch's aria-label on a paragraph was one), except the contrast of SVG text, which
		// axe-core cannot compute and a11yCheck does.
		serious := 0
		for _, found := range []struct {
			what  string
			items []axeRule
		}{{"axe-core", res.Violations}, {"axe-core needs review", res.Incomplete}} {
			for _, v := range found.items {
				if v.failing() {
					serious++
					t.Errorf("%s: %s: %s", name, found.what, v)
				} else {
					t.Logf("%s: %s (not failing): %s", name, found.what, v)
				}
			}
		}
		if res.SVGText > 0 {
			t.Logf("%s: axe-core left the contrast of %d SVG text elements to a11yCheck", name, res.SVGText)
		}
		axeFound += serious
		t.Logf("%s: axe-core: %d serious or critical violations", name, serious)
		png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
		if err != nil {
			fail(c, "screenshot of "+name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(c context.Context, base, key string) {
		t.Helper()
		user, password := users[key][0], users[key][1]
		run(c, "sign in as "+user,
			chromedp.Navigate(base+"lang?to=en&back=/console/signin"),
			chromedp.WaitVisible(chromedp.ID("user")),
			chromedp.SendKeys(chromedp.ID("user"), user),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Submit(chromedp.ID("password")),
			chromedp.WaitVisible(chromedp.CSS("nav")))
	}

	// The border police's console: sign-in page, then the live feed, open before the step.
	bpTab, closeBP := tab()
	defer closeBP()
	run(bpTab, "sign-in page", chromedp.Navigate(bp+"lang?to=en&back=/console/signin"), chromedp.WaitVisible(chromedp.ID("user")))
	check(bpTab, "signin")
	// The check can fail: an unnamed button and an image without a text alternative, added to the
	// page, are found (critical, WCAG 2.0 A).
	planted, err := chromedp.Run(bpTab, chromedp.Evaluate[axeResults](`(() => {
	  const b = document.createElement("button"); b.id = "axe-control-button"; document.querySelector("main").append(b);
	  const i = document.createElement("img"); i.id = "axe-control-img"; i.src = "/console/static/console.css"; document.querySelector("main").append(i);
	})(); `+axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		fail(bpTab, "axe-core on planted violations", err)
	}
	var caught []string
	for _, v := range planted.Violations {
		if v.failing() {
			caught = append(caught, v.ID)
		}
	}
	if slices.Sort(caught); !slices.Equal(caught, []string{"button-name", "image-alt"}) {
		t.Errorf("axe-core on two planted violations: %v", planted.Violations)
	}
	run(bpTab, "remove the planted violations", chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](`document.getElementById("axe-control-button").remove(); document.getElementById("axe-control-img").remove()`)(c, tg)
		return err
	}))
	signIn(bpTab, bp, "border-police/caseworker")
	run(bpTab, "feed", chromedp.Navigate(bp+"feed"), chromedp.WaitVisible(chromedp.ID("feed-status")))
	if _, err := chromedp.Run(bpTab, chromedp.Poll[bool](`document.getElementById("feed-status").textContent.startsWith("Connected")`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		fail(bpTab, "feed connected", err)
	}

	// The asylum office's caseworker: the worklist shows the new case.
	aoTab, closeAO := tab()
	defer closeAO()
	signIn(aoTab, ao, "asylum-office/caseworker")
	row := fmt.Sprintf(`#worklist tr[data-pseudonym="%s"]`, pseudonym)
	run(aoTab, "worklist shows the registered case", chromedp.Navigate(ao), chromedp.WaitVisible(chromedp.CSS(row)))
	if s := text(aoTab, row); !strings.Contains(s, "Take part") {
		t.Errorf("worklist row: %q", s)
	}
	check(aoTab, "worklist")

	// Keyboard: the first Tab reaches the skip link.
	run(aoTab, "skip link", chromedp.KeyEvent(kb.Tab))
	if active := evalString(aoTab, `document.activeElement.className`); active != "skip" {
		t.Errorf("first Tab focuses %q, not the skip link", active)
	}

	// Take part: bind the asylum office's own reference (it never reaches a URL).
	run(aoTab, "bind", chromedp.Click(chromedp.CSS(row+" a")), chromedp.WaitVisible(chromedp.ID("bind-ref")),
		chromedp.SendKeys(chromedp.ID("bind-ref"), aoRef), chromedp.Submit(chromedp.ID("bind-ref")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if s := text(aoTab, "#case-refs"); s != aoRef {
		t.Fatalf("own reference after binding: %q", s)
	}
	check(aoTab, "case")

	// Record the identity check with the keyboard alone.
	tabTo := func(c context.Context, js string) {
		t.Helper()
		for range 80 {
			run(c, "focus", chromedp.KeyEvent(kb.Tab))
			if evalBool(c, js) {
				return
			}
		}
		t.Fatalf("Tab never reached %s", js)
	}
	tabTo(aoTab, `(document.activeElement.getAttribute("href")||"").includes("step=IDENTITY_CHECKED")`)
	run(aoTab, "open the step's form", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`select[name="f.eurodacHit"]`)))
	check(aoTab, "case-step-form")
	tabTo(aoTab, `document.activeElement.name === "f.eurodacHit"`)
	run(aoTab, "choose NONE", chromedp.KeyEvent("N"))
	if chosen := evalString(aoTab, `document.activeElement.value`); chosen != "NONE" {
		t.Fatalf("keyboard choice: %q", chosen)
	}
	tabTo(aoTab, `document.activeElement.type === "submit" && document.activeElement.closest("form.step") !== null`)
	run(aoTab, "record", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if s := text(aoTab, "#case-status"); !strings.Contains(s, "IDENTITY_CHECKED") {
		t.Fatalf("status after recording: %q", s)
	}

	// The border police's live feed shows it within seconds, under their own reference.
	feedItem := `#feed li[data-code="IDENTITY_CHECKED"]`
	run(bpTab, "live feed", chromedp.WaitVisible(chromedp.CSS(feedItem)))
	if s := text(bpTab, feedItem); !strings.Contains(s, bpRef) {
		t.Errorf("feed item %q lacks the border police's reference", s)
	}
	check(bpTab, "feed")

	// A step dated before the registration: the ledger's refusal, in plain words.
	run(aoTab, "refused step",
		chromedp.Navigate(ao+"case?"+url.Values{"channel": {"national"}, "p": {pseudonym}, "step": {"FILE_CREATED"}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("occurredOn")),
		chromedp.SetValue(chromedp.ID("occurredOn"), "2020-01-01"),
		chromedp.Submit(chromedp.ID("occurredOn")),
		chromedp.WaitVisible(chromedp.ID("refusal")))
	refusal := text(aoTab, "#refusal")
	if !regexp.MustCompile(`^Not recorded\. .+ \([A-Z_]+\)$`).MatchString(strings.TrimSpace(refusal)) {
		t.Errorf("refusal: %q", refusal)
	}
	check(aoTab, "case-refused")

	// A form without its CSRF token is refused; nothing is recorded.
	run(aoTab, "form without CSRF token",
		chromedp.Func(func(c context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](`document.querySelector("form.step input[name=csrf]").remove(); document.getElementById("occurredOn").value = "`+today+`"; document.querySelector("form.step").submit()`)(c, tg)
			return err
		}),
	)
	waitJS(aoTab, `(document.querySelector(".problem") || {textContent: ""}).textContent.includes("did not come from this console")`)
	if v, err := apiClient("asylum-office", "caseworker").Case(ctx, api.CaseRef{Channel: "national", Pseudonym: pseudonym}); err != nil || v.Case.Status != domain.StIdentityChecked {
		t.Fatalf("after the refused forms: %v %v", v.Case.Status, err)
	}

	// Inline script is blocked by the Content-Security-Policy.
	run(aoTab, "CSP", chromedp.Navigate(ao), chromedp.WaitVisible(chromedp.CSS("main")))
	if evalBool(aoTab, `(() => { const s = document.createElement("script"); s.textContent = "window.__injected = true"; document.body.appendChild(s); return window.__injected === true })()`) {
		t.Error("inline script ran despite the CSP")
	}

	// A caseworker cannot reach the auditor's pages: the gateway refuses, the console says so.
	run(aoTab, "audit page as caseworker", chromedp.Navigate(ao+"audit"), chromedp.WaitVisible(chromedp.CSS(".problem")))
	if s := text(aoTab, ".problem"); !strings.Contains(s, "Your agency or your role may not do this.") || !strings.Contains(s, "FORBIDDEN") {
		t.Errorf("caseworker on the audit page: %q", s)
	}
	check(aoTab, "audit-refused")

	// Session checks outside the browser: no session without sign-in, the asylum office's
	// session cookie is worthless at the border police's console, an API token cannot sign in.
	cookies, err := chromedp.Call(aoTab, network.GetCookies, network.GetCookiesParams{URLs: []string{ao}})
	if err != nil {
		t.Fatal(err)
	}
	var sid string
	for _, ck := range cookies.Cookies {
		if ck.Name == "__Host-cl-asylum-office" {
			sid = ck.Value
			if !ck.Secure || !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteStrict {
				t.Errorf("session cookie flags: %+v", ck)
			}
		}
	}
	if sid == "" {
		t.Fatal("no session cookie in the browser")
	}
	hc := env.http("border-police")
	for name, req := range map[string]*http.Request{
		"no cookie":                  mustReq(t, "GET", bp, nil),
		"the asylum office's cookie": withCookies(mustReq(t, "GET", bp, nil), "__Host-cl-asylum-office", sid, "__Host-cl-border-police", sid),
	} {
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/console/signin") {
			t.Errorf("%s at the border police's console: %d %s", name, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if st := signInWithToken(t, hc, bp, users["border-police/caseworker"][0], apiTokenOf(t, "border-police", "caseworker")); st != http.StatusUnauthorized {
		t.Errorf("an API token as password: %d", st)
	}

	// The Dublin officer: a take-charge request through the API, then the deadline board.
	du := apiClient("asylum-office", "dublin-officer")
	dubRef := "BAMF-DU-UI-" + uuid.NewString()[:8]
	noteRealIdentifiers(dubRef)
	d, err := du.Register(ctx, api.RegisterRequest{Channel: "dublin", LocalRef: dubRef, OccurredOn: today,
		LinkFrom: &api.CaseRef{Channel: "national", LocalRef: aoRef}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := du.DublinRequest(ctx, api.DublinRequestRequest{DublinCase: api.DublinCase{LocalRef: dubRef}, Kind: domain.TakeCharge,
		OccurredOn: today, RequestedMemberState: "AT", ReceivedOn: today, ApplicationRegisteredOn: today,
		Evidence: domain.EvidenceEurodacHit, EvidenceReceivedOn: today}); err != nil {
		t.Fatal(err)
	}
	duTab, closeDU := tab()
	defer closeDU()
	signIn(duTab, ao, "asylum-office/dublin-officer")
	boardRow := fmt.Sprintf(`#board tr[data-pseudonym="%s"]`, d.Pseudonym)
	run(duTab, "deadline board", chromedp.Navigate(ao+"deadlines"), chromedp.WaitVisible(chromedp.CSS(boardRow)),
		chromedp.WaitVisible(chromedp.CSS(`svg[role="img"]`)))
	if s := text(duTab, boardRow); !strings.Contains(s, dubRef) {
		t.Errorf("board row %q lacks the Dublin officer's reference", s)
	}
	check(duTab, "deadlines")
	run(duTab, "Dublin case", chromedp.Navigate(ao+"case?"+url.Values{"channel": {"dublin"}, "p": {d.Pseudonym}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("case-status")))
	if s := text(duTab, "#case-status"); !strings.Contains(s, string(domain.StTakeChargeRequested)) {
		t.Errorf("Dublin case status: %q", s)
	}
	check(duTab, "case-dublin")
	run(duTab, "unknown page", chromedp.Navigate(ao+"nothing-here"), chromedp.WaitVisible(chromedp.CSS("main")))
	check(duTab, "not-found")

	// The auditor verifies both channels.
	audTab, closeAud := tab()
	defer closeAud()
	signIn(audTab, urlOf("auditor"), "auditor/auditor")
	run(audTab, "audit page", chromedp.Navigate(urlOf("auditor")+"audit"), chromedp.WaitVisible(chromedp.ID("verification")))
	run(audTab, "verify now", chromedp.Click(chromedp.CSS(`form[action="/console/audit/verify"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if s := text(audTab, "#verification"); strings.Count(s, "✓ intact") != 2 {
		t.Errorf("verification: %q", s)
	}
	check(audTab, "audit")

	// German, then sign-out ends the session.
	run(aoTab, "German", chromedp.Navigate(ao+"lang?to=de&back=/console/"), chromedp.WaitVisible(chromedp.CSS("main")))
	if lang := evalString(aoTab, `document.documentElement.lang`); lang != "de" || !strings.Contains(text(aoTab, "h1"), "Arbeitsliste") {
		t.Errorf("German page: lang %q", lang)
	}
	check(aoTab, "worklist-de")
	run(aoTab, "case in German", chromedp.Navigate(ao+"case?"+url.Values{"channel": {"national"}, "p": {pseudonym}}.Encode()),
		chromedp.WaitVisible(chromedp.ID("case-status")))
	check(aoTab, "case-de")
	run(aoTab, "sign out", chromedp.Click(chromedp.CSS(`form.signout button`)), chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.Navigate(ao), chromedp.WaitVisible(chromedp.ID("user")))
	check(aoTab, "signin-de")
	res, err := env.http("asylum-office").Do(withCookies(mustReq(t, "GET", ao, nil), "__Host-cl-asylum-office", sid))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("the signed-out session still opens the worklist: %d", res.StatusCode)
	}
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: apt-get install -y chromium (.ci/run installs it)")
	return ""
}

func httpsClient(t *testing.T, org string) *http.Client {
	t.Helper()
	info, err := cluster.API(org)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(info.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no CA certificate in " + info.CAFile)
	}
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func mustReq(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func withCookies(r *http.Request, kv ...string) *http.Request {
	for i := 0; i+1 < len(kv); i += 2 {
		r.AddCookie(&http.Cookie{Name: kv[i], Value: kv[i+1]})
	}
	return r
}

func apiTokenOf(t *testing.T, org, role string) string {
	t.Helper()
	info, err := cluster.API(org)
	if err != nil {
		t.Fatal(err)
	}
	return info.Tokens[role]
}

// signInWithToken posts the sign-in form with an API token as the password.
func signInWithToken(t *testing.T, hc *http.Client, base, user, token string) int {
	t.Helper()
	res, err := hc.Get(base + "signin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no CSRF token on the sign-in page")
	}
	form := url.Values{"csrf": {string(m[1])}, "user": {user}, "password": {token}}
	res, err = hc.PostForm(base+"signin", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// axeCore returns the source of the pinned axe-core (scripts/axe-core.sh fetches it once into the
// cache outside the clone; CASELEDGER_AXE names another axe.min.js). No axe-core fails the test:
// the accessibility check is part of what it proves.
func axeCore(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CASELEDGER_AXE")
	if path == "" {
		dir, err := clnet.FindModuleDir(".")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(filepath.Join(dir, "scripts", "axe-core.sh"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("axe-core (scripts/axe-core.sh, needs npm): %v", err)
		}
		path = strings.TrimSpace(string(out))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// axeRule is what the test reads of an axe-core rule's result.
type axeRule struct {
	ID, Impact, Help string
	Tags             []string
	Nodes            []struct{ Target []any }
}

type axeResults struct {
	Violations, Incomplete []axeRule
	SVGText                int // SVG text elements whose contrast axe-core left undecided
}

// failing: a violation of a WCAG 2.0/2.1 level A or AA rule with impact serious or critical.
func (r axeRule) failing() bool {
	wcag := slices.ContainsFunc(r.Tags, func(t string) bool { return slices.Contains(axeWCAGTags, t) })
	return wcag && (r.Impact == "serious" || r.Impact == "critical")
}

func (r axeRule) String() string {
	var where []string
	for _, n := range r.Nodes {
		where = append(where, fmt.Sprint(n.Target...))
	}
	return fmt.Sprintf("%s (%s): %s [%s] at %s", r.ID, r.Impact, r.Help, strings.Join(r.Tags, " "), strings.Join(where, ", "))
}

var axeWCAGTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// axeRun runs axe-core on the whole page: the rules of WCAG 2.0 and 2.1 levels A and AA, which
// fail the test at impact serious or critical, and its best practices, which are only reported.
const axeRun = `axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  resultTypes: ["violations", "incomplete"],
}).then(r => {
  const inSVG = n => { try { const e = document.querySelector(n.target[0]); return !!(e && e.closest("svg")); } catch (_) { return false; } };
  let svgText = 0;
  const incomplete = r.incomplete.map(v => {
    if (v.id !== "color-contrast") return v;
    const nodes = v.nodes.filter(n => !inSVG(n));
    svgText += v.nodes.length - nodes.length;
    return Object.assign({}, v, {nodes});
  }).filter(v => v.nodes.length > 0);
  const rules = xs => xs.map(v => ({id: v.id, impact: v.impact || "", help: v.help, tags: v.tags,
    nodes: v.nodes.map(n => ({target: n.target}))}));
  return {violations: rules(r.violations), incomplete: rules(incomplete), svgText};
})`

// a11yCheck returns what the console promises beyond axe-core's WCAG rules (docs/console.md):
// the page's language is one of the console's, exactly one main landmark and one h1 (axe-core
// counts these as best practice only), a skip link to the main landmark as the first focusable
// element, and the contrast of the charts' SVG text (1.4.3: 4.5:1, 3:1 for large text), which
// axe-core leaves undecided: the text's fill against the page behind the chart (the charts put
// no text on a bar).
const a11yCheck = `(() => {
  const out = [];
  const lang = document.documentElement.lang;
  if (!["de", "en"].includes(lang)) out.push("html lang " + JSON.stringify(lang));
  if (document.querySelectorAll("main").length !== 1) out.push("main landmarks: " + document.querySelectorAll("main").length);
  if (document.querySelectorAll("h1").length !== 1) out.push("h1 count: " + document.querySelectorAll("h1").length);
  const skip = document.querySelector("a.skip");
  if (!skip || skip.getAttribute("href") !== "#main" || !document.getElementById("main")) out.push("skip link");
  if (document.querySelector("a[href], button, input:not([type=hidden]), select, textarea") !== skip) out.push("the skip link is not the first focusable element");
  const rgb = s => { const m = s.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?/); return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : null; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c && c[3] > 0) return c; } return [255, 255, 255, 1]; };
  for (const el of document.querySelectorAll("svg text")) {
    if (!el.textContent.trim()) continue;
    const cs = getComputedStyle(el);
    const fg = rgb(cs.fill), b = bg(el.closest("svg").parentElement);
    if (!fg || fg[3] < 1 || parseFloat(cs.fillOpacity) < 1) { out.push("SVG text with a translucent fill: " + el.textContent.trim().slice(0, 40)); continue; }
    const l1 = lum(fg), l2 = lum(b);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const scale = el.closest("svg").getBoundingClientRect().width / el.closest("svg").viewBox.baseVal.width || 1;
    const size = parseFloat(cs.fontSize) * scale, bold = parseInt(cs.fontWeight) >= 700;
    const need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < need) out.push("SVG text contrast " + ratio.toFixed(2) + " < " + need + ": " + el.textContent.trim().slice(0, 40));
  }
  return out;
})()`
