//go:build integration

package test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"

	"github.com/caseledger/caseledger/test/framework"
)

// step is one ledger write by an org's identity with a role.
type step struct {
	org, role, fn string
	args          []string
}

func payload(code, occurredOn string, fields map[string]any) string {
	m := map[string]any{"vocabularyVersion": 1, "code": code, "occurredOn": occurredOn}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	// The chaincode takes only the canonical encoding; a payload that does not decode (a test of a
	// refusal) is sent as built.
	var in domain.EventInput
	if domain.DecodeStrict(b, &in) == nil {
		if b, err = domain.EncodeCanonical(in); err != nil {
			panic(err)
		}
	}
	return string(b)
}

// asGateway is how a gateway sends a step: a canonical cases:RecordEvent payload's withheld
// details leave in the transient map (docs/visibility.md), with a salt derived from the request
// id and the payload, so a retry sends identical details. Anything else goes as given.
func asGateway(t *testing.T, ch string, s step) []client.ProposalOption {
	t.Helper()
	args, transient := gatewaySplit(t, ch, s.fn, s.args)
	opts := []client.ProposalOption{client.WithArguments(args...)}
	if transient != nil {
		opts = append(opts, client.WithTransient(transient))
	}
	return opts
}

// gatewaySplit is asGateway's split of the arguments: the public arguments and the transient map
// (nil when nothing is withheld).
func gatewaySplit(t *testing.T, ch, fn string, args []string) ([]string, map[string][]byte) {
	t.Helper()
	c, ok := itNet.Membership().Channel(ch)
	if !ok {
		t.Fatalf("no channel %s", ch)
	}
	return splitLikeGateway(c.Procedure, fn, args)
}

// splitLikeGateway moves a canonical RecordEvent payload's withheld details into the transient
// map, salted from the request id and the payload; anything else (another function, a payload
// that is not canonical, which the tests send to see it refused) goes as given.
func splitLikeGateway(p domain.Procedure, fn string, args []string) ([]string, map[string][]byte) {
	if fn != api.FnRecordEvent || len(args) != 3 {
		return args, nil
	}
	sum := sha256.Sum256([]byte(args[0] + "\x00" + args[2]))
	pub, details, err := domain.DefaultVisibility().SplitPayload(p, []byte(args[2]), func() (string, error) { return hex.EncodeToString(sum[:]), nil })
	if err != nil || details == nil {
		return args, nil
	}
	return []string{args[0], args[1], string(pub)}, map[string][]byte{domain.TransientDetailsKey: details}
}

func submit(t *testing.T, ch string, s step) []byte {
	t.Helper()
	res, err := contractFor(t, s.org, s.role, ch).Submit(s.fn, asGateway(t, ch, s)...)
	if err != nil {
		t.Fatalf("%s as %s/%s on %s: %s", s.fn, s.org, s.role, ch, framework.ErrorText(err))
	}
	return res
}

// refuse submits as a gateway would (asGateway) and expects the chaincode to refuse with the
// given error kind at endorsement.
func refuse(t *testing.T, ch, kind string, s step) {
	t.Helper()
	refuseWith(t, ch, kind, s, asGateway(t, ch, s)...)
}

// refuseWith submits with exactly the given proposal options (a client calling the peers directly
// as it likes) and expects the chaincode to refuse with kind at endorsement.
func refuseWith(t *testing.T, ch, kind string, s step, opts ...client.ProposalOption) {
	t.Helper()
	_, err := contractFor(t, s.org, s.role, ch).Submit(s.fn, opts...)
	if err == nil {
		t.Fatalf("%s as %s/%s on %s: accepted, want %s", s.fn, s.org, s.role, ch, kind)
	}
	var endorseErr *client.EndorseError
	if !errors.As(err, &endorseErr) {
		t.Fatalf("%s: refused outside endorsement (%T): %s", s.fn, err, framework.ErrorText(err))
	}
	if txt := framework.ErrorText(err); !strings.Contains(txt, kind+":") {
		t.Fatalf("%s as %s/%s: %s, want kind %s", s.fn, s.org, s.role, txt, kind)
	}
}

