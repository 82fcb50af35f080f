package console

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/atomicfile"
)

// People sign in to the console with accounts of their agency, kept in a
// file beside the gateway's data (0600, never on chain): a name, a role
// (one of the roles the gateway signs with) and an Argon2id hash of the
// password. The agency's admin manages them with `gatewayd users`.

// UsersFileVersion is the only user file version this code reads.
const UsersFileVersion = 1

// DefaultUsersFile is the file's name inside the gateway's data folder.
const DefaultUsersFile = "console-users.json"

// Errors of the user store.
var (
	ErrUserFile    = errors.New("user file")
	ErrUnknownUser = errors.New("no such user")
	ErrUserExists  = errors.New("user exists")
	ErrBadPassword = errors.New("password refused")
)

// KDF are Argon2id parameters (RFC 9106). DefaultKDF follows RFC 9106's
// second recommendation (64 MiB, 3 passes) with 2 lanes for the gateway's
// small hosts: about 0.1 s per sign-in.
type KDF struct {
	Memory  uint32 `json:"m"` // KiB
	Time    uint32 `json:"t"`
	Threads uint8  `json:"p"`
}

// DefaultKDF is used for new hashes.
var DefaultKDF = KDF{Memory: 64 * 1024, Time: 3, Threads: 2}

// User is one account as stored: never the password.
type User struct {
	Name string      `json:"name"`
	Role domain.Role `json:"role"`
	// Hash is empty for an SSO-only account (no password sign-in).
	Hash string `json:"hash,omitempty"` // $argon2id$v=19$m=…,t=…,p=…$salt$key
	// SSOSubject links the account to a person at the agency's OpenID
	// Connect provider: the value of the configured claim (sub by default)
	// in that person's ID token (oidc.go). Unique within the file.
	SSOSubject string    `json:"ssoSubject,omitempty"`
	Disabled   bool      `json:"disabled,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	ChangedAt  time.Time `json:"changedAt"`
}

// UserFile is the stored form.
type UserFile struct {
	Version int    `json:"version"`
	Users   []User `json:"users"`
}

// ValidUserName: 1–32 of a-z, 0-9, '.', '_', '-', starting with a letter,
// so a name is safe in logs and in the gateway's token ids.
func ValidUserName(s string) bool {
	if len(s) == 0 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// MinPasswordLength is the shortest password accepted (NIST SP 800-63B: 8;
// people who work with personal data get 12).
const MinPasswordLength = 12

// MaxPasswordLength bounds the work one sign-in can cause.
const MaxPasswordLength = 256

// CheckPassword says why a new password is refused (nil: accepted).
func CheckPassword(pw string) error {
	switch {
	case len(pw) < MinPasswordLength:
		return fmt.Errorf("%w: at least %d characters", ErrBadPassword, MinPasswordLength)
	case len(pw) > MaxPasswordLength:
		return fmt.Errorf("%w: at most %d bytes", ErrBadPassword, MaxPasswordLength)
	}
	return nil
}

// GeneratePassword draws a password of 20 characters from an alphabet
// without look-alikes (about 114 bits).
func GeneratePassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)] // 256 % 56 bias: < 0.1 bit over 20 chars
	}
	return string(b), nil
}

// HashPassword returns the PHC string of an Argon2id hash of pw.
func HashPassword(pw string, k KDF) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, k.Time, k.Memory, k.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, k.Memory, k.Time, k.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// parseHash decodes a PHC Argon2id string; bounds keep a tampered file from
// asking for gigabytes.
func parseHash(h string) (KDF, []byte, []byte, error) {
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return KDF{}, nil, nil, fmt.Errorf("%w: not an argon2id hash", ErrUserFile)
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return KDF{}, nil, nil, fmt.Errorf("%w: argon2 version", ErrUserFile)
	}
	var k KDF
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &k.Memory, &k.Time, &k.Threads); err != nil || n != 3 ||
		k.Memory < 8 || k.Memory > 1<<20 || k.Time < 1 || k.Time > 16 || k.Threads < 1 {
		return KDF{}, nil, nil, fmt.Errorf("%w: argon2 parameters", ErrUserFile)
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return KDF{}, nil, nil, fmt.Errorf("%w: argon2 salt or key", ErrUserFile)
	}
	return k, salt, key, nil
}

// VerifyPassword checks pw against a stored hash in constant time.
func VerifyPassword(hash, pw string) bool {
	k, salt, key, err := parseHash(hash)
	if err != nil || len(pw) > MaxPasswordLength {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, k.Time, k.Memory, k.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// ParseUserFile strictly decodes and validates a user file.
func ParseUserFile(data []byte) (UserFile, error) {
	var f UserFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return UserFile{}, fmt.Errorf("%w: %w", ErrUserFile, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return UserFile{}, fmt.Errorf("%w: trailing data", ErrUserFile)
	}
	if f.Version != UsersFileVersion {
		return UserFile{}, fmt.Errorf("%w: version must be %d", ErrUserFile, UsersFileVersion)
	}
	seen, seenSSO := map[string]bool{}, map[string]bool{}
	for i, u := range f.Users {
		if !ValidUserName(u.Name) || seen[u.Name] {
			return UserFile{}, fmt.Errorf("%w: users[%d]: invalid or duplicate name", ErrUserFile, i)
		}
		seen[u.Name] = true
		if !u.Role.Valid() {
			return UserFile{}, fmt.Errorf("%w: users[%d]: invalid role", ErrUserFile, i)
		}
		if u.SSOSubject != "" {
			if !ValidSSOSubject(u.SSOSubject) || seenSSO[u.SSOSubject] {
				return UserFile{}, fmt.Errorf("%w: users[%d]: invalid or duplicate SSO subject", ErrUserFile, i)
			}
			seenSSO[u.SSOSubject] = true
		}
		if u.Hash == "" && u.SSOSubject == "" {
			return UserFile{}, fmt.Errorf("%w: users[%d]: neither a password nor an SSO subject", ErrUserFile, i)
		}
		if u.Hash == "" {
			continue // SSO-only
		}
		if _, _, _, err := parseHash(u.Hash); err != nil {
			return UserFile{}, fmt.Errorf("users[%d]: %w", i, err)
		}
	}
	return f, nil
}

// LoadUserFile reads a user file; a missing file is an empty one.
func LoadUserFile(path string) (UserFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return UserFile{Version: UsersFileVersion, Users: []User{}}, nil
	}
	if err != nil {
		return UserFile{}, fmt.Errorf("%w: %w", ErrUserFile, err)
	}
	return ParseUserFile(b)
}

// SaveUserFile writes the file atomically with mode 0600.
func SaveUserFile(path string, f UserFile) error {
	f.Version = UsersFileVersion
	if f.Users == nil {
		f.Users = []User{}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}

func (f *UserFile) find(name string) int {
	return slices.IndexFunc(f.Users, func(u User) bool { return u.Name == name })
}

// checkNew is what every new account must meet, whichever way it signs in.
func (f *UserFile) checkNew(name string, role domain.Role) error {
	if !ValidUserName(name) {
		return fmt.Errorf("%w: name: 1-32 of a-z 0-9 . _ -, starting with a letter", ErrUserFile)
	}
	if !role.Valid() {
		return fmt.Errorf("%w: unknown role %q", ErrUserFile, role)
	}
	if f.find(name) >= 0 {
		return fmt.Errorf("%w: %s", ErrUserExists, name)
	}
	return nil
}

// Add creates a user.
func (f *UserFile) Add(name string, role domain.Role, pw string, k KDF, now time.Time) error {
	if err := f.checkNew(name, role); err != nil {
		return err
	}
	if err := CheckPassword(pw); err != nil {
		return err
	}
	h, err := HashPassword(pw, k)
	if err != nil {
		return err
	}
	now = now.UTC().Truncate(time.Second)
	f.Version = UsersFileVersion
	f.Users = append(f.Users, User{Name: name, Role: role, Hash: h, CreatedAt: now, ChangedAt: now})
	return nil
}

// SetPassword replaces a user's password (and enables the account).
func (f *UserFile) SetPassword(name, pw string, k KDF, now time.Time) error {
	i := f.find(name)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrUnknownUser, name)
	}
	if err := CheckPassword(pw); err != nil {
		return err
	}
	h, err := HashPassword(pw, k)
	if err != nil {
		return err
	}
	f.Users[i].Hash, f.Users[i].Disabled, f.Users[i].ChangedAt = h, false, now.UTC().Truncate(time.Second)
	return nil
}

// SetDisabled disables (or enables) a user; a disabled user's sessions end
// at their next request.
func (f *UserFile) SetDisabled(name string, disabled bool, now time.Time) error {
	i := f.find(name)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrUnknownUser, name)
	}
	f.Users[i].Disabled, f.Users[i].ChangedAt = disabled, now.UTC().Truncate(time.Second)
	return nil
}

// Users reads the user file for the console and re-reads it when it
// changes on disk (at most once a second), so `gatewayd users` takes
// effect on a running gateway. A broken file keeps the previous accounts.
type Users struct {
	path string
	now  func() time.Time

	mu      sync.Mutex
	file    UserFile
	modTime time.Time
	size    int64
	checked time.Time
	loadErr error
	// dummyH is verified when a name is unknown, so a sign-in takes as
	// long whether or not the account exists.
	dummyH string
}

// OpenUsers loads path (a missing file: no users yet).
func OpenUsers(path string, now func() time.Time) (*Users, error) {
	if now == nil {
		now = time.Now
	}
	u := &Users{path: path, now: now}
	if err := u.reload(); err != nil {
		return nil, err
	}
	return u, nil
}

// StaticUsers serves an in-memory file (tests).
func StaticUsers(f UserFile) *Users { return &Users{file: f, now: time.Now} }

func (u *Users) reload() error {
	st, err := os.Stat(u.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrUserFile, err)
	}
	f, err := LoadUserFile(u.path)
	if err != nil {
		return err
	}
	u.file = f
	if st != nil {
		u.modTime, u.size = st.ModTime(), st.Size()
	} else {
		u.modTime, u.size = time.Time{}, 0
	}
	return nil
}

func (u *Users) maybeReload() {
	if u.path == "" {
		return
	}
	now := u.now()
	if now.Sub(u.checked) < time.Second {
		return
	}
	u.checked = now
	st, err := os.Stat(u.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if u.size != 0 || !u.modTime.IsZero() {
			u.file, u.modTime, u.size = UserFile{Version: UsersFileVersion}, time.Time{}, 0
		}
		return
	case err != nil || (st.ModTime().Equal(u.modTime) && st.Size() == u.size):
		return
	}
	u.loadErr = u.reload()
}

// Lookup returns an enabled user by name.
func (u *Users) Lookup(name string) (User, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.maybeReload()
	i := u.file.find(name)
	if i < 0 || u.file.Users[i].Disabled {
		return User{}, false
	}
	return u.file.Users[i], true
}

// Authenticate checks a name and password. Unknown and disabled names, and
// SSO-only accounts (no password), cost a hash computation too (with the
// default parameters).
func (u *Users) Authenticate(name, pw string) (User, bool) {
	usr, ok := u.Lookup(name)
	if !ok || usr.Hash == "" {
		VerifyPassword(u.dummy(), pw)
		return User{}, false
	}
	if !VerifyPassword(usr.Hash, pw) {
		return User{}, false
	}
	return usr, true
}

func (u *Users) dummy() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.dummyH == "" {
		k := DefaultKDF
		for _, usr := range u.file.Users { // same cost as a real account of this file
			if kk, _, _, err := parseHash(usr.Hash); err == nil {
				k = kk
				break
			}
		}
		u.dummyH, _ = HashPassword("not a password of anyone", k)
	}
	return u.dummyH
}

// ValidSSOSubject: the value of an ID token claim an account is linked to
// (OpenID Connect limits sub to 255 ASCII characters; an e-mail address or
// a user name of the provider fits the same bound): 1-255 bytes of UTF-8,
// no control characters, no white space at either end.
func ValidSSOSubject(s string) bool {
	if len(s) == 0 || len(s) > 255 || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func (f *UserFile) findSSO(subject string) int {
	return slices.IndexFunc(f.Users, func(u User) bool { return u.SSOSubject != "" && u.SSOSubject == subject })
}

// AddSSO creates an SSO-only account (no password) linked to subject.
func (f *UserFile) AddSSO(name string, role domain.Role, subject string, now time.Time) error {
	if err := f.checkNew(name, role); err != nil {
		return err
	}
	if err := f.checkSubject(name, subject); err != nil {
		return err
	}
	now = now.UTC().Truncate(time.Second)
	f.Version = UsersFileVersion
	f.Users = append(f.Users, User{Name: name, Role: role, SSOSubject: subject, CreatedAt: now, ChangedAt: now})
	return nil
}

func (f *UserFile) checkSubject(name, subject string) error {
	if !ValidSSOSubject(subject) {
		return fmt.Errorf("%w: SSO subject: 1-255 bytes, no control characters or surrounding spaces", ErrUserFile)
	}
	if j := f.findSSO(subject); j >= 0 && f.Users[j].Name != name {
		return fmt.Errorf("%w: SSO subject already linked to %s", ErrUserExists, f.Users[j].Name)
	}
	return nil
}

// LinkSSO links an account to subject; ssoOnly also removes its password.
func (f *UserFile) LinkSSO(name, subject string, ssoOnly bool, now time.Time) error {
	i := f.find(name)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrUnknownUser, name)
	}
	if err := f.checkSubject(name, subject); err != nil {
		return err
	}
	f.Users[i].SSOSubject, f.Users[i].ChangedAt = subject, now.UTC().Truncate(time.Second)
	if ssoOnly {
		f.Users[i].Hash = ""
	}
	return nil
}

// UnlinkSSO removes an account's SSO subject; an SSO-only account needs a
// password first (else nobody could sign in to it).
func (f *UserFile) UnlinkSSO(name string, now time.Time) error {
	i := f.find(name)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrUnknownUser, name)
	}
	if f.Users[i].Hash == "" {
		return fmt.Errorf("%w: %s is SSO-only: set a password first (users passwd)", ErrUserFile, name)
	}
	f.Users[i].SSOSubject, f.Users[i].ChangedAt = "", now.UTC().Truncate(time.Second)
	return nil
}

// LookupSSO returns the account linked to subject, disabled or not (the
// caller refuses a disabled one, and says so in its audit line).
func (u *Users) LookupSSO(subject string) (User, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.maybeReload()
	if subject == "" {
		return User{}, false
	}
	i := u.file.findSSO(subject)
	if i < 0 {
		return User{}, false
	}
	return u.file.Users[i], true
}
