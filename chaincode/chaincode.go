// Package chaincode is the contract layer over package domain: it
// authenticates the caller from its certificate, loads and stores ledger
// state, applies the domain rules, keeps the indexes, makes writes
// idempotent and emits one chaincode event per write. docs/chaincode.md is
// the reference for every transaction.
package chaincode

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // deadlines end in the acting state's zone; every endorser must know the same zones

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// Version is the chaincode's interface version, reported in the metadata.
const Version = "1.0.0"

// Option adjusts New.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock injects the endorser clock (tests). Only the clock-skew check
// reads it; all ledger time comes from the transaction timestamp.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// core is shared by all contracts of the chaincode. It holds only what the configuration fixes:
// the membership in force is read from the state by each transaction (governance.go).
type core struct {
	cfg   api.ChaincodeConfig
	now   func() time.Time
	zones map[string]*time.Location
	// start is the configuration's membership as sequence 0 (used while the state holds none).
	start *membershipInForce
}

// New builds the chaincode: the argument gate (args.go) in front of the
// contracts cases (default), dublin, anchors, erasure, audit, admin and gov.
func New(cfg api.ChaincodeConfig, opts ...Option) (*Chaincode, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	start, err := startingMembership(cfg.Membership)
	if err != nil {
		return nil, err
	}
	c := &core{cfg: cfg, now: o.now, zones: map[string]*time.Location{}, start: start}
	for _, ms := range domain.MemberStates() {
		loc, err := time.LoadLocation(domain.TimeZone(ms))
		if err != nil {
			return nil, fmt.Errorf("chaincode: time zone of %s: %w", ms, err)
		}
		c.zones[ms] = loc
	}
	info := func(name, desc string) contractapi.Contract {
		return contractapi.Contract{Name: name, Info: metadata.InfoMetadata{Title: name, Description: desc, Version: Version}}
	}
	cc, err := contractapi.NewChaincode(
		&CasesContract{Contract: info("cases", "register cases, record events, read state, timeline and history"), c: c},
		&DublinContract{Contract: info("dublin", "Dublin deadlines: resolve lapsed deadlines, deadline board, holiday calendars"), c: c},
		&AnchorsContract{Contract: info("anchors", "verify document anchors (keyed hashes)"), c: c},
		&ErasureContract{Contract: info("erasure", "erasure requests and confirmations"), c: c},
		&AuditContract{Contract: info("audit", "auditor queries: late entries"), c: c},
		&AdminContract{Contract: info("admin", "configuration and vocabulary"), c: c},
		&GovContract{Contract: info("gov", "membership governance: approvals and changes of the channel's membership"), c: c},
	)
	if err != nil {
		return nil, fmt.Errorf("chaincode: %w", err)
	}
	cc.DefaultContract = "cases"
	cc.Info = metadata.InfoMetadata{Title: "caseledger", Version: Version}
	return &Chaincode{c: c, cc: cc, rules: argRules()}, nil
}

// tx bundles what one transaction needs.
type tx struct {
	c   *core
	ctx contractapi.TransactionContextInterface
	// inForce is the membership read from the channel's state for this transaction (governance.go);
	// membership is its document, channel this channel's entry in it.
	inForce    *membershipInForce
	membership domain.Membership
	channel    domain.Channel
	txTime     time.Time
}

// begin resolves the membership in force, the channel's procedure and the transaction time.
func (c *core) begin(ctx contractapi.TransactionContextInterface) (*tx, error) {
	stub := ctx.GetStub()
	ms, err := c.membershipOf(stub)
	if err != nil {
		return nil, err
	}
	ch, ok := ms.m.Channel(stub.GetChannelID())
	if !ok {
		return nil, domain.Errorf(domain.KindInternal, "channel %s is not in the membership", stub.GetChannelID())
	}
	ts, err := stub.GetTxTimestamp()
	if err != nil || ts == nil {
		return nil, domain.Errorf(domain.KindInternal, "transaction timestamp unavailable")
	}
	return &tx{c: c, ctx: ctx, inForce: ms, membership: ms.m, channel: ch, txTime: ts.AsTime().UTC()}, nil
}

// checkClock refuses a transaction whose timestamp is further from this
// endorser's clock than the tolerance, so a client cannot back-date.
func (t *tx) checkClock() error {
	skew := t.c.now().Sub(t.txTime)
	if skew < 0 {
		skew = -skew
	}
	if skew > t.c.cfg.ClockTolerance {
		return domain.Errorf(domain.KindClockSkew, "transaction timestamp differs from the endorser clock by more than %s", t.c.cfg.ClockTolerance)
	}
	return nil
}

// today is the transaction's date in a member state's zone (UTC for none).
func (t *tx) today(memberState string) deadline.Date {
	loc, ok := t.c.zones[memberState]
	if !ok {
		loc = time.UTC
	}
	lt := t.txTime.In(loc)
	d, _ := deadline.NewDate(lt.Year(), lt.Month(), lt.Day())
	return d
}

// actor authenticates the caller: MSP id from the certificate, a member of
// the network and of this channel, with a known role attribute.
func (t *tx) actor() (domain.Actor, error) {
	ci := t.ctx.GetClientIdentity()
	if ci == nil {
		return domain.Actor{}, domain.Errorf(domain.KindUnauthenticated, "no client identity")
	}
	mspID, err := ci.GetMSPID()
	if err != nil {
		return domain.Actor{}, domain.Errorf(domain.KindUnauthenticated, "client MSP id unavailable")
	}
	m, ok := t.membership.Member(mspID)
	if !ok || !t.channel.OnChannel(mspID) {
		return domain.Actor{}, domain.Errorf(domain.KindForbidden, "%s is not a member of channel %s", mspID, t.channel.Name)
	}
	val, found, err := ci.GetAttributeValue(domain.RoleAttribute)
	if err != nil || !found {
		return domain.Actor{}, domain.Errorf(domain.KindForbidden, "certificate has no %q attribute", domain.RoleAttribute)
	}
	role := domain.Role(val)
	if !role.Valid() {
		return domain.Actor{}, domain.Errorf(domain.KindForbidden, "unknown role")
	}
	return domain.Actor{Member: m, Role: role}, nil
}

