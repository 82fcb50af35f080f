// Package progress shows that a long step is alive: on a terminal one line
// redrawn in place with a spinner and the elapsed time; elsewhere (logs,
// pipes, tests) one line when the step starts and one when it ends, so
// output stays readable.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Line is one running step.
type Line struct {
	w     io.Writer
	tty   bool
	start time.Time
	now   func() time.Time

	mu     sync.Mutex
	msg    string
	status string
	done   chan struct{}
	wg     sync.WaitGroup
	ended  bool
}

var frames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Start begins a step. On a terminal the line is redrawn every 100ms until
// Done or Fail.
func Start(w io.Writer, msg string) *Line {
	return start(w, msg, IsTerminal(w), time.Now)
}

func start(w io.Writer, msg string, tty bool, now func() time.Time) *Line {
	l := &Line{w: w, tty: tty, start: now(), now: now, msg: msg, done: make(chan struct{})}
	if !tty {
		fmt.Fprintf(w, "… %s\n", msg)
		return l
	}
	l.draw(0)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 1; ; i++ {
			select {
			case <-l.done:
				return
			case <-t.C:
				l.draw(i)
			}
		}
	}()
	return l
}

func (l *Line) draw(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	s := fmt.Sprintf("%s %s %s", frames[i%len(frames)], l.msg, l.elapsed())
	if l.status != "" {
		s += " — " + l.status
	}
	fmt.Fprintf(l.w, "\r\x1b[K%s", s)
}

func (l *Line) elapsed() string {
	d := l.now().Sub(l.start)
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// Status sets a short status shown after the elapsed time (terminals only:
// elsewhere it would flood the output).
func (l *Line) Status(format string, args ...any) {
	l.mu.Lock()
	l.status = strings.TrimSpace(fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// Done ends the step successfully with a result text.
func (l *Line) Done(format string, args ...any) { l.end("✔", fmt.Sprintf(format, args...)) }

// Fail ends the step as failed.
func (l *Line) Fail(format string, args ...any) { l.end("✘", fmt.Sprintf(format, args...)) }

func (l *Line) end(mark, result string) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.ended = true
	close(l.done)
	el := l.elapsed()
	l.mu.Unlock()
	l.wg.Wait()
	if result != "" {
		result = ": " + result
	}
	if l.tty {
		fmt.Fprintf(l.w, "\r\x1b[K%s %s%s (%s)\n", mark, l.msg, result, el)
		return
	}
	fmt.Fprintf(l.w, "%s %s%s (%s)\n", mark, l.msg, result, el)
}
