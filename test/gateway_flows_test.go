package test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestGatewayDublinProcedure: a Dublin request recorded late (received 24
// days ago as the partner state acknowledges, reply limit two weeks after a
// Eurodac hit under the AMMR) is past its reply deadline by more than the
// watchers' grace period; the gateways' deadline watchers record the
// implicit acceptance by themselves, once. A second request runs the normal
// course: deadline board, reply by the partner state, transfer.
func TestGatewayDublinProcedure(t *testing.T) {
	aoGw, psGw := gatewayOf(t, "asylum-office"), gatewayOf(t, "partner-state")
	events := aoGw.stream("dublin-officer", "?channel=dublin", "")

	natRef, dubRef := gwRef("BAMF"), gwRef("BAMF-DU")
	aoGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": natRef, "occurredOn": daysAgo(20)}, nil)
	var dub gwWrite
	aoGw.ok(http.StatusCreated, "dublin-officer", "POST", "/v1/cases", map[string]any{"channel": "dublin", "localRef": dubRef, "occurredOn": daysAgo(24),
		"linkFrom": map[string]any{"channel": "national", "localRef": natRef}}, &dub)
	// Dublin requests are the Dublin officer's: the asylum office's
	// caseworker is refused by the workflow.
	r := aoGw.do("caseworker", "POST", "/v1/dublin/requests", map[string]any{
		"localRef": dubRef, "kind": "TAKE_CHARGE", "occurredOn": daysAgo(24), "requestedMemberState": "AT",
		"receivedOn": daysAgo(24), "applicationRegisteredOn": daysAgo(25), "evidence": "EURODAC_HIT", "evidenceReceivedOn": daysAgo(24),
	}, "")
	if p := r.problem(t); r.status != http.StatusForbidden || p.Code != "FORBIDDEN" {
		t.Fatalf("caseworker Dublin request: %d %+v", r.status, p)
	}
	var req gwWrite
	aoGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/requests", map[string]any{
		"localRef": dubRef, "kind": "TAKE_CHARGE", "occurredOn": daysAgo(24), "requestedMemberState": "AT",
		"receivedOn": daysAgo(24), "applicationRegisteredOn": daysAgo(25), "evidence": "EURODAC_HIT", "evidenceReceivedOn": daysAgo(24),
	}, &req)
	if req.Status != "TAKE_CHARGE_REQUESTED" || req.Pseudonym != dub.Pseudonym {
		t.Fatalf("request: %+v", req)
	}
	// The partner state acknowledges the receipt date DubliNet proved (its
	// gateway may have acknowledged today already; an earlier date counts).
	psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/replies", map[string]any{"pseudonym": dub.Pseudonym, "reply": "RECEIPT_ACKNOWLEDGED", "occurredOn": daysAgo(24)}, nil)
	// Nobody asks: the watchers notice the lapsed deadline.
	events.until(t, 90*time.Second, "implicit acceptance recorded by a watcher", func(v gwEvent) bool {
		return v.Pseudonym == dub.Pseudonym && v.Code == "IMPLICITLY_ACCEPTED"
	})
	var tl struct {
		Items []struct {
			Code  string `json:"code"`
			MSPID string `json:"mspId"`
		} `json:"items"`
	}
	psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/cases/timeline", map[string]any{"channel": "dublin", "pseudonym": dub.Pseudonym}, &tl)
	n := 0
	for _, it := range tl.Items {
		if it.Code == "IMPLICITLY_ACCEPTED" {
			n++
		}
	}
	if n != 1 || tl.Items[len(tl.Items)-1].Code != "IMPLICITLY_ACCEPTED" {
		t.Fatalf("timeline %+v: want one implicit acceptance", tl.Items)
	}
	// A late reply is refused now, and there is nothing left to resolve.
	r = psGw.do("dublin-officer", "POST", "/v1/dublin/replies", map[string]any{"pseudonym": dub.Pseudonym, "reply": "REJECTED", "occurredOn": today(), "receivedOn": today()}, "")
	if r.status < 400 {
		t.Fatalf("late reply accepted: %s", r.body)
	}
	r = aoGw.do("dublin-officer", "POST", "/v1/dublin/deadlines/resolve", map[string]any{"localRef": dubRef}, "")
	if p := r.problem(t); p.Code != "DEADLINE_NOT_REACHED" && p.Code != "INVALID_TRANSITION" {
		t.Fatalf("resolve after acceptance: %d %+v", r.status, p)
	}

	// The normal course.
	ref2 := gwRef("BAMF-DU")
	var w2 gwWrite
	aoGw.ok(http.StatusCreated, "dublin-officer", "POST", "/v1/cases", map[string]any{"channel": "dublin", "localRef": ref2, "occurredOn": today()}, &w2)
	aoGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/requests", map[string]any{
		"localRef": ref2, "kind": "TAKE_CHARGE", "occurredOn": today(), "requestedMemberState": "AT",
		"receivedOn": today(), "applicationRegisteredOn": daysAgo(3), "evidence": "OTHER",
	}, nil)
	var board struct {
		Items []struct {
			Pseudonym string   `json:"pseudonym"`
			LocalRefs []string `json:"localRefs"`
			DaysLeft  int      `json:"daysLeft"`
			Deadline  struct {
				Kind string `json:"kind"`
			} `json:"deadline"`
		} `json:"items"`
	}
	atRef := gwRef("BFA")
	psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/cases/bind", map[string]any{"channel": "dublin", "pseudonym": w2.Pseudonym, "localRef": atRef}, nil)
	psGw.ok(http.StatusOK, "dublin-officer", "GET", "/v1/dublin/deadlines?withinDays=40&pageSize=100", nil, &board)
	found := false
	for _, it := range board.Items {
		if it.Pseudonym == w2.Pseudonym {
			found = it.Deadline.Kind == "REPLY" && it.DaysLeft > 20 && slices.Equal(it.LocalRefs, []string{atRef})
		}
	}
	if !found {
		t.Fatalf("board lacks the open request with the partner's reference: %+v", board.Items)
	}
	var rep gwWrite
	psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/replies", map[string]any{"localRef": atRef, "reply": "ACCEPTED", "occurredOn": today()}, &rep)
	if rep.Status != "ACCEPTED" {
		t.Fatalf("reply %+v", rep)
	}
	r = psGw.do("dublin-officer", "POST", "/v1/dublin/transfers", map[string]any{"localRef": atRef, "step": "DECISION_ISSUED", "occurredOn": today()}, "")
	if p := r.problem(t); p.Code != "FORBIDDEN" {
		t.Fatalf("partner records the transfer decision: %+v", p)
	}
	for _, step := range []map[string]any{
		{"step": "DECISION_ISSUED"}, {"step": "SCHEDULED", "scheduledFor": time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)}, {"step": "COMPLETED"},
	} {
		step["localRef"], step["occurredOn"] = ref2, today()
		aoGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/transfers", step, &rep)
	}
	if rep.Status != "TRANSFER_COMPLETED" {
		t.Fatalf("transfer: %+v", rep)
	}
	var list struct {
		Items []gwCaseView `json:"items"`
	}
	psGw.ok(http.StatusOK, "dublin-officer", "GET", "/v1/cases?channel=dublin&status=TRANSFER_COMPLETED&pageSize=100", nil, &list)
	if !slices.ContainsFunc(list.Items, func(v gwCaseView) bool {
		return v.Case.Pseudonym == w2.Pseudonym && slices.Equal(v.LocalRefs, []string{atRef})
	}) {
		t.Fatalf("list by status lacks the transferred case")
	}
}

