package network

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeCABins writes stand-ins for fabric-ca-server and fabric-ca-client that record their argv
// (one line per call, NUL-free) and environment into <dir>/calls, and do just enough for the
// network code to go on: init writes a config file, enroll writes an MSP folder, start sleeps.
func fakeCABins(t *testing.T) (binDir, calls string) {
	t.Helper()
	binDir = t.TempDir()
	calls = filepath.Join(binDir, "calls")
	record := `printf 'ARGV %s\n' "$*" >>"` + calls + `"; env | grep '^FABRIC_CA' | sed 's/^/ENV /' >>"` + calls + `"` + "\n"
	server := "#!/bin/sh\n" + record + `case "$1" in
init) home=; while [ $# -gt 0 ]; do [ "$1" = --home ] && home=$2; shift; done
      echo "registry: {identities: [{name: ca-admin, pass: x}]}" >"$home/fabric-ca-server-config.yaml" ;;
start) while :; do sleep 1; done ;;
esac
`
	client := "#!/bin/sh\n" + record + `msp=; while [ $# -gt 0 ]; do [ "$1" = --mspdir ] && msp=$2; shift; done
mkdir -p "$msp/keystore" "$msp/signcerts" "$msp/cacerts" && echo k >"$msp/keystore/a_sk" && echo c >"$msp/signcerts/cert.pem"
`
	for name, body := range map[string]string{"fabric-ca-server": server, "fabric-ca-client": client} {
		if err := os.WriteFile(filepath.Join(binDir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return binDir, calls
}

// No CA secret (bootstrap password, enrollment secret) ever reaches a command line: every argv the
// network builds for fabric-ca-server and fabric-ca-client, including the one the supervisor
// starts, is free of them; they travel in the environment instead.
func TestCASecretsNeverOnCommandLine(t *testing.T) {
	bin, calls := fakeCABins(t)
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(d, Options{Root: t.TempDir(), FabricBin: bin, TieToParent: true})
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := n.caServersOf("asylum-office")
	// startCA runs init, then starts the server under the supervisor and waits for it; the fake
	// never answers, so a short deadline ends the wait once the process runs.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = n.startCA(ctx, ca)
	n.sup.mu.Lock()
	proc := n.sup.procs[ca.node]
	n.sup.mu.Unlock()
	if proc == nil {
		t.Fatal("fake CA server not started")
	}
	defer proc.cmd.Process.Kill()
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(proc.cmd.Process.Pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.enrollAdmin(context.Background(), ca); err != nil {
		t.Fatal(err)
	}
	if err := n.registerEnroll(context.Background(), ca, caIdentity{name: "caseworker1", idType: "client", role: "caseworker"}, filepath.Join(n.root, "u")); err != nil {
		t.Fatal(err)
	}
	pw, err := n.secret(ca.node)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	var argv, env []string
	for _, l := range strings.Split(string(b), "\n") {
		if a, ok := strings.CutPrefix(l, "ARGV "); ok {
			argv = append(argv, a)
		} else if e, ok := strings.CutPrefix(l, "ENV "); ok {
			env = append(env, e)
		}
	}
	if len(argv) != 5 { // init, start, enroll admin, register, enroll user
		t.Fatalf("want 5 calls, got %d: %q", len(argv), argv)
	}
	var secrets []string
	for _, e := range env {
		if k, v, _ := strings.Cut(e, "="); k == "FABRIC_CA_CLIENT_ID_SECRET" {
			secrets = append(secrets, v)
		}
	}
	if len(secrets) != 1 || len(secrets[0]) < 32 {
		t.Fatalf("registration secret not passed in the environment: %q", env)
	}
	for _, a := range append(argv, strings.ReplaceAll(string(cmdline), "\x00", " ")) {
		for _, s := range append(secrets, pw) {
			if strings.Contains(a, s) {
				t.Errorf("secret on a command line: %q", a)
			}
		}
		if strings.Contains(a, "-b ") || strings.Contains(a, "@127.0.0.1") {
			t.Errorf("credentials on a command line: %q", a)
		}
	}
	if !strings.Contains(strings.Join(env, "\n"), "FABRIC_CA_SERVER_BOOT=ca-admin:"+pw) {
		t.Errorf("bootstrap identity not passed to init in the environment")
	}
	// The files that hold the password are this user's only.
	for _, p := range []string{filepath.Join(n.root, "secrets", ca.node), ca.configFile(), ca.home} {
		assertPrivate(t, p)
	}
	assertPrivate(t, n.sup.LogFile(ca.node))
	assertPrivate(t, filepath.Dir(n.sup.LogFile(ca.node)))
}

func assertPrivate(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("%s has mode %v: readable by other users", p, fi.Mode().Perm())
	}
}

func TestRestrictTree(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a", "keystore"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a", "keystore", "k_sk"), []byte("k"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a", "tool"), []byte("#!/bin/sh\n"), 0o755))
	must(restrictTree(dir))
	for p, want := range map[string]os.FileMode{
		dir: 0o700, filepath.Join(dir, "a", "keystore"): 0o700,
		filepath.Join(dir, "a", "keystore", "k_sk"): 0o600, filepath.Join(dir, "a", "tool"): 0o700,
	} {
		fi, err := os.Stat(p)
		must(err)
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
}

func TestRedact(t *testing.T) {
	got := redact("enroll https://u:p%2Fw@host failed; p/w", "p/w")
	if strings.Contains(got, "p/w") || strings.Contains(got, "p%2Fw") {
		t.Fatalf("redact left the secret: %q", got)
	}
}
