package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// The event log. Each gateway follows the chaincode events of its channels
// and appends them to a durable, totally ordered log in its store; the
// channel's checkpoint (block number and transaction id of the last event
// taken) is written in the same Badger transaction as the appended event, so
// after a crash or restart following resumes exactly after the last event
// logged: none is missed, none is logged twice. Subscribers (event streams,
// webhooks, automations) each keep their own cursor into the log.

// LoggedEvent is one entry of the log.
type LoggedEvent struct {
	Seq     uint64          `json:"seq"`
	Channel string          `json:"channel"`
	Block   uint64          `json:"block"`
	TxID    string          `json:"txId"`
	Name    string          `json:"name"`
	Payload json.RawMessage `json:"payload"`
	// LoggedAt is when the gateway logged it (retention).
	LoggedAt time.Time `json:"loggedAt"`
}

type eventLog struct {
	store *Store
	m     *Metrics
	epoch string
	now   func() time.Time

	mu     sync.Mutex
	last   uint64
	notify chan struct{}
	seen   map[string]*blockTxs
	// first is the lowest sequence number still in the log (retention).
	first uint64
}

func newEventLog(store *Store, m *Metrics, now func() time.Time) (*eventLog, error) {
	epoch, err := store.Epoch()
	if err != nil {
		return nil, err
	}
	l := &eventLog{store: store, m: m, epoch: epoch, now: now, notify: make(chan struct{}), seen: map[string]*blockTxs{}}
	if l.first, err = store.cursor(keyLogFirst); err != nil {
		return nil, err
	}
	l.first = max(l.first, 1)
	err = store.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxLog), Reverse: true})
		defer it.Close()
		it.Seek(seqKey(pfxLog, ^uint64(0)))
		if it.Valid() {
			l.last = u64(it.Item().Key()[len(pfxLog):])
		}
		return nil
	})
	m.logSeq.Set(float64(l.last))
	return l, err
}

// checkpoint returns the channel's stored checkpoint.
func (l *eventLog) checkpoint(channel string) (Checkpoint, error) {
	var cp Checkpoint
	_, err := l.store.getJSON(pfxCP+channel, &cp)
	return cp, err
}

// append logs one event (see appendBatch).
func (l *eventLog) append(ev ChainEvent) (bool, error) {
	n, err := l.appendBatch(ev.Channel, []ChainEvent{ev})
	return n == 1, err
}

// appendBatch logs the events of one channel, in order, and moves the
// channel's checkpoint past the last one — all in one Badger transaction, so
// a crash leaves either all of them logged with the checkpoint after them,
// or none. Events at or before the checkpoint (redeliveries) are dropped. It
// returns how many were logged.
func (l *eventLog) appendBatch(channel string, evs []ChainEvent) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cp, err := l.checkpoint(channel)
	if err != nil {
		return 0, err
	}
	// seen: transactions of the checkpoint's block logged by this process
	// (a redelivered block is recognised even for events before the last).
	seen := l.seen[channel]
	if seen == nil || seen.block != cp.Block {
		seen = &blockTxs{block: cp.Block, txs: map[string]bool{cp.TxID: true}}
	}
	next := &blockTxs{block: seen.block, txs: maps.Clone(seen.txs)}
	type entry struct {
		key, val []byte
	}
	var entries []entry
	seq := l.last
	for _, ev := range evs {
		if !cp.IsZero() && (ev.Block < next.block || (ev.Block == next.block && next.txs[ev.TxID])) {
			continue
		}
		payload := json.RawMessage(ev.Payload)
		if !json.Valid(payload) {
			payload, _ = json.Marshal(string(ev.Payload))
		}
		seq++
		b, err := json.Marshal(LoggedEvent{Seq: seq, Channel: channel, Block: ev.Block, TxID: ev.TxID, Name: ev.Name,
			Payload: payload, LoggedAt: l.now().UTC()})
		if err != nil {
			return 0, err
		}
		entries = append(entries, entry{seqKey(pfxLog, seq), b})
		if ev.Block != next.block {
			next = &blockTxs{block: ev.Block, txs: map[string]bool{}}
		}
		next.txs[ev.TxID] = true
		cp = Checkpoint{Block: ev.Block, TxID: ev.TxID}
	}
	if len(entries) == 0 {
		return 0, nil
	}
	ncp, _ := json.Marshal(cp)
	err = l.store.db.Update(func(txn *badger.Txn) error {
		for _, e := range entries {
			if err := txn.Set(e.key, e.val); err != nil {
				return err
			}
		}
		return txn.Set([]byte(pfxCP+channel), ncp)
	})
	if err != nil {
		return 0, err
	}
	l.seen[channel] = next
	l.last = seq
	close(l.notify)
	l.notify = make(chan struct{})
	l.m.events.WithLabelValues(channel).Add(float64(len(entries)))
	l.m.logSeq.Set(float64(seq))
	return len(entries), nil
}