// TestNationalProcedureOnLedger records a whole national procedure, each step by the agency and role
// the workflow names, and reads the result as the auditor.
func TestNationalProcedureOnLedger(t *testing.T) {
	const ch = "national"
	p := uuid.NewString()
	rec := func(org, code string, fields map[string]any) step {
		return step{org, "caseworker", "cases:RecordEvent", []string{uuid.NewString(), p, payload(code, today(), fields)}}
	}
	submit(t, ch, step{"border-police", "caseworker", "cases:RegisterCase", []string{uuid.NewString(), p, daysAgo(2)}})
	for _, s := range []step{
		rec("border-police", "IDENTITY_CHECKED", map[string]any{"eurodacHit": "CATEGORY_1"}),
		rec("asylum-office", "FILE_CREATED", nil),
		rec("asylum-office", "ALLOCATED", map[string]any{"regionCode": "DE-BE"}),
		rec("asylum-office", "APPLICATION_LODGED", nil),
		rec("asylum-office", "HEARING_SCHEDULED", map[string]any{"scheduledFor": today()}),
		rec("asylum-office", "HEARING_HELD", nil),
		rec("asylum-office", "DECISION_ISSUED", map[string]any{"outcome": "REJECTED"}),
		rec("immigration-authority", "RETURN_COUNSELLING", nil),
		rec("immigration-authority", "CASE_CLOSED", map[string]any{"closureReason": "DEPARTED"}),
	} {
		submit(t, ch, s)
	}
	s := getCase(t, "auditor", "auditor", ch, p)
	if s.Status != "CLOSED" || s.Seq != 10 {
		t.Fatalf("final state %+v, want CLOSED at seq 10", s)
	}
	if got := strings.Join(s.Holders, ","); got != "AsylumOfficeMSP,BorderPoliceMSP,ImmigrationAuthorityMSP" {
		t.Fatalf("holders %s", got)
	}
}

// TestDublinProcedureOnLedger: a take-charge request recorded late (its reply deadline has passed),
// a late reply refused, implicit acceptance recorded, transfer decision, scheduling and completion.
func TestDublinProcedureOnLedger(t *testing.T) {
	const ch = "dublin"
	p := uuid.NewString()
	ao := func(fn string, args ...string) step { return step{"asylum-office", "dublin-officer", fn, args} }
	at := func(fn string, args ...string) step { return step{"partner-state", "dublin-officer", fn, args} }

	submit(t, ch, ao("cases:RegisterCase", uuid.NewString(), p, daysAgo(21)))
	// Application registered after 1 July 2026: AMMR; a Eurodac hit makes the reply limit 2 weeks
	// (Art 40(2)), so a request received 20 days ago is past its reply deadline already.
	submit(t, ch, ao("cases:RecordEvent", uuid.NewString(), p, payload("TAKE_CHARGE_REQUESTED", daysAgo(20), map[string]any{
		"requestedMemberState": "AT", "receivedOn": daysAgo(20), "applicationRegisteredOn": daysAgo(25), "evidence": "EURODAC_HIT", "evidenceReceivedOn": daysAgo(22),
	})))
	// The requested state acknowledges the receipt date (the claim alone does not start its period;
	// its gateway may have acknowledged today's date already, an earlier date still counts).
	submit(t, ch, at("cases:RecordEvent", uuid.NewString(), p, payload("RECEIPT_ACKNOWLEDGED", daysAgo(20), nil)))
	refuse(t, ch, "DEADLINE_PASSED", at("cases:RecordEvent", uuid.NewString(), p, payload("REQUEST_ACCEPTED", today(), nil)))
	refuse(t, ch, "FORBIDDEN", step{"auditor", "auditor", "dublin:ResolveDeadlines", []string{uuid.NewString(), p}})
	res := submit(t, ch, at("dublin:ResolveDeadlines", uuid.NewString(), p))
	if !bytes.Contains(res, []byte("IMPLICITLY_ACCEPTED")) {
		t.Fatalf("ResolveDeadlines recorded %s, want IMPLICITLY_ACCEPTED", res)
	}
	submit(t, ch, ao("cases:RecordEvent", uuid.NewString(), p, payload("TRANSFER_DECISION_ISSUED", today(), nil)))
	submit(t, ch, ao("cases:RecordEvent", uuid.NewString(), p, payload("TRANSFER_SCHEDULED", today(), map[string]any{"scheduledFor": today()})))
	submit(t, ch, ao("cases:RecordEvent", uuid.NewString(), p, payload("TRANSFER_COMPLETED", today(), nil)))
	if s := getCase(t, "partner-state", "dublin-officer", ch, p); s.Status != "TRANSFER_COMPLETED" {
		t.Fatalf("partner state sees %+v, want TRANSFER_COMPLETED", s)
	}
	// The national channel is another pseudonymisation domain: it has never heard of this pseudonym.
	if _, err := contractFor(t, "auditor", "auditor", "national").EvaluateTransaction("cases:GetCase", p); err == nil || !strings.Contains(framework.ErrorText(err), "NOT_FOUND") {
		t.Fatalf("national GetCase of a Dublin pseudonym: %v", err)
	}
}

