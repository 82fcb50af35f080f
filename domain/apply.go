package domain

import (
	"errors"
	"slices"

	"github.com/caseledger/caseledger/domain/deadline"
)

// Apply checks a submitted event against the caller, the workflow table, the
// time rules and the Dublin clock, and returns the case's next state and the
// event to record. prev is nil for a case not on the ledger. Apply is pure:
// all outside facts come in through env.
func Apply(prev *CaseState, pseudonym string, in EventInput, actor Actor, env Env) (CaseState, Event, error) {
	if err := CheckPseudonym(pseudonym); err != nil {
		return CaseState{}, Event{}, err
	}
	if err := in.validateStatic(); err != nil {
		return CaseState{}, Event{}, err
	}
	spec, _ := Spec(in.Code)
	if spec.System {
		return CaseState{}, Event{}, Errorf(KindInvalidArgument,
			"%s is recorded by ResolveDeadlines once its deadline has passed, not submitted", in.Code)
	}
	return apply(prev, pseudonym, in, actor, env, false)
}

// ResolveDeadlines records the legal consequence of a passed deadline:
// IMPLICITLY_ACCEPTED when the reply (or confirmation) period of the pending
// request has expired, RESPONSIBILITY_SHIFTED when the transfer period has.
// It refuses with DEADLINE_NOT_REACHED before that, and INVALID_TRANSITION
// when no deadline with such a consequence runs.
func ResolveDeadlines(prev *CaseState, actor Actor, env Env) (CaseState, Event, error) {
	if prev == nil {
		return CaseState{}, Event{}, Errorf(KindNotFound, "case not found")
	}
	if prev.Procedure != ProcedureDublin || prev.Dublin == nil {
		return CaseState{}, Event{}, Errorf(KindInvalidTransition, "only Dublin cases have deadlines to resolve")
	}
	d := prev.Dublin
	var code EventCode
	var due Deadline
	if dl, ok := d.deadline(DeadlineReply); ok && dl.implicitAcceptance() {
		code, due = EvImplicitlyAccepted, dl
	} else if dl, ok := d.deadline(DeadlineTransfer); ok && dl.OnLapse == deadline.ResponsibilityShifts {
		code, due = EvResponsibilityShifted, dl
	} else {
		return CaseState{}, Event{}, Errorf(KindInvalidTransition, "no running deadline whose lapse has a consequence to record")
	}
	in := EventInput{VocabularyVersion: VocabularyVersion, Code: code, OccurredOn: due.Due.String()}
	return apply(prev, prev.Pseudonym, in, actor, env, true)
}

// bindingDeadline returns a running Dublin deadline that binds a member
// state: one whose lapse has a legal consequence not yet recorded (expired
// or not), or one that has not expired yet (a right to act that runs).
func (s *CaseState) bindingDeadline(env Env) (Deadline, bool) {
	if s.Dublin == nil {
		return Deadline{}, false
	}
	// A consequence that a step dated in time may still supersede binds
	// until the late-recording window after its deadline has passed.
	if rv := s.Dublin.Revocable; rv != nil &&
		!deadline.Expired(rv.Deadline.Due.AddDays(env.LateWindowDays), env.Today(rv.Deadline.ActingMemberState)) {
		return rv.Deadline, true
	}
	for _, dl := range s.Dublin.Deadlines {
		if dl.Kind.requestLimit() {
			continue // the requesting state's own limit: nobody else's right runs
		}
		if dl.implicitAcceptance() || dl.OnLapse == deadline.ResponsibilityShifts {
			return dl, true
		}
		if !deadline.Expired(dl.Due, env.Today(dl.ActingMemberState)) {
			return dl, true
		}
	}
	return Deadline{}, false
}

func (dl Deadline) implicitAcceptance() bool {
	return !dl.RequestLate && (dl.OnLapse == deadline.ImplicitAcceptance || dl.OnLapse == deadline.ImplicitConfirmation)
}

