package console

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// boardWindow is how far ahead the deadline board looks (days).
const boardWindow = 200

func (c *Console) deadlines(q *request) {
	ctx, cancel := q.ctx()
	defer cancel()
	title := c.msg.t(q.lang, "title.deadlines")
	var items []api.BoardItem
	bm := ""
	for range 10 {
		b, err := q.api.Deadlines(ctx, boardWindow, client.Page{Bookmark: bm, PageSize: 100})
		if err != nil {
			c.apiError(q, title, err)
			return
		}
		items = append(items, b.Items...)
		if bm = b.Bookmark; bm == "" {
			break
		}
	}
	slices.SortStableFunc(items, func(a, b api.BoardItem) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) })
	// Holidays of every acting state on the board (and the agency's own),
	// this year and next: a period ending on one ends on the next working day.
	states := []string{}
	if c.cfg.MemberState != "" {
		states = append(states, c.cfg.MemberState)
	}
	for _, it := range items {
		if s := it.Deadline.ActingMemberState; s != "" && !slices.Contains(states, s) {
			states = append(states, s)
		}
	}
	today, _ := deadline.ParseDate(c.today())
	var hols []holiday
	for _, st := range states {
		for _, y := range []int{today.Year(), today.Year() + 1} {
			cal, err := q.api.Holidays(ctx, st, y)
			if errors.Is(err, client.ErrNotFound) {
				continue
			}
			if err != nil {
				c.apiError(q, title, err)
				return
			}
			for _, d := range cal.Holidays.Dates() {
				hols = append(hols, holiday{State: st, Date: d})
			}
		}
	}
	pg := c.base(q, title)
	pg.Data = struct {
		Items    []api.BoardItem
		Chart    string
		Holidays []holiday
		Today    string
		Window   int
	}{items, boardChart(c.msg, q.lang, today, items, hols), hols, c.today(), boardWindow}
	c.render(q.w, http.StatusOK, "deadlines", pg)
}

func (c *Console) feed(q *request) {
	pg := c.base(q, c.msg.t(q.lang, "title.feed"))
	c.render(q.w, http.StatusOK, "feed", pg)
}

// feedStream passes the gateway's own event stream (GET /v1/events, as the
// session's user, from now on or from the browser's Last-Event-ID) to the
// page's EventSource: the agency's view, with its own references.
func (c *Console) feedStream(q *request) {
	r := q.r.Clone(q.r.Context())
	v := url.Values{"after": {"now"}}
	r.URL = &url.URL{Path: "/v1/events", RawQuery: v.Encode()}
	r.RequestURI = r.URL.RequestURI()
	r.Method = http.MethodGet
	r.Header = http.Header{"Authorization": {"Bearer " + q.s.APIToken}, "Accept": {"text/event-stream"}}
	if id := q.r.Header.Get(api.HeaderLastEventID); id != "" && len(id) < 128 {
		r.Header.Set(api.HeaderLastEventID, id)
	}
	c.cfg.API.ServeHTTP(q.w, r)
}

type auditChannel struct {
	Name     string
	Report   *api.ChainReport
	Late     []domain.Event
	Erasures []api.OverdueErasure
}

func (c *Console) auditPage(q *request) { c.showAudit(q, false) }

func (c *Console) auditVerify(q *request) { c.showAudit(q, true) }

// showAudit: the last (or, verify, a fresh) verification of every channel,
// late recordings and unconfirmed erasures — each the auditor API's answer
// (a caseworker is refused by the gateway, and sees that refusal).
func (c *Console) showAudit(q *request, verify bool) {
	ctx, cancel := q.ctx()
	defer cancel()
	title := c.msg.t(q.lang, "title.audit")
	var rep api.AuditReport
	var err error
	if verify {
		rep, err = q.api.AuditVerify(ctx)
		outcome := "OK"
		if err != nil {
			outcome = client.CodeOf(err)
		}
		c.auditLog("audit-verify", q.s, outcome)
	} else {
		rep, err = q.api.AuditReport(ctx)
	}
	if err != nil && !errors.Is(err, client.ErrNotFound) {
		c.apiError(q, title, err)
		return
	}
	who, err := q.api.Whoami(ctx)
	if err != nil {
		c.apiError(q, title, err)
		return
	}
	var chans []auditChannel
	var dueWeeks []weekCount
	for _, ch := range who.Channels {
		ac := auditChannel{Name: ch.Name}
		for i := range rep.Channels {
			if rep.Channels[i].Channel == ch.Name {
				ac.Report = &rep.Channels[i]
			}
		}
		late, err := q.api.AuditLate(ctx, ch.Name, "", client.Page{PageSize: 100})
		if err != nil {
			c.apiError(q, title, err)
			return
		}
		ac.Late = late.Items
		er, err := q.api.AuditErasures(ctx, ch.Name, 0, client.Page{PageSize: 100})
		if err != nil {
			c.apiError(q, title, err)
			return
		}
		ac.Erasures = er.Items
		chans = append(chans, ac)
		if ch.Procedure == domain.ProcedureDublin {
			b, err := q.api.Deadlines(ctx, 7*12, client.Page{PageSize: 100})
			if err != nil {
				c.apiError(q, title, err)
				return
			}
			dueWeeks = perWeek(c.today(), b.Items)
		}
	}
	perDay, err := c.eventsPerDay(ctx, q, chans)
	if err != nil {
		c.apiError(q, title, err)
		return
	}
	pg := c.base(q, title)
	pg.Data = struct {
		Channels  []auditChannel
		Verified  bool
		DueChart  string
		DueWeeks  []weekCount
		DayChart  string
		DayCounts []dayCount
	}{chans, verify, weekChart(c.msg, q.lang, dueWeeks), dueWeeks, dayChart(c.msg, q.lang, perDay), perDay}
	c.render(q.w, http.StatusOK, "audit", pg)
}

