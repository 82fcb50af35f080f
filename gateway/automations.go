package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// Automations run by every writing agency's gateway:
//
//   - the deadline watcher records the consequence of a lapsed Dublin
//     deadline (IMPLICITLY_ACCEPTED, RESPONSIBILITY_SHIFTED) through
//     dublin:ResolveDeadlines. It polls the deadline board and also looks
//     right after every Dublin event. It waits GraceDays after a deadline
//     before recording its consequence, so a reply, transfer or extension
//     sent in time and recorded a little late rarely has to supersede it
//     (the chaincode admits the consequence from the day after the deadline
//     and keeps it revocable; docs/chaincode.md §6.3.2). requestIDs are
//     derived from pseudonym, deadline kind and due date, so repeated
//     attempts are one request to the chaincode; when two gateways race, the
//     state machine records the consequence once (the loser's retry finds
//     nothing left to resolve). When it sees a request addressed to the
//     agency's member state, it acknowledges receipt (RECEIPT_ACKNOWLEDGED
//     dated the day the request reached the ledger, §6.3.3).
//   - the erasure executor follows the event log: on ERASURE_REQUESTED, if
//     the request names the agency among the case's holders, it erases that
//     channel's entry of the case in the agency's own privacy service (never
//     another channel's) and, if it has not confirmed yet, records
//     erasure:ConfirmErasure. Its cursor only moves past an event once that
//     work is done.

// AutomationOptions configure the automations.
type AutomationOptions struct {
	// Disabled turns both automations off.
	Disabled bool
	// DeadlinePoll is the deadline watcher's polling interval.
	DeadlinePoll time.Duration
	// DeadlineGraceDays: the watcher records a consequence only once its
	// deadline lapsed more than this many days ago (0: the day after).
	DeadlineGraceDays int
	// AuditInterval, on an auditor's gateway, re-verifies every channel's
	// block chain at this interval (0: only on request).
	AuditInterval time.Duration
}