func (d *DublinFacts) deadline(k DeadlineKind) (Deadline, bool) {
	for _, dl := range d.Deadlines {
		if dl.Kind == k {
			return dl, true
		}
	}
	return Deadline{}, false
}

func (d *DublinFacts) setDeadline(dl Deadline) {
	d.dropDeadline(dl.Kind)
	d.Deadlines = append(d.Deadlines, dl)
	slices.SortFunc(d.Deadlines, func(a, b Deadline) int { return a.Due.Compare(b.Due) })
}

func (d *DublinFacts) dropDeadline(kinds ...DeadlineKind) {
	d.Deadlines = slices.DeleteFunc(d.Deadlines, func(dl Deadline) bool { return slices.Contains(kinds, dl.Kind) })
}

// apply is the common path of submitted and system events.
func apply(prev *CaseState, pseudonym string, in EventInput, actor Actor, env Env, system bool) (CaseState, Event, error) {
	fail := func(err error) (CaseState, Event, error) { return CaseState{}, Event{}, err }
	proc := env.Channel.Procedure
	spec, _ := Spec(in.Code)
	if !spec.OnProcedure(proc) {
		return fail(Errorf(KindInvalidArgument, "%s is not recorded on a %s channel", in.Code, proc))
	}
	if err := checkWriter(actor, env); err != nil {
		return fail(err)
	}
	if in.Code == EvCaseRegistered && proc != ProcedureDublin && in.ApplicationRegisteredOn != "" {
		return fail(Errorf(KindInvalidArgument, "%s: request facts are recorded on the Dublin channel only", FieldApplicationOn))
	}
	switch {
	case prev == nil && in.Code != EvCaseRegistered:
		return fail(Errorf(KindNotFound, "case not found"))
	case prev != nil && in.Code == EvCaseRegistered:
		return fail(Errorf(KindAlreadyExists, "case already registered"))
	case prev != nil && prev.Procedure != proc:
		return fail(Errorf(KindInternal, "case procedure does not match the channel"))
	case prev != nil && prev.Erasure != nil && in.Code != EvErasureConfirmed:
		if in.Code == EvErasureRequested {
			return fail(Errorf(KindAlreadyExists, "erasure already requested"))
		}
		return fail(Errorf(KindInvalidTransition, "erasure requested: the case accepts only erasure confirmations"))
	}

	// A step that answers the deadline whose lapse was recorded as an
	// automatic consequence is judged against the case as it was before that
	// consequence: dated in time, it supersedes it (and what followed it).
	cur := prev
	var sup *Supersession
	if rv := prev.revocable(); rv != nil && supersedes(rv.Code, in.Code) {
		before := prev.before(rv)
		cur = &before
		sup = &Supersession{Code: rv.Code, Seq: rv.Seq, TxID: rv.TxID, Due: rv.Deadline.Due,
			ByCode: in.Code, BySeq: prev.Seq + 1, ByTxID: env.TxID, ByOccurred: in.OccurredOn}
	}
	row, err := pickTransition(cur, in.Code, actor, proc)
	if err != nil {
		return fail(err)
	}
	today := env.Today(actor.Member.MemberState)
	occurred, err := deadline.ParseDate(in.OccurredOn)
	if err != nil {
		return fail(Errorf(KindInvalidArgument, "occurredOn: must be a date YYYY-MM-DD"))
	}
	if err := checkGuard(cur, row.Guard, actor, env, occurred); err != nil {
		return fail(err)
	}
	if err := checkTimeRules(cur, in, occurred, today, env, system); err != nil {
		return fail(err)
	}
	next, err := step(cur, pseudonym, in, occurred, today, row, actor, env)
	if err != nil {
		return fail(err)
	}
	if next.Dublin != nil {
		switch {
		case sup != nil:
			next.Dublin.Superseded = append(slices.Clone(prev.Dublin.Superseded), *sup)
		case system:
			// The consequence stays revocable while a step dated in time can
			// still be recorded (the late-recording window after the due day).
			due, _ := cur.Dublin.deadline(map[EventCode]DeadlineKind{EvImplicitlyAccepted: DeadlineReply, EvResponsibilityShifted: DeadlineTransfer}[in.Code])
			prior := cur.Dublin.cloneFacts()
			prior.Revocable, prior.Superseded = nil, nil
			next.Dublin.Revocable = &Revocable{Code: in.Code, Seq: next.Seq, TxID: env.TxID, Deadline: due,
				PriorStatus: cur.Status, PriorLastOccurredOn: cur.LastOccurredOn, PriorDublin: prior}
		}
	}

	ev := Event{
		VocabularyVersion: VocabularyVersion,
		Pseudonym:         pseudonym,
		Seq:               next.Seq,
		Code:              in.Code,
		OccurredOn:        in.OccurredOn,
		RecordedOn:        today.String(),
		RecordedAt:        env.TxTime.UTC().Format("2006-01-02T15:04:05.000000000Z"),
		LateDays:          occurred.DaysUntil(today),
		MSPID:             actor.Member.MSPID,
		Role:              actor.Role,
		TxID:              env.TxID,
		RequestID:         env.RequestID,
		Supersedes:        sup,
		EventFields:       in.EventFields,
	}
	if ev.LateDays < 0 {
		ev.LateDays = 0 // a system event dated on a deadline in another zone
	}
	return next, ev, nil
}

