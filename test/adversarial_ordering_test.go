//go:build integration

package test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/internal/fabricconn"

	"github.com/caseledger/caseledger/test/framework"
)

// TestAdversarialEndorsementAndOrdering: a member builds the transaction envelope itself and
// hands it to an orderer — with its own peer's endorsement only (a peer it controls may run any
// chaincode), with the auditor's peer as the second endorser, with one endorsement twice, with
// arguments changed after endorsement — and replays a committed envelope. The orderer orders what
// it is given; every peer's validation must invalidate it, so nothing is written. A transaction
// timestamp one day off is refused by the endorsers themselves.
func TestAdversarialEndorsementAndOrdering(t *testing.T) {
	f := fixture(t)
	a := newAdversary(t)
	bp := signerOf(t, "border-police", "caseworker")
	ps := signerOf(t, "partner-state", "dublin-officer")
	before := f.w.snapshot(t)

	invalid := map[string]int{} // "channel/code" -> invalidated transactions this test ordered
	// Registrations of fresh pseudonyms: valid in every respect except who endorsed them.
	policy := []struct {
		name      string
		who       *advSigner
		ch        string
		endorsers []string
	}{
		{"national, own peer only", bp, "national", []string{"border-police"}},
		{"dublin, own peer only", ps, "dublin", []string{"partner-state"}},
		{"national, own peer and the auditor's", bp, "national", []string{"border-police", "auditor"}},
		{"dublin, own peer and the auditor's", ps, "dublin", []string{"partner-state", "auditor"}},
		{"national, own endorsement twice", bp, "national", []string{"border-police", "border-police"}},
	}
	for _, c := range policy {
		t.Run(c.name, func(t *testing.T) {
			a := a.in(t)
			p := newID()
			prop := a.propose(c.who, c.ch, time.Now(), "cases:RegisterCase", strArgs(newID(), p, today())...)
			ends := a.endorse(prop, c.endorsers...)
			var got []endorsement
			for _, e := range ends {
				if e.ok() {
					got = append(got, e)
				}
			}
			if len(got) == 0 {
				t.Logf("no endorsement at all (%s): nothing to send", ends[0].text())
				return
			}
			a.mustBroadcast(a.envelope(prop, got))
			code, block := a.commitStatus(prop)
			if code != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE {
				t.Errorf("committed as %s in block %d, want ENDORSEMENT_POLICY_FAILURE", code, block)
			}
			invalid[c.ch+"/"+code.String()]++
			assertNoCase(t, c.ch, p)
		})
	}

	// Arguments changed after endorsement: the endorsed response belongs to other arguments.
	t.Run("arguments changed after endorsement", func(t *testing.T) {
		a := a.in(t)
		p := newID()
		honest := a.propose(bp, "national", time.Now(), "cases:RegisterCase", strArgs(newID(), p, today())...)
		ends := a.endorse(honest, "border-police", "asylum-office")
		for _, e := range ends {
			if !e.ok() {
				t.Fatalf("honest proposal refused by %s: %s", e.org, e.text())
			}
		}
		other := newID()
		forged := a.propose(bp, "national", time.Now(), "cases:RegisterCase", strArgs(newID(), other, today())...)
		// The forged transaction keeps the honest one's header (txid, signature header) and
		// endorsements but carries the other arguments.
		var eds []*peer.Endorsement
		for _, e := range ends {
			eds = append(eds, e.resp.GetEndorsement())
		}
		a.mustBroadcast(a.envelopeFrom(honest, forged.ccPayload, ends[0].resp.GetPayload(), eds))
		if code, block := a.commitStatus(honest); code == peer.TxValidationCode_VALID {
			t.Errorf("a transaction whose arguments differ from the endorsed ones committed VALID in block %d", block)
		} else {
			t.Logf("invalidated: %s", code)
			invalid["national/"+code.String()]++
		}
		assertNoCase(t, "national", p)
		assertNoCase(t, "national", other)
	})

	// A transaction timestamp one day off: the chaincode takes time only from it, so the endorsers
	// refuse it (clock tolerance, minutes).
	for _, off := range []time.Duration{-24 * time.Hour, 24 * time.Hour} {
		t.Run("timestamp "+off.String(), func(t *testing.T) {
			a := a.in(t)
			// Valid in every other respect: the act took place on the (claimed) day of the transaction.
			day := time.Now().Add(off).UTC().Format(time.DateOnly)
			a.expectRefused(a.propose(bp, "national", time.Now().Add(off), "cases:RegisterCase", strArgs(newID(), newID(), day)...),
				"CLOCK_SKEW", "border-police", "asylum-office")
			ao := signerOf(t, "asylum-office", "dublin-officer")
			a.expectRefused(a.propose(ao, "dublin", time.Now().Add(off), "cases:RegisterCase", strArgs(newID(), newID(), day)...),
				"CLOCK_SKEW", "asylum-office", "partner-state")
		})
	}

	// A replayed envelope: the same signed transaction twice, to two orderers. It commits once;
	// the copy is invalidated as a duplicate and records nothing.
	t.Run("replayed envelope", func(t *testing.T) {
		a := a.in(t)
		p := newID()
		prop := a.propose(bp, "national", time.Now(), "cases:RegisterCase", strArgs(newID(), p, today())...)
		ends := a.endorse(prop, "border-police", "immigration-authority")
		for _, e := range ends {
			if !e.ok() {
				t.Fatalf("refused by %s: %s", e.org, e.text())
			}
		}
		env := a.envelope(prop, ends)
		a.mustBroadcast(env)
		code, block := a.commitStatus(prop)
		if code != peer.TxValidationCode_VALID {
			t.Fatalf("first copy: %s", code)
		}
		seq := getCase(t, "auditor", "auditor", "national", p).Seq
		for i := 1; i < 3; i++ {
			if resp, err := a.broadcast(env, i); err != nil || resp.GetStatus() != common.Status_SUCCESS {
				t.Logf("orderer%d refused the copy: %v %v %s", i, err, resp.GetStatus(), resp.GetInfo())
			}
		}
		occ := txOccurrences(t, "national", prop.txID, block, 3, 20*time.Second)
		if len(occ) < 2 {
			t.Logf("only %d occurrence(s) of the transaction in the blocks: the orderers dropped the copies", len(occ))
		}
		for i, c := range occ {
			if i > 0 && c != peer.TxValidationCode_DUPLICATE_TXID {
				t.Errorf("copy %d committed as %s, want DUPLICATE_TXID", i, c)
			}
			if i > 0 {
				invalid["national/"+c.String()]++
			}
		}
		if s := getCase(t, "auditor", "auditor", "national", p); s.Seq != seq || s.Seq != 1 {
			t.Errorf("after the replay the case is %+v, was seq %d", s, seq)
		}
		bare, reader := auditorReader(t)
		counts, _, err := bare.ScanValidTx(t.Context(), reader, "national")
		if err != nil {
			t.Fatal(err)
		}
		if counts[prop.txID] != 1 {
			t.Errorf("transaction committed valid %d times", counts[prop.txID])
		}
	})
	f.w.unchanged(t, before, "envelopes built and ordered by a member")

	// The auditor's verification sees every one of them: intact chain, each invalidated
	// transaction counted under its validation code.
	r := gatewayOf(t, "auditor").do("auditor", http.MethodPost, "/v1/audit/verification", nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("verification: %d %s", r.status, r.body)
	}
	var report struct {
		Intact   bool `json:"intact"`
		Channels []struct {
			Channel         string         `json:"channel"`
			ValidationCodes map[string]int `json:"validationCodes"`
		} `json:"channels"`
	}
	if err := json.Unmarshal(r.body, &report); err != nil {
		t.Fatal(err)
	}
	if !report.Intact {
		t.Errorf("verification not intact: %.2000s", r.body)
	}
	for k, n := range invalid {
		ch, code, _ := strings.Cut(k, "/")
		found := false
		for _, c := range report.Channels {
			if c.Channel == ch {
				found = true
				if c.ValidationCodes[code] < n {
					t.Errorf("%s: the verification counts %d transactions %s, this test alone ordered %d", ch, c.ValidationCodes[code], code, n)
				}
			}
		}
		if !found {
			t.Errorf("the verification has no report for %s", ch)
		}
	}
}

