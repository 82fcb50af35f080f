package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/console"
)

// gatewayd users link/unlink and add --sso-only: accounts linked to a
// person at the agency's OpenID Connect provider, in the same 0600 file.
func TestUsersSSOCommands(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := users(args[0], args[1:], strings.NewReader("a long enough password\n"), &out)
		return out.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	must("add", "--data-dir", dir, "--name", "mara", "--role", "caseworker", "--password-stdin")
	must("add", "--data-dir", dir, "--name", "jonas", "--role", "dublin-officer", "--sso-subject", "8c1e-jonas", "--sso-only")
	must("add", "--data-dir", dir, "--name", "otto", "--role", "auditor", "--password-stdin", "--sso-subject", "otto@bamf.example")
	if _, err := run("add", "--data-dir", dir, "--name", "x", "--role", "caseworker", "--sso-only"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--sso-only without a subject: %v", err)
	}
	if _, err := run("link", "--data-dir", dir, "--name", "mara", "--subject", "8c1e-jonas"); err == nil {
		t.Fatal("one subject linked to two accounts")
	}
	must("link", "--data-dir", dir, "--name", "mara", "--subject", "77aa-mara")
	if _, err := run("unlink", "--data-dir", dir, "--name", "jonas"); err == nil {
		t.Fatal("unlinked an SSO-only account (nobody could sign in to it)")
	}
	must("unlink", "--data-dir", dir, "--name", "otto")
	list := must("list", "--data-dir", dir)
	for _, want := range []string{"password+sso  77aa-mara", "sso-only      8c1e-jonas"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	u, err := console.OpenUsers(filepath.Join(dir, console.DefaultUsersFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := u.LookupSSO("77aa-mara"); !ok || a.Name != "mara" {
		t.Fatal("mara is not linked")
	}
	if _, ok := u.LookupSSO("otto@bamf.example"); ok {
		t.Fatal("otto is still linked")
	}
	if _, ok := u.Authenticate("mara", "a long enough password"); !ok {
		t.Fatal("linking took mara's password")
	}
	// passwd gives an SSO-only account a password; then it may be unlinked.
	must("passwd", "--data-dir", dir, "--name", "jonas", "--password-stdin")
	must("unlink", "--data-dir", dir, "--name", "jonas")
}

// The client secret comes from a file only its owner can read; SSO flags
// come together.
func TestSSOFlags(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) (*console.OIDCConfig, error) {
		f := flags{flag.NewFlagSet("serve", flag.ContinueOnError)}
		s := newSSOFlags(f)
		if err := f.fs.Parse(args); err != nil {
			return nil, err
		}
		return s.config()
	}
	full := []string{"--oidc-issuer", "https://idp.bamf.example/realms/bamf", "--oidc-client-id", "caseledger",
		"--oidc-client-secret-file", secret, "--oidc-redirect-url", "https://gw.bamf.example/console/sso/callback", "--oidc-name", "BAMF-Login"}
	if _, err := parse(full...); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Fatalf("a world-readable secret file: %v", err)
	}
	if err := os.Chmod(secret, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parse(full...)
	if err != nil || c.ClientSecret != "s3cret" || c.Claim != "sub" || c.Name != "BAMF-Login" || c.HTTPClient == nil {
		t.Fatalf("config: %+v %v", c, err)
	}
	if c, err := parse(); c != nil || err != nil {
		t.Fatalf("no SSO: %v %v", c, err)
	}
	if _, err := parse("--oidc-issuer", "https://idp.bamf.example"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("issuer alone: %v", err)
	}
	if _, err := parse("--oidc-client-id", "x"); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("client id without issuer: %v", err)
	}
	if _, err := parse(append(full, "--oidc-ca-file", secret)...); err == nil {
		t.Fatal("a CA file without a certificate")
	}
}
