package chaincode

import (
	"slices"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// loadCase returns the stored state or nil.
func (t *tx) loadCase(p string) (*domain.CaseState, error) {
	var s domain.CaseState
	found, err := t.getJSON(caseKey(p), &s)
	if err != nil || !found {
		return nil, err
	}
	return &s, nil
}

// recordEvent is the write path of every case event: idempotency, domain
// rules (step), ledger writes, indexes, event.
func (c *core) recordEvent(t *tx, a domain.Actor, function, requestID, pseudonym string, args []string,
	step func(prev *domain.CaseState, env domain.Env) (domain.CaseState, domain.Event, error)) (string, error) {
	res, err := t.idempotent(a, requestID, function, args, func() (any, error) {
		if err := domain.CheckPseudonym(pseudonym); err != nil {
			return nil, err
		}
		prev, err := t.loadCase(pseudonym)
		if err != nil {
			return nil, err
		}
		next, ev, err := step(prev, t.env(requestID))
		if err != nil {
			return nil, err
		}
		return t.commit(prev, next, ev)
	})
	return res, wire(err)
}

// submitted is the step of a caller-supplied event.
func submitted(pseudonym string, a domain.Actor, in domain.EventInput) func(*domain.CaseState, domain.Env) (domain.CaseState, domain.Event, error) {
	return func(prev *domain.CaseState, env domain.Env) (domain.CaseState, domain.Event, error) {
		return domain.Apply(prev, pseudonym, in, a, env)
	}
}

// commit writes the event, the new state and the index changes, and emits
// the chaincode event.
func (t *tx) commit(prev *domain.CaseState, next domain.CaseState, ev domain.Event) (api.WriteResult, error) {
	p := next.Pseudonym
	if ev.Code == domain.EvDocumentAnchored {
		key := anchorKey(p, ev.DocumentHash)
		var existing api.Anchor
		found, err := t.getJSON(key, &existing)
		if err != nil {
			return api.WriteResult{}, err
		}
		if found {
			return api.WriteResult{}, domain.Errorf(domain.KindAlreadyExists, "document already anchored on this case (seq %d)", existing.Seq)
		}
		if err := t.putJSON(key, api.Anchor{
			Pseudonym: p, DocumentHash: ev.DocumentHash, DocumentType: ev.DocumentType, Seq: ev.Seq,
			MSPID: ev.MSPID, OccurredOn: ev.OccurredOn, RecordedOn: ev.RecordedOn, TxID: ev.TxID,
		}); err != nil {
			return api.WriteResult{}, err
		}
	}
	if err := t.putJSON(eventKey(p, ev.Seq), ev); err != nil {
		return api.WriteResult{}, err
	}
	if err := t.putJSON(caseKey(p), next); err != nil {
		return api.WriteResult{}, err
	}
	if prev == nil || prev.Status != next.Status {
		if prev != nil {
			if err := t.del(statusKey(prev.Status, p)); err != nil {
				return api.WriteResult{}, err
			}
		}
		if err := t.put(statusKey(next.Status, p), indexValue); err != nil {
			return api.WriteResult{}, err
		}
	}
	if prev == nil || !slices.Contains(prev.Holders, ev.MSPID) {
		if err := t.put(agencyKey(ev.MSPID, p), indexValue); err != nil {
			return api.WriteResult{}, err
		}
	}
	if ev.LateDays > 0 {
		if err := t.put(lateKey(ev.MSPID, p, ev.Seq), indexValue); err != nil {
			return api.WriteResult{}, err
		}
	}
	oldDue, newDue := dueKeys(prev), dueKeys(&next)
	for _, k := range oldDue {
		if !slices.Contains(newDue, k) {
			if err := t.del(k); err != nil {
				return api.WriteResult{}, err
			}
		}
	}
	for _, k := range newDue {
		if !slices.Contains(oldDue, k) {
			if err := t.put(k, indexValue); err != nil {
				return api.WriteResult{}, err
			}
		}
	}
	wasOpen := prev != nil && prev.Erasure.Open()
	if isOpen := next.Erasure.Open(); isOpen != wasOpen {
		var err error
		if isOpen {
			err = t.put(erasureKey(p), indexValue)
		} else {
			err = t.del(erasureKey(p))
		}
		if err != nil {
			return api.WriteResult{}, err
		}
	}
	if ev.Code == domain.EvErasureConfirmed && next.Erasure != nil && next.Erasure.CompletedOn != "" {
		// Confirmed by every holder: the case's details leave every member peer.
		if err := t.purgeDetails(next); err != nil {
			return api.WriteResult{}, err
		}
	}
	if err := t.emit(api.EventCase, api.CaseEvent{Pseudonym: p, Code: ev.Code, Seq: ev.Seq, Procedure: next.Procedure, Supersedes: ev.Supersedes}); err != nil {
		return api.WriteResult{}, err
	}
	return api.WriteResult{
		Pseudonym: p, Seq: ev.Seq, Code: ev.Code, Status: next.Status, TxID: ev.TxID,
		RecordedOn: ev.RecordedOn, OccurredOn: ev.OccurredOn,
	}, nil
}

// dueKeys lists the deadline-board keys of a state.
func dueKeys(s *domain.CaseState) []string {
	if s == nil || s.Dublin == nil {
		return nil
	}
	keys := make([]string, 0, len(s.Dublin.Deadlines))
	for _, dl := range s.Dublin.Deadlines {
		keys = append(keys, dueKey(dl.Due.String(), dl.Kind, s.Pseudonym))
	}
	return keys
}
