package chaincode

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/fakestub"
)

// net is a test network: the chaincode, one ledger per channel, a settable
// endorser clock and identities by name.
type net struct {
	t      testing.TB
	cc     *Chaincode
	mu     sync.Mutex
	now    time.Time // transaction timestamps and endorser clock
	ledger map[string]*fakestub.Ledger
	ids    map[string][]byte
}

// Identities used by the tests: MSP id + role.
var testIdentities = map[string]fakestub.Identity{
	"ao":       {MSPID: "AsylumOfficeMSP", Attrs: map[string]string{"role": "caseworker"}},
	"ao-do":    {MSPID: "AsylumOfficeMSP", Attrs: map[string]string{"role": "dublin-officer"}},
	"ao-admin": {MSPID: "AsylumOfficeMSP", Attrs: map[string]string{"role": "admin"}},
	"bp":       {MSPID: "BorderPoliceMSP", Attrs: map[string]string{"role": "caseworker"}},
	"ia":       {MSPID: "ImmigrationAuthorityMSP", Attrs: map[string]string{"role": "caseworker"}},
	"at-do":    {MSPID: "PartnerStateMSP", Attrs: map[string]string{"role": "dublin-officer"}},
	"at-cw":    {MSPID: "PartnerStateMSP", Attrs: map[string]string{"role": "caseworker"}},
	"aud":      {MSPID: "AuditorMSP", Attrs: map[string]string{"role": "auditor"}},
	"aud-cw":   {MSPID: "AuditorMSP", Attrs: map[string]string{"role": "caseworker"}},
	"norole":   {MSPID: "AsylumOfficeMSP"},
	"badrole":  {MSPID: "AsylumOfficeMSP", Attrs: map[string]string{"role": "superuser"}},
	"stranger": {MSPID: "StrangerMSP", Attrs: map[string]string{"role": "caseworker"}},
}

func newNet(t testing.TB, start time.Time) *net {
	t.Helper()
	cfg, err := api.LoadChaincodeConfig("testdata/config.json")
	if err != nil {
		t.Fatal(err)
	}
	n := &net{t: t, now: start, ledger: map[string]*fakestub.Ledger{}, ids: map[string][]byte{}}
	n.cc, err = New(cfg, WithClock(n.clock))
	if err != nil {
		t.Fatal(err)
	}
	n.ledger["national"] = fakestub.NewLedger("national")
	n.ledger["dublin"] = fakestub.NewLedger("dublin")
	for name, id := range testIdentities {
		b, err := id.Creator()
		if err != nil {
			t.Fatal(err)
		}
		n.ids[name] = b
	}
	return n
}

func (n *net) clock() time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.now
}

// advance moves the clock (endorser and transaction timestamps) forward.
func (n *net) advance(d time.Duration) {
	n.mu.Lock()
	n.now = n.now.Add(d)
	n.mu.Unlock()
}

// result of one transaction.
type result struct {
	status  int32
	payload string
	message string
	tx      *fakestub.Tx
}

func (r result) kind() domain.Kind {
	if r.status == 200 {
		return ""
	}
	k, _ := domain.ParseError(r.message)
	return k
}

// invoke runs fn ("contract:Function") on channel as identity, with the
// transaction timestamp = the clock, and commits a successful transaction.
func (n *net) invoke(channel, identity, fn string, args ...string) result {
	return n.invokeAt(channel, identity, n.clock(), fn, args...)
}

// invokeAt sends a canonical cases:RecordEvent payload as a gateway does (docs/visibility.md):
// its withheld details leave in the transient map (gatewaySplit). Every other call, and a payload
// that is not canonical (a test of a refusal), goes as given; invokeRaw always does.
func (n *net) invokeAt(channel, identity string, ts time.Time, fn string, args ...string) result {
	n.t.Helper()
	args, transient := n.gatewaySplit(channel, fn, args)
	return n.send(channel, identity, ts, transient, fn, args...)
}

// invokeRaw sends the arguments exactly as given, as a client calling the peers directly may:
// withheld details included.
func (n *net) invokeRaw(channel, identity, fn string, args ...string) result {
	n.t.Helper()
	return n.send(channel, identity, n.clock(), nil, fn, args...)
}

