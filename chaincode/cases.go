package chaincode

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// CasesContract registers cases, records events and reads them. It is the
// default contract.
type CasesContract struct {
	contractapi.Contract
	c *core
}

// GetEvaluateTransactions marks the queries (contractapi "evaluate").
func (cc *CasesContract) GetEvaluateTransactions() []string {
	return []string{"GetCase", "GetTimeline", "GetHistory", "ListByStatus", "ListByAgency", "GetRequestResult"}
}

// RegisterCase records CASE_REGISTERED for a new pseudonym.
func (cc *CasesContract) RegisterCase(ctx contractapi.TransactionContextInterface, requestID, pseudonym, occurredOn string) (string, error) {
	t, a, err := cc.c.writer(ctx)
	if err != nil {
		return "", wire(err)
	}
	in := domain.EventInput{VocabularyVersion: domain.VocabularyVersion, Code: domain.EvCaseRegistered, OccurredOn: occurredOn}
	return cc.c.recordEvent(t, a, api.FnRegisterCase, requestID, pseudonym, []string{pseudonym, occurredOn}, submitted(pseudonym, a, in))
}

// RecordEvent records any submitted event; payload is the event JSON
// (docs/chaincode.md, "Event payload").
func (cc *CasesContract) RecordEvent(ctx contractapi.TransactionContextInterface, requestID, pseudonym, payload string) (string, error) {
	t, a, err := cc.c.writer(ctx)
	if err != nil {
		return "", wire(err)
	}
	details, err := transientDetails(ctx.GetStub())
	if err != nil {
		return "", wire(err)
	}
	in, d, coll, err := cc.c.visibility().DecodeEvent(t.membership, t.channel, []byte(payload), details, cc.c.cfg.Visibility.RefusePublicDetails)
	if err != nil {
		return "", wire(err)
	}
	if d == nil {
		return cc.c.recordEvent(t, a, api.FnRecordEvent, requestID, pseudonym, []string{pseudonym, payload}, submitted(pseudonym, a, in))
	}
	if !slices.Contains(coll.Writers, a.Member.MSPID) {
		return "", wire(domain.Errorf(domain.KindForbidden, "details: the caller is not in the audience of this collection"))
	}
	// The details (salted) are part of what a retry with the same requestId must repeat.
	step := func(prev *domain.CaseState, env domain.Env) (domain.CaseState, domain.Event, error) {
		next, ev, err := domain.Apply(prev, pseudonym, in, a, env)
		if err != nil {
			return next, ev, err
		}
		return t.withhold(d, coll, next, ev)
	}
	return cc.c.recordEvent(t, a, api.FnRecordEvent, requestID, pseudonym, []string{pseudonym, payload, string(details)}, step)
}

// GetCase returns the current state of a case.
func (cc *CasesContract) GetCase(ctx contractapi.TransactionContextInterface, pseudonym string) (string, error) {
	t, a, err := cc.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	s, err := t.mustCase(pseudonym)
	if err != nil {
		return "", wire(err)
	}
	if err := t.revealFacts(a, s); err != nil {
		return "", wire(err)
	}
	return marshalResult(s)
}

// mustCase validates the pseudonym and loads the case (NOT_FOUND if absent).
func (t *tx) mustCase(pseudonym string) (*domain.CaseState, error) {
	if err := domain.CheckPseudonym(pseudonym); err != nil {
		return nil, err
	}
	s, err := t.loadCase(pseudonym)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, domain.Errorf(domain.KindNotFound, "case not found")
	}
	return s, nil
}

// GetTimeline returns a case's events in sequence order, paginated.
func (cc *CasesContract) GetTimeline(ctx contractapi.TransactionContextInterface, pseudonym, bookmark, pageSize string) (string, error) {
	t, a, err := cc.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	s, err := t.mustCase(pseudonym)
	if err != nil {
		return "", wire(err)
	}
	page := api.Page[domain.Event]{Items: []domain.Event{}}
	page.Bookmark, err = t.pageComposite(objEvent, []string{pseudonym}, bookmark, pageSize, func(_ string, v []byte) error {
		var ev domain.Event
		if err := json.Unmarshal(v, &ev); err != nil {
			return domain.Errorf(domain.KindInternal, "stored event is corrupt")
		}
		// A superseded consequence stays in the timeline, marked with the
		// step that superseded it (so do the steps built on it).
		if sup, ok := s.Dublin.SupersededBy(ev.Seq); ok && domain.IsWorkflowEvent(ev.Code) {
			ev.SupersededBy = &sup
		}
		t.revealDetails(a, &ev)
		page.Items = append(page.Items, ev)
		return nil
	})
	if err != nil {
		return "", wire(err)
	}
	return marshalResult(page)
}

