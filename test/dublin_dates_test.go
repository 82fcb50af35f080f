package test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// TestDublinOnTimeReplySupersedesImplicitAcceptance (issue 13 §1, §2) on the
// real network: the partner state's gateway acknowledges receipt of a
// request by itself, its officer acknowledges DubliNet's earlier receipt
// date, the implicit acceptance is recorded once the deadline has passed,
// and then the rejection dated on the deadline's last day is recorded: it
// stands, and every agency on the Dublin channel — both member states and
// the auditor — sees in its view, timeline and event stream that it
// superseded the implicit acceptance.
func TestDublinOnTimeReplySupersedesImplicitAcceptance(t *testing.T) {
	aoGw, psGw := gatewayOf(t, "asylum-office"), gatewayOf(t, "partner-state")
	aoEvents := aoGw.stream("dublin-officer", "?channel=dublin", "")
	psEvents := psGw.stream("dublin-officer", "?channel=dublin", "")
	audGw := gatewayOf(t, "auditor")
	audEvents := audGw.stream("auditor", "?channel=dublin", "")

	dubRef := gwRef("BAMF-DU")
	var dub gwWrite
	aoGw.ok(http.StatusCreated, "dublin-officer", "POST", "/v1/cases", map[string]any{"channel": "dublin", "localRef": dubRef, "occurredOn": daysAgo(24)}, &dub)
	aoGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/requests", map[string]any{
		"localRef": dubRef, "kind": "TAKE_CHARGE", "occurredOn": daysAgo(24), "requestedMemberState": "AT",
		"receivedOn": daysAgo(24), "applicationRegisteredOn": daysAgo(25), "evidence": "EURODAC_HIT", "evidenceReceivedOn": daysAgo(24),
	}, nil)
	p := dub.Pseudonym
	is := func(code string) func(gwEvent) bool {
		return func(v gwEvent) bool { return v.Pseudonym == p && v.Code == code }
	}

	// §2: the claimed receipt 24 days back does not start AT's period: AT's
	// gateway acknowledges the day the request reached its ledger.
	psEvents.until(t, 60*time.Second, "the partner state's automatic acknowledgement", is("RECEIPT_ACKNOWLEDGED"))
	type dublinView struct {
		Case struct {
			Status string `json:"status"`
			Seq    uint64 `json:"seq"`
			Dublin struct {
				RequestReceivedOn     string `json:"requestReceivedOn"`
				ClaimedReceivedOn     string `json:"claimedReceivedOn"`
				ReceiptAcknowledgedOn string `json:"receiptAcknowledgedOn"`
				Deadlines             []struct {
					Kind string `json:"kind"`
					Due  string `json:"due"`
				} `json:"deadlines"`
				Superseded []struct {
					Code  string `json:"code"`
					Seq   uint64 `json:"seq"`
					BySeq uint64 `json:"bySeq"`
				} `json:"superseded"`
			} `json:"dublin"`
		} `json:"case"`
	}
	roleOf := func(gw *gwAPI) string {
		if gw == audGw {
			return "auditor"
		}
		return "dublin-officer"
	}
	view := func(gw *gwAPI) dublinView {
		var v dublinView
		gw.ok(http.StatusOK, roleOf(gw), "POST", "/v1/cases/state", map[string]any{"channel": "dublin", "pseudonym": p}, &v)
		return v
	}
	v := view(psGw)
	if v.Case.Dublin.ClaimedReceivedOn != daysAgo(24) || v.Case.Dublin.RequestReceivedOn < daysAgo(1) || v.Case.Dublin.ReceiptAcknowledgedOn == "" {
		t.Fatalf("after the automatic acknowledgement: %+v", v.Case.Dublin)
	}
	// AT's officer acknowledges DubliNet's receipt 24 days back: now the
	// two-week period has run out.
	psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/replies", map[string]any{"pseudonym": p, "reply": "RECEIPT_ACKNOWLEDGED", "occurredOn": daysAgo(24)}, nil)
	// A watcher may record the consequence at once (the period ran out more
	// than its grace period ago), so the view shows either the lapsed reply
	// period or the implicit acceptance dated on its last day.
	var due string
	switch v = view(psGw); {
	case len(v.Case.Dublin.Deadlines) == 1 && v.Case.Dublin.Deadlines[0].Kind == "REPLY" && v.Case.Dublin.Deadlines[0].Due < today():
		due = v.Case.Dublin.Deadlines[0].Due
	case v.Case.Status == "IMPLICITLY_ACCEPTED":
		var tl struct {
			Items []struct {
				Code       string `json:"code"`
				OccurredOn string `json:"occurredOn"`
			} `json:"items"`
		}
		psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/cases/timeline", map[string]any{"channel": "dublin", "pseudonym": p}, &tl)
		for _, it := range tl.Items {
			if it.Code == "IMPLICITLY_ACCEPTED" {
				due = it.OccurredOn
			}
		}
	}
	if due == "" || due >= today() {
		t.Fatalf("after the acknowledgement of the earlier date: %s %+v", v.Case.Status, v.Case.Dublin)
	}

	// The consequence: the watchers record it after their grace period (it
	// has passed, due lies at least 6 days back); the requesting state may
	// record it itself, whichever comes first.
	r := aoGw.do("dublin-officer", "POST", "/v1/dublin/deadlines/resolve", map[string]any{"pseudonym": p}, "")
	if r.status != http.StatusOK {
		// A watcher was first, or this agency's peer has not seen the
		// acknowledgement yet (then a watcher records it).
		if pr := r.problem(t); pr.Code != "INVALID_TRANSITION" && pr.Code != "DEADLINE_NOT_REACHED" {
			t.Fatalf("resolve: %d %+v", r.status, pr)
		}
	}
	acc := aoEvents.until(t, 60*time.Second, "implicit acceptance (requesting state)", is("IMPLICITLY_ACCEPTED"))
	psEvents.until(t, 60*time.Second, "implicit acceptance (requested state)", is("IMPLICITLY_ACCEPTED"))
	consSeq := acc[len(acc)-1].Seq

	// §1: AT's rejection was sent on the deadline's last day; it is recorded
	// now, after the implicit acceptance. It stands.
	var rej gwWrite
	psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/replies", map[string]any{"pseudonym": p, "reply": "REJECTED", "occurredOn": due, "receivedOn": due}, &rej)
	if rej.Status != "REJECTED" {
		t.Fatalf("on-time rejection: %+v", rej)
	}
	audEvents.until(t, 60*time.Second, "implicit acceptance (auditor)", is("IMPLICITLY_ACCEPTED"))
	for name, s := range map[string]*gwStream{"requesting state": aoEvents, "requested state": psEvents, "auditor": audEvents} {
		got := s.until(t, 60*time.Second, "the rejection on the "+name+"'s stream", is("REQUEST_REJECTED"))
		ev := got[len(got)-1]
		if ev.Supersedes == nil || ev.Supersedes.Code != "IMPLICITLY_ACCEPTED" || ev.Supersedes.Seq != consSeq || ev.Supersedes.BySeq != rej.Seq {
			t.Fatalf("%s's stream: %+v", name, ev)
		}
	}
	for name, gw := range map[string]*gwAPI{"requesting state": aoGw, "requested state": psGw, "auditor": audGw} {
		v := view(gw)
		d := v.Case.Dublin
		if v.Case.Status != "REJECTED" || len(d.Superseded) != 1 || d.Superseded[0].Seq != consSeq || d.Superseded[0].BySeq != rej.Seq {
			t.Fatalf("%s's view: %s %+v", name, v.Case.Status, d)
		}
		for _, dl := range d.Deadlines {
			if dl.Kind == "TRANSFER" || dl.Kind == "TRANSFER_DECISION" {
				t.Fatalf("%s's view keeps the superseded acceptance's clock %+v", name, dl)
			}
		}
		var tl struct {
			Items []struct {
				Seq          uint64 `json:"seq"`
				Code         string `json:"code"`
				SupersededBy *struct {
					BySeq uint64 `json:"bySeq"`
				} `json:"supersededBy"`
				Supersedes *struct {
					Seq uint64 `json:"seq"`
				} `json:"supersedes"`
			} `json:"items"`
		}
		gw.ok(http.StatusOK, roleOf(gw), "POST", "/v1/cases/timeline", map[string]any{"channel": "dublin", "pseudonym": p}, &tl)
		marked, found := 0, false
		for _, it := range tl.Items {
			if it.SupersededBy != nil {
				marked++
				if it.Code != "IMPLICITLY_ACCEPTED" || it.Seq != consSeq || it.SupersededBy.BySeq != rej.Seq {
					t.Fatalf("%s's timeline marks %+v", name, it)
				}
			}
			if it.Code == "REQUEST_REJECTED" && it.Supersedes != nil && it.Supersedes.Seq == consSeq {
				found = true
			}
		}
		if marked != 1 || !found {
			t.Fatalf("%s's timeline: %d marked, rejection found %v: %+v", name, marked, found, tl.Items)
		}
		// The board: what runs now (the limit for a new request, AMMR 39(1)
		// from the hit, C-47/17) is shown with the supersession it follows.
		var items []struct {
			Pseudonym string `json:"pseudonym"`
			Deadline  struct {
				Kind string `json:"kind"`
			} `json:"deadline"`
			Superseded []struct {
				Seq   uint64 `json:"seq"`
				BySeq uint64 `json:"bySeq"`
			} `json:"superseded"`
		}
		for bm := ""; ; {
			var b struct {
				Items    json.RawMessage `json:"items"`
				Bookmark string          `json:"bookmark"`
			}
			gw.ok(http.StatusOK, roleOf(gw), "GET", "/v1/dublin/deadlines?withinDays=60&pageSize=100&bookmark="+bm, nil, &b)
			page := items[:0:0]
			if err := json.Unmarshal(b.Items, &page); err != nil {
				t.Fatal(err)
			}
			for _, it := range page {
				if it.Pseudonym == p {
					items = append(items, it)
				}
			}
			if b.Bookmark == "" || len(page) == 0 {
				break
			}
			bm = b.Bookmark
		}
		if len(items) != 1 || items[0].Deadline.Kind != "REQUEST" || len(items[0].Superseded) != 1 ||
			items[0].Superseded[0].Seq != consSeq || items[0].Superseded[0].BySeq != rej.Seq {
			t.Fatalf("%s's board: %+v", name, items)
		}
	}
	// The auditor's late recordings (what `caseledger audit late` prints):
	// the implicit acceptance is there as the automatic consequence it is,
	// not as the requesting state's own late step, and marked superseded.
	var late []domain.Event
	for bm := ""; ; {
		var pg api.EventPage
		audGw.ok(http.StatusOK, "auditor", "GET", "/v1/audit/late?channel=dublin&pageSize=100&bookmark="+url.QueryEscape(bm), nil, &pg)
		for _, e := range pg.Items {
			if e.Pseudonym == p {
				late = append(late, e)
			}
		}
		if pg.Bookmark == "" || len(pg.Items) == 0 {
			break
		}
		bm = pg.Bookmark
	}
	var out strings.Builder
	render.Events(&out, late, true)
	rows := map[string]string{} // by the event's own code, found by its seq
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) > 7 && f[1] == fmt.Sprint(consSeq) {
			rows["IMPLICITLY_ACCEPTED"] = line
		}
		if len(f) > 7 && f[1] == fmt.Sprint(rej.Seq) {
			rows["REQUEST_REJECTED"] = line
		}
	}
	if r := rows["IMPLICITLY_ACCEPTED"]; !strings.Contains(r, "[automatic]") || !strings.Contains(r, fmt.Sprintf("[SUPERSEDED by seq %d]", rej.Seq)) {
		t.Fatalf("audit late, implicit acceptance: %q in\n%s", r, out.String())
	}
	if r := rows["REQUEST_REJECTED"]; r == "" || strings.Contains(r, "[automatic]") {
		t.Fatalf("audit late, the on-time rejection recorded late: %q in\n%s", r, out.String())
	}
	// Nothing of the superseded consequence is left to resolve; a reply
	// dated after the deadline is still refused.
	r = aoGw.do("dublin-officer", "POST", "/v1/dublin/deadlines/resolve", map[string]any{"pseudonym": p}, "")
	if pr := r.problem(t); pr.Code != "INVALID_TRANSITION" {
		t.Fatalf("resolve after the supersession: %d %+v", r.status, pr)
	}
}

