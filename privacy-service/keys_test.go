package privacy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestKeyringFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kek.json")
	k, err := CreateKeyringFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("keyring mode %v %v, want 0600", st.Mode().Perm(), err)
	}
	if _, err := CreateKeyringFile(path); err == nil {
		t.Fatal("keygen overwrote an existing keyring")
	}
	loaded, err := LoadKeyringFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, wrapped, err := k.Wrap(ctx, []byte("0123456789abcdef0123456789abcdef"), []byte("id-1"))
	if err != nil || v != 1 {
		t.Fatal(v, err)
	}
	if dek, err := loaded.Unwrap(ctx, v, wrapped, []byte("id-1")); err != nil || string(dek) != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("unwrap with the reloaded keyring: %v", err)
	}
	if _, err := loaded.Unwrap(ctx, v, wrapped, []byte("id-2")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("unwrap under another record id: %v", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyringFile(path); !errors.Is(err, ErrForbidden) {
		t.Fatalf("group-readable keyring accepted: %v", err)
	}

	rot, err := loaded.Rotated()
	if err != nil || rot.ActiveVersion() != 2 {
		t.Fatalf("rotated: %v", err)
	}
	if _, err := rot.Unwrap(ctx, 1, wrapped, []byte("id-1")); err != nil {
		t.Fatalf("rotated keyring lost version 1: %v", err)
	}
	if _, err := rot.Without(2); !errors.Is(err, ErrConflict) {
		t.Fatalf("retired the active version: %v", err)
	}
	ret, err := rot.Without(1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ret.Unwrap(ctx, 1, wrapped, []byte("id-1")); !errors.Is(err, ErrKeyUnavailable) {
		t.Fatalf("retired version still unwraps: %v", err)
	}
	if err := WriteKeyringFile(path, ret); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("rewritten keyring mode %v", st.Mode().Perm())
	}
	back, err := LoadKeyringFile(path)
	if err != nil || len(back.Versions()) != 1 || back.ActiveVersion() != 2 {
		t.Fatalf("reloaded rotated keyring: %v %v", back.Versions(), err)
	}
}

func TestParseKeyringRejects(t *testing.T) {
	tests := map[string]string{
		"not json":       `kek`,
		"wrong format":   `{"format":"x","active":1,"keys":{"1":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`,
		"short key":      `{"format":"caseledger-privacy-keyring-v1","active":1,"keys":{"1":"AAAA"}}`,
		"bad version":    `{"format":"caseledger-privacy-keyring-v1","active":1,"keys":{"x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`,
		"missing active": `{"format":"caseledger-privacy-keyring-v1","active":2,"keys":{"1":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`,
	}
	for name, doc := range tests {
		if _, err := ParseKeyring([]byte(doc)); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := LoadKEK("", ""); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("no KEK source: %v", err)
	}
	if _, err := LoadKEK("", `{"format":"caseledger-privacy-keyring-v1","active":1,"keys":{"1":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`); err != nil {
		t.Errorf("keyring from the environment: %v", err)
	}
}

// TestRotateAndRetireFile drives the offline CLI path: rotate the file and
// the store, refuse to retire a version still in use, retire the old one.
func TestRotateAndRetireFile(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	kekFile := filepath.Join(root, "kek.json")
	kek, err := CreateKeyringFile(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: filepath.Join(root, "data"), Domains: testDomains}
	s := openTestStore(t, opts.Dir, kek, nil)
	p, _, err := s.Pseudonymize(ctx, "national", "ROT-1")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := RetireKEKVersion(ctx, kekFile, 1, opts); !errors.Is(err, ErrConflict) {
		t.Fatalf("retired the only version: %v", err)
	}
	v, n, err := RotateKEKFile(ctx, kekFile, opts)
	if err != nil || v != 2 || n != 1 {
		t.Fatalf("rotate: v%d n%d %v", v, n, err)
	}
	if err := RetireKEKVersion(ctx, kekFile, 1, opts); err != nil {
		t.Fatalf("retire: %v", err)
	}
	k, err := LoadKeyringFile(kekFile)
	if err != nil || len(k.Versions()) != 1 || k.ActiveVersion() != 2 {
		t.Fatalf("keyring after retire: %v %v", k.Versions(), err)
	}
	s = openTestStore(t, opts.Dir, k, nil)
	defer s.Close()
	if got, err := s.ResolveRef(ctx, "national", "ROT-1"); err != nil || got != p {
		t.Fatalf("after rotation: %q %v", got, err)
	}
}
