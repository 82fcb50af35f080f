package chaincode

import (
	"slices"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// The argument gate. Whatever a proposal carries as arguments is written into the block once
// the transaction is ordered — for reads too, since a member can have any endorsed proposal
// ordered. So before contractapi dispatches anything, every invocation must name a known function
// exactly, carry exactly its number of arguments, and every argument must be exactly its canonical
// encoding: checked by the domain's checkers (pseudonyms, request ids, dates, codes, hashes,
// numbers, canonical JSON) and, for bookmarks, by the layout of the index the query pages
// (keys.go). contractapi itself passes string parameters through unchanged, ignores surplus
// arguments and resolves "recordEvent" like "RecordEvent"; the gate closes those gaps.

// Chaincode is the chaincode the peer runs: the argument gate in front of the contracts.
type Chaincode struct {
	c     *core
	cc    *contractapi.ContractChaincode
	rules map[string]argRule
}

// argRule is the parameter list of one transaction and the check of its arguments.
type argRule struct {
	params []string
	check  func(s scope, a []string) error
}

// scope is what an argument check may consult: the configuration, and the membership in force
// with the transaction's channel in it (read from the state once per transaction, membershipOf).
type scope struct {
	c  *core
	m  domain.Membership
	ch domain.Channel
}

// Init runs at instantiation only when a definition requires it; it takes no arguments.
func (x *Chaincode) Init(stub shim.ChaincodeStubInterface) *peer.Response {
	if len(stub.GetArgs()) == 0 {
		return shim.Success(nil)
	}
	return x.Invoke(stub)
}

// Invoke checks the invocation and hands it to the contracts, with the membership the gate read
// from the state (gatedStub: the contracts use the same value, not a second read).
func (x *Chaincode) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	ms, err := x.checkInvocation(stub)
	if err != nil {
		return shim.Error(wire(err).Error())
	}
	return x.cc.Invoke(&gatedStub{ChaincodeStubInterface: stub, ms: ms})
}

// checkInvocation is the gate; it returns the membership in force. Errors never quote an argument.
func (x *Chaincode) checkInvocation(stub shim.ChaincodeStubInterface) (*membershipInForce, error) {
	args := stub.GetStringArgs()
	if len(args) == 0 {
		return nil, domain.Errorf(domain.KindInvalidArgument, "no function named")
	}
	// Decorations travel in the chaincode input, hence into the block; this network's peers add
	// none, so any are caller-chosen bytes.
	if len(stub.GetDecorations()) != 0 {
		return nil, domain.Errorf(domain.KindInvalidArgument, "proposal decorations are not accepted")
	}
	sp, err := stub.GetSignedProposal()
	if err != nil {
		return nil, domain.Errorf(domain.KindInternal, "signed proposal unavailable")
	}
	if err := checkProposal(sp); err != nil {
		return nil, err
	}
	rule, ok := x.rules[args[0]]
	if !ok {
		return nil, domain.Errorf(domain.KindInvalidArgument, "unknown function (name it exactly, as contract:Function)")
	}
	params := args[1:]
	if len(params) != len(rule.params) {
		return nil, domain.Errorf(domain.KindInvalidArgument, "%s takes %d arguments, got %d", args[0], len(rule.params), len(params))
	}
	ms, err := x.c.loadMembership(stub)
	if err != nil {
		return nil, err
	}
	ch, ok := ms.m.Channel(stub.GetChannelID())
	if !ok {
		return nil, domain.Errorf(domain.KindInternal, "channel %s is not in the membership", stub.GetChannelID())
	}
	if err := rule.check(scope{c: x.c, m: ms.m, ch: ch}, params); err != nil {
		return nil, err
	}
	if err := x.checkTransient(stub, args[0], ms.m, ch, params); err != nil {
		return nil, err
	}
	return ms, nil
}

// Functions lists every transaction the gate admits, sorted ("contract:Function").
func (x *Chaincode) Functions() []string { return sortedKeys(x.rules) }

// Functions lists every transaction name the chaincode admits ("contract:Function"), sorted. An
// auditor names a transaction's function only if it is one of these, never its arguments.
func Functions() []string { return sortedKeys(argRules()) }