// blockTxs are the transactions of one block already logged.
type blockTxs struct {
	block uint64
	txs   map[string]bool
}

// changed returns the last sequence number and a channel closed on the next
// append.
func (l *eventLog) changed() (uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last, l.notify
}

// next waits until the log holds events after the given sequence number and
// returns up to limit of them (durable consumers: webhooks, the erasure
// executor); it returns ctx.Err() when ctx ends first.
func (l *eventLog) next(ctx context.Context, after uint64, limit int) ([]LoggedEvent, error) {
	for {
		last, changed := l.changed()
		if last > after {
			return l.read(after, limit)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// read returns up to limit events with sequence numbers > after.
func (l *eventLog) read(after uint64, limit int) ([]LoggedEvent, error) {
	var out []LoggedEvent
	err := l.store.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxLog), PrefetchValues: true, PrefetchSize: limit})
		defer it.Close()
		for it.Seek(seqKey(pfxLog, after+1)); it.Valid() && len(out) < limit; it.Next() {
			var e LoggedEvent
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &e) }); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// follow keeps the log fed from one channel until ctx ends, reconnecting
// from the stored checkpoint whenever the stream breaks.
func (l *eventLog) follow(ctx context.Context, s *Server, channel string) {
	bo := backoff{base: 250 * time.Millisecond, max: 10 * time.Second}
	fails := 0
	for ctx.Err() == nil {
		cp, err := l.checkpoint(channel)
		if err != nil {
			s.log.Error("read checkpoint", "channel", channel, "err", err)
			return
		}
		evs, err := s.ledger.ChaincodeEvents(ctx, channel, cp)
		if err != nil {
			fails++
			s.log.Warn("chaincode events: connect failed", "channel", channel, "err", err)
			bo.sleep(ctx, fails)
			continue
		}
		s.log.Info("following chaincode events", "channel", channel, "fromBlock", cp.Block)
		got := false
		for ev := range evs {
			// Take what the stream already holds (a block's events arrive
			// together) and log it in one transaction.
			batch := []ChainEvent{ev}
		drain:
			for len(batch) < 256 {
				select {
				case e, ok := <-evs:
					if !ok {
						break drain
					}
					batch = append(batch, e)
				default:
					break drain
				}
			}
			if _, err := l.appendBatch(channel, batch); err != nil {
				s.log.Error("append to event log", "channel", channel, "err", err)
				break
			}
			s.heights.saw(channel, batch[len(batch)-1].Block)
			got, fails = true, 0
		}
		if ctx.Err() != nil {
			return
		}
		if !got {
			fails++
		}
		bo.sleep(ctx, fails+1)
	}
}

// Position is an event's opaque place in this gateway's log: the log's epoch
// and the sequence number. Positions of another log (a wiped data directory)
// are recognised and replayed from the start.
func (l *eventLog) position(seq uint64) string { return l.epoch + "-" + strconv.FormatUint(seq, 10) }

// parsePosition returns the sequence number after which to resume; ok is
// false for a position of another log.
func (l *eventLog) parsePosition(p string) (uint64, bool, error) {
	if p == "" {
		return 0, true, nil
	}
	epoch, n, found := strings.Cut(p, "-")
	seq, err := strconv.ParseUint(n, 10, 64)
	if !found || err != nil || len(epoch) != len(l.epoch) {
		return 0, false, fmt.Errorf("malformed position")
	}
	if epoch != l.epoch {
		return 0, false, nil
	}
	return seq, true, nil
}

// eventFilter selects events for a subscriber.
type eventFilter struct {
	Channel  string `json:"channel,omitempty"`
	HeldOnly bool   `json:"heldOnly,omitempty"`
}

