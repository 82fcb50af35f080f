package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// Document anchors: the gateway computes HMAC-SHA256 of the document under
// the case's anchor key, which only the agency's privacy service holds (and
// erases with the case). The document is read from the request, hashed and
// dropped: it is never stored, logged or sent on.

// documentHash is the anchor of doc on the case.
func (c *call) documentHash(channel, pseudonym string, doc []byte) (string, error) {
	if len(doc) == 0 {
		return "", domain.Errorf(domain.KindInvalidArgument, "document: required")
	}
	key, err := c.s.vault.AnchorKey(c.wctx(), channel, pseudonym)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write(doc)
	clear(key)
	return hex.EncodeToString(m.Sum(nil)), nil
}

func (s *Server) hAnchor(c *call) (int, any, error) {
	var req api.AnchorRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	defer clear(req.Document)
	if err := checkDate("occurredOn", req.OccurredOn); err != nil {
		return 0, nil, err
	}
	ch, p, err := c.resolve(req.CaseRef)
	if err != nil {
		return 0, nil, err
	}
	hash, err := c.memo("documentHash", func() (string, error) { return c.documentHash(ch.Name, p, req.Document) })
	if err != nil {
		return 0, nil, err
	}
	// DOCUMENT_ANCHORED through cases:RecordEvent (the same event as anchors:AnchorDocument), so
	// the document type, a withheld detail, leaves in the transient map (visibility.go).
	payload, err := domain.EncodeCanonical(domain.EventInput{
		VocabularyVersion: domain.VocabularyVersion, Code: domain.EvDocumentAnchored, OccurredOn: req.OccurredOn,
		EventFields: domain.EventFields{DocumentHash: hash, DocumentType: req.DocumentType},
	})
	if err != nil {
		return 0, nil, domain.Errorf(domain.KindInternal, "encoding failed")
	}
	res, err := c.submit(ch, api.FnRecordEvent, p, string(payload))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.AnchorResponse{WriteResponse: res, DocumentHash: hash}, nil
}

func (s *Server) hVerifyAnchor(c *call) (int, any, error) {
	var req api.VerifyRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	defer clear(req.Document)
	ch, p, err := c.resolve(req.CaseRef)
	if err != nil {
		return 0, nil, err
	}
	hash, err := c.documentHash(ch.Name, p, req.Document)
	if err != nil {
		return 0, nil, err
	}
	var v api.Verification
	if err := c.evaluate(ch.Name, api.FnVerifyAnchor, &v, p, hash); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.VerifyResponse{DocumentHash: hash, Anchored: v.Anchored, Anchor: v.Anchor}, nil
}

func (s *Server) hListAnchors(c *call) (int, any, error) {
	ch, p, bm, ps, err := c.casePageBody()
	if err != nil {
		return 0, nil, err
	}
	var page api.Page[api.Anchor]
	if err := c.evaluate(ch.Name, api.FnListAnchors, &page, p, bm, ps); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.AnchorList{Items: nonNilSlice(page.Items), Bookmark: page.Bookmark}, nil
}
