package domain

import "slices"

// VocabularyVersion is the version of the closed event vocabulary. Every
// recorded event carries it, and payloads naming another version are refused.
// The vocabulary may grow without a new version (a new code, a new optional
// field, a new value): every payload valid before stays valid with the same
// meaning, and every endorser runs the same chaincode. Removing or renaming
// anything, making a field required or changing what a value means bumps it,
// because a payload composed against the old lists would then be read
// differently (docs/chaincode.md, "Vocabulary").
const VocabularyVersion = 1

// EventCode names a process step (DESIGN §4).
type EventCode string

// National procedure and cross-cutting events.
const (
	EvCaseRegistered    EventCode = "CASE_REGISTERED"
	EvIdentityChecked   EventCode = "IDENTITY_CHECKED"
	EvFileCreated       EventCode = "FILE_CREATED"
	EvAllocated         EventCode = "ALLOCATED"
	EvApplicationLodged EventCode = "APPLICATION_LODGED"
	EvHearingScheduled  EventCode = "HEARING_SCHEDULED"
	EvHearingHeld       EventCode = "HEARING_HELD"
	EvDecisionIssued    EventCode = "DECISION_ISSUED"
	EvAppealFiled       EventCode = "APPEAL_FILED"
	EvAppealDecided     EventCode = "APPEAL_DECIDED"
	EvReturnCounselling EventCode = "RETURN_COUNSELLING"
	EvCaseClosed        EventCode = "CASE_CLOSED"
	EvDocumentAnchored  EventCode = "DOCUMENT_ANCHORED"
	EvErasureRequested  EventCode = "ERASURE_REQUESTED"
	EvErasureConfirmed  EventCode = "ERASURE_CONFIRMED"
	// EvCaseBound: an agency takes part in a case another agency registered
	// (it bound its own reference to the pseudonym) and becomes a holder.
	EvCaseBound EventCode = "CASE_BOUND"
)

// Dublin procedure events.
const (
	EvTakeChargeRequested      EventCode = "TAKE_CHARGE_REQUESTED"
	EvTakeBackRequested        EventCode = "TAKE_BACK_REQUESTED"
	EvTakeBackNotified         EventCode = "TAKE_BACK_NOTIFIED"
	EvRequestAccepted          EventCode = "REQUEST_ACCEPTED"
	EvRequestRejected          EventCode = "REQUEST_REJECTED"
	EvReexaminationRequested   EventCode = "REEXAMINATION_REQUESTED"
	EvImplicitlyAccepted       EventCode = "IMPLICITLY_ACCEPTED"
	EvTransferDecisionIssued   EventCode = "TRANSFER_DECISION_ISSUED"
	EvTransferScheduled        EventCode = "TRANSFER_SCHEDULED"
	EvTransferCompleted        EventCode = "TRANSFER_COMPLETED"
	EvTransferDeadlineExtended EventCode = "TRANSFER_DEADLINE_EXTENDED"
	EvResponsibilityShifted    EventCode = "RESPONSIBILITY_SHIFTED"
	// EvReceiptAcknowledged: the requested state acknowledges the receipt
	// of the pending request; its occurredOn is the receipt date (as
	// DubliNet's automatic acknowledgement proves it, Implementing Reg
	// 2025/2055 Art 1(3)).
	EvReceiptAcknowledged EventCode = "RECEIPT_ACKNOWLEDGED"
	// EvRequestFactsRecorded: the requesting state records the facts that
	// start the limit for sending a request (application date, evidence)
	// on a Dublin case registered without them, so the board shows the
	// limit before the request (AMMR 39(1), 41(1); Dublin III 21(1), 23(2)).
	EvRequestFactsRecorded EventCode = "REQUEST_FACTS_RECORDED"
)

// Field names a typed field of an event payload (its JSON name).
type Field string