// periodicAudit verifies the chains now and then every interval.
func (s *Server) periodicAudit(ctx context.Context, every time.Duration) {
	for {
		rep, err := s.auditor.Verify(ctx)
		switch {
		case err != nil:
			s.log.Error("audit verification", "err", err)
		case !rep.Intact:
			s.log.Error("audit verification found the ledger inconsistent")
		default:
			s.log.Info("audit verification: ledger intact")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// automationNS namespaces the derived requestIDs of automations.
func automationNS() uuid.UUID { return uuid.MustParse("6f1e3a52-3c1d-4d8e-9b7a-2f4c8d9e0a11") }

func automationRequestID(parts ...string) string {
	b := []byte{}
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, 0)
	}
	return uuid.NewSHA1(automationNS(), b).String()
}

// writerRole picks the Fabric identity an automation writes with on a
// channel: the procedure's natural role, else admin.
func (s *Server) writerRole(p domain.Procedure) (domain.Role, bool) {
	roles := s.ledger.Roles()
	prefer := domain.RoleCaseworker
	if p == domain.ProcedureDublin {
		prefer = domain.RoleDublinOfficer
	}
	for _, r := range []domain.Role{prefer, domain.RoleAdmin} {
		if slices.Contains(roles, r) {
			return r, true
		}
	}
	return "", false
}

// runsErasureExecutor: every writing agency's gateway with automations on.
func (s *Server) runsErasureExecutor() bool {
	return !s.cfg.Automations.Disabled && !s.isAuditor()
}

func (s *Server) startAutomations(ctx context.Context) {
	if !s.isAuditor() {
		// Not an automation but the rest of a client's write: an erasure
		// plan left unfinished (a restart between two submissions) is
		// finished by the gateway, automations or not.
		s.goRun(func() { s.planResumer(ctx) })
	}
	if s.cfg.Automations.Disabled {
		return
	}
	if s.isAuditor() {
		if every := s.cfg.Automations.AuditInterval; every > 0 {
			s.goRun(func() { s.periodicAudit(ctx, every) })
		}
		return // auditors never write
	}
	s.goRun(func() { s.erasureExecutor(ctx) })
	if ch, err := s.channelFor(domain.ProcedureDublin); err == nil {
		if role, ok := s.writerRole(domain.ProcedureDublin); ok {
			s.goRun(func() { s.deadlineWatcher(ctx, ch, role) })
		}
	}
}

// isAuditor: the auditor agency holds only the auditor role.
func (s *Server) isAuditor() bool {
	for _, r := range s.ledger.Roles() {
		if r == domain.RoleCaseworker || r == domain.RoleDublinOfficer {
			return false
		}
	}
	return slices.Contains(s.ledger.Roles(), domain.RoleAuditor)
}

// deadlineWatcher resolves lapsed deadlines on the Dublin channel.
func (s *Server) deadlineWatcher(ctx context.Context, ch api.ChannelInfo, role domain.Role) {
	poll := s.cfg.Automations.DeadlinePoll
	if poll <= 0 {
		poll = time.Minute
	}
	w := &watcher{s: s, ch: ch, role: role, done: map[string]string{}}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	seen, _ := s.evlog.changed()
	lagged := 0
	for {
		if w.acknowledgeAll(ctx) || w.sweep(ctx) {
			// Some resolution was refused by a peer behind this one: look
			// again soon (backoff), not only at the next tick.
			lagged++
			if !(backoff{base: 500 * time.Millisecond, max: 30 * time.Second}).sleep(ctx, lagged) {
				return
			}
			continue
		}
		lagged = 0
		// Wait for the next tick or a new event on the Dublin channel.
	wait:
		for {
			last, changed := s.evlog.changed()
			if last > seen {
				dub := w.dublinEventSince(seen)
				seen = last
				if dub {
					break wait
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				break wait
			case <-changed:
			}
		}
		// Debounce a burst of events into one sweep.
		if !(backoff{base: 200 * time.Millisecond, max: 200 * time.Millisecond}).sleep(ctx, 1) {
			return
		}
	}
}

type watcher struct {
	s    *Server
	ch   api.ChannelInfo
	role domain.Role
	mu   sync.Mutex
	// done remembers resolved or unresolvable deadlines until the day ends.
	done map[string]string
	// acks are the cases with a request to this agency's member state seen
	// on the stream whose receipt is still to be acknowledged.
	acks []string
}

func (w *watcher) dublinEventSince(seq uint64) bool {
	evs, err := w.s.evlog.read(seq, 1000)
	if err != nil {
		return true
	}
	dub := false
	for _, ev := range evs {
		if ev.Channel != w.ch.Name {
			continue
		}
		dub = true
		var ce api.CaseEvent
		if ev.Name == api.EventCase && json.Unmarshal(ev.Payload, &ce) == nil {
			switch ce.Code {
			case domain.EvTakeChargeRequested, domain.EvTakeBackRequested, domain.EvTakeBackNotified:
				w.mu.Lock()
				w.acks = append(w.acks, ce.Pseudonym)
				w.mu.Unlock()
			}
		}
	}
	return dub
}

// acknowledgeAll acknowledges the receipt of the requests seen; it reports
// whether some must be tried again soon (lag, ledger unavailable).
func (w *watcher) acknowledgeAll(ctx context.Context) (again bool) {
	w.mu.Lock()
	todo := w.acks
	w.acks = nil
	w.mu.Unlock()
	var retry []string
	for _, p := range todo {
		if w.acknowledge(ctx, p) {
			retry = append(retry, p)
		}
	}
	if len(retry) > 0 {
		w.mu.Lock()
		w.acks = append(w.acks, retry...)
		w.mu.Unlock()
	}
	return len(retry) > 0
}

// acknowledge records RECEIPT_ACKNOWLEDGED for a request addressed to this
// agency's member state, dated the day it reached the ledger in this
// state's zone (what the chaincode applies anyway: the acknowledgement
// makes the requested state's own act visible on the timeline). An
// officer who holds DubliNet's acknowledgement of an earlier receipt
// records that date; the chaincode admits only earlier dates after this.
func (w *watcher) acknowledge(ctx context.Context, p string) (again bool) {
	s := w.s
	raw, err := s.ledger.Evaluate(ctx, w.role, w.ch.Name, api.FnGetCase, p)
	if err != nil {
		var de *domain.Error
		return !errors.As(err, &de) || lagKind(de.Kind)
	}
	var st domain.CaseState
	if err := json.Unmarshal(raw, &st); err != nil || st.Dublin == nil {
		return false
	}
	d := st.Dublin
	switch {
	case s.cfg.MemberState == "" || d.RequestedMemberState != s.cfg.MemberState,
		!d.ReceiptAcknowledgedOn.IsZero(), d.RequestOnLedgerOn.IsZero(),
		st.Status != domain.StTakeChargeRequested && st.Status != domain.StTakeBackRequested && st.Status != domain.StTakeBackNotified:
		return false
	}
	in := domain.EventInput{VocabularyVersion: domain.VocabularyVersion, Code: domain.EvReceiptAcknowledged,
		OccurredOn: d.RequestOnLedgerOn.String()}
	payload, err := domain.EncodeCanonical(in)
	if err != nil {
		return false
	}
	reqID := automationRequestID("ack", w.ch.Name, p, strconv.Itoa(d.Requests))
	_, err = s.ledger.Submit(ctx, nil, w.role, w.ch.Name, api.FnRecordEvent, reqID, p, string(payload))
	var de *domain.Error
	switch {
	case err == nil:
		s.m.automation.WithLabelValues("receipt", "recorded").Inc()
		s.log.Info("receipt acknowledged", "channel", w.ch.Name)
	case errors.As(err, &de) && (de.Kind == domain.KindAlreadyExists || de.Kind == domain.KindInvalidTransition):
		// Acknowledged already (by an officer, with an earlier date) or
		// answered meanwhile: nothing to do.
		s.m.automation.WithLabelValues("receipt", "skipped").Inc()
	case errors.As(err, &de) && (lagKind(de.Kind) || de.Kind == domain.KindClockSkew):
		s.m.automation.WithLabelValues("receipt", "retried").Inc()
		return true
	case errors.As(err, &de):
		s.recordRefusal("receipt", w.ch.Name, p, api.FnRecordEvent, de)
	default:
		s.m.automation.WithLabelValues("receipt", "failed").Inc()
		s.log.Warn("receipt acknowledgement: write failed; retrying", "err", err)
		return true
	}
	return false
}

// sweep reads the board of deadlines that lapsed before today and resolves
// each with a consequence to record. It reports whether a resolution must be
// tried again soon (refused in a way a lagging peer refuses, or the ledger
// unavailable).
func (w *watcher) sweep(ctx context.Context) (again bool) {
	s := w.s
	today := s.today()
	w.mu.Lock()
	for k, day := range w.done {
		if day != today.String() {
			delete(w.done, k) // a new day: look at everything again
		}
	}
	w.mu.Unlock()
	bookmark := ""
	for ctx.Err() == nil {
		raw, err := s.ledger.Evaluate(ctx, w.role, w.ch.Name, api.FnDeadlinesDue, today.String(), bookmark, "")
		if err != nil {
			s.log.Warn("deadline watcher: board unavailable", "err", err)
			return true
		}
		var page api.Page[api.DueItem]
		if err := json.Unmarshal(raw, &page); err != nil {
			s.log.Error("deadline watcher: undecodable board", "err", err)
			return false
		}
		for _, it := range page.Items {
			if w.resolve(ctx, it, today) {
				again = true
			}
		}
		if page.Bookmark == "" || len(page.Items) == 0 {
			return again
		}
		bookmark = page.Bookmark
	}
	return again
}

func hasConsequence(dl domain.Deadline) bool {
	switch dl.OnLapse {
	case deadline.ImplicitAcceptance, deadline.ImplicitConfirmation, deadline.ResponsibilityShifts:
		return true
	}
	return false
}

// resolve records the consequence of one lapsed deadline. It reports whether
// to try again soon: the write failed in a way that can be lag (another
// endorser answers NOT_FOUND or INVALID_TRANSITION while this agency's peer
// still shows the deadline running) or the ledger was unavailable.
// Resolved, not lapsed yet in the acting state's zone, or refused for good
// (recorded): done until tomorrow or the next Dublin event.
func (w *watcher) resolve(ctx context.Context, it api.DueItem, today deadline.Date) (again bool) {
	s := w.s
	// The grace period: a step dated in time may still arrive.
	grace := max(s.cfg.Automations.DeadlineGraceDays, 0)
	if !hasConsequence(it.Deadline) || !deadline.Expired(it.Deadline.Due.AddDays(grace), today) {
		return false
	}
	key := it.Pseudonym + "/" + string(it.Deadline.Kind) + "/" + it.Deadline.Due.String()
	w.mu.Lock()
	if d, ok := w.done[key]; ok && d == today.String() {
		w.mu.Unlock()
		return false
	}
	w.mu.Unlock()
	reqID := automationRequestID("resolve", w.ch.Name, it.Pseudonym, string(it.Deadline.Kind), it.Deadline.Due.String())
	_, err := s.ledger.Submit(ctx, nil, w.role, w.ch.Name, api.FnResolveDeadlines, reqID, it.Pseudonym)
	var de *domain.Error
	switch {
	case err == nil:
		s.m.automation.WithLabelValues("deadline", "recorded").Inc()
		s.log.Info("deadline consequence recorded", "channel", w.ch.Name, "kind", string(it.Deadline.Kind))
	case errors.As(err, &de) && de.Kind == domain.KindDeadlineNotReached:
		// Not lapsed yet in the acting state's zone: look again tomorrow
		// (or on the next event).
		s.m.automation.WithLabelValues("deadline", "skipped").Inc()
	case errors.As(err, &de) && lagKind(de.Kind):
		// Either another gateway resolved it already (this peer no longer
		// shows the deadline), or an endorser has not committed the case's
		// last step yet: then try again.
		if w.stillRunning(ctx, it) {
			s.m.automation.WithLabelValues("deadline", "retried").Inc()
			s.log.Info("deadline resolution refused by a peer behind this one; retrying", "kind", string(de.Kind))
			return true
		}
		s.m.automation.WithLabelValues("deadline", "skipped").Inc()
	case errors.As(err, &de) && de.Kind == domain.KindClockSkew:
		s.m.automation.WithLabelValues("deadline", "failed").Inc()
		return true
	case errors.As(err, &de):
		s.recordRefusal("deadline", w.ch.Name, it.Pseudonym, api.FnResolveDeadlines, de)
	default:
		s.m.automation.WithLabelValues("deadline", "failed").Inc()
		s.log.Warn("deadline watcher: write failed; retrying", "err", err)
		return true
	}
	w.mu.Lock()
	w.done[key] = today.String()
	w.mu.Unlock()
	return false
}

// stillRunning asks this agency's own peer whether the case still carries
// the deadline (unresolved). On any doubt it answers true: retrying a
// resolution is harmless, its request id is derived.
func (w *watcher) stillRunning(ctx context.Context, it api.DueItem) bool {
	raw, err := w.s.ledger.Evaluate(ctx, w.role, w.ch.Name, api.FnGetCase, it.Pseudonym)
	if err != nil {
		return true
	}
	var st domain.CaseState
	if err := json.Unmarshal(raw, &st); err != nil || st.Dublin == nil {
		return true
	}
	return slices.ContainsFunc(st.Dublin.Deadlines, func(dl domain.Deadline) bool {
		return dl.Kind == it.Deadline.Kind && dl.Due == it.Deadline.Due
	})
}

// erasureExecutor consumes the event log from its own cursor. An event is
// passed only when it is done: executed, nothing to do, or refused for a
// reason that cannot change (recorded, see recordRefusal). What can be lag
// (another endorser that has not committed the request's block yet, the
// ledger unavailable) is retried with backoff, as long as it takes.
func (s *Server) erasureExecutor(ctx context.Context) {
	const cursorKey = pfxCursor + "erasure"
	cursor, err := s.store.cursor(cursorKey)
	if err != nil {
		s.log.Error("erasure executor cursor", "err", err)
		return
	}
	bo := backoff{base: 500 * time.Millisecond, max: 30 * time.Second}
	for ctx.Err() == nil {
		evs, err := s.evlog.next(ctx, cursor, 100)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("read event log", "err", err)
				bo.sleep(ctx, 3)
			}
			continue
		}
		for _, ev := range evs {
			for attempt := 1; ; attempt++ {
				err := s.executeErasure(ctx, ev)
				if err == nil {
					break
				}
				s.m.automation.WithLabelValues("erasure", "retried").Inc()
				s.log.Warn("erasure executor: retrying", "attempt", attempt, "err", err)
				if !bo.sleep(ctx, attempt) {
					return
				}
			}
			cursor = ev.Seq
			if err := s.store.setCursor(cursorKey, cursor); err != nil {
				s.log.Error("erasure executor cursor", "err", err)
				return
			}
		}
	}
}

