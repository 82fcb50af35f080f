package privacy

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// KeyWrapper wraps data keys under a key-encryption key (KEK) that lives
// outside the store. The file/environment Keyring implements it; a KMS or HSM
// can implement it later. Versions let the KEK rotate: Wrap always uses the
// active version, Unwrap any version still held.
type KeyWrapper interface {
	ActiveVersion() uint32
	Wrap(ctx context.Context, dek, aad []byte) (version uint32, wrapped []byte, err error)
	Unwrap(ctx context.Context, version uint32, wrapped, aad []byte) ([]byte, error)
}

const (
	keyringFormat = "caseledger-privacy-keyring-v1"
	kekLen        = 32
	gcmNonceLen   = 12
	gcmTagLen     = 16
	dekLen        = 32
	wrappedDEKLen = gcmNonceLen + dekLen + gcmTagLen // 60
)

// Keyring is a set of versioned AES-256 KEKs read from a file (0600) or an
// environment variable. It also serves as the KeyWrapper.
type Keyring struct {
	active uint32
	aeads  map[uint32]cipher.AEAD
	raw    map[uint32][]byte
}

type keyringJSON struct {
	Format string            `json:"format"`
	Active uint32            `json:"active"`
	Keys   map[string]string `json:"keys"`
}

// ParseKeyring parses the keyring document (JSON, see docs).
func ParseKeyring(data []byte) (*Keyring, error) {
	var doc keyringJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: keyring is not valid JSON", ErrInvalidInput)
	}
	if doc.Format != keyringFormat {
		return nil, fmt.Errorf("%w: keyring format must be %q", ErrInvalidInput, keyringFormat)
	}
	k := &Keyring{active: doc.Active, aeads: map[uint32]cipher.AEAD{}, raw: map[uint32][]byte{}}
	for vs, b64 := range doc.Keys {
		v, err := strconv.ParseUint(vs, 10, 32)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("%w: keyring version %q is not a positive integer", ErrInvalidInput, vs)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != kekLen {
			return nil, fmt.Errorf("%w: keyring version %d is not a base64 32-byte key", ErrInvalidInput, v)
		}
		if err := k.add(uint32(v), key); err != nil {
			return nil, err
		}
	}
	if _, ok := k.aeads[k.active]; !ok {
		return nil, fmt.Errorf("%w: keyring active version %d is not in the keyring", ErrInvalidInput, k.active)
	}
	return k, nil
}

func (k *Keyring) add(v uint32, key []byte) error {
	block, err := aes.NewCipher(key)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	k.aeads[v] = aead
	k.raw[v] = slices.Clone(key)
	return nil
}

// NewKeyring returns a keyring with one fresh random KEK (version 1).
func NewKeyring() (*Keyring, error) {
	k := &Keyring{active: 1, aeads: map[uint32]cipher.AEAD{}, raw: map[uint32][]byte{}}
	key := make([]byte, kekLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return k, k.add(1, key)
}

// Rotated returns a copy with a fresh KEK as the new active version; older
// versions stay so existing wrapped keys can be re-wrapped.
func (k *Keyring) Rotated() (*Keyring, error) {
	n := &Keyring{aeads: map[uint32]cipher.AEAD{}, raw: map[uint32][]byte{}}
	var top uint32
	for v, key := range k.raw {
		if err := n.add(v, key); err != nil {
			return nil, err
		}
		top = max(top, v)
	}
	key := make([]byte, kekLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	n.active = top + 1
	return n, n.add(n.active, key)
}

// Without returns a copy without version v (retiring a KEK destroys every
// copy wrapped under it, e.g. in old backups). The active version cannot go.
func (k *Keyring) Without(v uint32) (*Keyring, error) {
	if v == k.active {
		return nil, fmt.Errorf("%w: cannot retire the active KEK version %d", ErrConflict, v)
	}
	if _, ok := k.raw[v]; !ok {
		return nil, fmt.Errorf("%w: KEK version %d is not in the keyring", ErrNotFound, v)
	}
	n := &Keyring{active: k.active, aeads: map[uint32]cipher.AEAD{}, raw: map[uint32][]byte{}}
	for ver, key := range k.raw {
		if ver != v {
			if err := n.add(ver, key); err != nil {
				return nil, err
			}
		}
	}
	return n, nil
}

// Versions lists the held versions in ascending order.
func (k *Keyring) Versions() []uint32 {
	vs := make([]uint32, 0, len(k.raw))
	for v := range k.raw {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// Marshal encodes the keyring document.
func (k *Keyring) Marshal() ([]byte, error) {
	doc := keyringJSON{Format: keyringFormat, Active: k.active, Keys: map[string]string{}}
	for v, key := range k.raw {
		doc.Keys[strconv.FormatUint(uint64(v), 10)] = base64.StdEncoding.EncodeToString(key)
	}
	return json.MarshalIndent(doc, "", "  ")
}

// ActiveVersion implements KeyWrapper.
func (k *Keyring) ActiveVersion() uint32 { return k.active }

func kekAAD(version uint32, aad []byte) []byte {
	out := make([]byte, 0, 4+len(aad)+16)
	out = append(out, "kek"...)
	out = binary.BigEndian.AppendUint32(out, version)
	return append(out, aad...)
}

// Wrap implements KeyWrapper with AES-256-GCM under the active KEK.
func (k *Keyring) Wrap(_ context.Context, dek, aad []byte) (uint32, []byte, error) {
	aead := k.aeads[k.active]
	out := make([]byte, gcmNonceLen, gcmNonceLen+len(dek)+gcmTagLen)
	if _, err := rand.Read(out); err != nil {
		return 0, nil, fmt.Errorf("wrap: %w", err)
	}
	return k.active, aead.Seal(out, out[:gcmNonceLen], dek, kekAAD(k.active, aad)), nil
}

// Unwrap implements KeyWrapper.
func (k *Keyring) Unwrap(_ context.Context, version uint32, wrapped, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[version]
	if !ok {
		return nil, fmt.Errorf("%w: version %d", ErrKeyUnavailable, version)
	}
	if len(wrapped) < gcmNonceLen+gcmTagLen {
		return nil, fmt.Errorf("%w: wrapped key too short", ErrCorrupt)
	}
	dek, err := aead.Open(nil, wrapped[:gcmNonceLen], wrapped[gcmNonceLen:], kekAAD(version, aad))
	if err != nil {
		return nil, fmt.Errorf("%w: wrapped key does not authenticate", ErrCorrupt)
	}
	return dek, nil
}

// LoadKeyringFile reads a keyring file, refusing one that group or others
// may read: a KEK readable by anyone else is no KEK.
func LoadKeyringFile(path string) (*Keyring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: keyring file %s must not be accessible by group or others (mode %v)", ErrForbidden, path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return ParseKeyring(data)
}

// CreateKeyringFile writes a fresh keyring to path with mode 0600, refusing
// to overwrite an existing file.
func CreateKeyringFile(path string) (*Keyring, error) {
	k, err := NewKeyring()
	if err != nil {
		return nil, err
	}
	data, err := k.Marshal()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return k, syncDir(filepath.Dir(path))
}

// WriteKeyringFile atomically replaces the keyring file (temp file, fsync,
// rename, fsync of the directory), keeping mode 0600.
func WriteKeyringFile(path string, k *Keyring) error {
	data, err := k.Marshal()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, data, 0o600)
}

func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}
