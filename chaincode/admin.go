package chaincode

import (
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// AdminContract exposes the configuration every endorser runs with, so
// operators can compare organisations, and the vocabulary for clients.
type AdminContract struct {
	contractapi.Contract
	c *core
}

// GetEvaluateTransactions marks the queries.
func (ac *AdminContract) GetEvaluateTransactions() []string {
	return []string{"GetChaincodeInfo", "GetVocabulary"}
}

// GetChaincodeInfo returns versions, this channel's procedure, the configuration and
// the caller's membership entry as the chaincode sees it.
func (ac *AdminContract) GetChaincodeInfo(ctx contractapi.TransactionContextInterface) (string, error) {
	t, a, err := ac.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	// The configuration in force: its membership is the channel's (gov:GetMembership).
	cfg := ac.c.cfg
	cfg.Membership = t.membership
	info := api.ChaincodeInfo{
		ChaincodeVersion: Version, VocabularyVersion: domain.VocabularyVersion,
		Channel: t.channel.Name, Procedure: t.channel.Procedure, Config: cfg,
		Caller: a.Member, CallerRole: a.Role,
	}
	if t.channel.Procedure == domain.ProcedureDublin {
		for _, r := range deadline.Regimes() {
			info.Rules = append(info.Rules, deadline.Rules(r, ac.c.cfg.Deadlines))
		}
	}
	return marshalResult(info)
}

// GetVocabulary returns the events, workflow table, statuses and closed value
// lists of this channel's procedure.
func (ac *AdminContract) GetVocabulary(ctx contractapi.TransactionContextInterface) (string, error) {
	t, _, err := ac.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	p := t.channel.Procedure
	v := api.Vocabulary{Version: domain.VocabularyVersion, Procedure: p, Transitions: domain.Transitions(p), Statuses: domain.Statuses(p), Values: valueLists()}
	for _, s := range domain.Vocabulary() {
		if s.OnProcedure(p) {
			v.Events = append(v.Events, api.EventSpec{Code: s.Code, Required: nonNil(s.Required), Optional: nonNil(s.Optional), System: s.System})
		}
	}
	return marshalResult(v)
}

func nonNil(f []domain.Field) []domain.Field {
	if f == nil {
		return []domain.Field{}
	}
	return f
}

func valueLists() map[string][]string {
	strs := func(xs ...string) []string { return xs }
	conv := func(n int, at func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = at(i)
		}
		return out
	}
	eh, oc, ao, er, ev, dt, cr := domain.EurodacHits(), domain.Outcomes(), domain.AppealOutcomes(),
		domain.ExtensionReasons(), domain.Evidences(), domain.DocumentTypes(), domain.ClosureReasons()
	return map[string][]string{
		string(domain.FieldEurodacHit):           conv(len(eh), func(i int) string { return string(eh[i]) }),
		string(domain.FieldOutcome):              conv(len(oc), func(i int) string { return string(oc[i]) }),
		string(domain.FieldAppealOutcome):        conv(len(ao), func(i int) string { return string(ao[i]) }),
		string(domain.FieldExtensionReason):      conv(len(er), func(i int) string { return string(er[i]) }),
		string(domain.FieldEvidence):             conv(len(ev), func(i int) string { return string(ev[i]) }),
		string(domain.FieldDocumentType):         conv(len(dt), func(i int) string { return string(dt[i]) }),
		string(domain.FieldClosureReason):        conv(len(cr), func(i int) string { return string(cr[i]) }),
		string(domain.FieldRegionCode):           domain.RegionCodes(),
		string(domain.FieldRequestedMemberState): domain.MemberStates(),
		"boolean":                                strs("true", "false"),
	}
}
