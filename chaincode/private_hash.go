package chaincode

import (
	"encoding/hex"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// GetPrivateDataHashes lists, for each withheld event of a case, the hash of its private record
// that this peer holds (GetPrivateDataHash, "" for none). The auditor's verification compares
// them with the hashes the blocks committed (gateway/audit.go). It reads hashes only, never a
// record, so the auditor's default audience (hashes) is enough. Auditors and admins only, like
// the other audit queries.
func (ac *AuditContract) GetPrivateDataHashes(ctx contractapi.TransactionContextInterface, pseudonym string) (string, error) {
	t, a, err := ac.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if a.Member.Kind != domain.AgencyAuditor && a.Role != domain.RoleAuditor && a.Role != domain.RoleAdmin {
		return "", wire(domain.Errorf(domain.KindForbidden, "audit queries are for auditors and admins"))
	}
	s, err := t.mustCase(pseudonym)
	if err != nil {
		return "", wire(err)
	}
	out := []api.PrivateDataHash{}
	for seq := uint64(1); seq <= s.Seq; seq++ {
		var ev domain.Event
		found, err := t.getJSON(eventKey(pseudonym, seq), &ev)
		if err != nil {
			return "", wire(err)
		}
		if !found || ev.Withheld == "" {
			continue
		}
		h, err := t.ctx.GetStub().GetPrivateDataHash(ev.Withheld, eventKey(pseudonym, seq))
		if err != nil {
			return "", wire(domain.Errorf(domain.KindInternal, "private data hash not readable"))
		}
		out = append(out, api.PrivateDataHash{Seq: seq, Collection: ev.Withheld, Hash: hex.EncodeToString(h)})
	}
	return marshalResult(out)
}
