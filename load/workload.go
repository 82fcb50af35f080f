// Package load drives a running caseledger network with many concurrent clients and a realistic mix
// of case writes, timeline reads and Dublin steps, measures committed throughput, latency
// percentiles, errors by code and the CPU and memory of every node, and checks afterwards that every
// acknowledged write is on the ledger exactly once. The same workload runs through a Driver: the
// bare fabric-gateway client (the reference) or the agencies' HTTP gateways.
package load

import (
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/network"
)

// ErrTopology is returned when a network description lacks an agency kind or channel the workload
// needs.
var ErrTopology = errors.New("topology does not fit the workload")

// OpKind is what an operation does on the ledger.
type OpKind uint8

// The operations of the workload.
const (
	OpRegister OpKind = iota + 1 // cases:RegisterCase (write)
	OpEvent                      // cases:RecordEvent (write)
	OpResolve                    // dublin:ResolveDeadlines (write)
	OpTimeline                   // cases:GetTimeline (read)
)

func (k OpKind) String() string {
	switch k {
	case OpRegister:
		return "register"
	case OpEvent:
		return "event"
	case OpResolve:
		return "resolve-deadlines"
	case OpTimeline:
		return "timeline"
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// Write reports whether the operation is a ledger write.
func (k OpKind) Write() bool { return k != OpTimeline }

// Event is the business content of a write: the event code (CASE_REGISTERED for a registration,
// the expected result code for ResolveDeadlines), the day it happened and its coded fields.
type Event struct {
	Code       string
	OccurredOn string
	Fields     map[string]any
	// Salt is the private record's salt (64 hex, 32 crypto-random bytes), drawn once per write so
	// that the same operation always sends the same details.
	Salt string
}

// Payload is the whole event JSON, withheld details included, as a gateway's client sends it
// (docs/chaincode.md §5); the bare driver sends Split's parts instead.
func (e Event) Payload() string {
	m := map[string]any{"vocabularyVersion": 1, "code": e.Code, "occurredOn": e.OccurredOn}
	for k, v := range e.Fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err == nil {
		// The chaincode takes only the canonical encoding of the decoded payload.
		var in domain.EventInput
		if err = domain.DecodeStrict(b, &in); err == nil {
			b, err = domain.EncodeCanonical(in)
		}
	}
	if err != nil {
		// Fields come from this package only (strings and booleans): a failure is a bug here.
		panic(fmt.Sprintf("load: event payload: %v", err))
	}
	return string(b)
}

// Split is what cases:RecordEvent takes on a channel of procedure p, as the gateway sends it
// (docs/visibility.md): the canonical public payload, and the canonical transient details
// {collection, salt, fields} of the event's audience (nil when the event has no withheld
// detail). A withheld detail sent as an argument would be stored in the block for every member,
// and the chaincode refuses it.
func (e Event) Split(p domain.Procedure) (payload string, details []byte, err error) {
	pub, details, err := domain.DefaultVisibility().SplitPayload(p, []byte(e.Payload()), func() (string, error) {
		if !domain.IsHash64(e.Salt) {
			return "", fmt.Errorf("%s has withheld details but no salt (Workload draws one per write)", e.Code)
		}
		return e.Salt, nil
	})
	if err != nil {
		return "", nil, err
	}
	return string(pub), details, nil
}

// newSalt draws 32 random bytes: the salt makes a private record's on-chain hash unguessable.
func newSalt() string {
	b := make([]byte, 32)
	_, _ = crand.Read(b) // never fails (crypto/rand: it crashes the program instead)
	return hex.EncodeToString(b)
}

// Actor is an agency acting with one of its roles.
type Actor struct {
	Org   string // org name in the network description
	MSPID string
	Role  string
}

// Op is one operation of a case's script.
type Op struct {
	Kind  OpKind
	Case  *Case
	Actor Actor
	Event Event
	// RequestID is a fresh UUID per write: the chaincode request id (bare driver) or the
	// Idempotency-Key (gateway driver).
	RequestID string
}

// Case is one case the workload walks through its procedure on one channel. A case belongs to
// one worker at a time, so its fields need no locking.
type Case struct {
	ID        int
	Channel   string
	Procedure string // "national" or "dublin"
	// Pseudonym is the case's pseudonym on Channel. The bare driver uses the one chosen here; a
	// gateway driver replaces it with the one its privacy service created.
	Pseudonym string
	// Refs are the local references (file numbers) each agency's system uses for the case; only
	// gateway drivers send them, and they must never reach the ledger.
	Refs map[string]string
	Ops  []Op
	// Writes records the outcome of each write attempted, in order (filled by the runner).
	Writes []WriteOutcome
	// bound lists the agencies whose gateway knows Refs[org] (gateway driver).
	bound map[string]bool
}

// WriteOutcome is what happened to one attempted write.
type WriteOutcome struct {
	Op    Op
	Acked bool
	Ack   Ack
	Class string // error class when not acknowledged
}

// Codes lists the codes the case's writes would record, in script order.
func (c *Case) Codes() []string {
	var out []string
	for _, op := range c.Ops {
		if op.Kind.Write() {
			out = append(out, op.Event.Code)
		}
	}
	return out
}

// Mix shapes the workload.
type Mix struct {
	// DublinShare is the fraction of cases that are Dublin procedures on the dublin channel; the
	// rest are national procedures. Default 0.2.
	DublinShare float64
	// LateDublinShare is the fraction of Dublin cases whose take-charge request is recorded late,
	// past its reply deadline, so the requested state records the implicit acceptance with
	// dublin:ResolveDeadlines. Default 0: where gateways run, their deadline watchers record the
	// implicit acceptance themselves right after the late request and the script's own
	// ResolveDeadlines then fails (DEADLINE_NOT_REACHED); use it on networks without gateways.
	LateDublinShare float64
	// ReadShare is the probability that a write is followed by a timeline read of the same case by
	// the agency that wrote. Default 0.2.
	ReadShare float64
}

// DefaultMix is mostly national event writes, some Dublin steps, some timeline reads.
func DefaultMix() Mix { return Mix{DublinShare: 0.2, LateDublinShare: 0, ReadShare: 0.2} }

// Validate checks that every share is a probability.
func (m Mix) Validate() error {
	for name, v := range map[string]float64{"dublin share": m.DublinShare, "late Dublin share": m.LateDublinShare, "read share": m.ReadShare} {
		if v < 0 || v > 1 || v != v {
			return fmt.Errorf("%s %v: want 0..1", name, v)
		}
	}
	return nil
}

// Workload builds case scripts for one network.
type Workload struct {
	mix Mix
	now func() time.Time
	// Tag is put into every local reference (LG-<tag>-<case>-<org>), so one run's references can
	// be told from another's.
	tag string

	national, dublin string // channel names
	// national procedure actors
	border, asylum, immigration Actor
	// Dublin procedure actors
	requesting, requested Actor
	requestedState        string
	reader                Actor // an auditor, for verification reads
}

// NewWorkload finds in the description the agencies and channels the workload needs: a national
// channel with a border police, an asylum office and an immigration authority (role caseworker),
// and a Dublin channel with two Dublin units (role dublin-officer) of different member states.
// now is the clock that dates events.
func NewWorkload(desc network.Description, mix Mix, tag string, now func() time.Time) (*Workload, error) {
	if err := mix.Validate(); err != nil {
		return nil, err
	}
	w := &Workload{mix: mix, now: now, tag: tag}
	for _, ch := range desc.Channels {
		switch ch.Procedure {
		case "national":
			w.national = ch.Name
		case "dublin":
			w.dublin = ch.Name
		}
	}
	if w.national == "" {
		return nil, fmt.Errorf("%w: no national channel", ErrTopology)
	}
	find := func(ch, kind, role string, skip string) (Actor, network.Org, error) {
		c, _ := desc.Channel(ch)
		for _, name := range c.Members {
			o, _ := desc.Org(name)
			if o.Kind != kind || o.Name == skip {
				continue
			}
			if role == "" {
				return Actor{Org: o.Name, MSPID: o.MSPID}, o, nil
			}
			for _, u := range o.Users {
				if u.Role == role {
					return Actor{Org: o.Name, MSPID: o.MSPID, Role: role}, o, nil
				}
			}
		}
		return Actor{}, network.Org{}, fmt.Errorf("%w: no %s with role %q on channel %s", ErrTopology, kind, role, ch)
	}
	var err error
	if w.border, _, err = find(w.national, "border-police", "caseworker", ""); err != nil {
		return nil, err
	}
	if w.asylum, _, err = find(w.national, "asylum-office", "caseworker", ""); err != nil {
		return nil, err
	}
	if w.immigration, _, err = find(w.national, "immigration-authority", "caseworker", ""); err != nil {
		return nil, err
	}
	if w.reader, _, err = find(w.national, "auditor", "auditor", ""); err != nil {
		return nil, err
	}
	if mix.DublinShare > 0 {
		if w.dublin == "" {
			return nil, fmt.Errorf("%w: Dublin share %v but no Dublin channel", ErrTopology, mix.DublinShare)
		}
		var requesting, requested network.Org
		if w.requesting, requesting, err = find(w.dublin, "asylum-office", "dublin-officer", ""); err != nil {
			return nil, err
		}
		if w.requested, requested, err = find(w.dublin, "partner-state", "dublin-officer", ""); err != nil {
			return nil, err
		}
		if requesting.MemberState == requested.MemberState {
			return nil, fmt.Errorf("%w: Dublin units of the same member state", ErrTopology)
		}
		w.requestedState = requested.MemberState
	}
	return w, nil
}

// Reader is the identity verification reads use (the auditor).
func (w *Workload) Reader() Actor { return w.reader }

// Channels are the channels the workload writes on.
func (w *Workload) Channels() []string {
	if w.dublin == "" || w.mix.DublinShare == 0 {
		return []string{w.national}
	}
	return []string{w.national, w.dublin}
}

// NewCase draws the next case and its whole script. rng must be the calling worker's own.
func (w *Workload) NewCase(rng *rand.Rand, id int) *Case {
	// Identifiers are always fresh (crypto random): a seed reused against the same ledger must not
	// collide with an earlier run's cases; the seed only shapes the scripts.
	c := &Case{ID: id, Pseudonym: uuid.NewString(), Refs: map[string]string{}}
	b := scriptBuilder{w: w, rng: rng, c: c}
	if w.mix.DublinShare > 0 && rng.Float64() < w.mix.DublinShare {
		c.Channel, c.Procedure = w.dublin, "dublin"
		b.dublin(rng.Float64() < w.mix.LateDublinShare)
	} else {
		c.Channel, c.Procedure = w.national, "national"
		b.national()
	}
	for _, op := range c.Ops {
		if _, ok := c.Refs[op.Actor.Org]; !ok {
			c.Refs[op.Actor.Org] = fmt.Sprintf("LG-%s-%d-%s", w.tag, id, op.Actor.MSPID[:2])
		}
	}
	return c
}

type scriptBuilder struct {
	w   *Workload
	rng *rand.Rand
	c   *Case
}

func (b *scriptBuilder) day(daysAgo int) string {
	return b.w.now().UTC().AddDate(0, 0, -daysAgo).Format(time.DateOnly)
}

func (b *scriptBuilder) write(kind OpKind, a Actor, code string, occurredOn string, fields map[string]any) {
	b.c.Ops = append(b.c.Ops, Op{Kind: kind, Case: b.c, Actor: a, RequestID: uuid.NewString(),
		Event: Event{Code: code, OccurredOn: occurredOn, Fields: fields, Salt: newSalt()}})
	if b.rng.Float64() < b.w.mix.ReadShare {
		b.c.Ops = append(b.c.Ops, Op{Kind: OpTimeline, Case: b.c, Actor: a})
	}
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

// bind is an agency taking part in a case another agency registered: CASE_BOUND on the ledger
// (it becomes a holder; through a gateway, POST /v1/cases/bind also maps its own reference).
func (b *scriptBuilder) bind(a Actor) {
	b.write(OpEvent, a, "CASE_BOUND", b.day(0), nil)
}

// national is a national asylum procedure as test/chaincode_test.go walks it: registration at the
// border or the asylum office, identity check, file, allocation, application, hearing, decision,
// and then protection and closing, or return counselling and closing, sometimes after an appeal.
// An agency binds itself to the case before its first step on a case another agency registered.
func (b *scriptBuilder) national() {
	w, today := b.w, b.day(0)
	registrar := pick(b.rng, w.border, w.border, w.asylum)
	b.write(OpRegister, registrar, "CASE_REGISTERED", b.day(b.rng.IntN(3)), nil)
	b.write(OpEvent, registrar, "IDENTITY_CHECKED", today, map[string]any{"eurodacHit": pick(b.rng, "NONE", "NONE", "CATEGORY_1", "CATEGORY_2")})
	if registrar != w.asylum {
		b.bind(w.asylum)
	}
	b.write(OpEvent, w.asylum, "FILE_CREATED", today, nil)
	b.write(OpEvent, w.asylum, "ALLOCATED", today, map[string]any{"regionCode": pick(b.rng, "DE-BE", "DE-BY", "DE-NW", "DE-HH", "DE-SN")})
	b.write(OpEvent, w.asylum, "APPLICATION_LODGED", today, nil)
	b.write(OpEvent, w.asylum, "HEARING_SCHEDULED", today, map[string]any{"scheduledFor": today})
	b.write(OpEvent, w.asylum, "HEARING_HELD", today, nil)
	if b.rng.IntN(2) == 0 {
		b.write(OpEvent, w.asylum, "DECISION_ISSUED", today, map[string]any{"outcome": pick(b.rng, "REFUGEE_STATUS", "SUBSIDIARY_PROTECTION")})
		b.write(OpEvent, w.asylum, "CASE_CLOSED", today, map[string]any{"closureReason": "PROTECTION_GRANTED"})
		return
	}
	b.write(OpEvent, w.asylum, "DECISION_ISSUED", today, map[string]any{"outcome": "REJECTED"})
	if b.rng.IntN(4) == 0 {
		b.write(OpEvent, w.asylum, "APPEAL_FILED", today, map[string]any{"suspensive": true})
		b.write(OpEvent, w.asylum, "APPEAL_DECIDED", today, map[string]any{"appealOutcome": "DISMISSED"})
	}
	b.bind(w.immigration)
	b.write(OpEvent, w.immigration, "RETURN_COUNSELLING", today, nil)
	b.write(OpEvent, w.immigration, "CASE_CLOSED", today, map[string]any{"closureReason": "DEPARTED"})
}

// dublin is a take-charge procedure between the asylum office's Dublin unit (requesting) and the
// partner state's (requested). In time: request, acceptance, transfer decision, scheduling,
// completion. Late: the request was received 24 days ago with a Eurodac hit; once the requested
// state acknowledges that receipt date (the claim alone does not start its period), the
// two-week reply deadline (AMMR) has passed by more than the gateways' grace period (3 days)
// and the requested state records the implicit acceptance.
func (b *scriptBuilder) dublin(late bool) {
	w, today := b.w, b.day(0)
	if late {
		b.write(OpRegister, w.requesting, "CASE_REGISTERED", b.day(25), nil)
		b.write(OpEvent, w.requesting, "TAKE_CHARGE_REQUESTED", b.day(24), map[string]any{
			"requestedMemberState": w.requestedState, "receivedOn": b.day(24), "applicationRegisteredOn": b.day(29),
			"evidence": "EURODAC_HIT", "evidenceReceivedOn": b.day(26)})
		b.bind(w.requested)
		b.write(OpEvent, w.requested, "RECEIPT_ACKNOWLEDGED", b.day(24), nil)
		b.write(OpResolve, w.requested, "IMPLICITLY_ACCEPTED", "", nil)
	} else {
		b.write(OpRegister, w.requesting, "CASE_REGISTERED", today, nil)
		b.write(OpEvent, w.requesting, "TAKE_CHARGE_REQUESTED", today, map[string]any{
			"requestedMemberState": w.requestedState, "receivedOn": today, "applicationRegisteredOn": today, "evidence": "OTHER"})
		b.bind(w.requested)
		b.write(OpEvent, w.requested, "REQUEST_ACCEPTED", today, nil)
	}
	b.write(OpEvent, w.requesting, "TRANSFER_DECISION_ISSUED", today, nil)
	b.write(OpEvent, w.requesting, "TRANSFER_SCHEDULED", today, map[string]any{"scheduledFor": today})
	b.write(OpEvent, w.requesting, "TRANSFER_COMPLETED", today, nil)
}
