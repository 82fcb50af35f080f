package gateway

import (
	"context"
	"encoding/json"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Event-log retention. An entry is removed once it is older than
// EventRetention and every durable consumer — each webhook and the erasure
// executor — has passed it; an unprocessed erasure request or an
// undelivered webhook event is never trimmed. A stream resuming at a
// position before the first retained entry is answered 410
// POSITION_EXPIRED rather than silently skipping events.

// retainEvents trims the log now and then every hour.
func (s *Server) retainEvents(ctx context.Context) {
	for {
		if n, err := s.trimEventLog(); err != nil {
			s.log.Error("event log retention", "err", err)
		} else if n > 0 {
			s.log.Info("event log trimmed", "entries", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}

// consumerFloor is the lowest position every durable consumer has passed.
func (s *Server) consumerFloor() (uint64, error) {
	floor, _ := s.evlog.changed()
	hooks, err := s.hooks.list()
	if err != nil {
		return 0, err
	}
	keys := []string{}
	for _, w := range hooks {
		keys = append(keys, pfxWHCursor+w.ID)
	}
	if s.runsErasureExecutor() {
		keys = append(keys, pfxCursor+"erasure")
	}
	for _, k := range keys {
		c, err := s.store.cursor(k)
		if err != nil {
			return 0, err
		}
		floor = min(floor, c)
	}
	return floor, nil
}

// trimEventLog removes eligible entries and returns how many.
func (s *Server) trimEventLog() (int, error) {
	l := s.evlog
	floor, err := s.consumerFloor()
	if err != nil {
		return 0, err
	}
	cutoff := s.now().Add(-s.cfg.EventRetention)
	total := 0
	for {
		var keys [][]byte
		var lastSeq uint64
		err := s.store.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxLog), PrefetchValues: true, PrefetchSize: 100})
			defer it.Close()
			for it.Rewind(); it.Valid() && len(keys) < 1000; it.Next() {
				var e LoggedEvent
				if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &e) }); err != nil {
					return err
				}
				if e.Seq > floor || !e.LoggedAt.Before(cutoff) {
					break
				}
				keys = append(keys, it.Item().KeyCopy(nil))
				lastSeq = e.Seq
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return total, err
		}
		err = s.store.db.Update(func(txn *badger.Txn) error {
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return txn.Set([]byte(keyLogFirst), putU64(lastSeq+1))
		})
		if err != nil {
			return total, err
		}
		l.mu.Lock()
		l.first = lastSeq + 1
		l.mu.Unlock()
		total += len(keys)
	}
}

// firstRetained is the lowest sequence number still in the log.
func (l *eventLog) firstRetained() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.first
}
