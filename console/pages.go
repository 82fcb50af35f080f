package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// page is what every template gets.
type page struct {
	Lang    string
	Title   string
	Path    string // the page's own URI, for the language switch
	Nav     []navItem
	User    string
	Role    domain.Role
	Org     string
	MSPID   string
	CSRF    string
	Flash   string
	Error   string
	Message string
	Data    any
}

type navItem struct {
	Href, Label string
	Current     bool
}

func (c *Console) parseTemplates() error {
	funcs := template.FuncMap{
		"t": func(lang, key string, args ...any) string { return c.msg.t(lang, key, args...) },
		// code renders a vocabulary code in the page's language (the code
		// itself when there is no translation).
		"code": func(lang string, code any) string { return c.msg.code(lang, fmt.Sprint(code)) },
		"short": func(p string) string {
			if len(p) > 8 {
				return p[:8] + "…"
			}
			return p
		},
		"join": strings.Join,
		// years lists years as people write them ("2026, 2027"), not as Go
		// prints a slice.
		"years": func(ys []int) string {
			parts := make([]string, len(ys))
			for i, y := range ys {
				parts[i] = strconv.Itoa(y)
			}
			return strings.Join(parts, ", ")
		},
		// codes is the vocabulary's codes in the page's language, as JSON
		// for the live feed's script (an attribute value, escaped by the
		// template).
		"codes": func(lang string) string {
			m := map[string]string{}
			for k := range c.msg {
				if code, ok := strings.CutPrefix(k, "code."); ok {
					m[code] = c.msg.t(lang, k)
				}
			}
			b, _ := json.Marshal(m)
			return string(b)
		},
		"urgency": urgency,
		"field":   func(lang, name string) string { return c.msg.field(lang, name) },
		"details": func(lang string, e domain.Event) string { return c.details(lang, e) },
		"svg":     func(s string) template.HTML { return template.HTML(s) }, // only for SVG the console built with escaping (charts.go)
	}
	layout, err := fs.ReadFile(assets, "assets/templates/layout.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(assets, "assets/templates/*.html")
	if err != nil {
		return err
	}
	c.pages = map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		body, err := fs.ReadFile(assets, n)
		if err != nil {
			return err
		}
		t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
		if err != nil {
			return fmt.Errorf("console: layout: %w", err)
		}
		if _, err := t.Parse(string(body)); err != nil {
			return fmt.Errorf("console: %s: %w", n, err)
		}
		c.pages[base] = t
	}
	return nil
}

// render writes a page; a template failure is a plain 500 (nothing
// half-written: the page is rendered into a buffer first).
func (c *Console) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := c.pages[name]
	var buf bytes.Buffer
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.Execute(&buf, p); err != nil {
		c.log.Error("console template", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// base fills the frame of a signed-in page.
func (c *Console) base(q *request, title string) page {
	p := page{Lang: q.lang, Title: title, Path: q.r.URL.RequestURI(), User: q.s.User, Role: q.s.Role,
		Org: c.cfg.Org, MSPID: c.cfg.MSPID, CSRF: q.s.CSRF}
	cur := q.r.URL.Path
	add := func(href, key string) {
		p.Nav = append(p.Nav, navItem{Href: href, Label: c.msg.t(q.lang, key), Current: cur == href})
	}
	if q.s.Role != domain.RoleAuditor {
		add(Prefix, "nav.worklist")
	}
	if c.onDublin() {
		add(Prefix+"deadlines", "nav.deadlines")
	}
	add(Prefix+"feed", "nav.feed")
	if q.s.Role == domain.RoleAuditor || q.s.Role == domain.RoleAdmin {
		add(Prefix+"audit", "nav.audit")
	}
	return p
}

// onDublin: the agency runs a Dublin unit (it sits on a Dublin channel).
func (c *Console) onDublin() bool {
	return c.cfg.Kind == domain.AgencyAsylumOffice || c.cfg.Kind == domain.AgencyPartnerState || c.cfg.Kind == domain.AgencyAuditor
}

// signInPage shows the form, with a fresh pre-session CSRF token in a
// cookie of its own (double submit: a cross-site page can neither read the
// cookie nor set it).
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.showSignIn(w, r, http.StatusOK, "")
}

func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	lang := c.lang(r)
	// One token per browser for ten minutes: a second sign-in page (another
	// tab, a reload) must not invalidate the form of the first.
	tok := ""
	if ck, err := r.Cookie(c.signinCookie()); err == nil && len(ck.Value) == 43 {
		tok = ck.Value
	} else {
		tok = randomToken()
	}
	setCookie(w, c.signinCookie(), tok, 600)
	c.render(w, status, "signin", page{Lang: lang, Title: c.msg.t(lang, "title.signin"), Path: r.URL.RequestURI(),
		Org: c.cfg.Org, MSPID: c.cfg.MSPID, CSRF: tok, Error: errMsg,
		Data: struct{ Back, SSO string }{localPath(r.URL.Query().Get("back")), c.ssoName()}})
}

// signIn checks the throttle, the pre-session CSRF token and the password,
// then starts a session. API tokens cannot sign in: only accounts of the
// user file can.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	lang := c.lang(r)
	if err := r.ParseForm(); err != nil {
		c.showSignIn(w, r, http.StatusBadRequest, c.msg.t(lang, "err.bad-form"))
		return
	}
	ck, err := r.Cookie(c.signinCookie())
	if err != nil || !c.sameOrigin(r) || !csrfOK(&Session{CSRF: ck.Value}, r.PostForm.Get("csrf")) {
		c.audit("signin-refused", "", "", "CSRF")
		c.showSignIn(w, r, http.StatusForbidden, c.msg.t(lang, "err.csrf"))
		return
	}
	name := strings.ToLower(strings.TrimSpace(r.PostForm.Get("user")))
	pw := r.PostForm.Get("password")
	logName := name
	if !ValidUserName(name) {
		logName = "(invalid)" // never log what someone typed as a name: it may be a password
	}
	ip := clientIP(r)
	wait := max(c.thr.wait("user:"+name), c.thr.wait("ip:"+ip))
	if wait > 0 {
		c.audit("signin-throttled", logName, "", "THROTTLED")
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		c.showSignIn(w, r, http.StatusTooManyRequests, c.msg.t(lang, "err.throttled", durationMinutes(wait)))
		return
	}
	t := time.NewTimer(3 * time.Second)
	select {
	case c.hashing <- struct{}{}:
		t.Stop()
	case <-t.C:
		c.audit("signin-busy", logName, "", "OVERLOADED")
		w.Header().Set("Retry-After", "2")
		c.showSignIn(w, r, http.StatusServiceUnavailable, c.msg.t(lang, "problem.OVERLOADED"))
		return
	}
	u, ok := c.cfg.Users.Authenticate(name, pw)
	<-c.hashing
	if !ok {
		c.thr.fail("user:" + name)
		c.thr.fail("ip:" + ip)
		c.audit("signin-failed", logName, "", "BAD_CREDENTIALS")
		c.showSignIn(w, r, http.StatusUnauthorized, c.msg.t(lang, "err.credentials"))
		return
	}
	ss, err := c.sess.create(u, "")
	if err != nil {
		c.log.Error("console session", "err", err)
		c.showSignIn(w, r, http.StatusInternalServerError, c.msg.t(lang, "err.internal"))
		return
	}
	c.thr.clear("user:" + name)
	setCookie(w, c.signinCookie(), "", -1)
	setCookie(w, c.sessionCookie(), ss.ID, 0)
	c.audit("signin", u.Name, u.Role, "OK")
	http.Redirect(w, r, localPath(r.PostForm.Get("back")), http.StatusSeeOther)
}

func (c *Console) signOut(q *request) {
	c.sess.end(q.s.ID)
	setCookie(q.w, c.sessionCookie(), "", -1)
	c.audit("signout", q.s.User, q.s.Role, "OK")
	http.Redirect(q.w, q.r, Prefix+"signin?out=1", http.StatusSeeOther)
}

// today is the date in the agency's member state (the gateway host's clock):
// the day the chaincode records a step on, so a form's proposed date for an
// act done now is never a day behind it (UTC is, after midnight in Germany).
func (c *Console) today() string { return c.now().In(c.zone).Format(time.DateOnly) }

// details summarises an event's coded fields as the gateway answered them
// (a detail withheld from this agency is named, never guessed).
func (c *Console) details(lang string, e domain.Event) string {
	b, err := json.Marshal(e.EventFields)
	if err != nil {
		return ""
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		v := fmt.Sprint(m[k])
		switch m[k] {
		case true:
			v = c.msg.t(lang, "bool.yes")
		case false:
			v = c.msg.t(lang, "bool.no")
		default:
			if k == string(domain.FieldDocumentHash) {
				v = short(v)
			} else {
				v = c.msg.code(lang, v)
			}
		}
		parts = append(parts, c.msg.field(lang, k)+": "+v)
	}
	switch {
	case e.Withheld != "" && len(parts) == 0: // the gateway withheld them from this agency
		parts = append(parts, c.msg.t(lang, "case.withheld", e.Withheld))
	case e.Withheld != "": // this agency is in the audience: the details came from the collection
		parts = append(parts, c.msg.t(lang, "case.private", e.Withheld))
	}
	if e.SupersededBy != nil {
		parts = append(parts, c.msg.t(lang, "case.superseded", string(e.SupersededBy.Code)))
	}
	return strings.Join(parts, "; ")
}
