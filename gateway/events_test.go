package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	id, name string
	view     api.EventView
}

// readSSE streams GET /v1/events into a channel until the context ends.
func (a *agency) readSSE(ctx context.Context, role domain.Role, query, lastID string) (<-chan sseEvent, *http.Response) {
	a.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.hs.URL+"/v1/events"+query, nil)
	req.Header.Set("Authorization", "Bearer "+a.tokens[role])
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	out := make(chan sseEvent, 256)
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		close(out)
		return out, res
	}
	go func() {
		defer close(out)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(line[6:]), &ev.view)
			case line == "" && ev.id != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out, res
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return sseEvent{}
}

func seqOf(t *testing.T, pos string) uint64 {
	t.Helper()
	_, n, _ := strings.Cut(pos, "-")
	v, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		t.Fatalf("position %q", pos)
	}
	return v
}

// TestEventStreamResumesAcrossRestart: events reach the stream in order
// with the agency's own references; after a gateway restart a client
// resuming with Last-Event-ID gets exactly the events it has not seen.
func TestEventStreamResumesAcrossRestart(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	bpA := newAgency(t, n, clock, bp, nil)
	aoA := newAgency(t, n, clock, ao, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, _ := aoA.readSSE(ctx, domain.RoleCaseworker, "?channel=national", "")
	w1 := bpA.register(domain.RoleCaseworker, "national", "BP-1", "2026-11-27")
	e1 := next(t, stream)
	if e1.name != "caseledger.case" || e1.view.Pseudonym != w1.Pseudonym || e1.view.Code != "CASE_REGISTERED" || e1.view.Held || len(e1.view.LocalRefs) != 0 {
		t.Fatalf("first event %+v", e1)
	}
	// Once the asylum office holds a reference, its view carries it.
	aoA.must(200, aoA.call(domain.RoleCaseworker, "POST", "/v1/cases/bind", api.BindRequest{Channel: "national", Pseudonym: w1.Pseudonym, LocalRef: "AO-1"}, ""), nil)
	// The bind itself is an event: the asylum office now holds the case
	// (the reference is bound locally right after the commit, so this
	// event's view may or may not carry it yet).
	eb := next(t, stream)
	if eb.view.Code != string(domain.EvCaseBound) || seqOf(t, eb.id) != seqOf(t, e1.id)+1 {
		t.Fatalf("bind event %+v", eb)
	}
	bpA.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "BP-1"}, map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": "2026-11-27", "eurodacHit": "NONE"})
	e2 := next(t, stream)
	if !e2.view.Held || len(e2.view.LocalRefs) != 1 || e2.view.LocalRefs[0] != "AO-1" || seqOf(t, e2.id) != seqOf(t, eb.id)+1 {
		t.Fatalf("second event %+v", e2)
	}
	cancel()

	// Restart the asylum office's gateway while the border police writes.
	aoA.stop()
	var written []string
	for i := 0; i < 3; i++ {
		written = append(written, bpA.register(domain.RoleCaseworker, "national", "BP-R"+strconv.Itoa(i), "2026-11-27").Pseudonym)
	}
	aoA.start()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	resumed, _ := aoA.readSSE(ctx2, domain.RoleCaseworker, "", e2.id)
	last := seqOf(t, e2.id)
	for i := 0; i < 3; i++ {
		ev := next(t, resumed)
		if s := seqOf(t, ev.id); s != last+1 {
			t.Fatalf("gap or repeat: position %d after %d", s, last)
		}
		last = seqOf(t, ev.id)
		if ev.view.Pseudonym != written[i] {
			t.Fatalf("event %d is %s, want %s", i, ev.view.Pseudonym, written[i])
		}
	}
	select {
	case ev := <-resumed:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
	// A foreign position replays the log from the start.
	ctx3, cancel3 := context.WithCancel(context.Background())
	defer cancel3()
	all, res := aoA.readSSE(ctx3, domain.RoleCaseworker, "", "ffffffffffff-2")
	if res.Header.Get("X-Event-Position-Reset") != "true" || seqOf(t, next(t, all).id) != 1 {
		t.Fatal("foreign position not replayed from the start")
	}
	// held=true leaves out cases the agency holds no reference for.
	ctx4, cancel4 := context.WithCancel(context.Background())
	defer cancel4()
	held, _ := aoA.readSSE(ctx4, domain.RoleCaseworker, "?held=true", "")
	if ev := next(t, held); ev.view.Pseudonym != w1.Pseudonym || !ev.view.Held {
		t.Fatalf("held stream: %+v", ev)
	}
	// Malformed positions are refused.
	_, bad := aoA.readSSE(context.Background(), domain.RoleCaseworker, "", "nonsense")
	if bad.StatusCode != 400 {
		t.Fatalf("malformed Last-Event-ID: %d", bad.StatusCode)
	}
}

// TestEventLogCheckpoint: a redelivered event (at or before the
// checkpoint) is not logged twice.
func TestEventLogCheckpoint(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, func(c *Config) {})
	l := a.srv.evlog
	ev := ChainEvent{Channel: "national", Block: 7, TxID: "tx7", Name: "caseledger.case", Payload: []byte(`{}`)}
	if ok, err := l.append(ev); !ok || err != nil {
		t.Fatalf("first append: %v %v", ok, err)
	}
	before, _ := l.changed()
	for _, again := range []ChainEvent{ev, {Channel: "national", Block: 6, TxID: "tx6", Payload: []byte(`{}`)}} {
		if ok, err := l.append(again); ok || err != nil {
			t.Fatalf("redelivery logged: %v %v", ok, err)
		}
	}
	if ok, _ := l.append(ChainEvent{Channel: "national", Block: 7, TxID: "tx7b", Payload: []byte(`{}`)}); !ok {
		t.Fatal("a later event of the same block was dropped")
	}
	after, _ := l.changed()
	cp, _ := l.checkpoint("national")
	if after != before+1 || cp != (Checkpoint{Block: 7, TxID: "tx7b"}) {
		t.Fatalf("log %d→%d, checkpoint %+v", before, after, cp)
	}
	// A redelivered block in a batch: only the new events are logged, in
	// one go, and an earlier event of the checkpoint's block is recognised.
	mk := func(b uint64, tx string) ChainEvent {
		return ChainEvent{Channel: "national", Block: b, TxID: tx, Name: "caseledger.case", Payload: []byte(`{}`)}
	}
	n2, err := l.appendBatch("national", []ChainEvent{mk(7, "tx7"), mk(7, "tx7b"), mk(8, "tx8a"), mk(8, "tx8b"), mk(8, "tx8a")})
	if n2 != 2 || err != nil {
		t.Fatalf("batch logged %d (%v), want 2", n2, err)
	}
	if n3, _ := l.appendBatch("national", []ChainEvent{mk(8, "tx8a")}); n3 != 0 {
		t.Fatal("an earlier event of the checkpoint's block was logged again")
	}
	evs, _ := l.read(before, 10)
	var txs []string
	for _, e := range evs {
		txs = append(txs, e.TxID)
	}
	if strings.Join(txs, ",") != "tx7b,tx8a,tx8b" {
		t.Fatalf("log holds %v", txs)
	}
	// Another channel has its own checkpoint.
	if n4, _ := l.appendBatch("dublin", []ChainEvent{{Channel: "dublin", Block: 3, TxID: "d3", Payload: []byte(`{}`)}}); n4 != 1 {
		t.Fatal("dublin event dropped")
	}
}

