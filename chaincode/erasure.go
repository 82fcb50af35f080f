package chaincode

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// ErasureContract: an agency requests erasure of a case; every agency that
// wrote on the case (its holders) erases its privacy-service records and
// confirms. Both writes are the events ERASURE_REQUESTED and
// ERASURE_CONFIRMED (also accepted through cases:RecordEvent).
type ErasureContract struct {
	contractapi.Contract
	c *core
}

// GetEvaluateTransactions marks the queries.
func (ec *ErasureContract) GetEvaluateTransactions() []string {
	return []string{"GetErasureStatus", "ListOpenErasures"}
}

func erasureStatus(s *domain.CaseState) api.ErasureStatus {
	st := api.ErasureStatus{Pseudonym: s.Pseudonym, Status: s.Status, Pending: []string{}, Confirmed: []string{}}
	if e := s.Erasure; e != nil {
		st.Requested, st.RequestedBy, st.RequestedOn = true, e.RequestedBy, e.RequestedOn
		st.Pending = append(st.Pending, e.Pending...)
		st.Confirmed = append(st.Confirmed, e.Confirmed...)
		st.Complete, st.CompletedOn = len(e.Pending) == 0, e.CompletedOn
	}
	return st
}

func (ec *ErasureContract) write(ctx contractapi.TransactionContextInterface, function string, code domain.EventCode, requestID, pseudonym, occurredOn string) (string, error) {
	t, a, err := ec.c.writer(ctx)
	if err != nil {
		return "", wire(err)
	}
	in := domain.EventInput{VocabularyVersion: domain.VocabularyVersion, Code: code, OccurredOn: occurredOn}
	return ec.c.recordEvent(t, a, function, requestID, pseudonym, []string{pseudonym, occurredOn}, submitted(pseudonym, a, in))
}

// RequestErasure records ERASURE_REQUESTED: the case is frozen and every
// holder must confirm.
func (ec *ErasureContract) RequestErasure(ctx contractapi.TransactionContextInterface, requestID, pseudonym, occurredOn string) (string, error) {
	return ec.write(ctx, api.FnRequestErasure, domain.EvErasureRequested, requestID, pseudonym, occurredOn)
}

// ConfirmErasure records ERASURE_CONFIRMED for the caller's agency.
func (ec *ErasureContract) ConfirmErasure(ctx contractapi.TransactionContextInterface, requestID, pseudonym, occurredOn string) (string, error) {
	return ec.write(ctx, api.FnConfirmErasure, domain.EvErasureConfirmed, requestID, pseudonym, occurredOn)
}

// GetErasureStatus lists who has and has not confirmed.
func (ec *ErasureContract) GetErasureStatus(ctx contractapi.TransactionContextInterface, pseudonym string) (string, error) {
	t, _, err := ec.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	s, err := t.mustCase(pseudonym)
	if err != nil {
		return "", wire(err)
	}
	return marshalResult(erasureStatus(s))
}

// ListOpenErasures lists erasure requests some holder has not confirmed yet.
func (ec *ErasureContract) ListOpenErasures(ctx contractapi.TransactionContextInterface, bookmark, pageSize string) (string, error) {
	t, _, err := ec.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	cases, err := t.listCases(objErasure, nil, 0, bookmark, pageSize)
	if err != nil {
		return "", wire(err)
	}
	page := api.Page[api.ErasureStatus]{Items: []api.ErasureStatus{}, Bookmark: cases.Bookmark}
	for i := range cases.Items {
		page.Items = append(page.Items, erasureStatus(&cases.Items[i]))
	}
	return marshalResult(page)
}