// TestGatewayDocumentsAndErasure: document anchors (the document never
// leaves the gateway), then an erasure requested by the asylum office that
// every holder's gateway carries out on both channels.
func TestGatewayDocumentsAndErasure(t *testing.T) {
	bpGw, aoGw, psGw, audGw := gatewayOf(t, "border-police"), gatewayOf(t, "asylum-office"), gatewayOf(t, "partner-state"), gatewayOf(t, "auditor")
	confirmations := audGw.stream("auditor", "", "")
	bpRef, aoRef, atRef := gwRef("BPOL"), gwRef("BAMF"), gwRef("BFA")
	var nat gwWrite
	bpGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": bpRef, "occurredOn": today()}, &nat)
	bpGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/events", map[string]any{"channel": "national", "localRef": bpRef,
		"event": map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": today(), "eurodacHit": "CATEGORY_1"}}, nil)
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/bind", map[string]any{"channel": "national", "pseudonym": nat.Pseudonym, "localRef": aoRef}, nil)
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/events", map[string]any{"channel": "national", "localRef": aoRef,
		"event": map[string]any{"code": "FILE_CREATED", "occurredOn": today()}}, nil)
	var dub gwWrite
	aoGw.ok(http.StatusCreated, "dublin-officer", "POST", "/v1/cases", map[string]any{"channel": "dublin", "localRef": aoRef, "occurredOn": today(),
		"linkFrom": map[string]any{"channel": "national", "localRef": aoRef}}, &dub)
	aoGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/requests", map[string]any{"localRef": aoRef, "kind": "TAKE_CHARGE",
		"occurredOn": today(), "requestedMemberState": "AT", "receivedOn": today(), "applicationRegisteredOn": today(), "evidence": "OTHER"}, nil)
	psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/cases/bind", map[string]any{"channel": "dublin", "pseudonym": dub.Pseudonym, "localRef": atRef}, nil)
	psGw.ok(http.StatusOK, "dublin-officer", "POST", "/v1/dublin/replies", map[string]any{"localRef": atRef, "reply": "REJECTED", "occurredOn": today(), "receivedOn": today()}, nil)

	// Anchors: HMAC under the asylum office's key for this case.
	doc := []byte("%PDF-1.7 hearing minutes of " + aoRef)
	noteRealIdentifiers(base64.StdEncoding.EncodeToString(doc))
	var an struct {
		DocumentHash string `json:"documentHash"`
		TxID         string `json:"txId"`
	}
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/documents/anchor", map[string]any{"channel": "national", "localRef": aoRef,
		"document": doc, "documentType": "HEARING_MINUTES", "occurredOn": today()}, &an)
	sum := sha256.Sum256(doc)
	if len(an.DocumentHash) != 64 || an.DocumentHash == hex.EncodeToString(sum[:]) {
		t.Fatalf("anchor %q is not a keyed hash", an.DocumentHash)
	}
	var ver struct {
		Anchored bool `json:"anchored"`
		Anchor   struct {
			MSPID string `json:"mspId"`
			TxID  string `json:"txId"`
		} `json:"anchor"`
	}
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/documents/verify", map[string]any{"channel": "national", "localRef": aoRef, "document": doc}, &ver)
	if !ver.Anchored || ver.Anchor.MSPID != "AsylumOfficeMSP" || ver.Anchor.TxID != an.TxID {
		t.Fatalf("verify: %+v", ver)
	}
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/documents/verify", map[string]any{"channel": "national", "localRef": aoRef, "document": append(doc, ' ')}, &ver)
	if ver.Anchored {
		t.Fatal("an altered document verifies")
	}
	var anchors struct {
		Items []struct {
			DocumentHash string `json:"documentHash"`
		} `json:"items"`
	}
	bpGw.ok(http.StatusOK, "caseworker", "POST", "/v1/documents/list", map[string]any{"channel": "national", "localRef": bpRef}, &anchors)
	if len(anchors.Items) != 1 || anchors.Items[0].DocumentHash != an.DocumentHash {
		t.Fatalf("anchors %+v", anchors.Items)
	}

	// Erasure, requested by the asylum office: both channels, every holder.
	var er struct {
		Items []struct {
			Channel   string `json:"channel"`
			Pseudonym string `json:"pseudonym"`
			Requested bool   `json:"requested"`
		} `json:"items"`
	}
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/erasures", map[string]any{"channel": "national", "localRef": aoRef, "occurredOn": today()}, &er)
	if len(er.Items) != 2 || !er.Items[0].Requested || !er.Items[1].Requested || er.Items[1].Pseudonym != dub.Pseudonym {
		t.Fatalf("erasure: %+v", er.Items)
	}
	want := map[string]int{nat.Pseudonym: 2, dub.Pseudonym: 2} // holders: BP+AO, AO+PS
	confirmations.until(t, 90*time.Second, "four confirmations", func(v gwEvent) bool {
		if v.Code == "ERASURE_CONFIRMED" && want[v.Pseudonym] > 0 {
			want[v.Pseudonym]--
		}
		return want[nat.Pseudonym] == 0 && want[dub.Pseudonym] == 0
	})
	for _, c := range []struct{ ch, p string }{{"national", nat.Pseudonym}, {"dublin", dub.Pseudonym}} {
		var st struct {
			Complete bool     `json:"complete"`
			Pending  []string `json:"pending"`
		}
		audGw.ok(http.StatusOK, "auditor", "POST", "/v1/erasures/status", map[string]any{"channel": c.ch, "pseudonym": c.p}, &st)
		if !st.Complete || len(st.Pending) != 0 {
			t.Fatalf("%s erasure status %+v", c.ch, st)
		}
		var open struct {
			Items []struct {
				Pseudonym string `json:"pseudonym"`
			} `json:"items"`
		}
		for _, path := range []string{"/v1/audit/erasures?channel=" + c.ch + "&pageSize=100", "/v1/erasures/open?channel=" + c.ch + "&pageSize=100"} {
			audGw.ok(http.StatusOK, "auditor", "GET", path, nil, &open)
			for _, it := range open.Items {
				if it.Pseudonym == c.p {
					t.Fatalf("completed erasure listed as open on %s by %s", c.ch, path)
				}
			}
		}
	}
	// No agency can resolve its reference any more.
	for _, c := range []struct {
		gw       *gwAPI
		role, ch string
		ref      string
	}{{bpGw, "caseworker", "national", bpRef}, {aoGw, "caseworker", "national", aoRef}, {aoGw, "dublin-officer", "dublin", aoRef}, {psGw, "dublin-officer", "dublin", atRef}} {
		r := c.gw.do(c.role, "POST", "/v1/cases/state", map[string]any{"channel": c.ch, "localRef": c.ref}, "")
		if p := r.problem(t); r.status != http.StatusNotFound || p.Code != "UNKNOWN_LOCAL_REF" {
			t.Fatalf("%s still resolves its reference on %s: %d %+v", c.gw.org, c.ch, r.status, p)
		}
	}
}

