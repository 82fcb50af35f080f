package gateway

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/atomicfile"
)

// API tokens. A token is "clg_" followed by 256 random bits in base64url; the
// gateway keeps only its SHA-256 in the token file, bound to the agency (MSP
// id) and one role. The token's id is public and is what logs name.

// TokenPrefix starts every token, so a leaked token is recognisable.
const TokenPrefix = "clg_"

// TokenFileVersion is the only token file version this code reads.
const TokenFileVersion = 1

// ErrTokenFile reports a malformed token file.
var ErrTokenFile = errors.New("token file")

// TokenEntry is one token as stored: never the token itself.
type TokenEntry struct {
	ID        string      `json:"id"`
	Name      string      `json:"name,omitempty"`
	MSPID     string      `json:"mspId"`
	Role      domain.Role `json:"role"`
	SHA256    string      `json:"sha256"`
	CreatedAt time.Time   `json:"createdAt"`
}

// TokenFile is the hashed token store.
type TokenFile struct {
	Version int          `json:"version"`
	Tokens  []TokenEntry `json:"tokens"`
}

// NewToken draws a fresh token.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken is the stored form of a token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Add creates a token for the agency mspID and role, records its hash and
// returns the token (shown once, never stored).
func (f *TokenFile) Add(mspID string, role domain.Role, name string, now time.Time) (string, TokenEntry, error) {
	if !role.Valid() {
		return "", TokenEntry{}, fmt.Errorf("%w: unknown role %q", ErrTokenFile, role)
	}
	if !domain.IsMSPID(mspID) {
		return "", TokenEntry{}, fmt.Errorf("%w: invalid MSP id", ErrTokenFile)
	}
	if len(name) > 64 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", TokenEntry{}, fmt.Errorf("%w: name must be at most 64 printable characters", ErrTokenFile)
	}
	tok, err := NewToken()
	if err != nil {
		return "", TokenEntry{}, err
	}
	idb := make([]byte, 6)
	if _, err := rand.Read(idb); err != nil {
		return "", TokenEntry{}, err
	}
	e := TokenEntry{ID: "tok-" + hex.EncodeToString(idb), Name: name, MSPID: mspID, Role: role,
		SHA256: HashToken(tok), CreatedAt: now.UTC().Truncate(time.Second)}
	f.Version = TokenFileVersion
	f.Tokens = append(f.Tokens, e)
	return tok, e, nil
}

// Revoke removes a token by id; false if there was none.
func (f *TokenFile) Revoke(id string) bool {
	n := len(f.Tokens)
	f.Tokens = slices.DeleteFunc(f.Tokens, func(e TokenEntry) bool { return e.ID == id })
	return len(f.Tokens) != n
}

// ParseTokenFile strictly decodes and validates a token file.
func ParseTokenFile(data []byte) (TokenFile, error) {
	var f TokenFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return TokenFile{}, fmt.Errorf("%w: %w", ErrTokenFile, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return TokenFile{}, fmt.Errorf("%w: trailing data", ErrTokenFile)
	}
	if f.Version != TokenFileVersion {
		return TokenFile{}, fmt.Errorf("%w: version must be %d", ErrTokenFile, TokenFileVersion)
	}
	ids := map[string]bool{}
	for i, e := range f.Tokens {
		if e.ID == "" || ids[e.ID] {
			return TokenFile{}, fmt.Errorf("%w: tokens[%d]: missing or duplicate id", ErrTokenFile, i)
		}
		ids[e.ID] = true
		if !e.Role.Valid() || !domain.IsMSPID(e.MSPID) {
			return TokenFile{}, fmt.Errorf("%w: tokens[%d]: invalid role or MSP id", ErrTokenFile, i)
		}
		if b, err := hex.DecodeString(e.SHA256); err != nil || len(b) != sha256.Size {
			return TokenFile{}, fmt.Errorf("%w: tokens[%d]: sha256 must be 64 hex digits", ErrTokenFile, i)
		}
	}
	return f, nil
}

// LoadTokenFile reads a token file; a missing file is an empty one.
func LoadTokenFile(path string) (TokenFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return TokenFile{Version: TokenFileVersion}, nil
	}
	if err != nil {
		return TokenFile{}, fmt.Errorf("%w: %w", ErrTokenFile, err)
	}
	return ParseTokenFile(b)
}

