package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// A request that names a block waits until the agency's peer has committed
// it, is answered 503 LEDGER_BEHIND (nothing recorded) when the peer does not
// get there in time, and succeeds when retried with the same key once it has.
func TestMinBlockWaitsForThePeer(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, ao, func(c *Config) { c.MinBlockWait = time.Second })
	ref := a.register(domain.RoleCaseworker, "national", "AO-MB1", "2026-11-27") // block 1
	b := newChainBuilder(t)
	b.add(b.tx())
	b.add(b.tx())
	setChain := func(blocks []*common.Block) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.blockChains = map[string][]*common.Block{"national": blocks}
	}
	setChain(b.blocks) // height 3: blocks 0..2 committed
	hint := func(v string) http.Header { return http.Header{api.HeaderMinBlock: {v}} }
	extra := map[string]string{"IDENTITY_CHECKED": `,"eurodacHit":"CATEGORY_1"`}
	event := func(code string) api.EventRequest {
		return api.EventRequest{CaseRef: api.CaseRef{Channel: "national", Pseudonym: ref.Pseudonym},
			Event: []byte(`{"code":"` + code + `","occurredOn":"2026-11-27"` + extra[code] + `}`)}
	}

	if r := a.callWith(hint("2"), domain.RoleCaseworker, "POST", "/v1/cases/events", event("IDENTITY_CHECKED"), ""); r.status != 200 {
		t.Fatalf("block already committed: %d %s", r.status, r.body)
	}
	before := n.submitted(api.FnRecordEvent)
	r := a.callWith(hint("6"), domain.RoleCaseworker, "POST", "/v1/cases/events", event("FILE_CREATED"), "mb-key")
	if p := r.problem(t); r.status != 503 || p.Code != api.CodeLedgerBehind || r.header.Get("Retry-After") != "1" {
		t.Fatalf("block not reached: %d %+v, want 503 LEDGER_BEHIND with Retry-After", r.status, p)
	}
	if got := n.submitted(api.FnRecordEvent); got != before {
		t.Fatalf("a write that waited in vain was submitted (%d → %d)", before, got)
	}
	if r := a.callWith(hint("6"), domain.RoleCaseworker, "POST", "/v1/cases/state", api.CaseRef{Channel: "national", Pseudonym: ref.Pseudonym}, ""); r.status != 503 {
		t.Fatalf("read before the block: %d, want 503", r.status)
	}

	// The peer catches up while the retry waits (well within the second).
	go func() {
		time.Sleep(100 * time.Millisecond)
		for range 4 {
			b.add(b.tx())
		}
		setChain(b.blocks) // height 7
	}()
	if r := a.callWith(hint("6"), domain.RoleCaseworker, "POST", "/v1/cases/events", event("FILE_CREATED"), "mb-key"); r.status != 200 {
		t.Fatalf("retry once the peer has the block: %d %s", r.status, r.body)
	}
	if got := n.submitted(api.FnRecordEvent); got != before+1 {
		t.Fatalf("submits %d, want %d", got, before+1)
	}

	for _, bad := range []string{"abc", "-1", "1e3", "99999999999999999999"} {
		r := a.callWith(hint(bad), domain.RoleCaseworker, "POST", "/v1/cases/state", api.CaseRef{Channel: "national", Pseudonym: ref.Pseudonym}, "")
		if p := r.problem(t); r.status != 400 || p.Code != string(domain.KindInvalidArgument) {
			t.Errorf("%s %q: %d %+v, want 400 INVALID_ARGUMENT", api.HeaderMinBlock, bad, r.status, p)
		}
	}
}