// webhookSink receives deliveries and checks their signature.
type webhookSink struct {
	mu     sync.Mutex
	secret string
	got    []gwEvent
	ids    []string
	bad    int
	server *http.Server
	url    string
}

func newWebhookSink(t *testing.T) *webhookSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &webhookSink{url: "http://" + ln.Addr().String() + "/hook"}
	s.server = &http.Server{Handler: s, ReadHeaderTimeout: 5 * time.Second}
	go s.server.Serve(ln)
	t.Cleanup(func() { s.server.Close() })
	return s
}

func (s *webhookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := hmac.New(sha256.New, []byte(s.secret))
	m.Write([]byte(r.Header.Get("Webhook-Timestamp") + "."))
	m.Write(body)
	if r.Header.Get("Webhook-Signature") != "v1="+hex.EncodeToString(m.Sum(nil)) {
		s.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var v gwEvent
	_ = json.Unmarshal(body, &v)
	s.got = append(s.got, v)
	s.ids = append(s.ids, r.Header.Get("Webhook-Event-Id"))
	w.WriteHeader(http.StatusNoContent)
}

func (s *webhookSink) has(pseudonyms ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range pseudonyms {
		if !slices.ContainsFunc(s.got, func(v gwEvent) bool { return v.Pseudonym == p }) {
			return false
		}
	}
	return true
}

func posSeq(t *testing.T, pos string) uint64 {
	t.Helper()
	_, n, _ := strings.Cut(pos, "-")
	v, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		t.Fatalf("position %q", pos)
	}
	return v
}

