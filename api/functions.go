package api

import "slices"

// The chaincode's transactions, as a client names them in a proposal
// ("contract:Function"). The chaincode's argument gate admits exactly these
// (chaincode.Functions; a chaincode test holds the two lists equal); an
// auditor names a transaction's function only when it is one of them.
const (
	FnRegisterCase     = "cases:RegisterCase"
	FnRecordEvent      = "cases:RecordEvent"
	FnGetCase          = "cases:GetCase"
	FnGetTimeline      = "cases:GetTimeline"
	FnGetHistory       = "cases:GetHistory"
	FnListByStatus     = "cases:ListByStatus"
	FnListByAgency     = "cases:ListByAgency"
	FnGetRequestResult = "cases:GetRequestResult"

	FnResolveDeadlines = "dublin:ResolveDeadlines"
	FnDeadlinesDue     = "dublin:DeadlinesDue"
	FnSetHolidays      = "dublin:SetHolidays"
	FnGetHolidays      = "dublin:GetHolidays"

	FnAnchorDocument = "anchors:AnchorDocument"
	FnVerifyAnchor   = "anchors:VerifyAnchor"
	FnListAnchors    = "anchors:ListAnchors"

	FnRequestErasure   = "erasure:RequestErasure"
	FnConfirmErasure   = "erasure:ConfirmErasure"
	FnGetErasureStatus = "erasure:GetErasureStatus"
	FnListOpenErasures = "erasure:ListOpenErasures"

	FnListLateEvents       = "audit:ListLateEvents"
	FnGetPrivateDataHashes = "audit:GetPrivateDataHashes"

	FnGetVocabulary    = "admin:GetVocabulary"
	FnGetChaincodeInfo = "admin:GetChaincodeInfo"

	// Membership governance (api/governance.go, docs/operations.md).
	FnApproveMembership = "gov:ApproveMembership"
	FnSetMembership     = "gov:SetMembership"
	FnGetMembership     = "gov:GetMembership"

	// FnGetMetadata is contractapi's own description of the contracts.
	FnGetMetadata = "org.hyperledger.fabric:GetMetadata"
)

// Functions lists every transaction of the chaincode, sorted.
func Functions() []string {
	fs := []string{
		FnRegisterCase, FnRecordEvent, FnGetCase, FnGetTimeline, FnGetHistory, FnListByStatus, FnListByAgency, FnGetRequestResult,
		FnResolveDeadlines, FnDeadlinesDue, FnSetHolidays, FnGetHolidays,
		FnAnchorDocument, FnVerifyAnchor, FnListAnchors,
		FnRequestErasure, FnConfirmErasure, FnGetErasureStatus, FnListOpenErasures,
		FnListLateEvents, FnGetPrivateDataHashes, FnGetVocabulary, FnGetChaincodeInfo, FnGetMetadata,
		FnApproveMembership, FnSetMembership, FnGetMembership,
	}
	slices.Sort(fs)
	return fs
}