// The closed set of payload fields.
const (
	FieldEurodacHit           Field = "eurodacHit"
	FieldRegionCode           Field = "regionCode"
	FieldOutcome              Field = "outcome"
	FieldSuspensive           Field = "suspensive"
	FieldAppealOutcome        Field = "appealOutcome"
	FieldExtensionReason      Field = "extensionReason"
	FieldUrgent               Field = "urgent"
	FieldRequestedMemberState Field = "requestedMemberState"
	FieldReceivedOn           Field = "receivedOn"
	FieldEvidence             Field = "evidence"
	FieldApplicationOn        Field = "applicationRegisteredOn"
	FieldEvidenceOn           Field = "evidenceReceivedOn"
	FieldReplyDue             Field = "urgentReplyDue"
	FieldScheduledFor         Field = "scheduledFor"
	FieldDocumentHash         Field = "documentHash"
	FieldDocumentType         Field = "documentType"
	FieldClosureReason        Field = "closureReason"
)

// EventSpec describes one event code: where it may be recorded and which
// payload fields it requires and allows. The workflow tables say who may
// record it and from which states.
type EventSpec struct {
	Code       EventCode
	Procedures []Procedure // channels it may be recorded on
	Required   []Field
	Optional   []Field
	// System events are recorded by ResolveDeadlines only, never submitted
	// through RecordEvent.
	System bool
}

// Allows reports whether f may appear in the payload.
func (s EventSpec) Allows(f Field) bool {
	return slices.Contains(s.Required, f) || slices.Contains(s.Optional, f)
}

// OnProcedure reports whether the event may be recorded on that procedure's channel.
func (s EventSpec) OnProcedure(p Procedure) bool { return slices.Contains(s.Procedures, p) }

// Vocabulary returns the closed vocabulary, one spec per code, in a stable order.
func Vocabulary() []EventSpec {
	nat := []Procedure{ProcedureNational}
	dub := []Procedure{ProcedureDublin}
	both := []Procedure{ProcedureNational, ProcedureDublin}
	f := func(fs ...Field) []Field { return fs }
	return []EventSpec{
		// On the Dublin channel the registration may carry the facts that
		// start the limit for sending a request (AMMR 39(1), 41(1); Dublin
		// III 21(1), 23(2)), so the board shows it before any request.
		{Code: EvCaseRegistered, Procedures: both, Optional: f(FieldApplicationOn, FieldEvidence, FieldEvidenceOn)},
		{Code: EvIdentityChecked, Procedures: nat, Required: f(FieldEurodacHit)},
		{Code: EvFileCreated, Procedures: nat},
		{Code: EvAllocated, Procedures: nat, Required: f(FieldRegionCode)},
		{Code: EvApplicationLodged, Procedures: nat},
		{Code: EvHearingScheduled, Procedures: nat, Optional: f(FieldScheduledFor)},
		{Code: EvHearingHeld, Procedures: nat},
		{Code: EvDecisionIssued, Procedures: nat, Required: f(FieldOutcome)},
		{Code: EvAppealFiled, Procedures: both, Required: f(FieldSuspensive)},
		{Code: EvAppealDecided, Procedures: both, Required: f(FieldAppealOutcome)},
		{Code: EvReturnCounselling, Procedures: nat},
		{Code: EvCaseClosed, Procedures: both, Required: f(FieldClosureReason)},
		{Code: EvDocumentAnchored, Procedures: both, Required: f(FieldDocumentHash), Optional: f(FieldDocumentType)},
		{Code: EvErasureRequested, Procedures: both},
		{Code: EvErasureConfirmed, Procedures: both},
		{Code: EvCaseBound, Procedures: both},

		{Code: EvTakeChargeRequested, Procedures: dub,
			Required: f(FieldRequestedMemberState, FieldReceivedOn, FieldApplicationOn, FieldEvidence),
			Optional: f(FieldEvidenceOn, FieldUrgent, FieldReplyDue)},
		{Code: EvTakeBackRequested, Procedures: dub,
			Required: f(FieldRequestedMemberState, FieldReceivedOn, FieldApplicationOn, FieldEvidence),
			Optional: f(FieldEvidenceOn)},
		{Code: EvTakeBackNotified, Procedures: dub,
			Required: f(FieldRequestedMemberState, FieldReceivedOn, FieldApplicationOn, FieldEvidence),
			Optional: f(FieldEvidenceOn)},
		{Code: EvRequestAccepted, Procedures: dub},
		{Code: EvRequestRejected, Procedures: dub, Required: f(FieldReceivedOn)},
		{Code: EvReexaminationRequested, Procedures: dub, Required: f(FieldReceivedOn)},
		{Code: EvImplicitlyAccepted, Procedures: dub, System: true},
		{Code: EvTransferDecisionIssued, Procedures: dub},
		{Code: EvTransferScheduled, Procedures: dub, Required: f(FieldScheduledFor)},
		{Code: EvTransferCompleted, Procedures: dub},
		{Code: EvTransferDeadlineExtended, Procedures: dub, Required: f(FieldExtensionReason)},
		{Code: EvResponsibilityShifted, Procedures: dub, System: true},
		{Code: EvReceiptAcknowledged, Procedures: dub},
		{Code: EvRequestFactsRecorded, Procedures: dub, Required: f(FieldApplicationOn, FieldEvidence), Optional: f(FieldEvidenceOn)},
	}
}

