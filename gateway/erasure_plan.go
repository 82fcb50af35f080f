package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// Erasure plans. An erasure request covers the named channel and every
// channel the agency's privacy service links the case to, one
// RequestErasure per channel. Those are separate transactions: a gateway
// killed between them used to leave the first channel erased (and with it
// the mappings the plan was resolved from) and the second never requested,
// finished only by a client retry with the same Idempotency-Key. So:
//
//   - the whole plan — targets (channel, pseudonym) and each target's
//     requestID, derived from the write's Idempotency-Key record so every
//     attempt is one request to the chaincode — is stored and synced in the
//     gateway's store before the first submission;
//   - each target's outcome is stored as it comes (requested, or refused for
//     good); a plan whose targets are all decided is done;
//   - the plan resumer runs every unfinished plan by itself (at start-up,
//     and after a request left one unfinished), with backoff, so no client
//     needs to come back;
//   - the plan is indexed by keyed fingerprints (HMAC, key in the store) of
//     every local reference and pseudonym of its targets, taken before
//     anything is erased: a new request — another Idempotency-Key, another
//     reference of the same case — finds the plan under way (or done) and
//     reports it, instead of UNKNOWN_LOCAL_REF for a reference the
//     executor has erased meanwhile.
//
// The store holds no local reference: plans carry pseudonyms, request ids
// and outcomes; the index only keyed fingerprints.

const (
	pfxEPlan    = "eplan/"    // eplan/<planID> → erasurePlan
	pfxEPlanRef = "eplanref/" // eplanref/<fingerprint> → planID
	keyEPlanKey = "meta/eplankey"
)

// Target states.
const (
	targetPending   = "pending"
	targetRequested = "requested"
	targetRefused   = "refused"
)

type planTarget struct {
	Channel   string `json:"channel"`
	Pseudonym string `json:"pseudonym"`
	RequestID string `json:"requestId"`
	// OccurredOn, when set, overrides the plan's date (a target re-opened
	// by a later request carries that request's date).
	OccurredOn string             `json:"occurredOn,omitempty"`
	State      string             `json:"state"`
	Result     *api.WriteResponse `json:"result,omitempty"`
	Problem    *api.Problem       `json:"problem,omitempty"`
}

type erasurePlan struct {
	ID         string       `json:"id"`
	Created    time.Time    `json:"created"`
	Role       domain.Role  `json:"role"`
	OccurredOn string       `json:"occurredOn"`
	Targets    []planTarget `json:"targets"`
	Done       bool         `json:"done"`
}

// planRunner serialises the runs of one plan (a request and the resumer may
// both reach it) and wakes the resumer. Its zero value is ready.
type planRunner struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
	wake  chan struct{}
}

func (r *planRunner) lock(id string) func() {
	r.mu.Lock()
	if r.locks == nil {
		r.locks = map[string]*sync.Mutex{}
	}
	l := r.locks[id]
	if l == nil {
		l = &sync.Mutex{}
		r.locks[id] = l
	}
	r.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (r *planRunner) wakeChan() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wake == nil {
		r.wake = make(chan struct{}, 1)
	}
	return r.wake
}

// poke asks the resumer to look at unfinished plans now.
func (r *planRunner) poke() {
	select {
	case r.wakeChan() <- struct{}{}:
	default:
	}
}

// planFingerprint keys the plan index: kind is "ref" or "pseudonym".
func (s *Server) planFingerprint(kind, channel, value string) (string, error) {
	k, err := s.store.secret(keyEPlanKey, 32)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, k)
	for _, p := range []string{kind, channel, value} {
		fmt.Fprintf(m, "%d:%s", len(p), p)
	}
	return hex.EncodeToString(m.Sum(nil)), nil
}

// findPlan returns the plan indexed under a fingerprint, if any.
func (s *Server) findPlan(fp string) (*erasurePlan, error) {
	id, err := s.store.get(pfxEPlanRef + fp)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.loadPlan(string(id))
}

func (s *Server) loadPlan(id string) (*erasurePlan, error) {
	var p erasurePlan
	found, err := s.store.getJSON(pfxEPlan+id, &p)
	if err != nil || !found {
		return nil, err
	}
	return &p, nil
}