// errLag marks a refusal that can come from a peer behind the block of the
// event being handled: retried, never final.
var errLag = errors.New("a peer has not caught up with the event yet")

// lagKinds: refusals that a peer without the event's block gives (the case
// or the request unknown there) and that therefore cannot be final while
// this agency's own peer shows otherwise.
func lagKind(k domain.Kind) bool {
	return k == domain.KindNotFound || k == domain.KindInvalidTransition
}

// executeErasure handles one logged event; nil when done (or nothing to do,
// or a permanent refusal recorded), an error to retry.
func (s *Server) executeErasure(ctx context.Context, ev LoggedEvent) error {
	if ev.Name != api.EventCase {
		return nil
	}
	var ce api.CaseEvent
	if err := json.Unmarshal(ev.Payload, &ce); err != nil || ce.Code != domain.EvErasureRequested {
		return nil
	}
	ch, err := s.channel(ev.Channel)
	if err != nil {
		return nil
	}
	role, ok := s.writerRole(ch.Procedure)
	if !ok {
		return nil
	}
	// The agency's own peer, which reads below are answered by, has the
	// event's block: it delivered the event. Requests that depend on it
	// (Caseledger-Min-Block) need not ask the peer again.
	if ev.Block > 0 {
		s.heights.saw(ch.Name, ev.Block)
	}
	// Only what this agency holds for this case on this channel: the
	// request's holders (pending or already confirmed) must name it, and
	// only this channel's entry of the privacy-service case is erased — a
	// mapping of another channel goes only with that channel's own request.
	raw, err := s.ledger.Evaluate(ctx, role, ch.Name, api.FnGetErasureStatus, ce.Pseudonym)
	var de *domain.Error
	switch {
	case errors.As(err, &de) && lagKind(de.Kind):
		return fmt.Errorf("%w: erasure status: %s", errLag, de.Kind)
	case errors.As(err, &de):
		s.recordRefusal("erasure", ch.Name, ce.Pseudonym, api.FnGetErasureStatus, de)
		return nil
	case err != nil:
		return err
	}
	var st api.ErasureStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("undecodable erasure status: %w", err)
	}
	if !st.Requested {
		return fmt.Errorf("%w: the peer shows no erasure request", errLag)
	}
	pending := slices.Contains(st.Pending, s.cfg.MSPID)
	if !pending && !slices.Contains(st.Confirmed, s.cfg.MSPID) {
		// Not a holder of this case: whatever this agency's privacy service
		// may hold under that pseudonym is not this request's to erase.
		s.m.automation.WithLabelValues("erasure", "not-holder").Inc()
		return nil
	}
	if _, err := s.vault.EraseEntry(ctx, ch.Name, ce.Pseudonym); err != nil && !errors.Is(err, privacy.ErrNotFound) {
		return err
	}
	if !pending {
		s.m.automation.WithLabelValues("erasure", "erased").Inc()
		return nil
	}
	reqID := automationRequestID("confirm-erasure", ch.Name, ce.Pseudonym, st.RequestedOn)
	_, err = s.ledger.Submit(ctx, nil, role, ch.Name, api.FnConfirmErasure, reqID, ce.Pseudonym, s.today().String())
	switch {
	case err == nil:
		s.m.automation.WithLabelValues("erasure", "confirmed").Inc()
		s.log.Info("erasure executed and confirmed", "channel", ch.Name)
		return nil
	case errors.As(err, &de) && de.Kind == domain.KindAlreadyExists:
		// Confirmed by an earlier attempt whose answer was lost.
		s.m.automation.WithLabelValues("erasure", "confirmed").Inc()
		return nil
	case errors.As(err, &de) && lagKind(de.Kind):
		// This agency's own peer shows the request pending for it: an
		// endorser that says "not found" or "no erasure requested" has not
		// committed the request's block yet.
		return fmt.Errorf("%w: confirmation: %s", errLag, de.Kind)
	case errors.As(err, &de) && de.Kind == domain.KindClockSkew:
		return err
	case errors.As(err, &de):
		s.recordRefusal("erasure", ch.Name, ce.Pseudonym, api.FnConfirmErasure, de)
		return nil
	}
	return err
}