// gatewaySplit moves the withheld details of a canonical RecordEvent payload into transient
// details {collection, salt, fields}. The salt is derived from the request id and the payload, so
// a retry sends identical details and other content other details (as the gateway's memoised
// salt).
func (n *net) gatewaySplit(channel, fn string, args []string) ([]string, map[string][]byte) {
	if fn != api.FnRecordEvent || len(args) != 3 {
		return args, nil
	}
	ch, ok := n.cc.c.cfg.Membership.Channel(channel)
	if !ok {
		return args, nil
	}
	sum := sha256.Sum256([]byte(args[0] + "\x00" + args[2]))
	pub, details, err := domain.DefaultVisibility().SplitPayload(ch.Procedure, []byte(args[2]), func() (string, error) { return hex.EncodeToString(sum[:]), nil })
	if err != nil || details == nil {
		return args, nil
	}
	return []string{args[0], args[1], string(pub)}, map[string][]byte{domain.TransientDetailsKey: details}
}

func (n *net) send(channel, identity string, ts time.Time, transient map[string][]byte, fn string, args ...string) result {
	n.t.Helper()
	creator, ok := n.ids[identity]
	if !ok {
		n.t.Fatalf("unknown identity %s", identity)
	}
	tx := n.ledger[channel].NewTx(creator, ts, append([]string{fn}, args...)...)
	if transient != nil {
		tx.SetTransient(transient)
	}
	resp := n.cc.Invoke(tx)
	if resp.Status == 200 {
		tx.Commit()
	}
	return result{status: resp.Status, payload: string(resp.Payload), message: resp.Message, tx: tx}
}

// must invokes and fails the test unless the transaction succeeds.
func (n *net) must(channel, identity, fn string, args ...string) string {
	n.t.Helper()
	r := n.invoke(channel, identity, fn, args...)
	if r.status != 200 {
		n.t.Fatalf("%s as %s on %s: %d %s", fn, identity, channel, r.status, r.message)
	}
	return r.payload
}

// refuse invokes and fails the test unless the transaction fails with kind.
func (n *net) refuse(want domain.Kind, channel, identity, fn string, args ...string) string {
	n.t.Helper()
	r := n.invoke(channel, identity, fn, args...)
	if r.status == 200 {
		n.t.Fatalf("%s as %s: succeeded, want %s", fn, identity, want)
	}
	if got := r.kind(); got != want {
		n.t.Fatalf("%s as %s: got %q (%s), want %s", fn, identity, got, r.message, want)
	}
	if len(r.tx.Writes()) != 0 {
		n.t.Fatalf("%s as %s: a refused transaction left writes", fn, identity)
	}
	return r.message
}

func (n *net) today() string { return n.clock().UTC().Format(time.DateOnly) }

func newID() string { return uuid.NewString() }

func decode[T any](t testing.TB, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decoding %q: %v", s, err)
	}
	return v
}

// payload builds an event payload JSON.
func payload(code domain.EventCode, occurredOn string, fields map[string]any) string {
	m := map[string]any{"vocabularyVersion": domain.VocabularyVersion, "code": code, "occurredOn": occurredOn}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	// A payload that decodes is sent in its canonical form, as gateways send
	// it; one that does not (a test of a refusal) is sent as built.
	var in domain.EventInput
	if domain.DecodeStrict(b, &in) == nil {
		if b, err = domain.EncodeCanonical(in); err != nil {
			panic(fmt.Sprint(err))
		}
	}
	return string(b)
}

// getCase is the case as the auditor reads it: withheld facts absent.
func (n *net) getCase(channel, p string) domain.CaseState {
	n.t.Helper()
	return n.getCaseAs(channel, "aud", p)
}

// getCaseAs is the case as identity reads it: withheld facts of its audiences included.
func (n *net) getCaseAs(channel, identity, p string) domain.CaseState {
	n.t.Helper()
	return decode[domain.CaseState](n.t, n.must(channel, identity, "cases:GetCase", p))
}

// record records an event and returns the write result.
func (n *net) record(channel, identity, p string, code domain.EventCode, occurredOn string, fields map[string]any) api.WriteResult {
	n.t.Helper()
	return decode[api.WriteResult](n.t, n.must(channel, identity, "cases:RecordEvent", newID(), p, payload(code, occurredOn, fields)))
}