// TestRefusals: wrong agency, wrong role, the auditor writing, out of order, personal-data-like input,
// an idempotent retry, all on the real network.
func TestRefusals(t *testing.T) {
	const ch = "national"
	p := uuid.NewString()
	submit(t, ch, step{"border-police", "caseworker", "cases:RegisterCase", []string{uuid.NewString(), p, today()}})
	rec := func(org, role, code string, fields map[string]any) step {
		return step{org, role, "cases:RecordEvent", []string{uuid.NewString(), p, payload(code, today(), fields)}}
	}
	refuse(t, ch, "FORBIDDEN", rec("border-police", "caseworker", "FILE_CREATED", nil))                                                 // wrong agency
	refuse(t, ch, "FORBIDDEN", rec("asylum-office", "dublin-officer", "FILE_CREATED", nil))                                             // wrong role
	refuse(t, ch, "FORBIDDEN", step{"auditor", "auditor", "cases:RegisterCase", []string{uuid.NewString(), uuid.NewString(), today()}}) // auditor writes nothing
	refuse(t, ch, "INVALID_TRANSITION", rec("asylum-office", "caseworker", "DECISION_ISSUED", map[string]any{"outcome": "REJECTED"}))   // out of order
	refuse(t, ch, "PERSONAL_DATA", rec("asylum-office", "caseworker", "FILE_CREATED", map[string]any{"name": realIdentifiers[2]}))
	refuse(t, ch, "INVALID_ARGUMENT", rec("border-police", "caseworker", "IDENTITY_CHECKED", map[string]any{"eurodacHit": realIdentifiers[3]}))
	// Free text where a code belongs, and a birth date as the day of the act.
	noteRealIdentifiers("Haddad, Amina")
	refuseWith(t, ch, "PERSONAL_DATA", step{"asylum-office", "caseworker", "cases:RecordEvent", nil},
		client.WithArguments(uuid.NewString(), p, payload("ALLOCATED", today(), nil)),
		client.WithTransient(map[string][]byte{domain.TransientDetailsKey: []byte(`{"collection":"national-decision","salt":"` + strings.Repeat("5e", 32) + `","regionCode":"Haddad, Amina"}`)}))
	// A withheld detail sent as a public argument (stored in the block for every member) is
	// refused as the network configures the chaincode (visibility.refusePublicDetails).
	pub := rec("border-police", "caseworker", "IDENTITY_CHECKED", map[string]any{"eurodacHit": "NONE"})
	refuseWith(t, ch, "INVALID_ARGUMENT", pub, client.WithArguments(pub.args...))
	refuse(t, ch, "INVALID_ARGUMENT", step{"asylum-office", "caseworker", "cases:RecordEvent", []string{uuid.NewString(), p, payload("FILE_CREATED", realIdentifiers[3], nil)}})
	// A file number where a pseudonym belongs, a name where an MSP id or code belongs.
	for _, bad := range []string{realIdentifiers[0], realIdentifiers[1], realIdentifiers[4]} {
		_, err := contractFor(t, "asylum-office", "caseworker", ch).SubmitTransaction("cases:RegisterCase", uuid.NewString(), bad, today())
		if err == nil || !(strings.Contains(framework.ErrorText(err), "INVALID_ARGUMENT:") || strings.Contains(framework.ErrorText(err), "PERSONAL_DATA:")) {
			t.Fatalf("RegisterCase with %q as pseudonym: %v", bad, err)
		}
	}
	refuse(t, ch, "PERSONAL_DATA", step{"asylum-office", "caseworker", "cases:RegisterCase", []string{realIdentifiers[0], uuid.NewString(), today()}}) // as request id

	// The same request id twice records once and returns the first result.
	reqID := uuid.NewString()
	first := submit(t, ch, step{"border-police", "caseworker", "cases:RecordEvent", []string{reqID, p, payload("IDENTITY_CHECKED", today(), map[string]any{"eurodacHit": "NONE"})}})
	again := submit(t, ch, step{"border-police", "caseworker", "cases:RecordEvent", []string{reqID, p, payload("IDENTITY_CHECKED", today(), map[string]any{"eurodacHit": "NONE"})}})
	if !bytes.Equal(first, again) {
		t.Fatalf("retry returned %s, first %s", again, first)
	}
	if s := getCase(t, "auditor", "auditor", ch, p); s.Seq != 2 {
		t.Fatalf("after a retried write the case is at seq %d, want 2", s.Seq)
	}
}
