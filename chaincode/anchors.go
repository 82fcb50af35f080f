package chaincode

import (
	"encoding/json"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// AnchorsContract records and verifies document anchors: HMAC-SHA256 of a
// document under a key kept in the privacy service. The key never reaches
// the chain; whoever holds it recomputes the hash and verifies it here.
type AnchorsContract struct {
	contractapi.Contract
	c *core
}

// GetEvaluateTransactions marks the queries.
func (ac *AnchorsContract) GetEvaluateTransactions() []string {
	return []string{"VerifyAnchor", "ListAnchors"}
}

// AnchorDocument records DOCUMENT_ANCHORED (same as RecordEvent with that
// code). documentType may be "" (none).
func (ac *AnchorsContract) AnchorDocument(ctx contractapi.TransactionContextInterface, requestID, pseudonym, documentHash, documentType, occurredOn string) (string, error) {
	t, a, err := ac.c.writer(ctx)
	if err != nil {
		return "", wire(err)
	}
	if err := ac.c.publicArgument(t.channel, domain.EvDocumentAnchored, domain.FieldDocumentType, documentType); err != nil {
		return "", wire(err)
	}
	in := domain.EventInput{
		VocabularyVersion: domain.VocabularyVersion, Code: domain.EvDocumentAnchored, OccurredOn: occurredOn,
		EventFields: domain.EventFields{DocumentHash: documentHash, DocumentType: domain.DocumentType(documentType)},
	}
	return ac.c.recordEvent(t, a, api.FnAnchorDocument, requestID, pseudonym,
		[]string{pseudonym, documentHash, documentType, occurredOn}, submitted(pseudonym, a, in))
}

// VerifyAnchor reports whether documentHash is anchored on the case, and
// by whom and when.
func (ac *AnchorsContract) VerifyAnchor(ctx contractapi.TransactionContextInterface, pseudonym, documentHash string) (string, error) {
	t, _, err := ac.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if err := domain.CheckPseudonym(pseudonym); err != nil {
		return "", wire(err)
	}
	if !domain.IsHash64(documentHash) {
		return "", wire(domain.Errorf(domain.KindInvalidArgument, "documentHash: must be 64 lower-case hex digits"))
	}
	var an api.Anchor
	found, err := t.getJSON(anchorKey(pseudonym, documentHash), &an)
	if err != nil {
		return "", wire(err)
	}
	if !found {
		return marshalResult(api.Verification{})
	}
	return marshalResult(api.Verification{Anchored: true, Anchor: &an})
}

// ListAnchors lists a case's anchors, ordered by hash, paginated.
func (ac *AnchorsContract) ListAnchors(ctx contractapi.TransactionContextInterface, pseudonym, bookmark, pageSize string) (string, error) {
	t, _, err := ac.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if err := domain.CheckPseudonym(pseudonym); err != nil {
		return "", wire(err)
	}
	page := api.Page[api.Anchor]{Items: []api.Anchor{}}
	page.Bookmark, err = t.pageComposite(objAnchor, []string{pseudonym}, bookmark, pageSize, func(_ string, v []byte) error {
		var an api.Anchor
		if err := json.Unmarshal(v, &an); err != nil {
			return domain.Errorf(domain.KindInternal, "stored anchor is corrupt")
		}
		page.Items = append(page.Items, an)
		return nil
	})
	if err != nil {
		return "", wire(err)
	}
	return marshalResult(page)
}