// createPlan stores a new plan and its index entries in one transaction and
// syncs them: nothing is submitted before the plan is on disk.
func (s *Server) createPlan(p *erasurePlan, fingerprints []string) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	err = s.store.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set([]byte(pfxEPlan+p.ID), b); err != nil {
			return err
		}
		for _, fp := range fingerprints {
			if err := txn.Set([]byte(pfxEPlanRef+fp), []byte(p.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store erasure plan: %w", err)
	}
	return s.store.Sync()
}

func (s *Server) savePlan(p *erasurePlan) error {
	return s.store.putJSON(pfxEPlan+p.ID, p, 0)
}

// planSubmit records one target's RequestErasure.
type planSubmit func(ch api.ChannelInfo, requestID string, args ...string) (Receipt, error)

// runPlan submits every undecided target of a plan in order and stores each
// outcome. It returns the plan as it stands and, if a target could not be
// decided (ledger unavailable, outcome unknown), the error: the plan stays
// unfinished and is resumed later.
func (s *Server) runPlan(id string, submit planSubmit) (*erasurePlan, error) {
	defer s.plans.lock(id)()
	p, err := s.loadPlan(id)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, domain.Errorf(domain.KindInternal, "erasure plan lost")
	}
	for i := range p.Targets {
		t := &p.Targets[i]
		if t.State != targetPending {
			continue
		}
		ch, err := s.channel(t.Channel)
		if err != nil {
			t.State, t.Problem = targetRefused, problemOf(err)
		} else {
			on := p.OccurredOn
			if t.OccurredOn != "" {
				on = t.OccurredOn
			}
			rec, err := submit(ch, t.RequestID, t.Pseudonym, on)
			switch {
			case err == nil:
				wr, werr := writeResponse(ch.Name, rec)
				if werr != nil {
					return p, werr
				}
				t.State, t.Result = targetRequested, &wr
			case problemOf(err).Status >= 500:
				return p, err // not decided: resumed later with the same requestID
			default:
				t.State, t.Problem = targetRefused, problemOf(err)
			}
		}
		if err := s.savePlan(p); err != nil {
			return p, err
		}
	}
	if !p.Done {
		p.Done = true
		if err := s.savePlan(p); err != nil {
			return p, err
		}
		s.log.Info("erasure plan done", "plan", p.ID, "targets", len(p.Targets))
	}
	return p, nil
}

// reopenRefused puts the refused targets of a finished plan back to
// pending for a new request: a refusal can stop holding (a Dublin deadline
// that blocked the request has run out and its consequence is recorded;
// the agency has since become a holder). Each gets a requestID of the new
// write and its date; a refused write stored nothing, so this is safe.
func (s *Server) reopenRefused(id string, requestID func(channel string) string, occurredOn string) error {
	defer s.plans.lock(id)()
	p, err := s.loadPlan(id)
	if err != nil || p == nil {
		return err
	}
	changed := false
	for i := range p.Targets {
		t := &p.Targets[i]
		if t.State != targetRefused {
			continue
		}
		t.State, t.Problem, t.RequestID, t.OccurredOn = targetPending, nil, requestID(t.Channel), occurredOn
		changed = true
	}
	if !changed {
		return nil
	}
	p.Done = false
	return s.savePlan(p)
}

// unfinishedPlans lists the ids of plans not done.
func (s *Server) unfinishedPlans() ([]string, error) {
	var ids []string
	err := s.store.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pfxEPlan)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var p erasurePlan
			if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &p) }); err != nil {
				return err
			}
			if !p.Done {
				ids = append(ids, p.ID)
			}
		}
		return nil
	})
	return ids, err
}

// planResumer finishes unfinished plans by itself: at start-up (a gateway
// killed between two submissions) and whenever a request leaves one
// unfinished, retrying with backoff while the ledger cannot decide.
func (s *Server) planResumer(ctx context.Context) {
	bo := backoff{base: 500 * time.Millisecond, max: 30 * time.Second}
	failures := 0
	for ctx.Err() == nil {
		ids, err := s.unfinishedPlans()
		if err != nil {
			s.log.Error("erasure plans unreadable", "err", err)
		}
		failed := err != nil
		for _, id := range ids {
			submit := func(ch api.ChannelInfo, requestID string, args ...string) (Receipt, error) {
				rec, err := s.ledger.Submit(ctx, nil, s.planRole(ch, id), ch.Name, api.FnRequestErasure, requestID, args...)
				if err == nil {
					s.heights.saw(ch.Name, rec.BlockNumber)
				}
				return rec, err
			}
			if _, err := s.runPlan(id, submit); err != nil {
				failed = true
				s.log.Warn("erasure plan not finished yet; resuming later", "plan", id, "err", err)
			} else {
				s.m.automation.WithLabelValues("erasure-plan", "resumed").Inc()
			}
		}
		if failed {
			failures++
			if !bo.sleep(ctx, failures) {
				return
			}
			continue
		}
		failures = 0
		select {
		case <-ctx.Done():
			return
		case <-s.plans.wakeChan():
		}
	}
}

// planRole is the identity a plan's requests are signed with: the caller's
// role when the request came in, if this gateway still holds it.
func (s *Server) planRole(ch api.ChannelInfo, id string) domain.Role {
	if p, err := s.loadPlan(id); err == nil && p != nil && p.Role != "" {
		return p.Role
	}
	r, _ := s.writerRole(ch.Procedure)
	return r
}

// planFingerprints are the index entries of a plan: every local reference
// and pseudonym of each target, read before anything is erased.
func (s *Server) planFingerprints(ctx context.Context, targets []planTarget) ([]string, error) {
	var fps []string
	add := func(kind, ch, v string) error {
		fp, err := s.planFingerprint(kind, ch, v)
		if err == nil {
			fps = append(fps, fp)
		}
		return err
	}
	for _, t := range targets {
		if err := add("pseudonym", t.Channel, t.Pseudonym); err != nil {
			return nil, err
		}
		refs, err := s.vault.ResolvePseudonym(ctx, t.Channel, t.Pseudonym)
		if err != nil && !errors.Is(err, privacy.ErrNotFound) {
			return nil, err
		}
		for _, r := range refs {
			if err := add("ref", t.Channel, r); err != nil {
				return nil, err
			}
		}
	}
	return fps, nil
}
