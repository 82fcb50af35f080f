package network

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/caseledger/caseledger/api"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Each agency's own services next to its peer: the privacy service
// (cmd/privacyd) and the gateway (cmd/gatewayd), both built from this module
// into <root>/bin and run under the supervisor as privacy.<org> and
// gateway.<org>. Secrets (the privacy service's key-encryption key, the
// gateway's hashed token file) are generated once under <root>/secrets; the
// API details a client needs — gateway URL, CA file and one token per role —
// go to <root>/connection/<org>-api.json (0600).

// PrivacyNode is the supervisor name of an org's privacy service.
func PrivacyNode(org string) string { return "privacy." + org }

// GatewayNode is the supervisor name of an org's gateway.
func GatewayNode(org string) string { return "gateway." + org }

// APIInfoPath is where an org's API details are written.
func (n *Network) APIInfoPath(org string) string {
	return filepath.Join(n.root, "connection", org+"-api.json")
}

// API returns an org's API details (after StartGateway).
func (n *Network) API(org string) (api.APIInfo, error) { return api.LoadAPIInfo(n.APIInfoPath(org)) }

// GatewayURL is the base URL of an org's gateway.
func (n *Network) GatewayURL(org string) string {
	return "https://" + n.addr(n.desc.PortsOf(org).Gateway)
}

// PrivacyURL is the base URL of an org's privacy service.
func (n *Network) PrivacyURL(org string) string {
	return "https://" + n.addr(n.desc.PortsOf(org).Privacy)
}

func (n *Network) serviceBin(name string) string { return filepath.Join(n.root, "bin", name) }

func (n *Network) privacyKEK(org string) string {
	return filepath.Join(n.root, "secrets", "privacy-"+org+".kek")
}

// PrivacyDataDir is an org's privacy-service data directory.
func (n *Network) PrivacyDataDir(org string) string {
	return filepath.Join(n.orgDir(org), "privacy", "data")
}

// PrivacyTombstones is an org's privacy-service tombstone log. It lives with the KEK under
// <root>/secrets, outside the data directory: a data directory lost (or restored from a backup)
// never takes the record of what was erased with it, and a restore drops every record it names.
func (n *Network) PrivacyTombstones(org string) string {
	return filepath.Join(n.root, "secrets", "privacy-"+org+".tombstones")
}

// privacyAdminCN is the client identity allowed to call a privacy service's /v1/admin/* (backup,
// restore); generated per org next to the service identities.
const privacyAdminCN = "privacy-admin"

// PrivacyAdminTLS is the org's privacy admin identity, for
// `privacyd backup --server PrivacyURL --tls-cert CertFile --tls-key KeyFile --server-ca CAFile`.
func (n *Network) PrivacyAdminTLS(org string) api.TLSSet {
	d := n.ServiceTLSDir(org, privacyAdminCN)
	return api.TLSSet{CertFile: filepath.Join(d, "server.crt"), KeyFile: filepath.Join(d, "server.key"), CAFile: n.TLSCACert(org)}
}

func (n *Network) gatewayTokens(org string) string {
	return filepath.Join(n.root, "secrets", "gateway-"+org+"-tokens.json")
}

// KeyPinFile is the public-key pin of a PEM certificate: lower-case hex SHA-256 of its DER
// SubjectPublicKeyInfo (what privacyd --allow-key-sha256 compares).
func KeyPinFile(certFile string) (string, error) {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return "", err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return "", fmt.Errorf("%s: no PEM certificate", certFile)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return "", fmt.Errorf("%s: %w", certFile, err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:]), nil
}

// buildService builds cmd/<name> into <root>/bin. It writes to a temporary
// file and renames it, so concurrent builds never leave a torn binary.
func (n *Network) buildService(ctx context.Context, name string) error {
	if n.moduleDir == "" {
		return fmt.Errorf("build %s: module directory unknown", name)
	}
	out := n.serviceBin(name)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp-%s", out, randomHex(4))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", tmp, "./cmd/"+name)
	cmd.Dir = n.moduleDir
	cmd.Env = os.Environ()
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("build %s: %w: %s", name, err, lastLines(string(b), 10))
	}
	return os.Rename(tmp, out)
}