// TestAdversarialReadSubmitted (issue 11, finding 5): a read function endorsed by two peers and
// sent to the orderer. A bookmark the chaincode never issued (base64 of personal data behind the
// right prefix) is refused by the endorsers, so it has no way into a block. A read with strict
// arguments may commit (the orderer does not know reads from writes), but then it wrote nothing,
// carries only canonical arguments, and the auditor's verification lists it with its sender.
func TestAdversarialReadSubmitted(t *testing.T) {
	f := fixture(t)
	a := newAdversary(t)
	aud := signerOf(t, "auditor", "auditor")
	ps := signerOf(t, "partner-state", "dublin-officer")
	before := f.w.snapshot(t)
	pd := personalData
	noteMarkers(pd.all, pd.name)
	forged := []struct {
		name  string
		who   *advSigner
		ch    string
		fn    string
		args  []string
		peers []string
	}{
		{"deadline board, bookmark with the board's prefix", ps, "dublin", "dublin:DeadlinesDue",
			[]string{today(), base64.RawURLEncoding.EncodeToString([]byte("due/2020-01-01/" + pd.all)), "10"}, []string{"asylum-office", "partner-state"}},
		{"deadline board, bookmark of a name", aud, "dublin", "dublin:DeadlinesDue",
			[]string{today(), base64.RawURLEncoding.EncodeToString([]byte(pd.name)), "10"}, []string{"asylum-office", "partner-state"}},
		{"list by status, forged bookmark", aud, "national", "cases:ListByStatus",
			[]string{"IDENTITY_CHECKED", base64.RawURLEncoding.EncodeToString([]byte("\x00status\x00IDENTITY_CHECKED\x00" + pd.all)), "10"}, []string{"asylum-office", "border-police"}},
		{"timeline, forged bookmark", aud, "national", "cases:GetTimeline",
			[]string{f.nat, base64.RawURLEncoding.EncodeToString([]byte("\x00event\x00" + f.nat + "\x00" + pd.all)), "10"}, []string{"asylum-office", "border-police"}},
		{"personal data as a pseudonym (read)", aud, "national", "cases:GetCase", []string{pd.all}, []string{"asylum-office", "border-police"}},
		{"personal data as an MSP id (read)", aud, "national", "cases:ListByAgency", []string{pd.name, "", "10"}, []string{"asylum-office", "border-police"}},
	}
	for _, c := range forged {
		t.Run(c.name, func(t *testing.T) {
			a := a.in(t)
			a.expectRefused(a.propose(c.who, c.ch, time.Now(), c.fn, strArgs(c.args...)...), "INVALID_ARGUMENT|PERSONAL_DATA", c.peers...)
		})
	}

	// A read with strict arguments, endorsed by two peers and ordered by the auditor.
	prop := a.propose(aud, "national", time.Now(), "cases:GetCase", strArgs(f.nat)...)
	ends := a.endorse(prop, "asylum-office", "border-police")
	refused := false
	for _, e := range ends {
		if !e.ok() {
			refused = true
			t.Logf("read refused for ordering by %s: %s", e.org, e.text())
		}
	}
	if !refused {
		t.Run("ordered read", func(t *testing.T) { orderedRead(t, a.in(t), prop, ends, f.nat) })
	}
	f.w.unchanged(t, before, "reads sent to the orderer")
}