// supersedes reports whether a step, dated in time, supersedes an automatic
// consequence: a reply an implicit acceptance, a transfer or an extension a
// responsibility shift.
func supersedes(consequence, code EventCode) bool {
	switch consequence {
	case EvImplicitlyAccepted:
		return code == EvRequestAccepted || code == EvRequestRejected
	case EvResponsibilityShifted:
		return code == EvTransferCompleted || code == EvTransferDeadlineExtended
	}
	return false
}

// revocable returns the consequence a late-recorded step may still supersede.
func (s *CaseState) revocable() *Revocable {
	if s == nil || s.Dublin == nil || s.Erasure != nil {
		return nil
	}
	return s.Dublin.Revocable
}

// before returns the case as it was before the consequence rv: its status,
// procedure date and Dublin facts; sequence, holders and the list of
// superseded consequences stay as they are now.
func (s *CaseState) before(rv *Revocable) CaseState {
	c := s.clone()
	c.Status = rv.PriorStatus
	c.LastOccurredOn = rv.PriorLastOccurredOn
	d := rv.PriorDublin.cloneFacts()
	d.Superseded = slices.Clone(s.Dublin.Superseded)
	c.Dublin = d
	return c
}

// step computes the next state of an admitted event.
func step(prev *CaseState, pseudonym string, in EventInput, occurred, today deadline.Date, row Transition, actor Actor, env Env) (CaseState, error) {
	proc := env.Channel.Procedure
	next := prev.clone()
	if prev == nil {
		next = CaseState{
			Pseudonym:              pseudonym,
			Procedure:              proc,
			RegisteredBy:           actor.Member.MSPID,
			RegisteredOn:           today.String(),
			RegistrationOccurredOn: occurred.String(),
		}
	}
	switch proc {
	case ProcedureNational:
		applyNational(&next, in)
	case ProcedureDublin:
		if err := applyDublin(&next, prev, in, occurred, actor, env); err != nil {
			return CaseState{}, err
		}
	}
	if in.Code == EvErasureRequested || in.Code == EvErasureConfirmed {
		applyErasure(&next, in.Code, actor, today)
	}

	if row.To != "" {
		next.Status = row.To
	}
	if in.Code == EvAppealDecided && proc == ProcedureDublin {
		// An upheld appeal annuls the transfer decision; otherwise it stands.
		next.Status = StTransferDecisionIssued
		if in.AppealOutcome == AppealUpheld {
			next.Status = StAccepted
		}
	}
	next.Seq++
	next.LastEvent = in.Code
	next.UpdatedOn = today.String()
	if workflowEvent(in.Code) {
		next.LastOccurredOn = in.OccurredOn
	}
	// Holding is an explicit relation: only the rows that say so (register,
	// bind, take over) add the caller; no other write does.
	if row.Holds && !slices.Contains(next.Holders, actor.Member.MSPID) {
		next.Holders = append(next.Holders, actor.Member.MSPID)
		slices.Sort(next.Holders)
	}
	return next, nil
}