// StartPrivacy starts (or restarts) an org's privacy service with the binary UpServices built —
// building it only if there is none — so a restarted node runs the same code as its siblings. Its
// KEK is generated once. It waits until the service is ready.
func (n *Network) StartPrivacy(ctx context.Context, org string) error {
	if err := n.ensureService(ctx, "privacyd"); err != nil {
		return err
	}
	return n.startPrivacy(ctx, org)
}

// StartGateway starts (or restarts) an org's gateway like StartPrivacy (its tokens are generated
// once). The org's privacy service must run.
func (n *Network) StartGateway(ctx context.Context, org string) error {
	if err := n.ensureService(ctx, "gatewayd"); err != nil {
		return err
	}
	return n.startGateway(ctx, org)
}

// ensureService builds cmd/<name> only when <root>/bin has no binary yet.
func (n *Network) ensureService(ctx context.Context, name string) error {
	if _, err := os.Stat(n.serviceBin(name)); err == nil {
		return nil
	}
	return n.buildService(ctx, name)
}

// UpServices builds both binaries once and starts every org's privacy
// service and gateway, orgs in parallel. Call it after Up.
func (n *Network) UpServices(ctx context.Context) error {
	if len(n.localOrgs()) == 0 {
		return nil // the orderer org's host runs no agency services
	}
	start := time.Now()
	err := parallel([]string{"privacyd", "gatewayd"}, func(name string) error { return n.buildService(ctx, name) })
	if err != nil {
		return err
	}
	err = parallel(n.localOrgs(), func(o Org) error {
		if err := n.startPrivacy(ctx, o.Name); err != nil {
			return err
		}
		return n.startGateway(ctx, o.Name)
	})
	if err != nil {
		return err
	}
	n.log.Info("services up", "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

func (n *Network) startPrivacy(ctx context.Context, org string) error {
	bin := n.serviceBin("privacyd")
	kek := n.privacyKEK(org)
	if _, err := os.Stat(kek); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(kek), 0o700); err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, bin, "keygen", "--kek-file", kek)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("privacy %s: keygen: %w: %s", org, err, lastLines(string(out), 5))
		}
	}
	var domains []string
	for _, ch := range n.desc.ChannelsOf(org) {
		domains = append(domains, ch.Name)
	}
	tlsDir := n.ServiceTLSDir(org, "privacy")
	pin, err := KeyPinFile(filepath.Join(n.ServiceTLSDir(org, "gateway-client"), "server.crt"))
	if err != nil {
		return fmt.Errorf("privacy %s: %w", org, err)
	}
	dataDir := filepath.Join(n.orgDir(org), "privacy", "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	args := []string{"serve",
		"--data-dir", dataDir, "--kek-file", kek, "--domains", strings.Join(domains, ","),
		"--listen", n.addr(n.desc.PortsOf(org).Privacy),
		"--ops-listen", n.addr(n.desc.PortsOf(org).PrivacyOps),
		"--tls-cert", filepath.Join(tlsDir, "server.crt"), "--tls-key", filepath.Join(tlsDir, "server.key"),
		"--client-ca", n.TLSCACert(org),
		// Only the agency's own gateway may call it: its client certificate's public key is
		// pinned, since anyone able to enroll at the TLS CA could choose the CN.
		"--allow-cn", "gateway-client",
		"--allow-key-sha256", pin,
	}
	if n.profiling {
		args = append(args, "--pprof")
	}
	// Tombstones apart from the data (restore honours them); backups over the API by the admin,
	// pinned by key like the gateway.
	args = append(args, "--tombstone-file", n.PrivacyTombstones(org))
	switch adminPin, err := KeyPinFile(n.PrivacyAdminTLS(org).CertFile); {
	case err == nil:
		args = append(args, "--admin-cn", privacyAdminCN, "--admin-key-sha256", adminPin)
	case errors.Is(err, os.ErrNotExist):
		// A root generated before the identity existed: admin routes stay closed.
		n.log.Warn("privacy admin identity not generated; backups over the API refused", "org", org)
	default:
		return fmt.Errorf("privacy %s: %w", org, err)
	}
	name := PrivacyNode(org)
	if err := n.sup.Start(name, bin, args, nil, filepath.Dir(dataDir)); err != nil && !errors.Is(err, ErrAlreadyRunning) {
		return err
	}
	return n.waitHTTPSReady(ctx, name, org, n.PrivacyURL(org)+"/readyz", 60*time.Second)
}

