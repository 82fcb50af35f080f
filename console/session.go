package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// Sessions live in the gateway's memory only: a session id (256 random
// bits) in a __Host- cookie (Secure, HttpOnly, SameSite=Strict, Path=/),
// a CSRF token for its forms, and the in-process API token the gateway
// minted for the user's role. A restart signs everybody out; a cookie is
// worthless at any other gateway (no other gateway knows its id).

// Session is one signed-in person.
type Session struct {
	ID       string
	User     string
	Role     domain.Role
	CSRF     string
	APIToken string
	// SSOSubject is set for a single sign-on: the account must stay
	// linked to it (unlinked or linked to someone else: the session ends).
	SSOSubject string
	Created    time.Time
	LastSeen   time.Time
}

// TokenMinter is the gateway's side of a session: it mints an API token
// bound to the agency, the user's role and the user's name (which the
// gateway's request and audit logs then name), held only in memory, and
// revokes it when the session ends.
type TokenMinter interface {
	MintSessionToken(user string, role domain.Role) (string, error)
	RevokeSessionToken(token string)
}

// sessions is the in-memory session table.
type sessions struct {
	idle, max time.Duration
	now       func() time.Time
	minter    TokenMinter

	mu sync.Mutex
	m  map[string]*Session
}

func newSessions(idle, max time.Duration, now func() time.Time, m TokenMinter) *sessions {
	return &sessions{idle: idle, max: max, now: now, minter: m, m: map[string]*Session{}}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (Go 1.24+: it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for u (and mints its API token); ssoSubject is
// the subject of a single sign-on ("" for a password).
func (s *sessions) create(u User, ssoSubject string) (*Session, error) {
	tok, err := s.minter.MintSessionToken(u.Name, u.Role)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ss := &Session{ID: randomToken(), User: u.Name, Role: u.Role, CSRF: randomToken(), APIToken: tok, SSOSubject: ssoSubject,
		Created: now, LastSeen: now}
	s.mu.Lock()
	s.sweepLocked(now)
	// A person has at most maxSessionsPerUser sessions (browsers, devices):
	// the oldest ends, so the table cannot grow with sign-ins.
	var oldest *Session
	n := 0
	for _, o := range s.m {
		if o.User == u.Name {
			n++
			if oldest == nil || o.Created.Before(oldest.Created) {
				oldest = o
			}
		}
	}
	if n >= maxSessionsPerUser {
		s.endLocked(oldest)
	}
	s.m[ss.ID] = ss
	s.mu.Unlock()
	return ss, nil
}

// maxSessionsPerUser bounds one person's concurrent sessions.
const maxSessionsPerUser = 10

// get returns a live session and marks it used; an idle or too old one is
// ended. The id is compared by map lookup on a 256-bit random value.
func (s *sessions) get(id string) (*Session, bool) {
	if id == "" {
		return nil, false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if !ok {
		return nil, false
	}
	if s.expired(ss, now) {
		s.endLocked(ss)
		return nil, false
	}
	ss.LastSeen = now
	cp := *ss
	return &cp, true
}

func (s *sessions) expired(ss *Session, now time.Time) bool {
	return now.Sub(ss.LastSeen) > s.idle || now.Sub(ss.Created) > s.max
}

// end signs a session out.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss, ok := s.m[id]; ok {
		s.endLocked(ss)
	}
}

// endUser ends every session of a user (disabled, removed, role changed).
func (s *sessions) endUser(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.m {
		if ss.User == name {
			s.endLocked(ss)
		}
	}
}

func (s *sessions) endLocked(ss *Session) {
	delete(s.m, ss.ID)
	s.minter.RevokeSessionToken(ss.APIToken)
}

func (s *sessions) sweepLocked(now time.Time) {
	for _, ss := range s.m {
		if s.expired(ss, now) {
			s.endLocked(ss)
		}
	}
}

// sweep ends expired sessions (their API tokens with them).
func (s *sessions) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.now())
}

// csrfOK compares a form's token with the session's in constant time.
func csrfOK(ss *Session, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(ss.CSRF), []byte(got)) == 1
}