// workflowEvent: events that move along the procedure (their dates must not
// go backwards); anchors, binding and erasure stand aside.
func workflowEvent(c EventCode) bool {
	return c != EvDocumentAnchored && c != EvErasureRequested && c != EvErasureConfirmed && c != EvCaseBound &&
		c != EvReceiptAcknowledged && c != EvRequestFactsRecorded
}

// IsWorkflowEvent reports whether an event moves the procedure along (and
// so can be superseded with the consequence it followed).
func IsWorkflowEvent(c EventCode) bool { return workflowEvent(c) }

// checkWriter: only members on this channel, never an auditor, and only with
// a known role.
func checkWriter(actor Actor, env Env) error {
	if !env.Channel.OnChannel(actor.Member.MSPID) {
		return Errorf(KindForbidden, "%s is not a member of channel %s", actor.Member.MSPID, env.Channel.Name)
	}
	if actor.Member.Kind == AgencyAuditor || actor.Role == RoleAuditor {
		return Errorf(KindForbidden, "auditors read, they never write")
	}
	if !actor.Role.Valid() {
		return Errorf(KindForbidden, "unknown role")
	}
	return nil
}

// pickTransition finds the table row for code that the actor may perform
// from the case's status. Order of refusals: the agency/role may never
// record this event (FORBIDDEN), the case is not in a status the event may
// follow (INVALID_TRANSITION), the caller is not the party this case needs
// (FORBIDDEN).
func pickTransition(prev *CaseState, code EventCode, actor Actor, proc Procedure) (Transition, error) {
	var byRole []Transition
	for _, t := range Transitions(proc) {
		if t.Event == code && slices.Contains(t.Agencies, actor.Member.Kind) && slices.Contains(t.Roles, actor.Role) {
			byRole = append(byRole, t)
		}
	}
	if len(byRole) == 0 {
		return Transition{}, Errorf(KindForbidden, "agency kind %s with role %s may not record %s", actor.Member.Kind, actor.Role, code)
	}
	var byStatus []Transition
	for _, t := range byRole {
		if prev == nil && len(t.From) == 0 || prev != nil && t.Allows(prev.Status) {
			byStatus = append(byStatus, t)
		}
	}
	if len(byStatus) == 0 {
		return Transition{}, Errorf(KindInvalidTransition, "%s may not follow status %s", code, statusOf(prev))
	}
	for _, t := range byStatus {
		if isParty(prev, t.Party, actor) {
			return t, nil
		}
	}
	return Transition{}, Errorf(KindForbidden, "%s on this case is for the %s", code, partyText(byStatus[0].Party))
}

func statusOf(s *CaseState) Status {
	if s == nil {
		return "NONE"
	}
	return s.Status
}

func partyText(p Party) string {
	switch p {
	case PartyRequesting:
		return "requesting state's Dublin unit"
	case PartyRequested:
		return "requested state's Dublin unit"
	case PartyHolder:
		return "agencies that hold the case (registered it, bound a reference to it or took it over)"
	case PartyInvolved:
		return "Dublin units of the requesting and the requested state"
	}
	return "admitted agencies"
}

func isParty(prev *CaseState, p Party, actor Actor) bool {
	m := actor.Member
	switch p {
	case PartyAny:
		return true
	case PartyHolder:
		return prev != nil && slices.Contains(prev.Holders, m.MSPID)
	}
	if prev == nil || prev.Dublin == nil || !m.DublinUnit {
		return false
	}
	d := prev.Dublin
	switch p {
	case PartyRequesting:
		return m.MemberState == d.RequestingMemberState
	case PartyRequested:
		return d.RequestedMemberState != "" && m.MemberState == d.RequestedMemberState
	case PartyInvolved:
		return m.MemberState == d.RequestingMemberState || d.RequestedMemberState != "" && m.MemberState == d.RequestedMemberState
	}
	return false
}

