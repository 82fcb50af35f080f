package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// Permanent refusals of the automations' writes. An automation never passes
// an event or a deadline it has not finished, except when the ledger refuses
// the write for a reason that cannot change (a refusal a lagging peer could
// give is retried instead). Those are not dropped silently: each is logged
// at error level, counted (gateway_automation_actions_total{outcome=
// "refused"}) and kept in the store, newest last, so an operator can list
// them (GET /v1/automations/refusals, admin role) and act.

// pfxRefused keys the refusal list: time-ordered, one entry per refusal.
const pfxRefused = "autorefused/"

// maxRefusals bounds the list (oldest dropped first).
const maxRefusals = 10000

var refusalSeq atomic.Uint64

// recordRefusal logs, counts and stores a permanent refusal.
func (s *Server) recordRefusal(automation, channel, pseudonym, fn string, de *domain.Error) {
	s.m.automation.WithLabelValues(automation, "refused").Inc()
	s.log.Error("automation write refused for good; moving on", "automation", automation, "channel", channel,
		"function", fn, "kind", string(de.Kind))
	r := api.AutomationRefusal{At: s.now().UTC(), Automation: automation, Channel: channel, Pseudonym: pseudonym,
		Function: fn, Kind: de.Kind, Message: de.Message}
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	key := fmt.Sprintf("%s%020d-%08d", pfxRefused, r.At.UnixNano(), refusalSeq.Add(1)%1e8)
	err = s.store.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set([]byte(key), b); err != nil {
			return err
		}
		// Keep the list bounded: drop the oldest beyond maxRefusals.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxRefused), Reverse: true})
		defer it.Close()
		n := 0
		var old [][]byte
		for it.Seek([]byte(pfxRefused + "\xff")); it.ValidForPrefix([]byte(pfxRefused)); it.Next() {
			if n++; n > maxRefusals {
				old = append(old, it.Item().KeyCopy(nil))
			}
		}
		for _, k := range old {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("could not store an automation refusal", "err", err)
	}
}

// AutomationRefusals lists the stored permanent refusals, oldest first.
func (s *Server) AutomationRefusals() ([]api.AutomationRefusal, error) {
	out := []api.AutomationRefusal{}
	err := s.store.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxRefused)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var r api.AutomationRefusal
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &r) }); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func (s *Server) hAutomationRefusals(*call) (int, any, error) {
	rs, err := s.AutomationRefusals()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.RefusalList{Items: rs}, nil
}