// Spec returns the spec of an event code.
func Spec(code EventCode) (EventSpec, bool) {
	for _, s := range Vocabulary() {
		if s.Code == code {
			return s, true
		}
	}
	return EventSpec{}, false
}

// Closed value lists. Each is a type with a Valid method and a list function
// so the documentation and the gateway can enumerate them.

// EurodacHit is the Eurodac result of an identity check.
type EurodacHit string

// Eurodac hit categories (category 1: applicant; category 2: irregular border crossing).
const (
	EurodacNone      EurodacHit = "NONE"
	EurodacCategory1 EurodacHit = "CATEGORY_1"
	EurodacCategory2 EurodacHit = "CATEGORY_2"
)

// EurodacHits lists the closed set.
func EurodacHits() []EurodacHit { return []EurodacHit{EurodacNone, EurodacCategory1, EurodacCategory2} }

// Outcome is the result of a first-instance decision.
type Outcome string

// Decision outcomes.
const (
	OutcomeRefugeeStatus        Outcome = "REFUGEE_STATUS"
	OutcomeSubsidiaryProtection Outcome = "SUBSIDIARY_PROTECTION"
	OutcomeDeportationBan       Outcome = "NATIONAL_DEPORTATION_BAN"
	OutcomeRejected             Outcome = "REJECTED"
	OutcomeManifestlyUnfounded  Outcome = "REJECTED_MANIFESTLY_UNFOUNDED"
	OutcomeInadmissible         Outcome = "INADMISSIBLE"
	OutcomeDiscontinued         Outcome = "DISCONTINUED"
)

// Outcomes lists the closed set.
func Outcomes() []Outcome {
	return []Outcome{OutcomeRefugeeStatus, OutcomeSubsidiaryProtection, OutcomeDeportationBan,
		OutcomeRejected, OutcomeManifestlyUnfounded, OutcomeInadmissible, OutcomeDiscontinued}
}

// Negative reports whether the outcome obliges the person to leave, which is
// what return counselling follows.
func (o Outcome) Negative() bool {
	switch o {
	case OutcomeRejected, OutcomeManifestlyUnfounded, OutcomeInadmissible, OutcomeDiscontinued:
		return true
	}
	return false
}

// AppealOutcome is the result of an appeal.
type AppealOutcome string

// Appeal outcomes.
const (
	AppealUpheld    AppealOutcome = "UPHELD"    // the contested decision is annulled
	AppealDismissed AppealOutcome = "DISMISSED" // the contested decision stands
	AppealWithdrawn AppealOutcome = "WITHDRAWN"
)