func (c *Console) auditLog(action string, s *Session, outcome string) {
	c.audit(action, s.User, s.Role, outcome)
}

// weekCount is the number of deadlines due in one week.
type weekCount struct {
	Week  string // Monday of the week
	Count int
}

func perWeek(today string, items []api.BoardItem) []weekCount {
	t, err := time.Parse(time.DateOnly, today)
	if err != nil {
		return nil
	}
	monday := t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
	out := make([]weekCount, 12)
	for i := range out {
		out[i].Week = monday.AddDate(0, 0, 7*i).Format(time.DateOnly)
	}
	for _, it := range items {
		d := it.Deadline.Due.Time()
		w := int(d.Sub(monday).Hours() / (24 * 7))
		if d.Before(monday) {
			w = 0 // passed: counted in this week, they are due now
		}
		if w >= 0 && w < len(out) {
			out[w].Count++
		}
	}
	return out
}

// dayCount is the number of events an agency recorded on a day.
type dayCount struct {
	Day   string
	MSPID string
	Count int
}

// chartDays is how many days the events-per-day chart covers.
const chartDays = 14

// eventsPerDay counts, per day and agency, the events recorded in the last
// chartDays days (GET /v1/audit/writes for every agency the auditor's lists
// and a page of cases per status name; at most 300 cases per agency and
// channel are read).
func (c *Console) eventsPerDay(ctx context.Context, q *request, chans []auditChannel) ([]dayCount, error) {
	to := c.now().UTC()
	from := to.AddDate(0, 0, -(chartDays - 1)).Format(time.DateOnly)
	var msps []string
	add := func(ids ...string) {
		for _, id := range ids {
			if domain.IsMSPID(id) && !slices.Contains(msps, id) {
				msps = append(msps, id)
			}
		}
	}
	add(c.cfg.MSPID)
	for _, ch := range chans {
		for _, e := range ch.Late {
			add(e.MSPID)
		}
		for _, e := range ch.Erasures {
			add(e.RequestedBy)
			add(e.Pending...)
			add(e.Confirmed...)
		}
		if r := ch.Report; r != nil {
			for _, l := range [][]api.TxNote{r.NoWrites, r.LateTimestamps, r.UnexpectedContent, r.Invalid} {
				for _, n := range l {
					add(n.Creator)
				}
			}
		}
	}
	// The API names no channel's members to the auditor: the agencies that
	// registered or hold cases (a page of each status) stand for them.
	for _, ch := range chans {
		raw, err := q.api.Vocabulary(ctx, ch.Name)
		if err != nil {
			return nil, err
		}
		var v api.Vocabulary
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		for _, st := range v.Statuses {
			list, err := q.api.Cases(ctx, ch.Name, string(st), client.Page{PageSize: 20})
			if err != nil {
				return nil, err
			}
			for _, cv := range list.Items {
				add(cv.Case.RegisteredBy)
				add(cv.Case.Holders...)
			}
		}
	}
	m := map[[2]string]int{}
	for _, ch := range chans {
		for _, msp := range msps {
			bm := ""
			for range 3 {
				page, err := q.api.AuditWrites(ctx, ch.Name, msp, from, to.Format(time.DateOnly), client.Page{Bookmark: bm, PageSize: 100})
				if err != nil {
					return nil, err
				}
				for _, e := range page.Items {
					if e.RecordedOn >= from {
						m[[2]string{e.RecordedOn, e.MSPID}]++
					}
				}
				if bm = page.Bookmark; bm == "" {
					break
				}
			}
		}
	}
	var out []dayCount
	for k, n := range m {
		out = append(out, dayCount{Day: k[0], MSPID: k[1], Count: n})
	}
	slices.SortFunc(out, func(a, b dayCount) int { return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.MSPID, b.MSPID)) })
	return out, nil
}