// webhookReceiver records deliveries; fail makes it answer 500.
type webhookReceiver struct {
	mu     sync.Mutex
	got    []api.EventView
	bodies [][]byte
	sigs   []string
	ts     []string
	fail   int
}

func (rv *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.fail > 0 {
		rv.fail--
		w.WriteHeader(500)
		return
	}
	var v api.EventView
	_ = json.Unmarshal(b, &v)
	if r.Header.Get("Webhook-Event-Id") != v.Position {
		w.WriteHeader(400)
		return
	}
	rv.got = append(rv.got, v)
	rv.bodies = append(rv.bodies, b)
	rv.sigs = append(rv.sigs, r.Header.Get("Webhook-Signature"))
	rv.ts = append(rv.ts, r.Header.Get("Webhook-Timestamp"))
	w.WriteHeader(204)
}

func (rv *webhookReceiver) count() int { rv.mu.Lock(); defer rv.mu.Unlock(); return len(rv.got) }

// TestWebhooks: deliveries are signed, retried after failures, resume
// after a restart without loss or repetition, and stop when deleted.
func TestWebhooks(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, nil)
	rv := &webhookReceiver{fail: 2}
	hs := httptest.NewServer(rv)
	defer hs.Close()
	var wh api.CreatedWebhook
	a.must(201, a.call(domain.RoleCaseworker, "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: hs.URL}, ""), &wh)
	if len(wh.Secret) != 64 || wh.ID == "" {
		t.Fatalf("webhook %+v", wh)
	}
	// https only, unless allowed (it is, in this harness), and never with credentials.
	if r := a.call(domain.RoleCaseworker, "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: "https://u:p@example.org/x"}, ""); r.status != 400 {
		t.Fatalf("URL with credentials: %d", r.status)
	}
	var pseudonyms []string
	for i := 0; i < 3; i++ {
		pseudonyms = append(pseudonyms, a.register(domain.RoleCaseworker, "national", "BP-W"+strconv.Itoa(i), "2026-11-27").Pseudonym)
	}
	waitFor(t, "three deliveries after two failures", func() bool { return rv.count() == 3 })
	a.stop()
	// Written while the gateway is down, delivered after it is back.
	other := newAgency(t, n, clock, ao, nil)
	w := other.register(domain.RoleCaseworker, "national", "AO-W", "2026-11-27")
	pseudonyms = append(pseudonyms, w.Pseudonym)
	a.start()
	pseudonyms = append(pseudonyms, a.register(domain.RoleCaseworker, "national", "BP-W9", "2026-11-27").Pseudonym)
	waitFor(t, "five deliveries", func() bool { return rv.count() == 5 })
	time.Sleep(50 * time.Millisecond)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if len(rv.got) != 5 {
		t.Fatalf("%d deliveries, want 5 (no repeats)", len(rv.got))
	}
	for i, v := range rv.got {
		if v.Pseudonym != pseudonyms[i] {
			t.Fatalf("delivery %d: %s, want %s", i, v.Pseudonym, pseudonyms[i])
		}
		if rv.sigs[i] != Signature(wh.Secret, rv.ts[i], rv.bodies[i]) {
			t.Fatalf("delivery %d: bad signature", i)
		}
		if i > 0 && seqOf(t, v.Position) != seqOf(t, rv.got[i-1].Position)+1 {
			t.Fatalf("positions not consecutive at %d", i)
		}
	}
	if rv.got[0].Held != true || rv.got[0].LocalRefs[0] != "BP-W0" || rv.got[3].Held {
		t.Fatalf("views: %+v / %+v", rv.got[0], rv.got[3])
	}
	var list struct {
		Items []api.WebhookStatus `json:"items"`
	}
	a.must(200, a.call(domain.RoleCaseworker, "GET", "/v1/webhooks", nil, ""), &list)
	if len(list.Items) != 1 || list.Items[0].Position != rv.got[4].Position {
		t.Fatalf("webhook list %+v", list.Items)
	}
	a.must(204, a.call(domain.RoleCaseworker, "DELETE", "/v1/webhooks/"+wh.ID, nil, ""), nil)
	if r := a.call(domain.RoleCaseworker, "DELETE", "/v1/webhooks/"+wh.ID, nil, ""); r.status != 404 {
		t.Fatalf("second delete: %d", r.status)
	}
}

// TestWebhookDeadLetter: an event refused MaxAttempts times is recorded as
// a dead letter and delivery moves on.
func TestWebhookDeadLetter(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, nil)
	rv := &webhookReceiver{fail: 3} // MaxAttempts is 3 in the harness
	hs := httptest.NewServer(rv)
	defer hs.Close()
	a.must(201, a.call(domain.RoleCaseworker, "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: hs.URL}, ""), nil)
	a.register(domain.RoleCaseworker, "national", "BP-D1", "2026-11-27")
	w2 := a.register(domain.RoleCaseworker, "national", "BP-D2", "2026-11-27")
	waitFor(t, "second event delivered", func() bool { return rv.count() == 1 })
	var list struct {
		Items []api.WebhookStatus `json:"items"`
	}
	a.must(200, a.call(domain.RoleCaseworker, "GET", "/v1/webhooks", nil, ""), &list)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.got[0].Pseudonym != w2.Pseudonym || list.Items[0].DeadLetters != 1 {
		t.Fatalf("delivered %s, dead letters %d", rv.got[0].Pseudonym, list.Items[0].DeadLetters)
	}
}

// TestAuditorSubscribesWebhook: managing webhooks is not a ledger write, so
// the auditor may subscribe; ledger writes stay refused to it.
func TestAuditorSubscribesWebhook(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, au, nil)
	a.must(201, a.call(domain.RoleAuditor, "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: "https://auditor.example/hook"}, ""), nil)
	r := a.call(domain.RoleAuditor, "POST", "/v1/erasures", api.ErasureRequest{CaseRef: api.CaseRef{Channel: "national", Pseudonym: "7d0c7a8e-3f5b-4c1a-9e2d-0b6f4a3c2d1e"}, OccurredOn: "2026-11-27"}, "")
	if p := r.problem(t); r.status != 403 || p.Code != "FORBIDDEN" {
		t.Fatalf("auditor erasure request: %d %+v", r.status, p)
	}
}

// TestEventRetention: old entries are trimmed only once every durable
// consumer has passed them; resuming before the first retained entry is
// refused (410) instead of skipping events.
func TestEventRetention(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, func(c *Config) { c.EventRetention = 24 * time.Hour })
	rv := &webhookReceiver{}
	hs := httptest.NewServer(rv)
	defer hs.Close()
	var wh api.CreatedWebhook
	a.must(201, a.call(domain.RoleCaseworker, "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: hs.URL}, ""), &wh)
	for i := 0; i < 3; i++ {
		a.register(domain.RoleCaseworker, "national", "BP-T"+strconv.Itoa(i), "2026-11-27")
	}
	waitFor(t, "deliveries", func() bool { return rv.count() == 3 })
	waitFor(t, "erasure executor caught up", func() bool {
		c, _ := a.store.cursor(pfxCursor + "erasure")
		return c == 3
	})
	// Young entries stay.
	if got, err := a.srv.trimEventLog(); got != 0 || err != nil {
		t.Fatalf("trimmed %d young entries (%v)", got, err)
	}
	clock.Set(clock.Now().Add(48 * time.Hour))
	// A lagging webhook holds the entries it has not passed.
	if err := a.store.setCursor(pfxWHCursor+wh.ID, 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.srv.trimEventLog(); got != 1 || a.srv.evlog.firstRetained() != 2 {
		t.Fatalf("trimmed %d, first retained %d; want 1, 2", got, a.srv.evlog.firstRetained())
	}
	if err := a.store.setCursor(pfxWHCursor+wh.ID, 3); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.srv.trimEventLog(); got != 2 || a.srv.evlog.firstRetained() != 4 {
		t.Fatalf("trimmed %d, first retained %d; want 2, 4", got, a.srv.evlog.firstRetained())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, res := a.readSSE(ctx, domain.RoleCaseworker, "", a.srv.evlog.position(2))
	if res.StatusCode != 410 {
		t.Fatalf("resume before the first retained entry: %d", res.StatusCode)
	}
	// At the last trimmed position nothing is lost: the stream opens.
	w := a.register(domain.RoleCaseworker, "national", "BP-T9", "2026-11-27")
	s, res := a.readSSE(ctx, domain.RoleCaseworker, "", a.srv.evlog.position(3))
	if res.StatusCode != 200 || next(t, s).view.Pseudonym != w.Pseudonym {
		t.Fatal("resume at the last trimmed position")
	}
	// The first retained position survives a restart.
	a.restart()
	if a.srv.evlog.firstRetained() != 4 {
		t.Fatalf("after restart first retained %d", a.srv.evlog.firstRetained())
	}
}