// orderedRead sends the endorsed read to the orderer and checks what committed.
func orderedRead(t *testing.T, a *adversary, prop *rawProposal, ends []endorsement, pseudonym string) {
	{
		a.mustBroadcast(a.envelope(prop, ends))
		code, block := a.commitStatus(prop)
		t.Logf("the ordered read committed as %s in block %d", code, block)
		// What is in the block is exactly the canonical call: the function and one pseudonym.
		if args := committedArgs(t, prop.ch, prop.txID); len(args) != 2 || string(args[0]) != "cases:GetCase" || !bytes.Equal(args[1], []byte(pseudonym)) {
			t.Fatalf("the block holds the arguments %q", args)
		}
		if code != peer.TxValidationCode_VALID {
			return // invalidated: it wrote nothing and the report counts its code
		}
		// The auditor's verification lists it as a transaction that wrote nothing, with its sender.
		audGw := gatewayOf(t, "auditor")
		r := audGw.do("auditor", http.MethodPost, "/v1/audit/verification", nil, "")
		if r.status != http.StatusOK {
			t.Fatalf("verification: %d %s", r.status, r.body)
		}
		var report struct {
			Intact   bool `json:"intact"`
			Channels []struct {
				Channel  string `json:"channel"`
				NoWrites []struct {
					Block    uint64 `json:"block"`
					TxID     string `json:"txId"`
					Creator  string `json:"creatorMspId"`
					Function string `json:"function"`
				} `json:"noWrites"`
			} `json:"channels"`
		}
		if err := json.Unmarshal(r.body, &report); err != nil {
			t.Fatal(err)
		}
		listed := false
		for _, c := range report.Channels {
			for _, n := range c.NoWrites {
				if n.TxID == prop.txID {
					listed = c.Channel == "national" && n.Block == block && n.Creator == "AuditorMSP" && n.Function == "cases:GetCase"
					if !listed {
						t.Errorf("listed wrongly: %s %+v", c.Channel, n)
					}
				}
			}
		}
		if !listed {
			t.Errorf("the auditor's verification does not list the ordered read %s (block %d, sent by AuditorMSP) as a transaction that wrote nothing: %.2000s", prop.txID, block, r.body)
		}
		if !report.Intact {
			t.Errorf("verification not intact: %.2000s", r.body)
		}
	}
}