// checkTimeRules: occurredOn never after the transaction's date (in the
// recording state's zone), at most LateWindowDays before it, and not before
// the previous step of the procedure. System events carry a computed date
// (the deadline) and skip the window.
func checkTimeRules(prev *CaseState, in EventInput, occurred, today deadline.Date, env Env, system bool) error {
	if occurred.After(today) {
		return Errorf(KindInvalidArgument, "occurredOn lies after the transaction's date")
	}
	if !system && occurred.Before(today.AddDays(-env.LateWindowDays)) {
		return Errorf(KindInvalidArgument, "occurredOn lies more than %d days before the transaction's date (late-recording window)", env.LateWindowDays)
	}
	if prev != nil && workflowEvent(in.Code) && prev.LastOccurredOn != "" && in.OccurredOn < prev.LastOccurredOn {
		return Errorf(KindInvalidArgument, "occurredOn lies before the previous step of the procedure")
	}
	// Other dates of the payload, relative to the act.
	f := in.EventFields
	notAfterToday := func(field Field, s string) error {
		if s != "" && s > today.String() {
			return Errorf(KindInvalidArgument, "%s lies after the transaction's date", field)
		}
		return nil
	}
	notBefore := func(field Field, s, ref string, refName string) error {
		if s != "" && s < ref {
			return Errorf(KindInvalidArgument, "%s lies before %s", field, refName)
		}
		return nil
	}
	notAfter := func(field Field, s, ref string, refName string) error {
		if s != "" && s > ref {
			return Errorf(KindInvalidArgument, "%s lies after %s", field, refName)
		}
		return nil
	}
	return errors.Join(
		notAfterToday(FieldReceivedOn, f.ReceivedOn),
		notBefore(FieldReceivedOn, f.ReceivedOn, in.OccurredOn, "occurredOn"),
		notAfter(FieldApplicationOn, f.ApplicationRegisteredOn, in.OccurredOn, "occurredOn"),
		notAfter(FieldEvidenceOn, f.EvidenceReceivedOn, in.OccurredOn, "occurredOn"),
		notBefore(FieldScheduledFor, f.ScheduledFor, in.OccurredOn, "occurredOn"),
		notBefore(FieldReplyDue, f.UrgentReplyDue, f.ReceivedOn, "receivedOn"),
	)
}

