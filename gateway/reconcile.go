package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// Erasure reconciliation. The erasure executor erases a mapping when it sees
// the ERASURE_REQUESTED event, once. A privacy service restored from a backup
// taken before that erasure — into a fresh data directory whose tombstone log
// was lost with the old one — holds the mapping again, and no event will come
// for it. So the gateway checks every mapping its privacy service holds
// against the ledger and hands each one whose case has an erasure requested
// to the executor (executeErasure: the same rules, the same confirmation):
//
//   - at start-up and whenever the privacy service's store generation differs
//     from the one last reconciled (a new data directory, a restore that
//     wrote records back, an open that found records the tombstone log had
//     shredded: privacy-service/generation.go); the generation is polled, so
//     a restore into a running service is caught too;
//   - on demand: POST /v1/erasures/reconcile (admin role),
//     `caseledger erasure reconcile`.
//
// It reads the ledger once per mapping (erasure:GetErasureStatus on the
// agency's own peer), in a few parallel lanes: about 1,000 mappings a second
// on the 2-core test machine (test/restore_test.go), so ~100 s per 100,000.
// Nothing is written unless an erased mapping came back.

// generationReporter is implemented by privacy.Store and privacy.Client.
type generationReporter interface {
	Generation(ctx context.Context) (string, error)
}

const (
	keyReconciled   = "reconcile/privacy-generation"
	reconcilePoll   = 5 * time.Second // one small call; bounds how long a restored mapping resolves
	reconcileLanes  = 4
	reconcileListed = 1000
)

// ReconcileErasures checks every mapping of the privacy service against the
// ledger's erasures and erases each one whose case's erasure is requested,
// through the erasure executor. It is idempotent, so two runs at once (the
// start-up run and an admin's) are harmless: they only read twice.
func (s *Server) ReconcileErasures(ctx context.Context) (api.ReconcileReport, error) {
	var rep api.ReconcileReport
	if g, ok := s.vault.(generationReporter); ok {
		gen, err := g.Generation(ctx)
		if err != nil {
			return rep, fmt.Errorf("privacy generation: %w", err)
		}
		rep.Generation = gen
	}
	for _, ch := range s.ledger.Channels() {
		role, ok := s.writerRole(ch.Procedure)
		if !ok {
			continue
		}
		if err := s.reconcileChannel(ctx, ch, role, &rep); err != nil {
			return rep, err
		}
	}
	s.m.automation.WithLabelValues("reconcile", "run").Inc()
	if rep.Erased > 0 {
		s.m.automation.WithLabelValues("reconcile", "erased").Add(float64(rep.Erased))
		s.log.Warn("erasure reconciliation erased mappings that had come back (privacy service restored?)",
			"erased", rep.Erased, "checked", rep.Checked)
	} else {
		s.log.Info("erasure reconciliation: no erased mapping held", "checked", rep.Checked)
	}
	return rep, nil
}

func (s *Server) reconcileChannel(ctx context.Context, ch api.ChannelInfo, role domain.Role, rep *api.ReconcileReport) error {
	after := ""
	for {
		page, next, err := s.vault.List(ctx, ch.Name, after, reconcileListed)
		if err != nil {
			return fmt.Errorf("privacy list %s: %w", ch.Name, err)
		}
		results := make([]reconcileOutcome, len(page))
		work := make(chan int)
		var wg sync.WaitGroup
		for range min(reconcileLanes, len(page)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					results[i] = s.reconcileOne(ctx, ch, role, page[i])
				}
			}()
		}
		for i := range page {
			work <- i
		}
		close(work)
		wg.Wait()
		for _, r := range results {
			if r.err != nil {
				return r.err
			}
			rep.Checked++
			switch r.kind {
			case outcomeErased:
				rep.Erased++
			case outcomeKept:
				rep.Kept++
			case outcomeNotOnLedger:
				rep.NotOnLedger++
			}
		}
		if next == "" || len(page) == 0 {
			return nil
		}
		after = next
	}
}

type outcomeKind int

