package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// TestEventStreamFromNow: ?after=now streams only what is logged after the
// request (the console's live feed), not the log from its start.
func TestEventStreamFromNow(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	bpA := newAgency(t, n, clock, bp, nil)
	aoA := newAgency(t, n, clock, ao, nil)
	old := bpA.register(domain.RoleCaseworker, "national", "BP-OLD", "2026-11-27")
	// Wait until the old registration is in the asylum office's log.
	ctx0, cancel0 := context.WithCancel(context.Background())
	all, _ := aoA.readSSE(ctx0, domain.RoleCaseworker, "", "")
	if ev := next(t, all); ev.view.Pseudonym != old.Pseudonym {
		t.Fatalf("first event %+v", ev)
	}
	cancel0()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, res := aoA.readSSE(ctx, domain.RoleCaseworker, "?after=now", "")
	if res.StatusCode != 200 {
		t.Fatalf("after=now: %d", res.StatusCode)
	}
	fresh := bpA.register(domain.RoleCaseworker, "national", "BP-NEW", "2026-11-27")
	if ev := next(t, stream); ev.view.Pseudonym != fresh.Pseudonym {
		t.Fatalf("after=now delivered %+v, want only the new registration", ev)
	}
	select {
	case ev := <-stream:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}