// view renders ev for this agency; ok is false when the filter drops it.
func (s *Server) view(ctx context.Context, ev LoggedEvent, f eventFilter) (api.EventView, bool, error) {
	if f.Channel != "" && ev.Channel != f.Channel {
		return api.EventView{}, false, nil
	}
	v := api.EventView{Position: s.evlog.position(ev.Seq), Channel: ev.Channel, Block: ev.Block, TxID: ev.TxID, Name: ev.Name}
	switch ev.Name {
	case api.EventCase:
		var ce api.CaseEvent
		if err := json.Unmarshal(ev.Payload, &ce); err != nil {
			return api.EventView{}, false, fmt.Errorf("undecodable case event: %w", err)
		}
		v.Pseudonym, v.Code, v.Seq, v.Procedure = ce.Pseudonym, string(ce.Code), ce.Seq, string(ce.Procedure)
		v.Supersedes = ce.Supersedes
		refs, err := s.ownRefs(ctx, ev.Channel, ce.Pseudonym)
		if err != nil {
			return api.EventView{}, false, err
		}
		v.LocalRefs, v.Held = refs, len(refs) > 0
	case api.EventHolidays:
		var he api.HolidaysEvent
		if err := json.Unmarshal(ev.Payload, &he); err == nil {
			v.MemberState, v.Year = he.MemberState, he.Year
		}
	}
	if f.HeldOnly && !v.Held {
		return api.EventView{}, false, nil
	}
	return v, true, nil
}

func (s *Server) eventFilterFrom(q map[string][]string) (eventFilter, error) {
	var f eventFilter
	if v := first(q["channel"]); v != "" {
		ch, err := s.channel(v)
		if err != nil {
			return f, err
		}
		f.Channel = ch.Name
	}
	switch first(q["held"]) {
	case "", "false":
	case "true":
		f.HeldOnly = true
	default:
		return f, domain.Errorf(domain.KindInvalidArgument, "held: true or false")
	}
	return f, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// hEvents streams the agency's events as server-sent events. Each event's id
// is its position; a client reconnecting with Last-Event-ID (or ?after=)
// resumes right after it, also across gateway restarts.
func (s *Server) hEvents(c *call) {
	if n := s.streams.Add(1); n > int64(s.cfg.MaxStreams) {
		s.streams.Add(-1)
		s.m.rejected.WithLabelValues("streams").Inc()
		writeProblem(c.w, newProblem(api.CodeOverloaded, "too many event streams"))
		return
	}
	defer s.streams.Add(-1)
	f, err := s.eventFilterFrom(c.r.URL.Query())
	if err != nil {
		writeProblem(c.w, problemOf(err))
		return
	}
	pos := c.r.Header.Get(api.HeaderLastEventID)
	if pos == "" {
		pos = c.r.URL.Query().Get("after")
	}
	var after uint64
	var ours bool
	if pos == "now" { // only what is logged from now on (the console's live feed)
		after, _ = s.evlog.changed()
		ours, pos = true, ""
	} else {
		after, ours, err = s.evlog.parsePosition(pos)
	}
	if err != nil {
		writeProblem(c.w, newProblem(string(domain.KindInvalidArgument), "Last-Event-ID: not a position of this gateway"))
		return
	}
	if pos != "" && ours && after+1 < s.evlog.firstRetained() {
		writeProblem(c.w, newProblem(api.CodePositionExpired, "events after this position were trimmed; resume without Last-Event-ID"))
		return
	}
	rc := http.NewResponseController(c.w)
	h := c.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	if !ours {
		h.Set(api.HeaderEventPositionReset, "true")
	}
	c.w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	s.m.sse.Inc()
	defer s.m.sse.Dec()
	ctx := c.ctx
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	bo := backoff{base: 200 * time.Millisecond, max: 5 * time.Second}
	fails := 0
	for {
		last, changed := s.evlog.changed()
		if last > after {
			evs, err := s.evlog.read(after, 100)
			if err != nil {
				s.log.Error("read event log", "err", err)
				return
			}
			for _, ev := range evs {
				v, ok, err := s.view(ctx, ev, f)
				if err != nil {
					// The privacy service is needed for the view: wait and retry
					// this event rather than send a wrong one.
					fails++
					if !bo.sleep(ctx, fails) {
						return
					}
					break
				}
				fails = 0
				after = ev.Seq
				if !ok {
					continue
				}
				b, _ := json.Marshal(v)
				_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
				if _, err := fmt.Fprintf(c.w, "id: %s\nevent: %s\ndata: %s\n\n", v.Position, v.Name, b); err != nil {
					return
				}
			}
			if err := rc.Flush(); err != nil {
				return
			}
			continue
		}
		select {
		case <-changed:
		case <-keepalive.C:
			_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if _, err := fmt.Fprint(c.w, ": keepalive\n\n"); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		}
	}
}
