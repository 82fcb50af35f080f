package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/console"
)

// gatewayd users: accounts in the data folder's 0600 file, passwords
// generated (shown once) or read from stdin, never from a flag.
func TestUsersCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := users(args[0], args[1:], strings.NewReader(stdin), &out)
		return out.String(), err
	}
	out, err := run("", "add", "--data-dir", dir, "--name", "mara", "--role", "caseworker", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var added map[string]string
	if err := json.Unmarshal([]byte(out), &added); err != nil || len(added["password"]) != 20 || added["role"] != "caseworker" {
		t.Fatalf("add: %q %v", out, err)
	}
	if _, err := run("a long enough password\n", "add", "--data-dir", dir, "--name", "jonas", "--role", "dublin-officer", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("short\n", "passwd", "--data-dir", dir, "--name", "jonas", "--password-stdin"); err == nil {
		t.Fatal("a short password was accepted")
	}
	if _, err := run("", "add", "--data-dir", dir, "--name", "mara", "--role", "caseworker"); err == nil {
		t.Fatal("a second mara")
	}
	if _, err := run("", "disable", "--data-dir", dir, "--name", "jonas"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, console.DefaultUsersFile)
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("user file: %v %v", st, err)
	}
	u, err := console.OpenUsers(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.Authenticate("mara", added["password"]); !ok {
		t.Fatal("mara cannot sign in with the generated password")
	}
	if _, ok := u.Authenticate("jonas", "a long enough password"); ok {
		t.Fatal("a disabled account signs in")
	}
	list, err := run("", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(list, "jonas  dublin-officer  disabled") {
		t.Fatalf("list:\n%s %v", list, err)
	}
	if _, err := run("", "passwd", "--name", "mara"); err == nil {
		t.Fatal("no file named, no error")
	}
}