// SaveTokenFile writes the file atomically with mode 0600.
func SaveTokenFile(path string, f TokenFile) error {
	f.Version = TokenFileVersion
	if f.Tokens == nil {
		f.Tokens = []TokenEntry{}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// Caller is an authenticated calling system.
type Caller struct {
	TokenID string
	Name    string
	MSPID   string
	Role    domain.Role
}

// Authenticator checks bearer tokens against the token file of one agency.
// Tokens of another MSP id in the file are ignored: a gateway only ever signs
// as its own agency. The file is re-read when it changes on disk.
type Authenticator struct {
	path  string
	mspID string
	now   func() time.Time

	mu      sync.Mutex
	entries []authEntry
	// sessions are tokens minted in memory for people signed in to the
	// console (MintSessionToken), never written to the token file.
	sessions []authEntry
	modTime  time.Time
	size     int64
	checked  time.Time
}

type authEntry struct {
	hash []byte
	c    Caller
}

// NewAuthenticator loads path for the agency mspID.
func NewAuthenticator(path, mspID string, now func() time.Time) (*Authenticator, error) {
	if now == nil {
		now = time.Now
	}
	a := &Authenticator{path: path, mspID: mspID, now: now}
	if err := a.reload(); err != nil {
		return nil, err
	}
	return a, nil
}

// NewStaticAuthenticator authenticates against an in-memory file (tests).
func NewStaticAuthenticator(f TokenFile, mspID string) *Authenticator {
	a := &Authenticator{mspID: mspID, now: time.Now}
	a.entries = a.compile(f)
	return a
}

func (a *Authenticator) compile(f TokenFile) []authEntry {
	var out []authEntry
	for _, e := range f.Tokens {
		if e.MSPID != a.mspID {
			continue
		}
		h, _ := hex.DecodeString(e.SHA256)
		out = append(out, authEntry{hash: h, c: Caller{TokenID: e.ID, Name: e.Name, MSPID: e.MSPID, Role: e.Role}})
	}
	return out
}

func (a *Authenticator) reload() error {
	st, err := os.Stat(a.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrTokenFile, err)
	}
	f, err := LoadTokenFile(a.path)
	if err != nil {
		return err
	}
	a.entries = a.compile(f)
	if st != nil {
		a.modTime, a.size = st.ModTime(), st.Size()
	}
	return nil
}

// maybeReload re-reads the file at most once a second when it changed. A
// broken file keeps the previous tokens (and is reported by Count).
func (a *Authenticator) maybeReload() {
	if a.path == "" {
		return
	}
	now := a.now()
	if now.Sub(a.checked) < time.Second {
		return
	}
	a.checked = now
	st, err := os.Stat(a.path)
	if err != nil || (st.ModTime().Equal(a.modTime) && st.Size() == a.size) {
		return
	}
	_ = a.reload()
}

// Authenticate returns the caller of a bearer token. Every stored hash is
// compared in constant time, all of them, so timing reveals nothing about
// which (if any) entry matched.
func (a *Authenticator) Authenticate(token string) (Caller, bool) {
	a.mu.Lock()
	a.maybeReload()
	entries := append(slices.Clip(a.entries), a.sessions...)
	a.mu.Unlock()
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 128 {
		return Caller{}, false
	}
	sum := sha256.Sum256([]byte(token))
	var found Caller
	match := 0
	for _, e := range entries {
		eq := subtle.ConstantTimeCompare(sum[:], e.hash)
		if eq == 1 {
			found = e.c
		}
		match |= eq
	}
	return found, match == 1
}

// Count is the number of tokens of this agency.
func (a *Authenticator) Count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.entries)
}

// MintSessionToken creates an in-memory token of this agency for a person
// signed in to the console (package console): it authenticates as the
// user's role, with token id "user:<name>", so the request and audit logs
// name the person. It is never written anywhere and dies with the session
// (RevokeSessionToken) or the process.
func (a *Authenticator) MintSessionToken(user string, role domain.Role) (string, error) {
	if !role.Valid() || user == "" || len(user) > 64 {
		return "", fmt.Errorf("%w: invalid session user or role", ErrTokenFile)
	}
	tok, err := NewToken()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(tok))
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions = append(a.sessions, authEntry{hash: sum[:], c: Caller{TokenID: "user:" + user, Name: user, MSPID: a.mspID, Role: role}})
	return tok, nil
}

// RevokeSessionToken forgets a session token.
func (a *Authenticator) RevokeSessionToken(token string) {
	sum := sha256.Sum256([]byte(token))
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sessions = slices.DeleteFunc(a.sessions, func(e authEntry) bool { return subtle.ConstantTimeCompare(e.hash, sum[:]) == 1 })
}
