package domain

import "slices"

// Status is a case's position in its procedure's state machine.
type Status string

// National procedure statuses.
const (
	StRegistered        Status = "REGISTERED"
	StIdentityChecked   Status = "IDENTITY_CHECKED"
	StFileCreated       Status = "FILE_CREATED"
	StAllocated         Status = "ALLOCATED"
	StApplicationLodged Status = "APPLICATION_LODGED"
	StHearingScheduled  Status = "HEARING_SCHEDULED"
	StHearingHeld       Status = "HEARING_HELD"
	StDecisionIssued    Status = "DECISION_ISSUED"
	StAppealFiled       Status = "APPEAL_FILED"
	StAppealDecided     Status = "APPEAL_DECIDED"
	StReturnCounselling Status = "RETURN_COUNSELLING"
	StClosed            Status = "CLOSED"
)

// Dublin procedure statuses (REGISTERED, APPEAL_FILED and CLOSED are shared).
const (
	StTakeChargeRequested    Status = "TAKE_CHARGE_REQUESTED"
	StTakeBackRequested      Status = "TAKE_BACK_REQUESTED"
	StTakeBackNotified       Status = "TAKE_BACK_NOTIFIED"
	StAccepted               Status = "ACCEPTED"
	StImplicitlyAccepted     Status = "IMPLICITLY_ACCEPTED"
	StRejected               Status = "REJECTED"
	StReexaminationRequested Status = "REEXAMINATION_REQUESTED"
	StTransferDecisionIssued Status = "TRANSFER_DECISION_ISSUED"
	StTransferScheduled      Status = "TRANSFER_SCHEDULED"
	StTransferCompleted      Status = "TRANSFER_COMPLETED"
	StResponsibilityShifted  Status = "RESPONSIBILITY_SHIFTED"
)