// TestGatewayEventsAcrossRestart: the immigration authority's gateway is
// stopped while cases are registered elsewhere; after it restarts, a client
// resuming with Last-Event-ID gets every event after its position without a
// gap, and its webhook receives every event exactly once.
func TestGatewayEventsAcrossRestart(t *testing.T) {
	ctx := context.Background()
	const org = "immigration-authority"
	iaGw, bpGw := gatewayOf(t, org), gatewayOf(t, "border-police")
	sink := newWebhookSink(t)
	var wh struct {
		ID       string `json:"id"`
		Secret   string `json:"secret"`
		Position string `json:"position"`
	}
	iaGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/webhooks", map[string]any{"url": sink.url, "channel": "national"}, &wh)
	sink.mu.Lock()
	sink.secret = wh.Secret
	sink.mu.Unlock()

	register := func() string {
		var w gwWrite
		bpGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": gwRef("BPOL"), "occurredOn": today()}, &w)
		return w.Pseudonym
	}
	stream := iaGw.stream("caseworker", "?channel=national", "")
	first := register()
	seen := stream.until(t, 60*time.Second, "first registration", func(v gwEvent) bool { return v.Pseudonym == first })
	resumeAt := seen[len(seen)-1].Position
	stream.close()

	if err := cluster.StopGateway(org); err != nil {
		t.Fatal(err)
	}
	down := []string{register(), register()}
	if err := cluster.StartGateway(ctx, org); err != nil {
		t.Fatal(err)
	}
	after := register()
	resumed := iaGw.stream("caseworker", "?channel=national", resumeAt)
	got := resumed.until(t, 60*time.Second, "events after the restart", func(v gwEvent) bool { return v.Pseudonym == after })
	last := posSeq(t, resumeAt)
	var order []string
	// The immigration authority sits on the national channel only: its log
	// is that channel's events, so positions follow each other without gaps.
	for _, v := range got {
		if s := posSeq(t, v.Position); s != last+1 {
			t.Fatalf("event at %d after %d: gap or repetition", s, last)
		}
		last = posSeq(t, v.Position)
		order = append(order, v.Pseudonym)
	}
	if i, j, k := slices.Index(order, down[0]), slices.Index(order, down[1]), slices.Index(order, after); i < 0 || j < i || k < j {
		t.Fatalf("resumed stream misses or reorders events: %v (want %s, %s, %s)", order, down[0], down[1], after)
	}

	deadline := time.Now().Add(60 * time.Second)
	for !sink.has(append([]string{first, after}, down...)...) {
		if time.Now().After(deadline) {
			t.Fatal("webhook deliveries missing after the restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.bad != 0 {
		t.Fatalf("%d deliveries with a bad signature", sink.bad)
	}
	for i := range sink.ids {
		if sink.ids[i] != sink.got[i].Position || (i > 0 && posSeq(t, sink.ids[i]) != posSeq(t, sink.ids[i-1])+1) {
			t.Fatalf("delivery %d: id %s after %s (missed, repeated or out of order)", i, sink.ids[i], sink.ids[max(i-1, 0)])
		}
	}
	var hooks struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	iaGw.ok(http.StatusOK, "caseworker", "GET", "/v1/webhooks", nil, &hooks)
	if !slices.ContainsFunc(hooks.Items, func(h struct {
		ID string `json:"id"`
	}) bool {
		return h.ID == wh.ID
	}) {
		t.Fatal("webhook not listed")
	}
	iaGw.ok(http.StatusNoContent, "caseworker", "DELETE", "/v1/webhooks/"+wh.ID, nil, nil)
}

// TestGatewayAudit: the auditor's gateway verifies both channels' blocks
// from block 0 on its own peer and answers the auditor queries.
func TestGatewayAudit(t *testing.T) {
	audGw, bpGw := gatewayOf(t, "auditor"), gatewayOf(t, "border-police")
	// A late recording: occurred three days ago.
	var w gwWrite
	bpGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": gwRef("BPOL"), "occurredOn": daysAgo(3)}, &w)

	var rep struct {
		Intact   bool `json:"intact"`
		Channels []struct {
			Channel            string         `json:"channel"`
			Blocks             uint64         `json:"blocks"`
			Transactions       int            `json:"transactions"`
			SignaturesVerified int            `json:"signaturesVerified"`
			ValidationCodes    map[string]int `json:"validationCodes"`
			Intact             bool           `json:"intact"`
			FirstInconsistency any            `json:"firstInconsistency"`
			Error              string         `json:"error"`
			// Lists for the auditor (docs/gateway.md): honest clients never add content.
			NoWritesTotal          int             `json:"noWritesTotal"`
			LateTimestampsTotal    int             `json:"lateTimestampsTotal"`
			UnexpectedContentTotal int             `json:"unexpectedContentTotal"`
			UnexpectedContent      json.RawMessage `json:"unexpectedContent"`
		} `json:"channels"`
	}
	audGw.ok(http.StatusOK, "auditor", "POST", "/v1/audit/verification", nil, &rep)
	if !rep.Intact || len(rep.Channels) != 2 {
		t.Fatalf("verification: %+v", rep)
	}
	for _, c := range rep.Channels {
		h, err := cluster.Height(context.Background(), "auditor", c.Channel)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Intact || c.Blocks == 0 || c.Blocks > h || c.SignaturesVerified == 0 || c.ValidationCodes["VALID"] == 0 {
			t.Fatalf("%s: %+v (peer height %d)", c.Channel, c, h)
		}
		if c.UnexpectedContentTotal != 0 {
			t.Fatalf("%s: unexpected content in honest transactions: %s", c.Channel, c.UnexpectedContent)
		}
		t.Logf("%s: %d transactions without writes, %d late timestamps", c.Channel, c.NoWritesTotal, c.LateTimestampsTotal)
	}
	audGw.ok(http.StatusOK, "admin", "GET", "/v1/audit/verification", nil, &rep)
	if !rep.Intact || len(rep.Channels) != 2 {
		t.Fatalf("stored report: %+v", rep)
	}

	var late struct {
		Items []struct {
			Pseudonym string `json:"pseudonym"`
			LateDays  int    `json:"lateDays"`
		} `json:"items"`
		Bookmark string `json:"bookmark"`
	}
	path := "/v1/audit/late?channel=national&mspId=BorderPoliceMSP&pageSize=100"
	found := false
	for bm := ""; !found; {
		audGw.ok(http.StatusOK, "auditor", "GET", path+"&bookmark="+bm, nil, &late)
		found = slices.ContainsFunc(late.Items, func(it struct {
			Pseudonym string `json:"pseudonym"`
			LateDays  int    `json:"lateDays"`
		}) bool {
			return it.Pseudonym == w.Pseudonym && it.LateDays == 3
		})
		if late.Bookmark == "" || len(late.Items) == 0 {
			break
		}
		bm = late.Bookmark
	}
	if !found {
		t.Fatal("late recording not listed")
	}
	var writes struct {
		Items []struct {
			Pseudonym string `json:"pseudonym"`
			MSPID     string `json:"mspId"`
		} `json:"items"`
		Bookmark string `json:"bookmark"`
	}
	found = false
	for bm := ""; !found; {
		audGw.ok(http.StatusOK, "auditor", "GET", "/v1/audit/writes?channel=national&mspId=BorderPoliceMSP&from="+today()+"&to="+today()+"&pageSize=100&bookmark="+bm, nil, &writes)
		for _, it := range writes.Items {
			if it.MSPID != "BorderPoliceMSP" {
				t.Fatalf("writes of another agency listed: %+v", it)
			}
			found = found || it.Pseudonym == w.Pseudonym
		}
		if writes.Bookmark == "" {
			break
		}
		bm = writes.Bookmark
	}
	if !found {
		t.Fatal("the border police's registration of today is not among its writes")
	}
	var hist struct {
		Items []any `json:"items"`
	}
	audGw.ok(http.StatusOK, "auditor", "POST", "/v1/audit/history", map[string]any{"channel": "national", "pseudonym": w.Pseudonym}, &hist)
	if len(hist.Items) != 1 {
		t.Fatalf("history %+v", hist.Items)
	}
	// The operational endpoints and the API document.
	for _, p := range []string{"/healthz", "/readyz", "/v1/openapi.yaml"} {
		if r := audGw.do("", "GET", p, nil, ""); r.status != http.StatusOK {
			t.Fatalf("%s: %d", p, r.status)
		}
	}
	r := audGw.do("admin", "GET", "/metrics", nil, "") // an admin token on the API port (open on the ops port)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `gateway_http_requests_total{method="POST",route="/v1/audit/verification",status="200"}`) {
		t.Fatalf("metrics: %d", r.status)
	}
	var voc struct {
		Version int `json:"version"`
		Events  []struct {
			Code string `json:"code"`
		} `json:"events"`
	}
	audGw.ok(http.StatusOK, "auditor", "GET", "/v1/vocabulary?channel=dublin", nil, &voc)
	if voc.Version != 1 || len(voc.Events) == 0 {
		t.Fatalf("vocabulary %+v", voc)
	}
}
