package gateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// Webhooks. A subscription is a URL, a filter and a secret the gateway
// draws. One worker per subscription reads the event log from its persisted
// cursor, POSTs each event (JSON EventView) and advances the cursor only
// after the receiver answered 2xx — so a restart resumes with the first
// event not yet acknowledged. Failed deliveries are retried with bounded
// exponential backoff; an event still refused after MaxAttempts is recorded
// as a dead letter and skipped. Receivers verify
//
//	Webhook-Signature: v1=hex(HMAC-SHA256(secret, Webhook-Timestamp + "." + body))
//
// and deduplicate on Webhook-Event-Id (a delivery whose 2xx was lost in a
// crash is sent again).

// WebhookOptions configure delivery.
type WebhookOptions struct {
	// AllowHTTP admits plain http:// URLs (local demo and tests only).
	AllowHTTP bool
	// AllowNets admits destinations that are otherwise refused (loopback,
	// link-local; see webhook_dest.go), e.g. 127.0.0.0/8 for a receiver on
	// the gateway's own host.
	AllowNets []netip.Prefix
	// Timeout bounds one delivery.
	Timeout time.Duration
	// MaxAttempts bounds the deliveries of one event.
	MaxAttempts int
	// BaseBackoff / MaxBackoff shape the retry delays.
	BaseBackoff, MaxBackoff time.Duration
	// Client sends the deliveries (default: guarded dialing, Timeout, no
	// redirects, no proxy).
	Client *http.Client
}

type webhooks struct {
	s    *Server
	opts WebhookOptions

	mu      sync.Mutex
	workers map[string]context.CancelFunc
	wg      sync.WaitGroup
	ctx     context.Context
}

func newWebhooks(s *Server, o WebhookOptions) *webhooks {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Client == nil {
		o.Client = webhookClient(o.Timeout, o.AllowNets)
	}
	return &webhooks{s: s, opts: o, workers: map[string]context.CancelFunc{}}
}

func (h *webhooks) list() ([]api.Webhook, error) {
	var out []api.Webhook
	err := h.s.store.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxWebhook), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var w api.Webhook
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &w) }); err != nil {
				return err
			}
			out = append(out, w)
		}
		return nil
	})
	return out, err
}

// run starts a worker per stored subscription and waits for ctx.
func (h *webhooks) run(ctx context.Context) {
	h.mu.Lock()
	h.ctx = ctx
	h.mu.Unlock()
	all, err := h.list()
	if err != nil {
		h.s.log.Error("list webhooks", "err", err)
	}
	for _, w := range all {
		h.startWorker(w)
	}
	<-ctx.Done()
	h.wg.Wait()
}

func (h *webhooks) startWorker(w api.Webhook) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx == nil || h.workers[w.ID] != nil {
		return // not running yet: run starts it from the store
	}
	wctx, cancel := context.WithCancel(h.ctx)
	h.workers[w.ID] = cancel
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.work(wctx, w)
	}()
}

func (h *webhooks) stopWorker(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cancel := h.workers[id]; cancel != nil {
		cancel()
		delete(h.workers, id)
	}
}

// work delivers the log to one subscription, in order.
func (h *webhooks) work(ctx context.Context, w api.Webhook) {
	s := h.s
	cursorKey := pfxWHCursor + w.ID
	cursor, err := s.store.cursor(cursorKey)
	if err != nil {
		s.log.Error("webhook cursor", "webhook", w.ID, "err", err)
		return
	}
	f := eventFilter{Channel: w.Channel, HeldOnly: w.HeldOnly}
	bo := backoff{base: h.opts.BaseBackoff, max: h.opts.MaxBackoff}
	for ctx.Err() == nil {
		evs, err := s.evlog.next(ctx, cursor, 50)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("read event log", "err", err)
				bo.sleep(ctx, 3)
			}
			continue
		}
		for _, ev := range evs {
			if ctx.Err() != nil {
				return
			}
			v, ok, err := s.view(ctx, ev, f)
			if err != nil {
				bo.sleep(ctx, 2) // privacy service: try this event again
				break
			}
			if ok {
				if !h.deliverWithRetry(ctx, w, v, ev.Seq) {
					return // stopped: the event is delivered after the restart
				}
			}
			cursor = ev.Seq
			if err := s.store.setCursor(cursorKey, cursor); err != nil {
				s.log.Error("webhook cursor", "webhook", w.ID, "err", err)
				return
			}
		}
	}
}

// deliverWithRetry delivers one event until it is acknowledged or
// MaxAttempts is reached (then a dead letter is stored). false: stopped
// before an outcome.
func (h *webhooks) deliverWithRetry(ctx context.Context, w api.Webhook, v api.EventView, seq uint64) bool {
	body, _ := json.Marshal(v)
	bo := backoff{base: h.opts.BaseBackoff, max: h.opts.MaxBackoff}
	for attempt := 1; ; attempt++ {
		// A delivery in flight is finished even when shutdown begins, so
		// its acknowledgement is recorded.
		err := h.deliver(context.WithoutCancel(ctx), w, v.Position, body)
		if err == nil {
			h.s.m.webhooks.WithLabelValues("delivered").Inc()
			return true
		}
		h.s.m.webhooks.WithLabelValues("failed").Inc()
		h.s.log.Warn("webhook delivery failed", "webhook", w.ID, "attempt", attempt, "err", err)
		if attempt >= h.opts.MaxAttempts {
			h.s.m.webhooks.WithLabelValues("dead-letter").Inc()
			dl := map[string]any{"position": v.Position, "attempts": attempt, "at": h.s.now().UTC(), "error": err.Error()}
			if err := h.s.store.putJSON(pfxWHDead+w.ID+"/"+strconv.FormatUint(seq, 10), dl, 0); err != nil {
				h.s.log.Error("dead letter", "webhook", w.ID, "err", err)
				return false
			}
			return true
		}
		if !bo.sleep(ctx, attempt) {
			return false
		}
	}
}