func sortedKeys(m map[string]argRule) []string {
	out := make([]string, 0, len(m))
	for f := range m {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Params lists the parameter names of a transaction (nil if unknown).
func (x *Chaincode) Params(function string) []string { return x.rules[function].params }

// all runs checks in order and returns the first failure.
func all(errs ...func() error) error {
	for _, f := range errs {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// Checkers of single arguments, all built on the domain's.
func reqArg(s string) func() error    { return func() error { return domain.CheckRequestID(s) } }
func pseudoArg(s string) func() error { return func() error { return domain.CheckPseudonym(s) } }
func dateArg(field, s string) func() error {
	return func() error { return domain.CheckDate(field, s) }
}
func hashArg(s string) func() error {
	return func() error { return domain.CheckHash64("documentHash", s) }
}

func (c *core) pageArg(s string) func() error {
	return func() error { _, err := c.pageSize(s); return err }
}

func (sc scope) memberArg(s string) func() error {
	return func() error {
		if _, ok := sc.m.Member(s); !ok {
			return domain.Errorf(domain.KindInvalidArgument, "mspId: not a member of the network")
		}
		return nil
	}
}

func memberStateArg(s string) func() error {
	return func() error {
		if !domain.IsMemberState(s) {
			return domain.Errorf(domain.KindInvalidArgument, "memberState: unknown member-state code")
		}
		return nil
	}
}

func yearArg(s string) func() error {
	return func() error { _, err := parseYear(s); return err }
}

// parseYear reads a holiday-calendar year: canonical decimal within the calendar's range.
func parseYear(s string) (int, error) {
	y, err := domain.ParseDecimal("year", s, deadline.MaxHolidayYear)
	if err != nil || y < deadline.MinHolidayYear {
		return 0, domain.Errorf(domain.KindInvalidArgument, "year: must be a year %d..%d", deadline.MinHolidayYear, deadline.MaxHolidayYear)
	}
	return y, nil
}

func documentTypeArg(s string) func() error {
	return func() error {
		if s != "" && !slices.Contains(domain.DocumentTypes(), domain.DocumentType(s)) {
			return domain.Errorf(domain.KindInvalidArgument, "documentType: unknown document type")
		}
		return nil
	}
}

func holidaysArg(s string) func() error {
	return func() error {
		var h deadline.Holidays
		if err := domain.DecodeCanonical([]byte(s), &h); err != nil {
			return domain.Errorf(domain.KindInvalidArgument, "dates: must be the canonical JSON array of ascending YYYY-MM-DD dates")
		}
		return nil
	}
}

func statusArg(ch domain.Channel, s string) func() error {
	return func() error {
		if !domain.IsStatus(ch.Procedure, domain.Status(s)) {
			return domain.Errorf(domain.KindInvalidArgument, "status: not a status of the %s procedure", ch.Procedure)
		}
		return nil
	}
}

// argRules is the parameter list and argument check of every transaction.
func argRules() map[string]argRule {
	none := argRule{params: nil, check: func(scope, []string) error { return nil }}
	write3 := func(third string) argRule {
		return argRule{params: []string{"requestId", "pseudonym", third}, check: func(_ scope, a []string) error {
			return all(reqArg(a[0]), pseudoArg(a[1]), dateArg(third, a[2]))
		}}
	}
	return map[string]argRule{
		api.FnRegisterCase: write3("occurredOn"),
		api.FnRecordEvent: {params: []string{"requestId", "pseudonym", "payload"}, check: func(_ scope, a []string) error {
			// The payload is checked with the transient details that complete it (checkTransient).
			return all(reqArg(a[0]), pseudoArg(a[1]))
		}},
		api.FnGetCase: {params: []string{"pseudonym"}, check: func(_ scope, a []string) error {
			return all(pseudoArg(a[0]))
		}},
		api.FnGetTimeline: {params: []string{"pseudonym", "bookmark", "pageSize"}, check: func(s scope, a []string) error {
			return all(pseudoArg(a[0]), s.c.pageArg(a[2]), func() error { return checkIndexBookmark(a[1], objEvent, []string{a[0]}, isSeqText) })
		}},
		api.FnGetHistory: {params: []string{"pseudonym", "bookmark", "pageSize"}, check: func(s scope, a []string) error {
			return all(pseudoArg(a[0]), s.c.pageArg(a[2]), func() error { _, err := historyBookmark(a[1]); return err })
		}},
		api.FnListByStatus: {params: []string{"status", "bookmark", "pageSize"}, check: func(s scope, a []string) error {
			return all(statusArg(s.ch, a[0]), s.c.pageArg(a[2]), func() error { return checkIndexBookmark(a[1], objStatus, []string{a[0]}, domain.IsUUIDv4) })
		}},
		api.FnListByAgency: {params: []string{"mspId", "bookmark", "pageSize"}, check: func(s scope, a []string) error {
			return all(s.memberArg(a[0]), s.c.pageArg(a[2]), func() error { return checkIndexBookmark(a[1], objAgency, []string{a[0]}, domain.IsUUIDv4) })
		}},
		api.FnGetRequestResult: {params: []string{"requestId"}, check: func(_ scope, a []string) error {
			return all(reqArg(a[0]))
		}},

		api.FnResolveDeadlines: {params: []string{"requestId", "pseudonym"}, check: func(_ scope, a []string) error {
			return all(reqArg(a[0]), pseudoArg(a[1]))
		}},
		api.FnDeadlinesDue: {params: []string{"beforeDate", "bookmark", "pageSize"}, check: func(s scope, a []string) error {
			return all(func() error {
				if _, err := deadline.ParseDate(a[0]); err != nil {
					return domain.Errorf(domain.KindInvalidArgument, "beforeDate: must be a date YYYY-MM-DD")
				}
				return nil
			}, s.c.pageArg(a[2]), func() error { _, err := dueBookmark(a[1], a[0]); return err })
		}},
		api.FnSetHolidays: {params: []string{"requestId", "memberState", "year", "dates"}, check: func(_ scope, a []string) error {
			return all(reqArg(a[0]), memberStateArg(a[1]), yearArg(a[2]), holidaysArg(a[3]))
		}},
		api.FnGetHolidays: {params: []string{"memberState", "year"}, check: func(_ scope, a []string) error {
			return all(memberStateArg(a[0]), yearArg(a[1]))
		}},

		api.FnAnchorDocument: {params: []string{"requestId", "pseudonym", "documentHash", "documentType", "occurredOn"}, check: func(_ scope, a []string) error {
			return all(reqArg(a[0]), pseudoArg(a[1]), hashArg(a[2]), documentTypeArg(a[3]), dateArg("occurredOn", a[4]))
		}},
		api.FnVerifyAnchor: {params: []string{"pseudonym", "documentHash"}, check: func(_ scope, a []string) error {
			return all(pseudoArg(a[0]), hashArg(a[1]))
		}},
		api.FnListAnchors: {params: []string{"pseudonym", "bookmark", "pageSize"}, check: func(s scope, a []string) error {
			return all(pseudoArg(a[0]), s.c.pageArg(a[2]), func() error { return checkIndexBookmark(a[1], objAnchor, []string{a[0]}, domain.IsHash64) })
		}},

		api.FnRequestErasure: write3("occurredOn"),
		api.FnConfirmErasure: write3("occurredOn"),
		api.FnGetErasureStatus: {params: []string{"pseudonym"}, check: func(_ scope, a []string) error {
			return all(pseudoArg(a[0]))
		}},
		api.FnListOpenErasures: {params: []string{"bookmark", "pageSize"}, check: func(s scope, a []string) error {
			return all(s.c.pageArg(a[1]), func() error { return checkIndexBookmark(a[0], objErasure, nil, domain.IsUUIDv4) })
		}},

		api.FnListLateEvents: {params: []string{"mspId", "bookmark", "pageSize"}, check: func(s scope, a []string) error {
			if a[0] == "" { // all agencies: the bookmark names the agency too
				return all(s.c.pageArg(a[2]), func() error {
					return checkIndexBookmark(a[1], objLate, nil, s.isMember, domain.IsUUIDv4, isSeqText)
				})
			}
			return all(s.memberArg(a[0]), s.c.pageArg(a[2]), func() error {
				return checkIndexBookmark(a[1], objLate, []string{a[0]}, domain.IsUUIDv4, isSeqText)
			})
		}},

		api.FnGetPrivateDataHashes: {params: []string{"pseudonym"}, check: func(_ scope, a []string) error {
			return all(pseudoArg(a[0]))
		}},

		api.FnApproveMembership: {params: []string{"sequence", "membershipHash"}, check: func(_ scope, a []string) error {
			return all(sequenceArg(a[0]), membershipHashArg(a[1]))
		}},
		api.FnSetMembership: {params: []string{"document"}, check: func(_ scope, a []string) error {
			return all(membershipDocArg(a[0]))
		}},
		api.FnGetMembership: none,

		api.FnGetChaincodeInfo: none,
		api.FnGetVocabulary:    none,
		// contractapi's own metadata query.
		api.FnGetMetadata: none,
	}
}

func (sc scope) isMember(s string) bool {
	_, ok := sc.m.Member(s)
	return ok
}