// checkGuard evaluates a transition's extra condition.
// Deadline guards of submitted steps compare the step's own date with the
// deadline: whether an act was in time is decided by when it happened, not
// when it was recorded (the late-recording window bounds the latter).
func checkGuard(prev *CaseState, g Guard, actor Actor, env Env, occurred deadline.Date) error {
	switch g {
	case GuardNone:
		return nil
	case GuardNegativeDecision:
		n := prev.National
		// NegativeDecision, or for states recorded before it was derived, the outcome itself.
		if n == nil || !(n.NegativeDecision || (n.Outcome.Negative() && n.AppealOutcome != AppealUpheld)) {
			return Errorf(KindInvalidTransition, "return counselling follows an enforceable negative decision only")
		}
		return nil
	case GuardNoErasure:
		if prev.Erasure != nil {
			return Errorf(KindAlreadyExists, "erasure already requested")
		}
		return nil
	case GuardNoRunningDeadline:
		if prev.Erasure != nil {
			return Errorf(KindAlreadyExists, "erasure already requested")
		}
		if dl, ok := prev.bindingDeadline(env); ok {
			return Errorf(KindInvalidTransition,
				"the %s deadline (due %s, acting state %s) binds a member state: erasure waits until it has lapsed and its consequence is recorded, or the procedure moves on",
				dl.Kind, dl.Due, dl.ActingMemberState)
		}
		return nil
	case GuardNotHolder:
		if slices.Contains(prev.Holders, actor.Member.MSPID) {
			return Errorf(KindAlreadyExists, "%s already holds the case", actor.Member.MSPID)
		}
		return nil
	case GuardErasurePending:
		if prev.Erasure == nil {
			return Errorf(KindInvalidTransition, "no erasure requested")
		}
		if slices.Contains(prev.Erasure.Confirmed, actor.Member.MSPID) {
			return Errorf(KindAlreadyExists, "erasure already confirmed by %s", actor.Member.MSPID)
		}
		if !slices.Contains(prev.Erasure.Pending, actor.Member.MSPID) {
			return Errorf(KindForbidden, "%s held no data on this case when erasure was requested", actor.Member.MSPID)
		}
		return nil
	}
	d := prev.Dublin
	if d == nil {
		return Errorf(KindInternal, "Dublin guard on a case without Dublin facts")
	}
	expired := func(k DeadlineKind) (Deadline, bool, bool) {
		dl, ok := d.deadline(k)
		if !ok {
			return dl, false, false
		}
		return dl, true, deadline.Expired(dl.Due, env.Today(dl.ActingMemberState))
	}
	// lateAct: the step's own date lies after the running deadline.
	lateAct := func(k DeadlineKind) (Deadline, bool) {
		dl, ok := d.deadline(k)
		return dl, ok && occurred.After(dl.Due)
	}
	switch g {
	case GuardReceiptDate:
		sent := mustDate(prev.LastOccurredOn)
		onLedger := d.RequestOnLedgerOn
		switch {
		case occurred.Before(sent):
			return Errorf(KindInvalidArgument, "occurredOn: receipt cannot precede the request (%s)", sent)
		case !onLedger.IsZero() && occurred.After(onLedger):
			return Errorf(KindInvalidArgument, "occurredOn: the request was on the ledger on %s; receipt cannot be acknowledged later", onLedger)
		case !d.ReceiptAcknowledgedOn.IsZero() && !occurred.Before(d.ReceiptAcknowledgedOn):
			return Errorf(KindAlreadyExists, "receipt already acknowledged on %s (only an earlier date may follow)", d.ReceiptAcknowledgedOn)
		}
		return nil
	case GuardReplyDeadlineOpen:
		if dl, late := lateAct(DeadlineReply); late {
			return Errorf(KindDeadlinePassed, "occurredOn lies after the reply deadline (%s)", dl.Due)
		}
		return nil
	case GuardReplyDeadlinePassed:
		dl, ok, exp := expired(DeadlineReply)
		switch {
		case !ok || !dl.implicitAcceptance():
			return Errorf(KindInvalidTransition, "no reply deadline whose lapse means acceptance")
		case !exp:
			return Errorf(KindDeadlineNotReached, "the reply deadline has not passed yet")
		}
		return nil
	case GuardReexaminationOpen:
		if d.Reexamined {
			return Errorf(KindInvalidTransition, "re-examination was already requested for this request")
		}
		if err := d.reexaminationProvided(env); err != nil {
			return err
		}
		if dl, late := lateAct(DeadlineReexamination); late {
			return Errorf(KindDeadlinePassed, "occurredOn lies after the period to request re-examination (%s)", dl.Due)
		}
		return nil
	case GuardTransferDeadlineOpen:
		if dl, late := lateAct(DeadlineTransfer); late {
			return Errorf(KindDeadlinePassed, "occurredOn lies after the transfer deadline (%s)", dl.Due)
		}
		return nil
	case GuardTransferDeadlinePassed:
		dl, ok, exp := expired(DeadlineTransfer)
		switch {
		case !ok || dl.OnLapse != deadline.ResponsibilityShifts:
			return Errorf(KindInvalidTransition, "no transfer deadline is running")
		case !exp:
			return Errorf(KindDeadlineNotReached, "the transfer deadline has not passed yet")
		}
		return nil
	case GuardNotExtended:
		if d.Extension != "" {
			return Errorf(KindInvalidTransition, "the transfer deadline was already extended")
		}
		if _, ok := d.deadline(DeadlineTransfer); !ok {
			return Errorf(KindInvalidTransition, "no transfer deadline is running")
		} else if dl, late := lateAct(DeadlineTransfer); late {
			return Errorf(KindDeadlinePassed, "occurredOn lies after the transfer deadline (%s); it can no longer be extended", dl.Due)
		}
		return nil
	}
	return Errorf(KindInternal, "unknown guard %s", g)
}

