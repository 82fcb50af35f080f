package chaincode

import (
	"testing"

	"github.com/caseledger/caseledger/domain"
)

// BenchmarkRecordEvent measures one endorsement of cases:RecordEvent through
// ContractChaincode.Invoke (argument handling, identity parsing, idempotency
// lookup, domain rules, writes, event) on the in-memory stub.
func BenchmarkRecordEvent(b *testing.B) {
	n := newNet(b, t0)
	p := newID()
	n.must("national", "ao", "cases:RegisterCase", newID(), p, n.today())
	creator := n.ids["ao"]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Anchors do not move the workflow, so every iteration is a valid write
		// (the transaction is not committed: the case stays the same size).
		hash := hashOf(i)
		tx := n.ledger["national"].NewTx(creator, n.clock(), "cases:RecordEvent", newID(), p,
			payload(domain.EvDocumentAnchored, n.today(), map[string]any{"documentHash": hash}))
		if resp := n.cc.Invoke(tx); resp.Status != 200 {
			b.Fatal(resp.Message)
		}
	}
}

func hashOf(i int) string {
	const hexd = "0123456789abcdef"
	out := make([]byte, 64)
	for j := range out {
		out[j] = '0'
	}
	for j := 63; i > 0 && j >= 0; j-- {
		out[j] = hexd[i%16]
		i /= 16
	}
	return string(out)
}

// BenchmarkGetCase measures an evaluate of cases:GetCase.
func BenchmarkGetCase(b *testing.B) {
	n := newNet(b, t0)
	p := newID()
	n.must("national", "ao", "cases:RegisterCase", newID(), p, n.today())
	creator := n.ids["aud"]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx := n.ledger["national"].NewTx(creator, n.clock(), "cases:GetCase", p)
		if resp := n.cc.Invoke(tx); resp.Status != 200 {
			b.Fatal(resp.Message)
		}
	}
}

// BenchmarkArgumentGate measures the argument gate alone (args.go, proposal.go) for a
// cases:RecordEvent: function and count, proposal decoding, the membership read from the state,
// canonical payload check.
func BenchmarkArgumentGate(b *testing.B) {
	n := newNet(b, t0)
	tx := n.ledger["national"].NewTx(n.ids["ao"], n.clock(), "cases:RecordEvent", newID(), newID(),
		payload(domain.EvDocumentAnchored, n.today(), map[string]any{"documentHash": hashOf(7)}))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := n.cc.checkInvocation(tx); err != nil {
			b.Fatal(err)
		}
	}
}
