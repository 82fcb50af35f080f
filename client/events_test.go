package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
)

func TestSSEReader(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []SSEEvent
	}{
		{"one event", "id: e-1\nevent: caseledger.case\ndata: {\"a\":1}\n\n",
			[]SSEEvent{{ID: "e-1", Event: "caseledger.case", Data: `{"a":1}`}}},
		{"multi-line data, no space after colon", "data:a\ndata: b\n\n",
			[]SSEEvent{{Data: "a\nb"}}},
		{"CRLF and CR line ends", "id: 1\r\ndata: x\r\n\r\nid: 2\rdata: y\r\r",
			[]SSEEvent{{ID: "1", Data: "x"}, {ID: "2", Data: "y"}}},
		{"comments and keepalives", ": keepalive\n\n: hi\ndata: z\n\n",
			[]SSEEvent{{Data: "z"}}},
		{"event without data is not dispatched", "event: ping\n\ndata: q\n\n",
			[]SSEEvent{{Data: "q"}}},
		{"retry field, bad retry ignored", "retry: 1500\ndata: r\n\nretry: x1\ndata: s\n\n",
			[]SSEEvent{{Data: "r", Retry: 1500 * time.Millisecond}, {Data: "s"}}},
		{"unterminated last event dropped", "data: a\n\ndata: b\n",
			[]SSEEvent{{Data: "a"}}},
		{"unknown fields ignored, field without colon", "foo: bar\ndata\n\n",
			[]SSEEvent{{Data: ""}}},
		{"id with NUL ignored", "id: a\x00b\ndata: d\n\n",
			[]SSEEvent{{Data: "d"}}},
		{"empty stream", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewSSEReader(strings.NewReader(tc.in))
			var got []SSEEvent
			for {
				ev, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ev)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSSEReaderBoundsLines(t *testing.T) {
	r := NewSSEReader(strings.NewReader("data: " + strings.Repeat("x", 100) + "\n\n"))
	r.MaxLine = 50
	if _, err := r.Next(); !errors.Is(err, ErrLineTooLong) {
		t.Fatalf("err %v", err)
	}
}

func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{
		"id: e-1\nevent: caseledger.case\ndata: {\"a\":1}\n\n",
		"data:a\r\ndata: b\r\n\r\n",
		": keepalive\n\nretry: 10\ndata: z\r\r",
		"id: \x00\ndata\n\n\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := NewSSEReader(strings.NewReader(in))
		r.MaxLine = 256
		for i := 0; ; i++ {
			ev, err := r.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrLineTooLong) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if i > len(in) {
				t.Fatalf("more events than input bytes")
			}
			// Line ends never leak into a field; data joins its lines with LF only.
			if strings.ContainsAny(ev.ID, "\r\n\x00") || strings.ContainsAny(ev.Event, "\r\n") || strings.Contains(ev.Data, "\r") {
				t.Fatalf("line terminator inside a field: %+v", ev)
			}
			if ev.Retry < 0 {
				t.Fatalf("negative retry %v", ev.Retry)
			}
		}
	})
}

// sseServer serves scripted connections: each string is what one connection
// sends before closing.
type sseServer struct {
	mu          sync.Mutex
	conns       []string
	lastEventID []string
	status      int
}

func (s *sseServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.lastEventID = append(s.lastEventID, r.Header.Get("Last-Event-ID"))
	i := len(s.lastEventID) - 1
	status := s.status
	s.mu.Unlock()
	if r.URL.Path != "/v1/events" || r.URL.Query().Get("channel") != "dublin" || r.URL.Query().Get("held") != "true" {
		problem(w, 400, "INVALID_ARGUMENT", "bad query "+r.URL.RawQuery)
		return
	}
	if status != 0 {
		problem(w, status, "UNAUTHENTICATED", "")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	if i < len(s.conns) {
		_, _ = io.WriteString(w, s.conns[i])
		return
	}
	<-r.Context().Done()
}

func sse(pos, code string) string {
	return fmt.Sprintf("id: %s\nevent: caseledger.case\ndata: {\"position\":%q,\"channel\":\"dublin\",\"name\":\"caseledger.case\",\"code\":%q,\"held\":true}\n\n", pos, pos, code)
}

func TestFollowResumesAfterTheLastEventDelivered(t *testing.T) {
	srv := &sseServer{conns: []string{
		sse("ep-1", "CASE_REGISTERED") + ": keepalive\n\n" + sse("ep-2", "TAKE_CHARGE_REQUESTED"),
		"data: {\"position\":\"ep-3\",\"code\":\"IMPLICITLY_ACCEPTED\"", // broken mid-event
		sse("ep-3", "IMPLICITLY_ACCEPTED"),
	}}
	c := newTestClient(t, srv)
	var got []string
	reconnects := 0
	err := c.Follow(context.Background(), FollowOptions{Channel: "dublin", HeldOnly: true, After: "ep-0",
		OnReconnect: func(error, int) { reconnects++ }},
		func(ev api.EventView) error {
			got = append(got, ev.Position+"/"+ev.Code)
			if ev.Code == "IMPLICITLY_ACCEPTED" {
				return ErrStop
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[ep-1/CASE_REGISTERED ep-2/TAKE_CHARGE_REQUESTED ep-3/IMPLICITLY_ACCEPTED]" {
		t.Fatalf("events %v", got)
	}
	if fmt.Sprint(srv.lastEventID) != "[ep-0 ep-2 ep-2]" || reconnects != 2 {
		t.Fatalf("Last-Event-ID per connection %q, %d reconnects", srv.lastEventID, reconnects)
	}
}

func TestFollowStopsOnAuthAndCallbackErrors(t *testing.T) {
	srv := &sseServer{status: http.StatusUnauthorized}
	c := newTestClient(t, srv)
	err := c.Follow(context.Background(), FollowOptions{Channel: "dublin", HeldOnly: true}, func(api.EventView) error { return nil })
	if !errors.Is(err, ErrUnauthenticated) || len(srv.lastEventID) != 1 {
		t.Fatalf("err %v after %d connections", err, len(srv.lastEventID))
	}

	boom := errors.New("boom")
	srv2 := &sseServer{conns: []string{sse("ep-1", "CASE_REGISTERED")}}
	c2 := newTestClient(t, srv2)
	err = c2.Follow(context.Background(), FollowOptions{Channel: "dublin", HeldOnly: true}, func(api.EventView) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the callback's", err)
	}
}

func TestFollowEndsWithItsContext(t *testing.T) {
	srv := &sseServer{} // every connection stays open without events
	c := newTestClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.Follow(ctx, FollowOptions{Channel: "dublin", HeldOnly: true}, func(api.EventView) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}