// Statuses lists the statuses of a procedure (for validation of list queries).
func Statuses(p Procedure) []Status {
	seen := map[Status]bool{}
	var out []Status
	for _, t := range Transitions(p) {
		for _, s := range append(slices.Clone(t.From), t.To) {
			if s != "" && s != anyActive && s != anyStatus && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// IsStatus reports whether s is a status of procedure p.
func IsStatus(p Procedure, s Status) bool { return slices.Contains(Statuses(p), s) }

// Party narrows who, among the agencies a transition admits, may perform it
// on a given case.
type Party string

const (
	// PartyAny: any member of an admitted agency kind. Only rows where the
	// agency kind itself is the competent authority use it: registering a
	// new case, and the take-overs the tables name (Holds).
	PartyAny Party = "ANY"
	// PartyRequesting: the Dublin unit of the state that opened the Dublin
	// case and sends the requests (the transferring state).
	PartyRequesting Party = "REQUESTING_STATE"
	// PartyRequested: the Dublin unit of the state the pending request names.
	PartyRequested Party = "REQUESTED_STATE"
	// PartyHolder: an agency that holds the case (CaseState.Holders): it
	// registered it, bound its own reference to it (CASE_BOUND) or took it
	// over by a row marked Holds.
	PartyHolder Party = "HOLDER"
	// PartyInvolved: the Dublin unit of the requesting or the requested state.
	PartyInvolved Party = "INVOLVED_STATE"
)

// Guard names an extra condition of a transition, checked against the case.
type Guard string

const (
	GuardNone Guard = ""
	// GuardNegativeDecision: the last decision obliges the person to leave and
	// no appeal against it was upheld.
	GuardNegativeDecision Guard = "NEGATIVE_DECISION"
	// GuardReplyDeadlineOpen: the reply deadline has not passed (else DEADLINE_PASSED).
	GuardReplyDeadlineOpen Guard = "REPLY_DEADLINE_OPEN"
	// GuardReplyDeadlinePassed: the reply deadline has passed (else DEADLINE_NOT_REACHED).
	GuardReplyDeadlinePassed Guard = "REPLY_DEADLINE_PASSED"
	// GuardReexaminationOpen: no re-examination was asked for this request yet,
	// and the three weeks after the negative reply have not passed.
	GuardReexaminationOpen Guard = "REEXAMINATION_OPEN"
	// GuardTransferDeadlineOpen: the transfer deadline has not passed.
	GuardTransferDeadlineOpen Guard = "TRANSFER_DEADLINE_OPEN"
	// GuardTransferDeadlinePassed: the transfer deadline has passed.
	GuardTransferDeadlinePassed Guard = "TRANSFER_DEADLINE_PASSED"
	// GuardNotExtended: the transfer deadline has not been extended yet.
	GuardNotExtended Guard = "NOT_EXTENDED"
	// GuardErasurePending: an erasure was requested and the caller has not
	// confirmed it yet.
	GuardErasurePending Guard = "ERASURE_PENDING"
	// GuardNoErasure: no erasure has been requested yet.
	GuardNoErasure Guard = "NO_ERASURE"
	// GuardNoRunningDeadline: no erasure has been requested yet, and no Dublin
	// deadline runs that binds a member state: none whose lapse has a legal
	// consequence (implicit acceptance or confirmation, responsibility
	// shift) unless it has been recorded, and none that has not expired. An
	// erasure freezes the case, so one member state alone must not be able
	// to stop the other's clock or take away its right to act.
	GuardNoRunningDeadline Guard = "NO_RUNNING_DEADLINE"
	// GuardNotHolder: the caller does not hold the case yet (else
	// ALREADY_EXISTS).
	GuardNotHolder Guard = "NOT_HOLDER"
	// GuardReceiptDate: the acknowledged receipt date lies between the
	// request's date and the day it reached the ledger, and before any
	// receipt date acknowledged already.
	GuardReceiptDate Guard = "RECEIPT_DATE"
)

// Wildcards in From.
const (
	anyActive Status = "*"  // every status of the procedure except CLOSED
	anyStatus Status = "**" // every status, CLOSED included
)

// Transition is one row of a workflow table: event Event moves a case from
// one of From to To ("" keeps the status), if the caller's agency kind is in
// Agencies, its role in Roles, it is the named Party and the Guard holds.
// Holds marks the rows that make the caller a holder of the case
// (registration, binding, take-overs); no other write does.
type Transition struct {
	Event    EventCode
	From     []Status
	To       Status
	Agencies []AgencyKind
	Roles    []Role
	Party    Party
	Guard    Guard
	Holds    bool `json:",omitempty"`
}

// Allows reports whether the transition starts from s.
func (t Transition) Allows(s Status) bool {
	if slices.Contains(t.From, anyStatus) {
		return true
	}
	if slices.Contains(t.From, anyActive) {
		return s != StClosed
	}
	return slices.Contains(t.From, s)
}

// Transitions returns the workflow table of a procedure. Erasure is an
// overlay: once requested, the case is frozen and only confirmations are
// accepted (Apply enforces this before consulting the table).
func Transitions(p Procedure) []Transition {
	switch p {
	case ProcedureNational:
		return append(nationalTransitions(), erasureTransitions(p)...)
	case ProcedureDublin:
		return append(dublinTransitions(), erasureTransitions(p)...)
	}
	return nil
}

// erasureTransitions: a holder may request erasure, in any status; each
// holder (as of the request) confirms once. On the Dublin channel the
// request waits until no deadline binds a member state (see
// GuardNoRunningDeadline).
func erasureTransitions(p Procedure) []Transition {
	r := roles(RoleCaseworker, RoleDublinOfficer, RoleAdmin)
	k, g := kinds(AgencyBorderPolice, AgencyAsylumOffice, AgencyImmigrationAuthority), GuardNoErasure
	if p == ProcedureDublin {
		k, g = dublinUnits(), GuardNoRunningDeadline
	}
	return []Transition{
		{Event: EvErasureRequested, From: sts(anyStatus), Agencies: k, Roles: r, Party: PartyHolder, Guard: g},
		{Event: EvErasureConfirmed, From: sts(anyStatus), Agencies: k, Roles: r, Party: PartyHolder, Guard: GuardErasurePending},
	}
}

func sts(s ...Status) []Status           { return s }
func kinds(k ...AgencyKind) []AgencyKind { return k }
func roles(r ...Role) []Role             { return r }

// dublinUnits: the agency kinds that run Dublin units.
func dublinUnits() []AgencyKind { return kinds(AgencyAsylumOffice, AgencyPartnerState) }

// anyWriterRole: roles that may record deadline consequences.
func anyWriterRole() []Role { return roles(RoleCaseworker, RoleDublinOfficer, RoleAdmin) }

func nationalTransitions() []Transition {
	cw := roles(RoleCaseworker)
	ao := kinds(AgencyAsylumOffice)
	first := kinds(AgencyBorderPolice, AgencyAsylumOffice, AgencyImmigrationAuthority) // meet applicants first
	// From the allocation on, the immigration authority of the region is
	// involved (residence, and return after a negative decision).
	allocated := sts(StAllocated, StApplicationLodged, StHearingScheduled, StHearingHeld, StDecisionIssued,
		StAppealFiled, StAppealDecided, StReturnCounselling)
	return []Transition{
		// Border police, the asylum office and the immigration authorities
		// all meet applicants first and may register them.
		{Event: EvCaseRegistered, To: StRegistered, Agencies: first, Roles: cw, Party: PartyAny, Holds: true},
		// Taking part in a case another agency registered: the asylum office
		// (competent for every application) at any time, the immigration
		// authority once the case is allocated. The border police only
		// hold what they registered.
		{Event: EvCaseBound, From: sts(anyActive), Agencies: ao, Roles: cw, Party: PartyAny, Guard: GuardNotHolder, Holds: true},
		{Event: EvCaseBound, From: allocated, Agencies: kinds(AgencyImmigrationAuthority), Roles: cw, Party: PartyAny, Guard: GuardNotHolder, Holds: true},
		{Event: EvIdentityChecked, From: sts(StRegistered), To: StIdentityChecked, Agencies: first, Roles: cw, Party: PartyHolder},
		// Creating the file is the asylum office's take-over of the case.
		{Event: EvFileCreated, From: sts(StIdentityChecked), To: StFileCreated, Agencies: ao, Roles: cw, Party: PartyAny, Holds: true},
		{Event: EvAllocated, From: sts(StFileCreated), To: StAllocated, Agencies: ao, Roles: cw, Party: PartyHolder},
		// Allocation is optional: an applicant may lodge where the file was created.
		{Event: EvApplicationLodged, From: sts(StFileCreated, StAllocated), To: StApplicationLodged, Agencies: ao, Roles: cw, Party: PartyHolder},
		// A hearing may be rescheduled.
		{Event: EvHearingScheduled, From: sts(StApplicationLodged, StHearingScheduled), To: StHearingScheduled, Agencies: ao, Roles: cw, Party: PartyHolder},
		{Event: EvHearingHeld, From: sts(StHearingScheduled), To: StHearingHeld, Agencies: ao, Roles: cw, Party: PartyHolder},
		// A decision without hearing is possible (e.g. inadmissible under
		// Dublin, or protection granted on the file).
		// ... and a new decision follows an upheld appeal.
		{Event: EvDecisionIssued, From: sts(StApplicationLodged, StHearingHeld, StAppealDecided), To: StDecisionIssued, Agencies: ao, Roles: cw, Party: PartyHolder},
		{Event: EvAppealFiled, From: sts(StDecisionIssued), To: StAppealFiled, Agencies: ao, Roles: cw, Party: PartyHolder},
		{Event: EvAppealDecided, From: sts(StAppealFiled), To: StAppealDecided, Agencies: ao, Roles: cw, Party: PartyHolder},
		// Return counselling follows an enforceable negative decision; it may
		// take several sessions. It is the immigration authority's take-over.
		{Event: EvReturnCounselling, From: sts(StDecisionIssued, StAppealDecided, StReturnCounselling), To: StReturnCounselling,
			Agencies: kinds(AgencyImmigrationAuthority), Roles: cw, Party: PartyAny, Guard: GuardNegativeDecision, Holds: true},
		// Closing: by the asylum office after a decision; by the immigration
		// authority after return counselling; by whoever holds a person who
		// never applied — always a holder.
		{Event: EvCaseClosed, From: sts(StDecisionIssued, StAppealDecided, StReturnCounselling), To: StClosed,
			Agencies: kinds(AgencyAsylumOffice, AgencyImmigrationAuthority), Roles: cw, Party: PartyHolder},
		{Event: EvCaseClosed, From: sts(StRegistered, StIdentityChecked), To: StClosed, Agencies: first, Roles: cw, Party: PartyHolder},
		{Event: EvDocumentAnchored, From: sts(anyActive), Agencies: first, Roles: roles(RoleCaseworker, RoleDublinOfficer), Party: PartyHolder},
	}
}

func dublinTransitions() []Transition {
	do := roles(RoleDublinOfficer)
	du := dublinUnits()
	requested := sts(StTakeChargeRequested, StTakeBackRequested, StTakeBackNotified)
	accepted := sts(StAccepted, StImplicitlyAccepted)
	// While a transfer is pending its clock runs (a non-suspensive appeal
	// does not stop it; a suspensive one removes the deadline, see Apply).
	transferOpen := sts(StAccepted, StImplicitlyAccepted, StTransferDecisionIssued, StTransferScheduled, StAppealFiled)
	return []Transition{
		// The Dublin unit that opens the case is the requesting state.
		{Event: EvCaseRegistered, To: StRegistered, Agencies: du, Roles: do, Party: PartyAny, Holds: true},
		// The requested state takes part by binding its own file to the case.
		{Event: EvCaseBound, From: sts(anyActive), Agencies: du, Roles: do, Party: PartyRequested, Guard: GuardNotHolder, Holds: true},
		// A case registered without the facts that start the request limit
		// gets them before its first request (once; Apply refuses a second).
		{Event: EvRequestFactsRecorded, From: sts(StRegistered), Agencies: du, Roles: do, Party: PartyRequesting},
		// Requests: a new one is possible after a final rejection.
		{Event: EvTakeChargeRequested, From: sts(StRegistered, StRejected), To: StTakeChargeRequested, Agencies: du, Roles: do, Party: PartyRequesting},
		{Event: EvTakeBackRequested, From: sts(StRegistered, StRejected), To: StTakeBackRequested, Agencies: du, Roles: do, Party: PartyRequesting},
		{Event: EvTakeBackNotified, From: sts(StRegistered, StRejected), To: StTakeBackNotified, Agencies: du, Roles: do, Party: PartyRequesting},
		// The requested state acknowledges receipt (its gateway does so when
		// it sees the request); the date may only move earlier.
		{Event: EvReceiptAcknowledged, From: requested, Agencies: du, Roles: anyWriterRole(), Party: PartyRequested, Guard: GuardReceiptDate},
		// Replies by the requested state, refused when dated after the
		// deadline. One dated in time and recorded late supersedes an
		// implicit acceptance recorded meanwhile (see Apply).
		{Event: EvRequestAccepted, From: requested, To: StAccepted, Agencies: du, Roles: do, Party: PartyRequested, Guard: GuardReplyDeadlineOpen},
		{Event: EvRequestRejected, From: requested, To: StRejected, Agencies: du, Roles: do, Party: PartyRequested, Guard: GuardReplyDeadlineOpen},
		// Re-examination (1560/2003 Art 5(2)): once, within three weeks of
		// the negative reply; the reply to it has no binding limit.
		{Event: EvReexaminationRequested, From: sts(StRejected), To: StReexaminationRequested, Agencies: du, Roles: do, Party: PartyRequesting, Guard: GuardReexaminationOpen},
		{Event: EvRequestAccepted, From: sts(StReexaminationRequested), To: StAccepted, Agencies: du, Roles: do, Party: PartyRequested},
		{Event: EvRequestRejected, From: sts(StReexaminationRequested), To: StRejected, Agencies: du, Roles: do, Party: PartyRequested},
		// Silence: either state may record the consequence once the deadline
		// has passed (their gateways do it by themselves, after a grace
		// period). Guards of the rows above compare the step's own date
		// (occurredOn) with the deadline, never the recording date.
		{Event: EvImplicitlyAccepted, From: requested, To: StImplicitlyAccepted, Agencies: du, Roles: anyWriterRole(), Party: PartyInvolved, Guard: GuardReplyDeadlinePassed},
		// Transfer by the requesting (transferring) state.
		{Event: EvTransferDecisionIssued, From: accepted, To: StTransferDecisionIssued, Agencies: du, Roles: do, Party: PartyRequesting, Guard: GuardTransferDeadlineOpen},
		{Event: EvAppealFiled, From: sts(StTransferDecisionIssued, StTransferScheduled), To: StAppealFiled, Agencies: du, Roles: do, Party: PartyRequesting},
		// The decided appeal returns to the decision (dismissed / withdrawn)
		// or to the acceptance (upheld: a new decision may be issued); Apply
		// sets the status and restarts the transfer clock after a
		// suspensive appeal.
		{Event: EvAppealDecided, From: sts(StAppealFiled), Agencies: du, Roles: do, Party: PartyRequesting},
		{Event: EvTransferScheduled, From: sts(StTransferDecisionIssued, StTransferScheduled), To: StTransferScheduled, Agencies: du, Roles: do, Party: PartyRequesting, Guard: GuardTransferDeadlineOpen},
		{Event: EvTransferCompleted, From: sts(StTransferScheduled), To: StTransferCompleted, Agencies: du, Roles: do, Party: PartyRequesting, Guard: GuardTransferDeadlineOpen},
		{Event: EvTransferDeadlineExtended, From: transferOpen, Agencies: du, Roles: do, Party: PartyRequesting, Guard: GuardNotExtended},
		{Event: EvResponsibilityShifted, From: transferOpen, To: StResponsibilityShifted, Agencies: du, Roles: anyWriterRole(), Party: PartyInvolved, Guard: GuardTransferDeadlinePassed},
		// The requesting state closes the case when the procedure has ended,
		// or when it takes responsibility itself while a transfer is pending
		// (discretionary clause, Dublin III Art 17 / AMMR Art 35).
		{Event: EvCaseClosed, From: append(sts(StRegistered, StRejected, StTransferCompleted, StResponsibilityShifted), transferOpen...), To: StClosed, Agencies: du, Roles: do, Party: PartyRequesting},
		{Event: EvDocumentAnchored, From: sts(anyActive), Agencies: du, Roles: do, Party: PartyHolder},
	}
}
