package scenario

import (
	"context"
	"errors"
	"sync"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
)

// feed follows one agency's event stream in the background and keeps what
// it delivered, so the scenario can wait for an event (event-driven, no
// polling) and later say what each agency saw.
type feed struct {
	org string

	mu      sync.Mutex
	events  []api.EventView
	changed chan struct{}
	err     error
	done    chan struct{}
}

// follow starts following c's stream until ctx ends.
func follow(ctx context.Context, org string, c *client.Client) *feed {
	f := &feed{org: org, changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		err := c.Follow(ctx, client.FollowOptions{}, func(ev api.EventView) error {
			f.mu.Lock()
			f.events = append(f.events, ev)
			close(f.changed)
			f.changed = make(chan struct{})
			f.mu.Unlock()
			return nil
		})
		f.mu.Lock()
		f.err = err
		close(f.changed)
		f.changed = make(chan struct{})
		f.mu.Unlock()
	}()
	return f
}

// errFeedEnded: the stream stopped for good (e.g. the token was refused).
var errFeedEnded = errors.New("event stream ended")

// wait returns the first event (already seen or still to come) for which
// match is true.
func (f *feed) wait(ctx context.Context, match func(api.EventView) bool) (api.EventView, error) {
	seen := 0
	for {
		f.mu.Lock()
		evs, ch, ferr := f.events[seen:], f.changed, f.err
		f.mu.Unlock()
		for _, ev := range evs {
			if match(ev) {
				return ev, nil
			}
		}
		seen += len(evs)
		if ferr != nil {
			return api.EventView{}, errors.Join(errFeedEnded, ferr)
		}
		select {
		case <-ctx.Done():
			return api.EventView{}, ctx.Err()
		case <-ch:
		}
	}
}

// count returns how many delivered events match.
func (f *feed) count(match func(api.EventView) bool) (n, held int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range f.events {
		if match(ev) {
			n++
			if ev.Held {
				held++
			}
		}
	}
	return n, held
}
