package console

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/caseledger/caseledger/domain"
)

// The SSO round trip in headless Chromium, with the provider on another
// site (localhost; the console on 127.0.0.1) and a page at the provider
// whose button the person presses, so the way back is a navigation the
// provider's site started. It is what the browser enforces that decided
// three things, each seen to fail here when changed: the flow cookie is
// SameSite=Lax (Strict: not sent with the callback, SSO_NO_FLOW); the
// callback answers a page that moves on by itself rather than a redirect
// (redirect: the Strict session cookie is not sent with it, back at
// sign-in); and the start answers such a page too (a redirect after the
// form: blocked by the CSP's form-action 'self').
func TestSSOInChromium(t *testing.T) {
	chrome := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chrome = p
			break
		}
	}
	if chrome == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium (.ci/run installs it)")
		}
		t.Skip("no Chromium: apt-get install -y chromium")
	}
	base := newRig(t)
	// The console's URL is the redirect URL: the server starts first, its
	// handler is set once the console exists.
	var h atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Load().(http.Handler).ServeHTTP(w, r)
	}))
	srv.StartTLS()
	defer srv.Close()
	redirect := srv.URL + ssoCallbackPath
	idp := newTestIdP(t, base.clock.Now, redirect)
	idp.interactive = true
	idp.url = strings.Replace(idp.srv.URL, "127.0.0.1", "localhost", 1) // another site
	cfg := base.con.cfg
	cfg.SSO = &OIDCConfig{Issuer: idp.url, ClientID: idp.clientID, ClientSecret: idp.secret, RedirectURL: redirect, Name: "Test IdP",
		// The test certificate does not name localhost.
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
	con, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.Store(Mount(cfg.API, con))
	s := &ssoRig{rig: base, idp: idp}
	s.editUsers(linkAlice)

	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	actx, stop := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.Flag("ignore-certificate-errors", true))...)
	defer stop()
	b, stopB := chromedp.NewContext(actx)
	defer stopB() // ends the Chromium process
	if err := chromedp.Do(b,
		chromedp.Navigate(srv.URL+"/console/lang?to=en&back=/console/signin%3Fback%3D/console/feed"),
		chromedp.Click(chromedp.CSS(`form[action="/console/sso/start"] button`)),
		chromedp.WaitVisible(chromedp.ID("idp-signin")), // at the provider
		chromedp.Click(chromedp.ID("idp-signin")),
		chromedp.WaitVisible(chromedp.ID("feed-status")), // back, signed in, on the page asked for
	); err != nil {
		loc, _ := chromedp.Run(b, chromedp.Evaluate[string]("location.href"))
		t.Fatalf("%v (at %s)\n%s", err, loc, base.logs.String())
	}
	body, err := chromedp.Run(b, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "Signed in as alice ("+string(domain.RoleCaseworker)+")") {
		t.Fatalf("not signed in as alice:\n%s", body)
	}
	if l := s.auditLines("signin"); len(l) != 1 || l[0]["via"] != "sso" {
		t.Fatalf("audit: %v", l)
	}
}