// TestDublinLateRequest (issue 13 §3) through the gateways: a Dublin case
// registered with its application date shows the request limit on the
// board; a request sent after it is recorded with that fact (decided on the
// ledger from the dates), the reply period no longer ends in an implicit
// acceptance, and both member states' boards say why.
func TestDublinLateRequest(t *testing.T) {
	aoGw, psGw := gatewayOf(t, "asylum-office"), gatewayOf(t, "partner-state")
	// Registered 100 days ago: the limit (AMMR 39(1): 2 months; Dublin III
	// 21(1): 3 months) has passed.
	appOn := daysAgo(100)
	ref := gwRef("BAMF-DL")
	var reg gwWrite
	aoGw.ok(http.StatusCreated, "dublin-officer", "POST", "/v1/cases", map[string]any{"channel": "dublin", "localRef": ref, "occurredOn": today(),
		"applicationRegisteredOn": appOn, "evidence": "OTHER"}, &reg)
	p := reg.Pseudonym
	type boardItem struct {
		Pseudonym string `json:"pseudonym"`
		Deadline  struct {
			Kind        string `json:"kind"`
			Step        string `json:"step"`
			Due         string `json:"due"`
			OnLapse     string `json:"onLapse"`
			RequestLate bool   `json:"requestLate"`
		} `json:"deadline"`
		Regime struct {
			Criteria string `json:"criteria"`
			Limits   string `json:"limits"`
		} `json:"regime"`
		LateRequest *struct {
			Due     string `json:"due"`
			OnLapse string `json:"onLapse"`
		} `json:"lateRequest"`
	}
	board := func(gw *gwAPI) []boardItem {
		var mine []boardItem
		for bm := ""; ; {
			var b struct {
				Items    []boardItem `json:"items"`
				Bookmark string      `json:"bookmark"`
			}
			gw.ok(http.StatusOK, "dublin-officer", "GET", "/v1/dublin/deadlines?withinDays=400&pageSize=100&bookmark="+bm, nil, &b)
			for _, it := range b.Items {
				if it.Pseudonym == p {
					mine = append(mine, it)
				}
			}
			if b.Bookmark == "" || len(b.Items) == 0 {
				return mine
			}
			bm = b.Bookmark
		}
	}
	b := board(aoGw)
	if len(b) != 1 || b[0].Deadline.Kind != "REQUEST" || b[0].Deadline.Due >= today() || b[0].Deadline.OnLapse != "REQUESTING_STATE_RESPONSIBLE" ||
		b[0].Regime.Criteria == "" || b[0].Regime.Criteria != b[0].Regime.Limits {
		t.Fatalf("board before the request: %+v", b)
	}
	limit := b[0].Deadline.Due

	aoGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/requests", map[string]any{
		"localRef": ref, "kind": "TAKE_CHARGE", "occurredOn": today(), "requestedMemberState": "AT",
		"receivedOn": today(), "applicationRegisteredOn": appOn, "evidence": "OTHER",
	}, nil)
	for name, gw := range map[string]*gwAPI{"requesting state": aoGw, "requested state": psGw} {
		var v struct {
			Case struct {
				Dublin struct {
					RequestLate  bool `json:"requestLate"`
					RequestLimit struct {
						Due string `json:"due"`
					} `json:"requestLimit"`
				} `json:"dublin"`
			} `json:"case"`
		}
		deadlineWait(t, func() bool {
			gw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/cases/state", map[string]any{"channel": "dublin", "pseudonym": p}, &v)
			return v.Case.Dublin.RequestLate
		})
		if v.Case.Dublin.RequestLimit.Due != limit {
			t.Fatalf("%s's view: %+v", name, v.Case.Dublin)
		}
		b := board(gw)
		if len(b) != 1 || b[0].Deadline.Kind != "REPLY" || !b[0].Deadline.RequestLate || b[0].Deadline.OnLapse != "NONE" ||
			b[0].LateRequest == nil || b[0].LateRequest.Due != limit || b[0].LateRequest.OnLapse != "REQUESTING_STATE_RESPONSIBLE" {
			t.Fatalf("%s's board after the late request: %+v", name, b)
		}
	}
	// Nothing to resolve, ever: silence is no acceptance.
	r := psGw.do("dublin-officer", "POST", "/v1/dublin/deadlines/resolve", map[string]any{"pseudonym": p}, "")
	if pr := r.problem(t); pr.Code != "INVALID_TRANSITION" && pr.Code != "DEADLINE_NOT_REACHED" {
		t.Fatalf("resolve: %d %+v", r.status, pr)
	}
}

