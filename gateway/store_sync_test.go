package gateway

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGroupSyncSharesOneFlushAmongWaitingCallers(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 16)
	var flushes atomic.Int32
	g := &groupSync{flush: func() error {
		flushes.Add(1)
		started <- struct{}{}
		<-release
		return nil
	}}
	first := make(chan error, 1)
	go func() { first <- g.do() }()
	<-started // the first flush is running; these ten arrive during it
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- g.do() }()
	}
	waitFor(t, "eleven tickets issued", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.issued == 11 })
	release <- struct{}{} // end of flush 1: it covered only the first caller
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	<-started // flush 2 covers all ten
	select {
	case err := <-errs:
		t.Fatalf("a caller returned (%v) before the flush that covers it ended", err)
	case <-time.After(50 * time.Millisecond):
	}
	release <- struct{}{}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := flushes.Load(); n != 2 {
		t.Fatalf("%d flushes for 11 callers, want 2", n)
	}
}

func TestGroupSyncFailureIsSticky(t *testing.T) {
	boom := errors.New("EIO")
	fail := true
	g := &groupSync{flush: func() error {
		if fail {
			return boom
		}
		return nil
	}}
	if err := g.do(); !errors.Is(err, boom) {
		t.Fatalf("first sync: %v, want %v", err, boom)
	}
	fail = false
	if err := g.do(); !errors.Is(err, boom) {
		t.Fatalf("sync after a failed one: %v; nothing written since may be called durable", err)
	}
}