// env builds the domain environment of a write.
func (t *tx) env(requestID string) domain.Env {
	return domain.Env{
		Membership:     t.membership,
		Channel:        t.channel,
		TxTime:         t.txTime,
		Today:          t.today,
		LateWindowDays: t.c.cfg.LateRecordingDays,
		Deadlines:      t.c.cfg.Deadlines,
		Holidays:       ledgerHolidays{t},
		TxID:           t.ctx.GetStub().GetTxID(),
		RequestID:      requestID,
	}
}

// ledgerHolidays reads holiday calendars from the ledger.
type ledgerHolidays struct{ t *tx }

func (h ledgerHolidays) Holidays(memberState string, year int) (deadline.Holidays, bool, error) {
	var hol deadline.Holidays
	ok, err := h.t.getJSON(holidaysKey(memberState, year), &hol)
	return hol, ok, err
}

// Ledger access helpers. Values are JSON of domain types; they were written
// by this chaincode, so they are decoded leniently.

func (t *tx) getJSON(key string, v any) (bool, error) {
	b, err := t.ctx.GetStub().GetState(key)
	if err != nil {
		return false, domain.Errorf(domain.KindInternal, "ledger read failed")
	}
	if b == nil {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, domain.Errorf(domain.KindInternal, "stored value is corrupt")
	}
	return true, nil
}

func (t *tx) putJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return domain.Errorf(domain.KindInternal, "encoding failed")
	}
	return t.put(key, b)
}

func (t *tx) put(key string, b []byte) error {
	if err := t.ctx.GetStub().PutState(key, b); err != nil {
		return domain.Errorf(domain.KindInternal, "ledger write failed")
	}
	return nil
}

func (t *tx) del(key string) error {
	if err := t.ctx.GetStub().DelState(key); err != nil {
		return domain.Errorf(domain.KindInternal, "ledger delete failed")
	}
	return nil
}

// Idempotency. The record is keyed by (caller MSP id, requestID) and holds a
// hash of the transaction name and arguments, so a reused requestID with
// different arguments is a CONFLICT rather than a silent replay.

type requestRecord struct {
	Function string `json:"function"`
	ArgsHash string `json:"argsHash"`
	TxID     string `json:"txId"`
	Result   string `json:"result"`
}

func argsHash(function string, args ...string) string {
	h := sha256.New()
	for _, s := range append([]string{function}, args...) {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// idempotent runs a write once per (MSP id, requestID): a retry returns the
// stored first result and writes nothing.
func (t *tx) idempotent(actor domain.Actor, requestID, function string, args []string, write func() (any, error)) (string, error) {
	if err := domain.CheckRequestID(requestID); err != nil {
		return "", err
	}
	key := requestKey(actor.Member.MSPID, requestID)
	hash := argsHash(function, args...)
	var rec requestRecord
	found, err := t.getJSON(key, &rec)
	if err != nil {
		return "", err
	}
	if found {
		if rec.Function != function || rec.ArgsHash != hash {
			return "", domain.Errorf(domain.KindConflict, "requestId already used for a different request")
		}
		return rec.Result, nil
	}
	res, err := write()
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return "", domain.Errorf(domain.KindInternal, "encoding failed")
	}
	rec = requestRecord{Function: function, ArgsHash: hash, TxID: t.ctx.GetStub().GetTxID(), Result: string(out)}
	if err := t.putJSON(key, rec); err != nil {
		return "", err
	}
	return string(out), nil
}

// emit sets the transaction's single chaincode event.
func (t *tx) emit(name string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return domain.Errorf(domain.KindInternal, "encoding failed")
	}
	if err := t.ctx.GetStub().SetEvent(name, b); err != nil {
		return domain.Errorf(domain.KindInternal, "event emission failed")
	}
	return nil
}

// reader authenticates a query: any member on the channel with a valid role
// may read (the auditor reads everything).
func (c *core) reader(ctx contractapi.TransactionContextInterface) (*tx, domain.Actor, error) {
	t, err := c.begin(ctx)
	if err != nil {
		return nil, domain.Actor{}, err
	}
	a, err := t.actor()
	if err != nil {
		return nil, domain.Actor{}, err
	}
	return t, a, nil
}

// writer authenticates a write and checks the clock.
func (c *core) writer(ctx contractapi.TransactionContextInterface) (*tx, domain.Actor, error) {
	t, err := c.begin(ctx)
	if err != nil {
		return nil, domain.Actor{}, err
	}
	if err := t.checkClock(); err != nil {
		return nil, domain.Actor{}, err
	}
	a, err := t.actor()
	if err != nil {
		return nil, domain.Actor{}, err
	}
	if a.Member.Kind == domain.AgencyAuditor || a.Role == domain.RoleAuditor {
		return nil, domain.Actor{}, domain.Errorf(domain.KindForbidden, "auditors read, they never write")
	}
	return t, a, nil
}

// wire turns any error into the "KIND: message" form that crosses the ledger boundary.
func wire(err error) error { return domain.Wire(err) }

// marshalResult encodes a query result.
func marshalResult(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", wire(errors.New("encoding failed"))
	}
	return string(b), nil
}
