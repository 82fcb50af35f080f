package scenario

import (
	"context"
	"fmt"
	"strings"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Chapter 4: a document anchored and verified (only its keyed hash reaches the ledger).

func (s *scenario) documents(ctx context.Context) error {
	s.section("4. A document anchored and verified")
	r := s.refs
	doc := []byte(fmt.Sprintf("%%PDF-1.7\nBundesamt für Migration und Flüchtlinge — Bescheid\nGeschäftszeichen %s\nAntragsteller: %s\n"+
		"Entscheidung: subsidiärer Schutz zuerkannt\n", r.aoA, r.nameA))
	altered := []byte(strings.Replace(string(doc), "subsidiärer Schutz zuerkannt", "Antrag abgelehnt", 1))
	s.rep.Documents = append(s.rep.Documents, doc, altered)
	ref := api.CaseRef{Channel: "national", LocalRef: r.aoA}
	an, err := s.ao.c.Anchor(ctx, api.AnchorRequest{CaseRef: ref, Document: doc, DocumentType: domain.DocDecision, OccurredOn: s.cal.ago(0)})
	if err != nil {
		return stepErr("anchor the decision", err)
	}
	s.did(s.ao, an.WriteResponse, "the decision letter of case A")
	s.rep.CaseA.DocumentHash = an.DocumentHash
	s.say("on chain: HMAC-SHA256 under case A's key, which only the asylum office's privacy service holds: %s", an.DocumentHash)
	list, err := s.bp.c.Anchors(ctx, api.CaseRef{Channel: "national", LocalRef: r.bpA}, client.Page{})
	if err != nil {
		return stepErr("border police list the anchors", err)
	}
	if len(list.Items) != 1 || list.Items[0].DocumentHash != an.DocumentHash {
		return fmt.Errorf("border police see anchors %+v", list.Items)
	}
	s.say("border-police sees the anchor (hash %s by %s) but not the document, and cannot test a guess without the key",
		render.Short(list.Items[0].DocumentHash), list.Items[0].MSPID)
	for _, x := range []struct {
		doc  []byte
		want bool
		what string
	}{{doc, true, "the original letter"}, {altered, false, "a letter with the decision changed"}} {
		v, err := s.ao.c.Verify(ctx, api.VerifyRequest{CaseRef: ref, Document: x.doc})
		if err != nil {
			return stepErr("verify "+x.what, err)
		}
		if v.Anchored != x.want {
			return fmt.Errorf("verify %s: anchored %v, want %v", x.what, v.Anchored, x.want)
		}
		if v.Anchored {
			s.say("✔ asylum-office verifies %s: anchored by %s on %s (tx %s)", x.what, v.Anchor.MSPID, v.Anchor.RecordedOn, render.Short(v.Anchor.TxID))
		} else {
			s.say("✘ asylum-office verifies %s: NOT anchored — tampering shows", x.what)
		}
	}
	return nil
}
