package privacy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
)

// testPKI is an agency CA with server and client certificates, written as
// PEM files like an operator would have them, plus a foreign CA.
type testPKI struct {
	dir                  string
	caFile               string
	serverCert, serverKy string
	clients              map[string][2]string // name -> cert, key files
}

type certSpec struct {
	cn, ou string
	server bool
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func newCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name, Organization: []string{"caseledger"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key, der
}

func issue(t testing.TB, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, spec certSpec, serial int64) [2]string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: spec.cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if spec.ou != "" {
		tmpl.Subject.OrganizationalUnit = []string{spec.ou}
	}
	if spec.server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return [2]string{certFile, keyFile}
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	dir := t.TempDir()
	ca, caKey, caDER := newCA(t, "asylum-office CA")
	p := &testPKI{dir: dir, caFile: filepath.Join(dir, "ca.crt"), clients: map[string][2]string{}}
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	srv := issue(t, dir, "server", ca, caKey, certSpec{cn: "privacy.asylum-office", server: true}, 2)
	p.serverCert, p.serverKy = srv[0], srv[1]
	p.clients["gateway"] = issue(t, dir, "gateway", ca, caKey, certSpec{cn: "gateway.asylum-office", ou: "gateway"}, 3)
	p.clients["admin"] = issue(t, dir, "admin", ca, caKey, certSpec{cn: "ops-admin", ou: "ops"}, 4)
	p.clients["intruder"] = issue(t, dir, "intruder", ca, caKey, certSpec{cn: "chaincode.asylum-office", ou: "gateway"}, 5)
	fca, fcaKey, _ := newCA(t, "border-police CA")
	p.clients["foreign"] = issue(t, dir, "foreign", fca, fcaKey, certSpec{cn: "gateway.asylum-office", ou: "gateway"}, 6)
	return p
}

