//go:build integration

package test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
)

// Secrets on the running network (issue 11 finding 4), as a local user of the host would look for
// them: command lines of every node, logs, and the network's files.
func TestSecretsNotExposedToLocalUsers(t *testing.T) {
	upServices(t) // privacy services and gateways hold keys and tokens too
	root := itNet.Root()
	var secrets []string
	entries, err := os.ReadDir(filepath.Join(root, "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "ca.") || strings.HasPrefix(e.Name(), "tlsca.") {
			b, err := os.ReadFile(filepath.Join(root, "secrets", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, strings.TrimSpace(string(b)))
		}
	}
	if len(secrets) != 2*(len(itNet.Description().Orgs)+1) {
		t.Fatalf("found %d CA passwords, want one per CA", len(secrets))
	}
	t.Run("command lines", func(t *testing.T) {
		status := itNet.Status()
		if len(status) == 0 {
			t.Fatal("no nodes")
		}
		for _, st := range status {
			if !st.Running {
				continue
			}
			cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(st.PID) + "/cmdline")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(cmdline, []byte(s)) {
					t.Errorf("%s: a CA password is on its command line", st.Name)
				}
			}
		}
	})
	t.Run("logs", func(t *testing.T) {
		logs, err := os.ReadDir(filepath.Join(root, "logs"))
		if err != nil {
			t.Fatal(err)
		}
		assertOwnerOnly(t, filepath.Join(root, "logs"))
		for _, l := range logs {
			p := filepath.Join(root, "logs", l.Name())
			assertOwnerOnly(t, p)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds a CA password", l.Name())
				}
			}
		}
	})
	t.Run("files", func(t *testing.T) {
		assertOwnerOnly(t, root)
		checked := 0
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !holdsSecret(p) {
				return nil
			}
			checked++
			assertOwnerOnly(t, p)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if checked < 50 {
			t.Fatalf("only %d secret-holding files found: the walk misses them", checked)
		}
	})
}

// holdsSecret classifies the network's files that hold a key, a password, a token or a keyring.
func holdsSecret(p string) bool {
	base := filepath.Base(p)
	dir := filepath.Base(filepath.Dir(p))
	switch {
	case dir == "keystore", dir == "secrets", dir == "logs":
		return true
	case strings.HasSuffix(base, "_sk"), strings.HasSuffix(base, ".key"), strings.HasSuffix(base, ".kek"),
		strings.HasSuffix(base, "-api.json"), strings.HasSuffix(base, ".tgz"), strings.HasSuffix(base, ".tar.gz"), strings.Contains(base, "tokens"),
		base == "fabric-ca-server-config.yaml", base == "fabric-ca-server.db", base == "connection.json",
		base == "IssuerSecretKey", base == "IssuerRevocationPrivateKey":
		return true
	}
	return false
}

func assertOwnerOnly(t *testing.T, p string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("%s: mode %v, readable by other users", p, fi.Mode().Perm())
	}
}

// Each agency's chaincode server answers only its own peer, and its privacy service only its own
// gateway's client key: certificates of the same TLS CA (the gateway's public API certificate
// among them) are refused.
func TestPinnedClientsOnTheNetwork(t *testing.T) {
	upServices(t)
	org := "asylum-office"
	c, err := itNet.Connection(org)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(itNet.TLSCACert(org))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	keyPair := func(dir string) tls.Certificate {
		kp, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	t.Run("chaincode server", func(t *testing.T) {
		addr := "127.0.0.1:" + strconv.Itoa(c.Ports.ChaincodeServer)
		try := func(svc string) error {
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"h2"},
				Certificates: []tls.Certificate{keyPair(itNet.ServiceTLSDir(org, svc))}})
			if err != nil {
				return err
			}
			defer conn.Close()
			// TLS 1.3 reports a refused client certificate on the first read.
			_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			_, err = conn.Read(make([]byte, 16))
			return err
		}
		if err := try("peer0"); err != nil {
			t.Fatalf("own peer's certificate refused: %v", err)
		}
		for _, svc := range []string{"gateway", "privacy", "gateway-client"} {
			if err := try(svc); err == nil {
				t.Errorf("chaincode server accepted the %s certificate of the same CA", svc)
			}
		}
	})
	t.Run("privacy service", func(t *testing.T) {
		call := func(svc api.TLSSet) int {
			kp, err := tls.LoadX509KeyPair(svc.CertFile, svc.KeyFile)
			if err != nil {
				t.Fatal(err)
			}
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
				RootCAs: pool, Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS13}}}
			defer hc.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost,
				itNet.PrivacyURL(org)+"/v1/domains/national/resolve-ref", strings.NewReader(`{"localRef":"no-such-ref"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := call(c.Services["privacy-client"]); got != http.StatusNotFound {
			t.Fatalf("gateway's privacy client identity: status %d, want 404 (authorised, unknown ref)", got)
		}
		// The public API key of the gateway is not its vault key; nor is any other certificate.
		for _, svc := range []string{"gateway", "privacy"} {
			if got := call(c.Services[svc]); got != http.StatusForbidden {
				t.Errorf("%s certificate: status %d, want 403", svc, got)
			}
		}
	})
}