// Signature computes the Webhook-Signature header value.
func Signature(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func (h *webhooks) deliver(ctx context.Context, w api.Webhook, position string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, h.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(h.s.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "caseledger-gateway")
	req.Header.Set("Webhook-Id", w.ID)
	req.Header.Set("Webhook-Event-Id", position)
	req.Header.Set("Webhook-Timestamp", ts)
	req.Header.Set("Webhook-Signature", Signature(w.Secret, ts, body))
	res, err := h.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("receiver answered %d", res.StatusCode)
	}
	return nil
}

func (h *webhooks) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || len(raw) > 2048 {
		return domain.Errorf(domain.KindInvalidArgument, "url: must be an absolute URL without credentials")
	}
	if u.Scheme != "https" && !(h.opts.AllowHTTP && u.Scheme == "http") {
		return domain.Errorf(domain.KindInvalidArgument, "url: must use https")
	}
	if !literalDestinationAllowed(u.Hostname(), h.opts.AllowNets) {
		return domain.Errorf(domain.KindInvalidArgument, "url: loopback, link-local and non-unicast destinations are refused")
	}
	return nil
}

func (s *Server) hCreateWebhook(c *call) (int, any, error) {
	var req api.CreateWebhookRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	if err := s.hooks.checkURL(req.URL); err != nil {
		return 0, nil, err
	}
	if req.Channel != "" {
		if _, err := s.channel(req.Channel); err != nil {
			return 0, nil, err
		}
	}
	var start uint64
	switch req.From {
	case "", "now":
		start, _ = s.evlog.changed()
	case "beginning":
		start = s.evlog.firstRetained() - 1
	default:
		seq, ours, err := s.evlog.parsePosition(req.From)
		if err != nil || !ours {
			return 0, nil, domain.Errorf(domain.KindInvalidArgument, "from: now, beginning or a position of this gateway")
		}
		if seq+1 < s.evlog.firstRetained() {
			return 0, nil, newProblem(api.CodePositionExpired, "from: events after this position were trimmed")
		}
		start = seq
	}
	sec := make([]byte, 32)
	idb := make([]byte, 8)
	if _, err := rand.Read(sec); err != nil {
		return 0, nil, err
	}
	if _, err := rand.Read(idb); err != nil {
		return 0, nil, err
	}
	w := api.Webhook{ID: "wh-" + hex.EncodeToString(idb), URL: req.URL, Secret: hex.EncodeToString(sec),
		Channel: req.Channel, HeldOnly: req.HeldOnly, CreatedBy: c.caller.TokenID, CreatedAt: s.now().UTC()}
	wb, _ := json.Marshal(w)
	err := s.store.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set([]byte(pfxWHCursor+w.ID), putU64(start)); err != nil {
			return err
		}
		return txn.Set([]byte(pfxWebhook+w.ID), wb)
	})
	if err != nil {
		return 0, nil, err
	}
	s.hooks.startWorker(w)
	return http.StatusCreated, api.CreatedWebhook{Webhook: w, Position: s.evlog.position(start)}, nil
}

// mayManage: a subscription belongs to the token that created it. Only that
// token and the agency's admin may see or delete it — another system of the
// agency (or its auditor) must not learn where events go, nor silence them.
func mayManage(c Caller, w api.Webhook) bool {
	return c.Role == domain.RoleAdmin || (w.CreatedBy != "" && w.CreatedBy == c.TokenID)
}

func (s *Server) hListWebhooks(c *call) (int, any, error) {
	all, err := s.hooks.list()
	if err != nil {
		return 0, nil, err
	}
	out := []api.WebhookStatus{}
	for _, w := range all {
		if !mayManage(c.caller, w) {
			continue
		}
		cur, err := s.store.cursor(pfxWHCursor + w.ID)
		if err != nil {
			return 0, nil, err
		}
		st := api.WebhookStatus{ID: w.ID, URL: w.URL, Channel: w.Channel, HeldOnly: w.HeldOnly, CreatedBy: w.CreatedBy, CreatedAt: w.CreatedAt,
			Position: s.evlog.position(cur)}
		st.DeadLetters, err = s.countPrefix(pfxWHDead + w.ID + "/")
		if err != nil {
			return 0, nil, err
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b api.WebhookStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return http.StatusOK, api.WebhookList{Items: out}, nil
}

func (s *Server) countPrefix(prefix string) (int, error) {
	n := 0
	err := s.store.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}

func (s *Server) hDeleteWebhook(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	var w api.Webhook
	found, err := s.store.getJSON(pfxWebhook+id, &w)
	if err != nil {
		return 0, nil, err
	}
	// Another token's subscription is answered like a missing one: its
	// existence is not the caller's to learn.
	if !found || !mayManage(c.caller, w) {
		return 0, nil, domain.Errorf(domain.KindNotFound, "no such webhook")
	}
	s.hooks.stopWorker(id)
	err = s.store.db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete([]byte(pfxWebhook + id)); err != nil {
			return err
		}
		return txn.Delete([]byte(pfxWHCursor + id))
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
