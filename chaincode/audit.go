package chaincode

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// AuditContract holds auditor queries that need chaincode indexes; block-level
// audit (hash chain, signatures) is the auditor gateway's job.
type AuditContract struct {
	contractapi.Contract
	c *core
}

// GetEvaluateTransactions marks the queries.
func (ac *AuditContract) GetEvaluateTransactions() []string {
	return []string{"ListLateEvents", "GetPrivateDataHashes"}
}

// ListLateEvents lists events recorded after the day they occurred
// (lateDays > 0), for one agency (mspId) or all ("" ), paginated. Only the
// auditor agency, or the roles auditor and admin, may call it.
func (ac *AuditContract) ListLateEvents(ctx contractapi.TransactionContextInterface, mspID, bookmark, pageSize string) (string, error) {
	t, a, err := ac.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if a.Member.Kind != domain.AgencyAuditor && a.Role != domain.RoleAuditor && a.Role != domain.RoleAdmin {
		return "", wire(domain.Errorf(domain.KindForbidden, "audit queries are for auditors and admins"))
	}
	var attrs []string
	if mspID != "" {
		if _, ok := t.membership.Member(mspID); !ok {
			return "", wire(domain.Errorf(domain.KindInvalidArgument, "mspId: not a member of the network"))
		}
		attrs = []string{mspID}
	}
	page := api.Page[domain.Event]{Items: []domain.Event{}}
	cases := map[string]*domain.CaseState{}
	page.Bookmark, err = t.pageComposite(objLate, attrs, bookmark, pageSize, func(key string, _ []byte) error {
		parts, err := splitKey(t.ctx.GetStub(), key)
		if err != nil || len(parts) != 3 {
			return domain.Errorf(domain.KindInternal, "malformed index key")
		}
		var ev domain.Event
		found, err := t.getJSON(ck(objEvent, parts[1], parts[2]), &ev)
		if err != nil {
			return err
		}
		if !found {
			return domain.Errorf(domain.KindInternal, "index names a missing event")
		}
		// A late-recorded consequence that a step dated in time superseded is
		// marked as in GetTimeline, so the auditor's view says it too.
		s, seen := cases[parts[1]]
		if !seen {
			if s, err = t.loadCase(parts[1]); err != nil {
				return err
			}
			cases[parts[1]] = s
		}
		if s != nil {
			if sup, ok := s.Dublin.SupersededBy(ev.Seq); ok && domain.IsWorkflowEvent(ev.Code) {
				ev.SupersededBy = &sup
			}
		}
		page.Items = append(page.Items, ev)
		return nil
	})
	if err != nil {
		return "", wire(err)
	}
	return marshalResult(page)
}
