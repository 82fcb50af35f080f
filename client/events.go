package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api"
)

// ErrStop, returned by a Follow callback, ends the stream without error.
var ErrStop = errors.New("stop following")

// FollowOptions select the events of a stream.
type FollowOptions struct {
	// Channel limits the stream to one channel ("" = all of the agency's).
	Channel string
	// HeldOnly limits it to cases the agency holds a reference to.
	HeldOnly bool
	// After is the position to resume after ("" = from the beginning of the
	// gateway's log).
	After string
	// OnReconnect, if set, is told about each reconnection and its cause.
	OnReconnect func(err error, attempt int)
	// MaxReconnects bounds consecutive failed reconnections (0: retry until
	// ctx ends).
	MaxReconnects int
}

// Follow streams the agency's events (server-sent events) to fn until ctx
// ends or fn returns an error (ErrStop: a clean stop, Follow returns nil).
// A broken stream is reopened after the last event delivered, so fn sees
// every event once and in order, also across gateway restarts. A stream the
// gateway reset (its log was replaced) restarts from the beginning.
func (c *Client) Follow(ctx context.Context, opts FollowOptions, fn func(api.EventView) error) error {
	pos := opts.After
	fails := 0
	wait := c.wait
	for {
		delivered, err := c.followOnce(ctx, opts, pos, func(ev api.EventView) error {
			pos = ev.Position
			return fn(ev)
		})
		var cb callbackError
		switch {
		case errors.Is(err, ErrStop):
			return nil
		case errors.As(err, &cb):
			return cb.err
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && !errors.Is(err, ErrUnavailable):
			return err // refused, unauthenticated …: reconnecting will not help
		}
		if delivered {
			fails, wait = 0, c.wait
		}
		fails++
		if opts.MaxReconnects > 0 && fails > opts.MaxReconnects {
			if err == nil {
				err = &TransportError{Op: "event stream", Err: io.ErrUnexpectedEOF}
			}
			return err
		}
		if opts.OnReconnect != nil {
			opts.OnReconnect(err, fails)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if wait < 5*time.Second {
			wait *= 2
		}
	}
}

// callbackError carries fn's own error out of the stream unchanged.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }
func (e callbackError) Unwrap() error { return e.err }

// followOnce reads one connection; delivered tells whether fn saw an event.
func (c *Client) followOnce(ctx context.Context, opts FollowOptions, after string, fn func(api.EventView) error) (bool, error) {
	q := url.Values{}
	if opts.Channel != "" {
		q.Set("channel", opts.Channel)
	}
	if opts.HeldOnly {
		q.Set("held", "true")
	}
	req, err := c.newRequest(ctx, request{method: http.MethodGet, path: "/v1/events", query: q}, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if after != "" {
		req.Header.Set(api.HeaderLastEventID, after)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, &TransportError{Op: "GET /v1/events", Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, readProblem(resp)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return false, fmt.Errorf("event stream: unexpected content type %q", mt)
	}
	delivered := false
	r := NewSSEReader(resp.Body)
	for {
		ev, err := r.Next()
		if err != nil {
			if ctx.Err() != nil {
				return delivered, ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				// The gateway closes streams when it shuts down: reconnect.
				return delivered, nil
			}
			return delivered, &TransportError{Op: "read event stream", Err: err}
		}
		var v api.EventView
		if err := json.Unmarshal([]byte(ev.Data), &v); err != nil {
			return delivered, fmt.Errorf("event stream: undecodable event %q: %w", ev.ID, err)
		}
		if v.Position == "" {
			v.Position = ev.ID
		}
		if v.Name == "" {
			v.Name = ev.Event
		}
		delivered = true
		if err := fn(v); err != nil {
			if errors.Is(err, ErrStop) {
				return delivered, ErrStop
			}
			return delivered, callbackError{err}
		}
	}
}

// SSEEvent is one server-sent event.
type SSEEvent struct {
	ID    string
	Event string
	Data  string
	// Retry is the reconnection time the server asked for (0: none).
	Retry time.Duration
}

// SSEReader parses a text/event-stream (WHATWG HTML, "server-sent
// events"): lines of "field: value", events ended by a blank line, comments
// starting with ':'. Events without data are not dispatched.
type SSEReader struct {
	br *bufio.Reader
	// MaxLine bounds one line (default 1 MiB): a stream is untrusted input.
	MaxLine int
}

// NewSSEReader reads events from r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{br: bufio.NewReaderSize(r, 16<<10), MaxLine: 1 << 20}
}

// ErrLineTooLong reports a line above MaxLine.
var ErrLineTooLong = errors.New("event stream: line too long")

// Next returns the next event; io.EOF at the end of the stream (an event
// not ended by a blank line is dropped, as the standard says).
func (r *SSEReader) Next() (SSEEvent, error) {
	var ev SSEEvent
	var data strings.Builder
	hasData := false
	for {
		line, err := r.readLine()
		if err != nil {
			return SSEEvent{}, err
		}
		if line == "" {
			if hasData {
				ev.Data = strings.TrimSuffix(data.String(), "\n")
				return ev, nil
			}
			ev.Event = ""
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "event":
			ev.Event = value
		case "id":
			if !strings.ContainsRune(value, 0) {
				ev.ID = value
			}
		case "retry":
			if ms, ok := parseDigits(value); ok {
				ev.Retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}

func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > 12 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// readLine reads one line ended by LF, CRLF or CR, without the terminator.
func (r *SSEReader) readLine() (string, error) {
	var b strings.Builder
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && b.Len() > 0 {
				// A last line without terminator ends no event.
				return "", io.EOF
			}
			return "", err
		}
		switch c {
		case '\n':
			return b.String(), nil
		case '\r':
			if next, err := r.br.Peek(1); err == nil && next[0] == '\n' {
				_, _ = r.br.ReadByte()
			}
			return b.String(), nil
		}
		if b.Len() >= r.MaxLine {
			return "", ErrLineTooLong
		}
		b.WriteByte(c)
	}
}
