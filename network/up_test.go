package network

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// `up` on a running network where one node does not answer (issue 12 finding 5: an orderer frozen
// with SIGSTOP) fails naming that node, and leaves every node running, itself included.
func TestUpFailureLeavesNodesRunning(t *testing.T) {
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	d.BasePort = 23100
	n, err := New(d, Options{Root: t.TempDir(), FabricBin: t.TempDir(), TieToParent: true})
	if err != nil {
		t.Fatal(err)
	}
	// A generated network whose nodes all run: stand-ins that never answer a readiness probe,
	// like a frozen process.
	if err := n.markDone("generated"); err != nil {
		t.Fatal(err)
	}
	for _, c := range n.allCAs() {
		if err := os.MkdirAll(c.home, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.configFile(), []byte("registry: {}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	nodes := map[string]bool{}
	for _, u := range n.portPlan() {
		nodes[u.node] = true
	}
	for name := range nodes {
		if err := n.sup.Start(name, "/bin/sleep", []string{"60"}, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = n.sup.StopAll(time.Second) })

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	err = n.Up(ctx)
	if !errors.Is(err, ErrNodeFailed) || !strings.Contains(err.Error(), "not ready") || !strings.Contains(err.Error(), "ca.") {
		t.Fatalf("Up: %v, want ErrNodeFailed naming a CA that is not ready", err)
	}
	for name := range nodes {
		if _, ok := n.sup.Running(name); !ok {
			t.Errorf("%s was stopped by a failed up", name)
		}
	}
	if _, err := os.Stat(filepath.Join(n.root, "state", "generated")); err != nil {
		t.Errorf("failed up touched the network's state: %v", err)
	}
}

// fakeCA answers a CA's readiness probe (GET /cainfo over TLS, certificate in <home>/tls-cert.pem).
func fakeCA(t *testing.T, c caServer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: c.node},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.tlsCert(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(Loopback, strconv.Itoa(c.port)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
}

// With one orderer frozen and one peer stopped, `up` still brings the peer back, names the orderer,
// and stops nothing.
func TestUpStartsPeersDespiteAFrozenOrderer(t *testing.T) {
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	d.BasePort = 23500
	bin := t.TempDir()
	// The peer stand-in runs until killed; it never answers health probes, which only makes
	// its own wait fail too.
	if err := os.WriteFile(filepath.Join(bin, "peer"), []byte("#!/bin/sh\nwhile :; do sleep 1; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := New(d, Options{Root: t.TempDir(), FabricBin: bin, TieToParent: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.markDone("generated"); err != nil {
		t.Fatal(err)
	}
	for _, c := range n.allCAs() {
		if err := os.MkdirAll(c.home, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.configFile(), []byte("registry: {}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fakeCA(t, c)
	}
	stopped := PeerNode("partner-state")
	nodes := map[string]bool{}
	for _, u := range n.portPlan() {
		if u.node != stopped {
			nodes[u.node] = true
		}
	}
	for name := range nodes {
		if err := n.sup.Start(name, "/bin/sleep", []string{"60"}, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = n.sup.StopAll(time.Second) })

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err = n.Up(ctx)
	if !errors.Is(err, ErrNodeFailed) || !strings.Contains(err.Error(), "orderer0 not ready") {
		t.Fatalf("Up: %v, want ErrNodeFailed naming orderer0", err)
	}
	if exited, _ := n.sup.Exited(stopped); exited {
		t.Fatalf("%s was not started", stopped)
	}
	for name := range nodes {
		if _, ok := n.sup.Running(name); !ok {
			t.Errorf("%s was stopped by a failed up", name)
		}
	}
}