func (p *testPKI) clientTLS(t testing.TB, name string) *tls.Config {
	t.Helper()
	if name == "" { // no client certificate at all
		pool, _ := loadCAPool(p.caFile)
		return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}
	}
	forced := strings.HasSuffix(name, "-forced")
	c := p.clients[strings.TrimSuffix(name, "-forced")]
	cfg, err := ClientTLSConfig(c[0], c[1], p.caFile)
	if err != nil {
		t.Fatal(err)
	}
	if forced { // present the certificate even if the server does not list its CA
		cert := cfg.Certificates[0]
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	return cfg
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type apiFixture struct {
	pki   *testPKI
	store *Store
	url   string
	logs  *syncBuffer
}

func newAPIFixture(t testing.TB) *apiFixture {
	t.Helper()
	pki := newTestPKI(t)
	store := newTestStore(t)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := NewServer(ServerConfig{Store: store, Logger: logger, Audit: logger.With("log", "audit"),
		AllowedCNs: []string{"gateway.asylum-office"}, AllowedOUs: []string{"gateway"}, AdminCNs: []string{"ops-admin"}})
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := ServerTLSConfig(pki.serverCert, pki.serverKy, pki.caFile)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.TLS = tlsCfg
	ts.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &apiFixture{pki: pki, store: store, url: ts.URL, logs: logs}
}

func (f *apiFixture) client(t testing.TB, name string) *Client {
	t.Helper()
	c, err := NewClient(f.url, f.pki.clientTLS(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func (f *apiFixture) raw(t testing.TB, name string) *http.Client {
	t.Helper()
	return &http.Client{Transport: &http.Transport{TLSClientConfig: f.pki.clientTLS(t, name)}, Timeout: 10 * time.Second}
}

func TestClientOperations(t *testing.T) {
	f := newAPIFixture(t)
	runVaultOperations(t, f.client(t, "gateway"))
}

func TestHTTPProblems(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	gw := f.client(t, "gateway")
	p, _, err := gw.Pseudonymize(ctx, "national", "F-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gw.Pseudonymize(ctx, "national", "F-2"); err != nil {
		t.Fatal(err)
	}
	hc := f.raw(t, "gateway")
	tests := []struct {
		name, path, ctype, body string
		status                  int
		code                    Code
	}{
		{"ok", "/v1/domains/national/resolve-ref", "application/json", `{"localRef":"F-1"}`, 200, ""},
		{"created", "/v1/domains/national/pseudonymize", "application/json", `{"localRef":"F-3"}`, 201, ""},
		{"malformed", "/v1/domains/national/resolve-ref", "application/json", `{"localRef":`, 400, CodeInvalidInput},
		{"wrong type", "/v1/domains/national/resolve-ref", "application/json", `{"localRef":7}`, 400, CodeInvalidInput},
		{"unknown field", "/v1/domains/national/resolve-ref", "application/json", `{"localRef":"F-1","x":1}`, 400, CodeInvalidInput},
		{"trailing data", "/v1/domains/national/resolve-ref", "application/json", `{"localRef":"F-1"}{}`, 400, CodeInvalidInput},
		{"empty body", "/v1/domains/national/resolve-ref", "application/json", ``, 400, CodeInvalidInput},
		{"empty ref", "/v1/domains/national/pseudonymize", "", `{"localRef":""}`, 400, CodeInvalidInput},
		{"oversized ref", "/v1/domains/national/pseudonymize", "", `{"localRef":"` + strings.Repeat("x", 300) + `"}`, 413, CodePayloadTooLarge},
		{"oversized body", "/v1/domains/national/pseudonymize", "", `{"localRef":"` + strings.Repeat("x", 20000) + `"}`, 413, CodePayloadTooLarge},
		{"unknown domain", "/v1/domains/mars/resolve-ref", "", `{"localRef":"F-1"}`, 400, CodeUnknownDomain},
		{"unknown ref", "/v1/domains/national/resolve-ref", "", `{"localRef":"F-404"}`, 404, CodeNotFound},
		{"unknown pseudonym", "/v1/domains/national/resolve-pseudonym", "", `{"pseudonym":"0b9f5a4e-8a55-4d7c-9a43-0d5f3f0b8e21"}`, 404, CodeNotFound},
		{"bad pseudonym", "/v1/domains/national/resolve-pseudonym", "", `{"pseudonym":"F-1"}`, 400, CodeInvalidInput},
		{"conflict", "/v1/domains/national/bind", "", `{"pseudonym":"` + p + `","localRef":"F-2"}`, 409, CodeConflict},
		{"erase needs one", "/v1/domains/national/erase", "", `{"pseudonym":"` + p + `","localRef":"F-1"}`, 400, CodeInvalidInput},
		{"link needs target", "/v1/domains/national/link", "", `{"pseudonym":"` + p + `","toDomain":"dublin"}`, 400, CodeInvalidInput},
		{"link unknown domain", "/v1/domains/national/link-new", "", `{"pseudonym":"` + p + `","toDomain":"mars"}`, 400, CodeUnknownDomain},
		{"content type", "/v1/domains/national/resolve-ref", "text/plain", `{"localRef":"F-1"}`, 415, CodeUnsupportedMediaType},
		{"no route", "/v1/nothing", "", `{}`, 404, CodeNotFound},
		{"admin by gateway", "/v1/admin/backup", "", ``, 403, CodeForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.url+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			res, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if tc.code == "" {
				return
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			var pr api.Problem
			if err := json.Unmarshal(body, &pr); err != nil {
				t.Fatal(err)
			}
			if pr.Code != string(tc.code) || pr.Status != tc.status || pr.Title == "" || !strings.HasPrefix(pr.Type, "urn:") {
				t.Fatalf("problem %+v, want code %s", pr, tc.code)
			}
		})
	}
	// The store was not half-written by any of the failures.
	if c := f.store.Stats().Cases; c != 3 {
		t.Fatalf("cases = %d, want 3", c)
	}
}

func TestAuthentication(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	tests := []struct {
		client string
		want   error
	}{
		{"gateway", nil},
		{"", ErrUnauthenticated},           // no certificate
		{"intruder", ErrForbidden},         // signed by the agency CA, not the gateway
		{"foreign", ErrUnauthenticated},    // another agency's CA: Go's client does not offer it
		{"foreign-forced", ErrUnavailable}, // offered anyway: refused in the handshake
	}
	for _, tc := range tests {
		_, _, err := f.client(t, tc.client).Pseudonymize(ctx, "national", "AUTH-1")
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Fatalf("client %q: %v, want %v", tc.client, err, tc.want)
		}
	}
	// Admin operations: only the admin identity.
	var buf bytes.Buffer
	if err := f.client(t, "gateway").Backup(ctx, &buf); !errors.Is(err, ErrForbidden) {
		t.Fatalf("gateway backup: %v", err)
	}
	if err := f.client(t, "admin").Backup(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.client(t, "admin").Pseudonymize(ctx, "national", "AUTH-2"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("admin on the data API: %v", err)
	}
	// Metrics on the API listener need a certificate too.
	res, err := f.raw(t, "").Get(f.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous /metrics: %d", res.StatusCode)
	}
}

func TestLogsAndMetricsCarryNoIdentifiers(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	gw := f.client(t, "gateway")
	refs := []string{"SECRET-FILE-4711", "SECRET-REG-0815", "SECRET-NEW-9999"}
	p, _, err := gw.Pseudonymize(ctx, "national", refs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Bind(ctx, "national", p, refs[1]); err != nil {
		t.Fatal(err)
	}
	if err := gw.Rectify(ctx, "national", p, refs[1], refs[2]); err != nil {
		t.Fatal(err)
	}
	d, _, err := gw.LinkNew(ctx, "national", p, "dublin")
	if err != nil {
		t.Fatal(err)
	}
	gw.ResolveRef(ctx, "national", "SECRET-MISSING-1")
	gw.Pseudonymize(ctx, "national", "SECRET-BAD\x01")
	gw.Pseudonymize(ctx, "SECRET-IN-PATH", refs[0])
	gw.Bind(ctx, "national", d, refs[0]) // conflict
	if _, err := gw.EraseRef(ctx, "national", refs[0]); err != nil {
		t.Fatal(err)
	}
	res, err := f.raw(t, "gateway").Get(f.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	logs := f.logs.String()
	for _, secret := range append(refs, "SECRET", p, d) {
		if strings.Contains(logs, secret) {
			t.Fatalf("log carries %q:\n%s", secret, logs)
		}
		if strings.Contains(string(metrics), secret) {
			t.Fatalf("metrics carry %q", secret)
		}
	}
	// Every call was audited.
	if n := strings.Count(logs, `"msg":"privacy.call"`); n != 9 {
		t.Fatalf("%d audit lines, want 9:\n%s", n, logs)
	}
	for _, want := range []string{`"op":"rectify"`, `"op":"erase"`, `"outcome":"CONFLICT"`, `"caller_cn":"gateway.asylum-office"`, `"domain":"(unknown)"`} {
		if !strings.Contains(logs, want) {
			t.Fatalf("audit log lacks %s:\n%s", want, logs)
		}
	}
	if !strings.Contains(string(metrics), `privacy_http_requests_total{code="CONFLICT",op="bind"} 1`) {
		t.Fatalf("metrics lack the conflict counter:\n%s", metrics)
	}
}

func TestBackupRestoreOverAPI(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	gw, admin := f.client(t, "gateway"), f.client(t, "admin")
	for _, ref := range []string{"A-1", "A-2", "A-3"} {
		if _, _, err := gw.Pseudonymize(ctx, "national", ref); err != nil {
			t.Fatal(err)
		}
	}
	var backup bytes.Buffer
	if err := admin.Backup(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.EraseRef(ctx, "national", "A-2"); err != nil {
		t.Fatal(err)
	}
	st, err := admin.Restore(ctx, bytes.NewReader(backup.Bytes()))
	if err != nil || st.Tombstoned != 1 || st.AlreadyPresent != 2 {
		t.Fatalf("restore: %+v %v", st, err)
	}
	if _, err := gw.ResolveRef(ctx, "national", "A-2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore over the API resurrected an erased case: %v", err)
	}
	if _, err := admin.Restore(ctx, strings.NewReader("garbage")); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("garbage restore: %v", err)
	}
}

func TestDaemonLifecycle(t *testing.T) {
	pki := newTestPKI(t)
	root := t.TempDir()
	kek, err := CreateKeyringFile(filepath.Join(root, "kek.json"))
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := ServerTLSConfig(pki.serverCert, pki.serverKy, pki.caFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan [2]net.Addr, 1)
	done := make(chan error, 1)
	cfg := DaemonConfig{
		Store:  Options{Dir: filepath.Join(root, "data"), Domains: testDomains, KEK: kek},
		Listen: "127.0.0.1:0", OpsListen: "127.0.0.1:0", TLS: tlsCfg,
		AllowedCNs: []string{"gateway.asylum-office"},
		OnListen:   func(api, ops net.Addr) { addrs <- [2]net.Addr{api, ops} },
	}
	go func() { done <- RunDaemon(ctx, cfg) }()
	var a [2]net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("daemon exited: %v", err)
	}
	c, err := NewClient("https://"+a[0].String(), pki.clientTLS(t, "gateway"))
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := c.Pseudonymize(ctx, "national", "D-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		res, err := http.Get("http://" + a[1].String() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("ops %s: %d", path, res.StatusCode)
		}
	}
	// The ops listener serves nothing else.
	res, err := http.Post("http://"+a[1].String()+"/v1/domains/national/resolve-ref", "application/json", strings.NewReader(`{"localRef":"D-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("ops listener served the API: %d", res.StatusCode)
	}
	c.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not stop")
	}
	s := openTestStore(t, cfg.Store.Dir, kek, nil)
	defer s.Close()
	if got, err := s.ResolveRef(context.Background(), "national", "D-1"); err != nil || got != p {
		t.Fatalf("after shutdown: %q %v", got, err)
	}
}