// GatewayDataDir is org's gateway data folder (its Badger store, and the
// web console's user file, console.DefaultUsersFile).
func (n *Network) GatewayDataDir(org string) string {
	return filepath.Join(n.orgDir(org), "gateway", "data")
}

func (n *Network) startGateway(ctx context.Context, org string) error {
	o, ok := n.desc.Org(org)
	if !ok {
		return fmt.Errorf("unknown org %q", org)
	}
	if _, err := os.Stat(n.ConnectionPath(org)); err != nil {
		if err := n.writeConnectionProfiles(); err != nil {
			return err
		}
	}
	if err := n.ensureTokens(ctx, o); err != nil {
		return err
	}
	dataDir := n.GatewayDataDir(org)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	args := []string{"serve",
		"--connection", n.ConnectionPath(org),
		"--privacy-url", n.PrivacyURL(org),
		"--listen", n.addr(n.desc.PortsOf(org).Gateway),
		"--ops-listen", n.addr(n.desc.PortsOf(org).GatewayOps),
		"--data-dir", dataDir,
		"--tokens", n.gatewayTokens(org),
		// Webhook receivers of the local demo and the tests listen on plain
		// HTTP on this machine, i.e. on loopback, which is refused otherwise.
		"--webhook-allow-http", "--webhook-allow-net", "127.0.0.0/8,::1",
	}
	if n.profiling {
		args = append(args, "--pprof")
	}
	name := GatewayNode(org)
	if err := n.sup.Start(name, n.serviceBin("gatewayd"), args, nil, filepath.Dir(dataDir)); err != nil && !errors.Is(err, ErrAlreadyRunning) {
		return err
	}
	return n.waitHTTPSReady(ctx, name, org, n.GatewayURL(org)+"/readyz", 90*time.Second)
}

// ensureTokens creates one API token per role of the org, once, and writes
// the API details. A half-done earlier run (token file without API file)
// starts afresh, so no token exists that nobody knows.
func (n *Network) ensureTokens(ctx context.Context, o Org) error {
	if _, err := os.Stat(n.APIInfoPath(o.Name)); err == nil {
		return nil
	}
	tokens := n.gatewayTokens(o.Name)
	if err := os.Remove(tokens); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(tokens), 0o700); err != nil {
		return err
	}
	info := api.APIInfo{Org: o.Name, MSPID: o.MSPID, URL: n.GatewayURL(o.Name), CAFile: n.TLSCACert(o.Name), Tokens: map[string]string{}}
	roles := []string{"admin"}
	for _, u := range o.Users {
		roles = append(roles, u.Role)
	}
	for _, role := range roles {
		if _, dup := info.Tokens[role]; dup {
			continue
		}
		cmd := exec.CommandContext(ctx, n.serviceBin("gatewayd"), "token", "add", "--tokens", tokens,
			"--msp-id", o.MSPID, "--role", role, "--name", "demo-"+role, "--json")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("gateway %s: token for %s: %w: %s", o.Name, role, err, lastLines(stderr.String(), 5))
		}
		var t struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(out, &t); err != nil || t.Token == "" {
			return fmt.Errorf("gateway %s: token for %s: unexpected output", o.Name, role)
		}
		info.Tokens[role] = t.Token
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	p := n.APIInfoPath(o.Name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp-" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// waitHTTPSReady polls an HTTPS readiness endpoint of one of the org's
// services (certificate of the org's TLS CA).
func (n *Network) waitHTTPSReady(ctx context.Context, name, org, url string, timeout time.Duration) error {
	caPEM, err := os.ReadFile(n.TLSCACert(org))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("%s: no certificate in the TLS CA file", name)
	}
	cl := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer cl.CloseIdleConnections()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return n.sup.WaitReady(wctx, name, func(ctx context.Context) error { return getOK(ctx, cl, url) })
}