func applyNational(next *CaseState, in EventInput) {
	if next.National == nil {
		next.National = &NationalFacts{}
	}
	n := next.National
	switch in.Code {
	case EvIdentityChecked:
		n.EurodacHit = in.EurodacHit
	case EvAllocated:
		n.RegionCode = in.RegionCode
	case EvDecisionIssued:
		n.Outcome = in.Outcome
		n.AppealSuspensive, n.AppealOutcome = nil, ""
		n.NegativeDecision = in.Outcome.Negative()
	case EvAppealFiled:
		n.AppealSuspensive = in.Suspensive
		n.AppealOutcome = ""
	case EvAppealDecided:
		n.AppealOutcome = in.AppealOutcome
		if in.AppealOutcome == AppealUpheld {
			n.NegativeDecision = false
		}
	}
}

func applyErasure(next *CaseState, code EventCode, actor Actor, today deadline.Date) {
	switch code {
	case EvErasureRequested:
		// Every holder confirms, the requester included: each erases its own
		// privacy-service records. The case's skeleton (codes, dates, facts)
		// stays. GuardNoRunningDeadline admitted the request only with no
		// deadline that binds a member state, so what is dropped here are
		// expired limits without a consequence (shown on the board only).
		holders := slices.Clone(next.Holders)
		next.Erasure = &ErasureFacts{RequestedBy: actor.Member.MSPID, RequestedOn: today.String(), Pending: holders, Confirmed: []string{}}
		if next.Dublin != nil {
			next.Dublin.Deadlines = []Deadline{}
		}
	case EvErasureConfirmed:
		e := next.Erasure
		e.Pending = slices.DeleteFunc(e.Pending, func(id string) bool { return id == actor.Member.MSPID })
		e.Confirmed = append(e.Confirmed, actor.Member.MSPID)
		slices.Sort(e.Confirmed)
		if len(e.Pending) == 0 {
			e.CompletedOn = today.String()
		}
	}
}

// clone deep-copies a state (nil gives the zero state).
func (s *CaseState) clone() CaseState {
	if s == nil {
		return CaseState{}
	}
	c := *s
	c.Holders = slices.Clone(s.Holders)
	if s.National != nil {
		n := *s.National
		if s.National.AppealSuspensive != nil {
			b := *s.National.AppealSuspensive
			n.AppealSuspensive = &b
		}
		c.National = &n
	}
	c.Dublin = s.Dublin.cloneFacts()
	if s.Erasure != nil {
		e := *s.Erasure
		e.Pending = slices.Clone(s.Erasure.Pending)
		e.Confirmed = slices.Clone(s.Erasure.Confirmed)
		c.Erasure = &e
	}
	return c
}

// cloneFacts deep-copies Dublin facts (nil gives nil).
func (d *DublinFacts) cloneFacts() *DublinFacts {
	if d == nil {
		return nil
	}
	c := *d
	c.Deadlines = cloneDeadlines(d.Deadlines)
	c.Superseded = slices.Clone(d.Superseded)
	if d.Revocable != nil {
		rv := *d.Revocable
		rv.Deadline.HolidaysMissing = slices.Clone(rv.Deadline.HolidaysMissing)
		rv.PriorDublin = d.Revocable.PriorDublin.cloneFacts()
		c.Revocable = &rv
	}
	return &c
}

func cloneDeadlines(in []Deadline) []Deadline {
	out := make([]Deadline, len(in))
	for i, dl := range in {
		dl.HolidaysMissing = slices.Clone(dl.HolidaysMissing)
		out[i] = dl
	}
	return out
}