const (
	outcomeNone outcomeKind = iota
	outcomeErased
	outcomeKept
	outcomeNotOnLedger
)

type reconcileOutcome struct {
	kind outcomeKind
	err  error
}

func (s *Server) reconcileOne(ctx context.Context, ch api.ChannelInfo, role domain.Role, pseudonym string) reconcileOutcome {
	if err := ctx.Err(); err != nil {
		return reconcileOutcome{err: err}
	}
	raw, err := s.ledger.Evaluate(ctx, role, ch.Name, api.FnGetErasureStatus, pseudonym)
	var de *domain.Error
	switch {
	case errors.As(err, &de) && de.Kind == domain.KindNotFound:
		return reconcileOutcome{kind: outcomeNotOnLedger}
	case err != nil:
		return reconcileOutcome{err: fmt.Errorf("erasure status on %s: %w", ch.Name, err)}
	}
	var st api.ErasureStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return reconcileOutcome{err: fmt.Errorf("erasure status on %s: %w", ch.Name, err)}
	}
	if !st.Requested {
		return reconcileOutcome{}
	}
	// What the executor would have done on the event: the same rules.
	payload, err := json.Marshal(api.CaseEvent{Pseudonym: pseudonym, Code: domain.EvErasureRequested})
	if err != nil {
		return reconcileOutcome{err: err}
	}
	// The block the executor waits for: the peer just answered with the
	// request, so any block it has will do (0, the genesis block, if this
	// gateway has not seen one yet: it asks the peer for its height).
	var block uint64
	if h := s.heights.get(ch.Name); h > 0 {
		block = h - 1
	}
	ev := LoggedEvent{Channel: ch.Name, Block: block, Name: api.EventCase, Payload: payload}
	if err := s.executeErasure(ctx, ev); err != nil {
		return reconcileOutcome{err: fmt.Errorf("erase on %s: %w", ch.Name, err)}
	}
	if _, err := s.vault.ResolvePseudonym(ctx, ch.Name, pseudonym); errors.Is(err, privacy.ErrNotFound) {
		return reconcileOutcome{kind: outcomeErased}
	} else if err != nil {
		return reconcileOutcome{err: err}
	}
	return reconcileOutcome{kind: outcomeKept}
}

// reconciler runs ReconcileErasures at start-up and whenever the privacy
// service's generation is not the one last reconciled; failures are retried.
func (s *Server) reconciler(ctx context.Context) {
	g, hasGen := s.vault.(generationReporter)
	bo := backoff{base: time.Second, max: time.Minute}
	attempt := 0
	for ctx.Err() == nil {
		need := true
		if hasGen {
			gen, err := g.Generation(ctx)
			if err == nil {
				var last string
				found, gerr := s.store.getJSON(keyReconciled, &last)
				need = gerr != nil || !found || last != gen
			}
		}
		if need {
			rep, err := s.ReconcileErasures(ctx)
			if err == nil && rep.Generation != "" {
				err = s.store.putJSON(keyReconciled, rep.Generation, 0)
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				attempt++
				s.m.automation.WithLabelValues("reconcile", "failed").Inc()
				s.log.Warn("erasure reconciliation failed; retrying", "attempt", attempt, "err", err)
				if !bo.sleep(ctx, attempt) {
					return
				}
				continue
			}
			attempt = 0
			if !hasGen {
				return // nothing tells a restore apart: start-up and on demand only
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconcilePoll):
		}
	}
}

// startReconciler: every writing agency's gateway with automations on.
func (s *Server) startReconciler(ctx context.Context) {
	if !s.runsErasureExecutor() {
		return
	}
	s.goRun(func() { s.reconciler(ctx) })
}

func (s *Server) hReconcileErasures(c *call) (int, any, error) {
	if !s.runsErasureExecutor() {
		return 0, nil, domain.Errorf(domain.KindForbidden, "this gateway runs no erasure executor (auditor, or automations off)")
	}
	rep, err := s.ReconcileErasures(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, rep, nil
}
