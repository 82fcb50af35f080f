package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

func TestCalendarIsGermanyAndNeedsTheAMMR(t *testing.T) {
	for _, tc := range []struct {
		now, today, arrival string
		ok                  bool
	}{
		{"2026-11-27T09:00:00Z", "2026-11-27", "2026-11-01", true},
		{"2026-11-27T23:30:00Z", "2026-11-28", "2026-11-02", true}, // already tomorrow in Berlin
		{"2026-07-26T12:00:00Z", "2026-07-26", "2026-06-30", true}, // application on 1 July: AMMR
		{"2026-07-25T12:00:00Z", "2026-07-25", "2026-06-29", false},
		{"2026-03-01T12:00:00Z", "2026-03-01", "2026-02-03", false},
	} {
		now, err := time.Parse(time.RFC3339, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		c := newCalendar(now)
		if c.today.String() != tc.today || c.ago(arrivalDaysAgo) != tc.arrival {
			t.Errorf("%s: today %s arrival %s, want %s %s", tc.now, c.today, c.ago(arrivalDaysAgo), tc.today, tc.arrival)
		}
		if err := c.checkRegime(); (err == nil) != tc.ok {
			t.Errorf("%s: checkRegime %v, want ok=%v", tc.now, err, tc.ok)
		}
	}
}

func TestRefsAreFreshValidAndDistinct(t *testing.T) {
	a, b := newRefs(2026), newRefs(2026)
	seen := map[string]bool{}
	for _, r := range append(a.all(), b.all()...) {
		if err := privacy.ValidateLocalRef(r); err != nil {
			t.Errorf("%q: %v", r, err)
		}
		if r == a.nameA || r == b.nameA {
			continue // names come from a short list
		}
		if seen[r] {
			t.Errorf("%q drawn twice", r)
		}
		seen[r] = true
	}
	if !strings.HasPrefix(a.bpA, "BPOL-2026-") || !strings.HasPrefix(a.psB, "BFA-") || len(a.all()) != 8 {
		t.Errorf("refs %+v", a)
	}
}

func TestFeedWaitSeesEarlierAndLaterEvents(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		send := func(pos, code string) {
			fmt.Fprintf(w, "id: %s\ndata: {\"position\":%q,\"pseudonym\":\"p\",\"code\":%q,\"held\":true}\n\n", pos, pos, code)
			w.(http.Flusher).Flush()
		}
		send("e-1", "CASE_REGISTERED")
		<-release
		send("e-2", "IMPLICITLY_ACCEPTED")
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, err := client.New(client.Config{BaseURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := follow(ctx, "asylum-office", c)
	ev, err := f.wait(ctx, func(ev api.EventView) bool { return ev.Code == "CASE_REGISTERED" })
	if err != nil || ev.Position != "e-1" {
		t.Fatalf("past event: %+v %v", ev, err)
	}
	got := make(chan api.EventView, 1)
	go func() {
		ev, _ := f.wait(ctx, func(ev api.EventView) bool { return ev.Code == "IMPLICITLY_ACCEPTED" })
		got <- ev
	}()
	select {
	case ev := <-got:
		t.Fatalf("returned %+v before the event arrived", ev)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if ev := <-got; ev.Position != "e-2" {
		t.Fatalf("later event: %+v", ev)
	}
	if n, held := f.count(func(api.EventView) bool { return true }); n != 2 || held != 2 {
		t.Fatalf("count %d/%d", n, held)
	}
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := f.wait(short, func(api.EventView) bool { return false }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait without a match: %v", err)
	}
}

func TestFeedEndsWhenTheStreamIsRefused(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(401)
		_, _ = io.WriteString(w, `{"title":"Unauthenticated","status":401,"code":"UNAUTHENTICATED"}`)
	}))
	defer srv.Close()
	c, _ := client.New(client.Config{BaseURL: srv.URL, HTTPClient: srv.Client()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := follow(ctx, "x", c).wait(ctx, func(api.EventView) bool { return true })
	if !errors.Is(err, errFeedEnded) || !errors.Is(err, client.ErrUnauthenticated) {
		t.Fatalf("err %v", err)
	}
}

func TestRunNeedsEveryAgency(t *testing.T) {
	if _, err := Run(context.Background(), Env{}); !errors.Is(err, client.ErrConfig) {
		t.Fatalf("err %v", err)
	}
}

func TestPublicHolidays(t *testing.T) {
	for _, tc := range []struct{ year, month, day int }{{2026, 4, 5}, {2027, 3, 28}, {2024, 3, 31}, {2038, 4, 25}} {
		if got := easterSunday(tc.year); got.Month() != time.Month(tc.month) || got.Day() != tc.day {
			t.Errorf("Easter %d: %s", tc.year, got.Format(time.DateOnly))
		}
	}
	de := publicHolidays("DE", 2026)
	for _, want := range []string{"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-14", "2026-05-25", "2026-10-03", "2026-12-26"} {
		if !slices.Contains(de, want) {
			t.Errorf("DE 2026 lacks %s: %v", want, de)
		}
	}
	at := publicHolidays("AT", 2027)
	for _, want := range []string{"2027-01-06", "2027-03-29", "2027-05-27", "2027-10-26", "2027-12-08"} {
		if !slices.Contains(at, want) {
			t.Errorf("AT 2027 lacks %s: %v", want, at)
		}
	}
	if !slices.IsSorted(at) || !slices.IsSorted(de) {
		t.Error("calendars are not in ascending order")
	}
}
