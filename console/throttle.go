package console

import (
	"sync"
	"time"
)

// throttle limits failed sign-ins per key (the account name, and the
// client address): after Limit failures within Window the key is locked
// until the oldest of them leaves the window. A success clears the
// account's failures. Guessing a password from one address, or one
// account's password from many, is then slow; an attacker can lock an
// account out for a Window at most (the admin can still act locally).
type throttle struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu sync.Mutex
	m  map[string][]time.Time
}

func newThrottle(limit int, window time.Duration, now func() time.Time) *throttle {
	return &throttle{limit: limit, window: window, now: now, m: map[string][]time.Time{}}
}

// wait is how long key must wait before trying again (0: it may try now).
func (t *throttle) wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	fs := t.pruneLocked(key, now)
	if len(fs) < t.limit {
		return 0
	}
	return fs[len(fs)-t.limit].Add(t.window).Sub(now)
}

// fail records a failed attempt of key.
func (t *throttle) fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	fs := append(t.pruneLocked(key, now), now)
	if len(fs) > 4*t.limit { // bounded memory per key
		fs = fs[len(fs)-4*t.limit:]
	}
	t.m[key] = fs
	if len(t.m) > 100000 { // bounded table: drop keys with nothing in the window
		for k := range t.m {
			if len(t.pruneLocked(k, now)) == 0 {
				delete(t.m, k)
			}
		}
	}
}

// clear forgets key's failures.
func (t *throttle) clear(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

func (t *throttle) pruneLocked(key string, now time.Time) []time.Time {
	fs := t.m[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= t.window {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.m, key)
		return nil
	}
	t.m[key] = fs
	return fs
}