// AppealOutcomes lists the closed set.
func AppealOutcomes() []AppealOutcome {
	return []AppealOutcome{AppealUpheld, AppealDismissed, AppealWithdrawn}
}

// ExtensionReason is why a transfer deadline is extended (Dublin III 29(2), AMMR 46(2)).
type ExtensionReason string

// Extension reasons.
const (
	ExtensionImprisonment ExtensionReason = "IMPRISONMENT"
	ExtensionAbsconding   ExtensionReason = "ABSCONDING"
)

// ExtensionReasons lists the closed set.
func ExtensionReasons() []ExtensionReason {
	return []ExtensionReason{ExtensionImprisonment, ExtensionAbsconding}
}

// Evidence is what a Dublin request rests on; a Eurodac or VIS hit shortens
// the request and reply periods.
type Evidence string

// Evidence kinds.
const (
	EvidenceEurodacHit Evidence = "EURODAC_HIT"
	EvidenceVISHit     Evidence = "VIS_HIT"
	EvidenceOther      Evidence = "OTHER"
)

// Evidences lists the closed set.
func Evidences() []Evidence { return []Evidence{EvidenceEurodacHit, EvidenceVISHit, EvidenceOther} }

// DocumentType classifies an anchored document.
type DocumentType string

// Document types.
const (
	DocApplication      DocumentType = "APPLICATION"
	DocHearingMinutes   DocumentType = "HEARING_MINUTES"
	DocDecision         DocumentType = "DECISION"
	DocAppealRuling     DocumentType = "APPEAL_RULING"
	DocDublinRequest    DocumentType = "DUBLIN_REQUEST"
	DocDublinReply      DocumentType = "DUBLIN_REPLY"
	DocTransferDecision DocumentType = "TRANSFER_DECISION"
	DocOther            DocumentType = "OTHER"
)

// DocumentTypes lists the closed set.
func DocumentTypes() []DocumentType {
	return []DocumentType{DocApplication, DocHearingMinutes, DocDecision, DocAppealRuling,
		DocDublinRequest, DocDublinReply, DocTransferDecision, DocOther}
}

// ClosureReason says why a case was closed.
type ClosureReason string

// Closure reasons.
const (
	ClosureProtectionGranted ClosureReason = "PROTECTION_GRANTED"
	ClosureDeparted          ClosureReason = "DEPARTED"        // voluntary departure or removal
	ClosureTransferred       ClosureReason = "TRANSFERRED"     // Dublin transfer completed
	ClosureResponsible       ClosureReason = "NOW_RESPONSIBLE" // requesting state examines the application
	ClosureNoApplication     ClosureReason = "NO_APPLICATION"  // registered, but no application followed
	ClosureWithdrawn         ClosureReason = "WITHDRAWN"
	ClosureOther             ClosureReason = "OTHER"
)

// ClosureReasons lists the closed set.
func ClosureReasons() []ClosureReason {
	return []ClosureReason{ClosureProtectionGranted, ClosureDeparted, ClosureTransferred,
		ClosureResponsible, ClosureNoApplication, ClosureWithdrawn, ClosureOther}
}

// RegionCodes lists the closed set of allocation regions: the ISO 3166-2
// subdivisions (federal states / Länder) of the member states in the demo
// network, sorted. Adding a state's regions is a vocabulary change.
func RegionCodes() []string {
	return []string{
		"AT-1", "AT-2", "AT-3", "AT-4", "AT-5", "AT-6", "AT-7", "AT-8", "AT-9",
		"DE-BB", "DE-BE", "DE-BW", "DE-BY", "DE-HB", "DE-HE", "DE-HH", "DE-MV",
		"DE-NI", "DE-NW", "DE-RP", "DE-SH", "DE-SL", "DE-SN", "DE-ST", "DE-TH",
	}
}

// IsRegionCode reports whether s is in RegionCodes.
func IsRegionCode(s string) bool {
	_, ok := slices.BinarySearch(RegionCodes(), s)
	return ok
}