// committedArgs reads a committed transaction from the auditor's peer (qscc) and returns the
// chaincode arguments stored in its block.
func committedArgs(t *testing.T, ch, txID string) [][]byte {
	t.Helper()
	c, err := itNet.Connection("auditor")
	if err != nil {
		t.Fatal(err)
	}
	gw, conn, err := fabricconn.Dial(c, "auditor", networkDefaults())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	defer gw.Close()
	b, err := gw.GetNetwork(ch).GetContract("qscc").Evaluate("GetTransactionByID", client.WithArguments(ch, txID))
	if err != nil {
		t.Fatalf("GetTransactionByID: %s", framework.ErrorText(err))
	}
	dec := func(in []byte, m proto.Message) {
		t.Helper()
		if err := proto.Unmarshal(in, m); err != nil {
			t.Fatalf("decode %T: %v", m, err)
		}
	}
	var pt peer.ProcessedTransaction
	var pl common.Payload
	var tx peer.Transaction
	var cap peer.ChaincodeActionPayload
	var cpp peer.ChaincodeProposalPayload
	var spec peer.ChaincodeInvocationSpec
	dec(b, &pt)
	dec(pt.GetTransactionEnvelope().GetPayload(), &pl)
	dec(pl.GetData(), &tx)
	if len(tx.GetActions()) != 1 {
		t.Fatalf("%d actions", len(tx.GetActions()))
	}
	dec(tx.GetActions()[0].GetPayload(), &cap)
	dec(cap.GetChaincodeProposalPayload(), &cpp)
	dec(cpp.GetInput(), &spec)
	return spec.GetChaincodeSpec().GetInput().GetArgs()
}

// assertNoCase: the pseudonym is on no case of the channel (read as the auditor).
func assertNoCase(t *testing.T, ch, pseudonym string) {
	t.Helper()
	_, err := contractFor(t, "auditor", "auditor", ch).EvaluateTransaction("cases:GetCase", pseudonym)
	if err == nil || !hasKind(framework.ErrorText(err), "NOT_FOUND") {
		t.Errorf("case %s on %s: %v, want NOT_FOUND", pseudonym, ch, err)
	}
}

// TestAdversarialHeldProposal (issue 11, finding 6): a member endorses a write, holds the signed
// transaction and orders it after others have committed later writes. Endorsers check the
// timestamp only when they endorse, so it commits (accepted risk, docs/security.md); the auditor's
// verification must flag it, with its sender. The hold is simulated without waiting: the held write
// is stamped 4 minutes back and a write stamped 4 minutes ahead commits first — each within the
// endorsers' 5-minute tolerance, together 8 minutes apart, as if held that long.
func TestAdversarialHeldProposal(t *testing.T) {
	f := fixture(t)
	a := newAdversary(t)
	bp := signerOf(t, "border-police", "caseworker")
	ao := signerOf(t, "asylum-office", "caseworker")
	before := f.w.snapshot(t)
	now := time.Now()
	held := a.propose(bp, "national", now.Add(-4*time.Minute), "cases:RegisterCase", strArgs(newID(), newID(), now.Add(-4*time.Minute).UTC().Format(time.DateOnly))...)
	heldEnds := a.endorse(held, "border-police", "immigration-authority")
	for _, e := range heldEnds {
		if !e.ok() {
			t.Fatalf("the write to hold was refused by %s: %s", e.org, e.text())
		}
	}
	later := a.propose(ao, "national", now.Add(4*time.Minute), "cases:RegisterCase", strArgs(newID(), newID(), now.Add(4*time.Minute).UTC().Format(time.DateOnly))...)
	if _, code, _ := a.submit(later, "asylum-office", "border-police"); code != peer.TxValidationCode_VALID {
		t.Fatalf("the later write: %s", code)
	}
	a.mustBroadcast(a.envelope(held, heldEnds))
	code, block := a.commitStatus(held)
	t.Logf("the held write committed as %s in block %d", code, block)
	if code == peer.TxValidationCode_VALID {
		r := gatewayOf(t, "auditor").do("auditor", http.MethodPost, "/v1/audit/verification", nil, "")
		if r.status != http.StatusOK {
			t.Fatalf("verification: %d %s", r.status, r.body)
		}
		var report struct {
			Channels []struct {
				Channel        string `json:"channel"`
				LateTimestamps []struct {
					Block    uint64 `json:"block"`
					TxID     string `json:"txId"`
					Creator  string `json:"creatorMspId"`
					Function string `json:"function"`
					Behind   string `json:"behind"`
				} `json:"lateTimestamps"`
			} `json:"channels"`
		}
		if err := json.Unmarshal(r.body, &report); err != nil {
			t.Fatal(err)
		}
		flagged := false
		for _, c := range report.Channels {
			for _, n := range c.LateTimestamps {
				if n.TxID == held.txID {
					flagged = c.Channel == "national" && n.Block == block && n.Creator == "BorderPoliceMSP" && n.Function == "cases:RegisterCase"
					t.Logf("flagged: %+v", n)
				}
			}
		}
		if !flagged {
			t.Errorf("the auditor's verification does not flag the held write %s (block %d, BorderPoliceMSP): %.3000s", held.txID, block, r.body)
		}
	}
	f.w.unchanged(t, before, "a held proposal")
}