// GetHistory returns every version of a case's state, newest first, from
// the ledger's history database, paginated. The bookmark is the last
// transaction id of the previous page.
func (cc *CasesContract) GetHistory(ctx contractapi.TransactionContextInterface, pseudonym, bookmark, pageSize string) (string, error) {
	t, _, err := cc.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if err := domain.CheckPseudonym(pseudonym); err != nil {
		return "", wire(err)
	}
	size, err := cc.c.pageSize(pageSize)
	if err != nil {
		return "", wire(err)
	}
	after, err := historyBookmark(bookmark)
	if err != nil {
		return "", wire(err)
	}
	it, err := t.ctx.GetStub().GetHistoryForKey(caseKey(pseudonym))
	if err != nil {
		return "", wire(domain.Errorf(domain.KindInternal, "history query failed"))
	}
	defer it.Close()
	page := api.Page[api.HistoryEntry]{Items: []api.HistoryEntry{}}
	skipping := after != ""
	for it.HasNext() {
		m, err := it.Next()
		if err != nil {
			return "", wire(domain.Errorf(domain.KindInternal, "history query failed"))
		}
		if skipping {
			skipping = m.TxId != after
			continue
		}
		if len(page.Items) == int(size) {
			page.Bookmark = encodeBookmark(page.Items[len(page.Items)-1].TxID)
			break
		}
		e := api.HistoryEntry{TxID: m.TxId, IsDelete: m.IsDelete}
		if m.Timestamp != nil {
			e.Timestamp = m.Timestamp.AsTime().UTC().Format("2006-01-02T15:04:05.000000000Z")
		}
		if !m.IsDelete {
			var s domain.CaseState
			if err := json.Unmarshal(m.Value, &s); err != nil {
				return "", wire(domain.Errorf(domain.KindInternal, "stored state is corrupt"))
			}
			e.State = &s
		}
		page.Items = append(page.Items, e)
	}
	if skipping {
		return "", wire(domain.Errorf(domain.KindInvalidArgument, "bookmark: not from this query"))
	}
	if len(page.Items) == 0 && after == "" {
		return "", wire(domain.Errorf(domain.KindNotFound, "case not found"))
	}
	return marshalResult(page)
}

// ListByStatus lists the cases in a status, paginated.
func (cc *CasesContract) ListByStatus(ctx contractapi.TransactionContextInterface, status, bookmark, pageSize string) (string, error) {
	t, _, err := cc.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if !domain.IsStatus(t.channel.Procedure, domain.Status(status)) {
		return "", wire(domain.Errorf(domain.KindInvalidArgument, "status: not a status of the %s procedure", t.channel.Procedure))
	}
	res, err := t.listCases(objStatus, []string{status}, 1, bookmark, pageSize)
	if err != nil {
		return "", wire(err)
	}
	return marshalResult(res)
}

// ListByAgency lists the cases an agency has written on, paginated.
func (cc *CasesContract) ListByAgency(ctx contractapi.TransactionContextInterface, mspID, bookmark, pageSize string) (string, error) {
	t, _, err := cc.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if _, ok := t.membership.Member(mspID); !ok {
		return "", wire(domain.Errorf(domain.KindInvalidArgument, "mspId: not a member of the network"))
	}
	res, err := t.listCases(objAgency, []string{mspID}, 1, bookmark, pageSize)
	if err != nil {
		return "", wire(err)
	}
	return marshalResult(res)
}

// listCases pages through an index whose attribute at position pos is the
// pseudonym and loads each case.
func (t *tx) listCases(obj string, attrs []string, pos int, bookmark, pageSize string) (api.Page[domain.CaseState], error) {
	page := api.Page[domain.CaseState]{Items: []domain.CaseState{}}
	var err error
	page.Bookmark, err = t.pageComposite(obj, attrs, bookmark, pageSize, func(key string, _ []byte) error {
		parts, err := splitKey(t.ctx.GetStub(), key)
		if err != nil || len(parts) <= pos {
			return domain.Errorf(domain.KindInternal, "malformed index key")
		}
		s, err := t.loadCase(parts[pos])
		if err != nil {
			return err
		}
		if s == nil {
			return domain.Errorf(domain.KindInternal, "index names a missing case")
		}
		page.Items = append(page.Items, *s)
		return nil
	})
	return page, err
}

// pageComposite runs one page of a partial-composite-key query.
func (t *tx) pageComposite(obj string, attrs []string, bookmark, pageSize string, each func(key string, value []byte) error) (string, error) {
	size, err := t.c.pageSize(pageSize)
	if err != nil {
		return "", err
	}
	bm, err := decodeBookmark(bookmark)
	if err != nil {
		return "", err
	}
	if bm != "" && !strings.HasPrefix(bm, ck(obj, attrs...)) { // the gate checked it in full; never page outside the query
		return "", errBookmark()
	}
	it, meta, err := t.ctx.GetStub().GetStateByPartialCompositeKeyWithPagination(obj, attrs, size, bm)
	if err != nil {
		return "", domain.Errorf(domain.KindInternal, "query failed")
	}
	defer it.Close()
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", domain.Errorf(domain.KindInternal, "query failed")
		}
		if err := each(kv.Key, kv.Value); err != nil {
			return "", err
		}
	}
	if meta == nil {
		return "", nil
	}
	return encodeBookmark(meta.Bookmark), nil
}

// GetRequestResult returns the stored outcome of one of the caller's own
// writes by requestId (for a gateway that lost track of a submission);
// NOT_FOUND when that request was never committed.
func (cc *CasesContract) GetRequestResult(ctx contractapi.TransactionContextInterface, requestID string) (string, error) {
	t, a, err := cc.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if err := domain.CheckRequestID(requestID); err != nil {
		return "", wire(err)
	}
	var rec requestRecord
	found, err := t.getJSON(requestKey(a.Member.MSPID, requestID), &rec)
	if err != nil {
		return "", wire(err)
	}
	if !found {
		return "", wire(domain.Errorf(domain.KindNotFound, "no committed request with that id"))
	}
	return marshalResult(api.RequestResult{RequestID: requestID, Function: rec.Function, TxID: rec.TxID, Result: json.RawMessage(rec.Result)})
}
