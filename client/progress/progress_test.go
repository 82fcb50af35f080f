package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a writer safe for the spinner goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestPlainOutputIsOneLineAtStartAndEnd(t *testing.T) {
	var b syncBuf
	clk := &fakeClock{t: time.Unix(0, 0)}
	l := start(&b, "waiting for the deadline watcher", false, clk.now)
	l.Status("ignored off a terminal")
	clk.add(2500 * time.Millisecond)
	l.Done("IMPLICITLY_ACCEPTED in block %d", 12)
	l.Fail("a second end is ignored")
	want := "… waiting for the deadline watcher\n✔ waiting for the deadline watcher: IMPLICITLY_ACCEPTED in block 12 (2.5s)\n"
	if b.String() != want {
		t.Fatalf("output %q\nwant   %q", b.String(), want)
	}
}

func TestTerminalOutputRedrawsInPlace(t *testing.T) {
	var b syncBuf
	clk := &fakeClock{t: time.Unix(0, 0)}
	l := start(&b, "verifying", true, clk.now)
	l.Status("channel %s", "dublin")
	clk.add(90 * time.Second)
	time.Sleep(250 * time.Millisecond) // let the spinner redraw at least once
	l.Fail("peer unreachable")
	out := b.String()
	if !strings.Contains(out, "\r\x1b[K") || !strings.Contains(out, "— channel dublin") || !strings.Contains(out, "1m30s") {
		t.Fatalf("no in-place redraw with status and elapsed time: %q", out)
	}
	if !strings.HasSuffix(out, "\r\x1b[K✘ verifying: peer unreachable (1m30s)\n") {
		t.Fatalf("final line: %q", out)
	}
}

func TestIsTerminalOnNonFiles(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Fatal("a buffer is no terminal")
	}
}
