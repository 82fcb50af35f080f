package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// peerAnswers makes the auditor's peer answer audit:GetPrivateDataHashes as a peer whose private
// state differs from the chain would.
type peerAnswers struct {
	*testLedger
	edit func([]api.PrivateDataHash) []api.PrivateDataHash
}

func (p *peerAnswers) Evaluate(ctx context.Context, role domain.Role, channel, fn string, args ...string) ([]byte, error) {
	b, err := p.testLedger.Evaluate(ctx, role, channel, fn, args...)
	if err != nil || fn != api.FnGetPrivateDataHashes {
		return b, err
	}
	var hs []api.PrivateDataHash
	if err := json.Unmarshal(b, &hs); err != nil {
		return nil, err
	}
	return json.Marshal(p.edit(hs))
}

// The auditor's verification compares the hash of every private record the chain committed with
// what its own peer holds (hashes only): the honest ledger passes, before and after an erasure
// purged the records; a peer holding another hash, no hash or no record fails it at the block of
// the record's write.
func TestVerifyPrivateDataHashes(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	ctx := context.Background()
	today := clock.Now().Format(time.DateOnly) // 10:00 UTC: the same day in every member state
	p := uuid.NewString()
	submit := func(msp, fn string, details []byte, args ...string) {
		t.Helper()
		var err error
		if details != nil {
			_, err = n.ledger(msp).SubmitPrivate(ctx, nil, domain.RoleCaseworker, "national", fn, uuid.NewString(), details, args...)
		} else {
			_, err = n.ledger(msp).Submit(ctx, nil, domain.RoleCaseworker, "national", fn, uuid.NewString(), args...)
		}
		if err != nil {
			t.Fatalf("%s as %s: %v", fn, msp, err)
		}
	}
	event := func(code domain.EventCode) string {
		b, _ := domain.EncodeCanonical(domain.EventInput{VocabularyVersion: 1, Code: code, OccurredOn: today})
		return string(b)
	}
	details := func(coll string, f domain.EventFields) []byte {
		b, _ := domain.EncodeCanonical(domain.DetailsInput{Collection: coll, Salt: randHex(32), EventFields: f})
		return b
	}
	submit(bp, api.FnRegisterCase, nil, p, today)
	submit(bp, api.FnRecordEvent, details("national-agencies", domain.EventFields{EurodacHit: domain.EurodacCategory1}), p, event(domain.EvIdentityChecked))
	submit(ao, api.FnRecordEvent, nil, p, event(domain.EvFileCreated))
	submit(ao, api.FnRecordEvent, nil, p, event(domain.EvApplicationLodged))
	submit(ao, api.FnRecordEvent, details("national-decision", domain.EventFields{Outcome: domain.OutcomeRejected}), p, event(domain.EvDecisionIssued))

	auditor := n.ledger(au)
	cr := verifyChain(ctx, auditor, "national", clock.Now, 5*time.Minute)
	if !cr.Intact || cr.PrivateRecords != 2 || cr.PrivateRecordsPurged != 0 {
		t.Fatalf("honest ledger: %+v", cr)
	}
	decisionBlock := cr.Blocks - 1 // the decision was the last write

	for _, c := range []struct {
		name, problem string
		edit          func([]api.PrivateDataHash) []api.PrivateDataHash
	}{
		{"another hash", "differs from the one the chain committed", func(hs []api.PrivateDataHash) []api.PrivateDataHash {
			hs[1].Hash = strings.Repeat("ab", 32)
			return hs
		}},
		{"no hash", "holds no hash", func(hs []api.PrivateDataHash) []api.PrivateDataHash {
			hs[1].Hash = ""
			return hs
		}},
		{"no record", "names no withheld record", func(hs []api.PrivateDataHash) []api.PrivateDataHash { return hs[:1] }},
		{"a record in another collection", "names no withheld record", func(hs []api.PrivateDataHash) []api.PrivateDataHash {
			hs[1].Collection = "national-agencies"
			return hs
		}},
		{"a record the chain never committed", "never committed", func(hs []api.PrivateDataHash) []api.PrivateDataHash {
			return append(hs, api.PrivateDataHash{Seq: 4, Collection: "national-decision", Hash: strings.Repeat("cd", 32)})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cr := verifyChain(ctx, &peerAnswers{testLedger: auditor, edit: c.edit}, "national", clock.Now, 5*time.Minute)
			inc := cr.FirstInconsistency
			if cr.Intact || inc == nil || !strings.Contains(inc.Problem, c.problem) {
				t.Fatalf("%+v", cr)
			}
			if c.name != "a record the chain never committed" && inc.Block != decisionBlock {
				t.Fatalf("reported at block %d, the record was written in block %d", inc.Block, decisionBlock)
			}
		})
	}

	// The erasure purges both records: the chain keeps their hashes, the peer holds none.
	submit(bp, api.FnRequestErasure, nil, p, today)
	submit(bp, api.FnConfirmErasure, nil, p, today)
	submit(ao, api.FnConfirmErasure, nil, p, today)
	cr = verifyChain(ctx, auditor, "national", clock.Now, 5*time.Minute)
	if !cr.Intact || cr.PrivateRecords != 0 || cr.PrivateRecordsPurged != 2 {
		t.Fatalf("after the erasure: %+v", cr)
	}
	// A peer that still answers a purged record's hash fails the verification.
	cr = verifyChain(ctx, &peerAnswers{testLedger: auditor, edit: func(hs []api.PrivateDataHash) []api.PrivateDataHash {
		hs[0].Hash = strings.Repeat("ef", 32)
		return hs
	}}, "national", clock.Now, 5*time.Minute)
	if cr.Intact || cr.FirstInconsistency == nil || !strings.Contains(cr.FirstInconsistency.Problem, "the chain purged the record") {
		t.Fatalf("purged record still hashed: %+v", cr)
	}
}