// deadlineWait polls cond for up to 30 s (a peer that has not committed
// the last block yet).
func deadlineWait(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatal("condition not met within 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDublinRequestFactsRecordedLater (issue 13 §3): a Dublin case opened
// without the application facts (as from a national case) gets them through
// the generic event route; from then on both member states' boards show the
// limit for sending the request, and the facts cannot be recorded twice.
func TestDublinRequestFactsRecordedLater(t *testing.T) {
	aoGw, psGw := gatewayOf(t, "asylum-office"), gatewayOf(t, "partner-state")
	ref := gwRef("BAMF-DF")
	var reg gwWrite
	aoGw.ok(http.StatusCreated, "dublin-officer", "POST", "/v1/cases", map[string]any{"channel": "dublin", "localRef": ref, "occurredOn": today()}, &reg)
	p := reg.Pseudonym
	due := func(gw *gwAPI) (kinds []string) {
		var b struct {
			Items []struct {
				Pseudonym string `json:"pseudonym"`
				Deadline  struct {
					Kind string `json:"kind"`
					Step string `json:"step"`
				} `json:"deadline"`
				Regime struct {
					Criteria string `json:"criteria"`
				} `json:"regime"`
			} `json:"items"`
		}
		gw.ok(http.StatusOK, "dublin-officer", "GET", "/v1/dublin/deadlines?withinDays=400&pageSize=500", nil, &b)
		for _, it := range b.Items {
			if it.Pseudonym == p {
				kinds = append(kinds, it.Deadline.Kind+"/"+it.Deadline.Step+"/"+it.Regime.Criteria)
			}
		}
		return kinds
	}
	if k := due(aoGw); len(k) != 0 {
		t.Fatalf("board without facts: %v", k)
	}
	// Registered yesterday, a VIS hit today (AMMR 39(1): one month from the hit).
	facts := map[string]any{"code": "REQUEST_FACTS_RECORDED", "occurredOn": today(),
		"applicationRegisteredOn": daysAgo(1), "evidence": "VIS_HIT", "evidenceReceivedOn": today()}
	aoGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/cases/events", map[string]any{"channel": "dublin", "localRef": ref, "event": facts}, nil)
	for name, gw := range map[string]*gwAPI{"requesting state": aoGw, "requested state": psGw} {
		var k []string
		deadlineWait(t, func() bool { k = due(gw); return len(k) == 1 })
		if k[0] != "REQUEST/TAKE_CHARGE_REQUEST_HIT/AMMR" {
			t.Fatalf("%s's board after the facts: %v", name, k)
		}
	}
	r := aoGw.do("dublin-officer", "POST", "/v1/cases/events", map[string]any{"channel": "dublin", "localRef": ref, "event": facts}, "")
	if pr := r.problem(t); r.status != http.StatusConflict || pr.Code != "ALREADY_EXISTS" {
		t.Fatalf("second record: %d %+v", r.status, pr)
	}
}
