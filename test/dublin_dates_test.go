package test

import (
	"net/http"
	"testing"
	"time"
)

// TestDublinOnTimeReplySupersedesImplicitAcceptance (issue 13 §1, §2) on the
// real network: the partner state's gateway acknowledges receipt of a
// request by itself, its officer acknowledges DubliNet's earlier receipt
// date, the implicit acceptance is recorded once the deadline has passed,
// and then the rejection dated on the deadline's last day is recorded: it
// stands, and both member states' views and event streams say that it
// superseded the implicit acceptance.
func TestDublinOnTimeReplySupersedesImplicitAcceptance(t *testing.T) {
	aoGw, psGw := gatewayOf(t, "asylum-office"), gatewayOf(t, "partner-state")
	aoEvents := aoGw.stream("dublin-officer", "?channel=dublin", "")
	psEvents := psGw.stream("dublin-officer", "?channel=dublin", "")

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
	view := func(gw *gwAPI) dublinView {
		var v dublinView
		gw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/cases/state", map[string]any{"channel": "dublin", "pseudonym": p}, &v)
		return v
	}
	v := view(psGw)
	if v.Case.Dublin.ClaimedReceivedOn != daysAgo(24) || v.Case.Dublin.RequestReceivedOn < daysAgo(1) || v.Case.Dublin.ReceiptAcknowledgedOn == "" {
		t.Fatalf("after the automatic acknowledgement: %+v", v.Case.Dublin)
	}
	// AT's officer acknowledges DubliNet's receipt 24 days back: now the
	// two-week period has run out.
	psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/replies", map[string]any{"pseudonym": p, "reply": "RECEIPT_ACKNOWLEDGED", "occurredOn": daysAgo(24)}, nil)
	v = view(psGw)
	if len(v.Case.Dublin.Deadlines) != 1 || v.Case.Dublin.Deadlines[0].Kind != "REPLY" || v.Case.Dublin.Deadlines[0].Due >= today() {
		t.Fatalf("after the acknowledgement of the earlier date: %+v", v.Case.Dublin)
	}
	due := v.Case.Dublin.Deadlines[0].Due

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
	for name, s := range map[string]*gwStream{"requesting state": aoEvents, "requested state": psEvents} {
		got := s.until(t, 60*time.Second, "the rejection on the "+name+"'s stream", is("REQUEST_REJECTED"))
		ev := got[len(got)-1]
		if ev.Supersedes == nil || ev.Supersedes.Code != "IMPLICITLY_ACCEPTED" || ev.Supersedes.Seq != consSeq || ev.Supersedes.BySeq != rej.Seq {
			t.Fatalf("%s's stream: %+v", name, ev)
		}
	}
	for name, gw := range map[string]*gwAPI{"requesting state": aoGw, "requested state": psGw} {
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
		gw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/cases/timeline", map[string]any{"channel": "dublin", "pseudonym": p}, &tl)
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
	}
	// Nothing of the superseded consequence is left to resolve; a reply
	// dated after the deadline is still refused.
	r = aoGw.do("dublin-officer", "POST", "/v1/dublin/deadlines/resolve", map[string]any{"pseudonym": p}, "")
	if pr := r.problem(t); pr.Code != "INVALID_TRANSITION" {
		t.Fatalf("resolve after the supersession: %d %+v", r.status, pr)
	}
}