// Fabric's lifecycle writes each organisation's approval to its implicit collection: those hashed
// writes are not the chaincode's records and need no withheld event.
func TestVerifyPrivateIgnoresLifecycle(t *testing.T) {
	m := func(x proto.Message) []byte { b, _ := proto.Marshal(x); return b }
	kh := sha256.Sum256([]byte("namespaces/fields/caseledger/Sequence"))
	hashed := m(&kvrwset.HashedRWSet{HashedWrites: []*kvrwset.KVWriteHash{{KeyHash: kh[:], ValueHash: kh[:]}}})
	results := m(&rwset.TxReadWriteSet{NsRwset: []*rwset.NsReadWriteSet{{Namespace: "_lifecycle", Rwset: m(&kvrwset.KVRWSet{}),
		CollectionHashedRwset: []*rwset.CollectionHashedReadWriteSet{{CollectionName: "_implicit_org_AuditorMSP", HashedRwset: hashed}}}}})
	prp := m(&peer.ProposalResponsePayload{Extension: m(&peer.ChaincodeAction{Results: results})})
	tx := m(&peer.Transaction{Actions: []*peer.TransactionAction{{Payload: m(&peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp}})}}})
	pl := newPrivateLedger()
	_, rws := endorserTx(tx)
	pl.collect(rws, 1, 0)
	if len(pl.writes) != 0 {
		t.Fatalf("lifecycle writes taken as records: %v", pl.writes)
	}
	// The same write in the chaincode's namespace is a record.
	results = m(&rwset.TxReadWriteSet{NsRwset: []*rwset.NsReadWriteSet{{Namespace: "caseledger", Rwset: m(&kvrwset.KVRWSet{}),
		CollectionHashedRwset: []*rwset.CollectionHashedReadWriteSet{{CollectionName: "national-decision", HashedRwset: hashed}}}}})
	prp = m(&peer.ProposalResponsePayload{Extension: m(&peer.ChaincodeAction{Results: results})})
	tx = m(&peer.Transaction{Actions: []*peer.TransactionAction{{Payload: m(&peer.ChaincodeActionPayload{Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp}})}}})
	_, rws = endorserTx(tx)
	pl.collect(rws, 2, 0)
	if len(pl.writes) != 1 {
		t.Fatalf("records %v", pl.writes)
	}
}
