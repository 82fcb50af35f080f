package network

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// caServer is one fabric-ca-server process: every org runs an enrollment CA and a separate TLS CA,
// so TLS certificates are never valid MSP identities.
type caServer struct {
	node    string // supervisor name, e.g. "ca.asylum-office" or "tlsca.asylum-office"
	home    string
	port    int
	opsPort int
}

func (c caServer) url() string      { return "https://127.0.0.1:" + strconv.Itoa(c.port) }
func (c caServer) tlsCert() string  { return filepath.Join(c.home, "tls-cert.pem") }
func (c caServer) caCert() string   { return filepath.Join(c.home, "ca-cert.pem") }
func (c caServer) adminMSP() string { return filepath.Join(c.home, "admin", "msp") }

// caServers returns the CA pair of an org (enrollment CA, TLS CA).
func (n *Network) caServers(org string, p OrgPorts) (caServer, caServer) {
	dir := n.orgDir(org)
	return caServer{node: "ca." + org, home: filepath.Join(dir, "ca"), port: p.CA, opsPort: p.CAOps},
		caServer{node: "tlsca." + org, home: filepath.Join(dir, "tlsca"), port: p.TLSCA, opsPort: p.TLSCAOps}
}

// startCA starts (or restarts, keeping its database) one CA server and waits until it answers.
func (n *Network) startCA(ctx context.Context, c caServer) error {
	if err := os.MkdirAll(c.home, 0o700); err != nil {
		return err
	}
	pw, err := n.secret(c.node)
	if err != nil {
		return err
	}
	args := []string{"start", "-b", "ca-admin:" + pw, "--home", c.home, "--port", strconv.Itoa(c.port),
		"--tls.enabled", "--csr.hosts", "localhost,127.0.0.1", "--csr.cn", c.node, "--ca.name", c.node}
	env := []string{"FABRIC_CA_SERVER_OPERATIONS_LISTENADDRESS=127.0.0.1:" + strconv.Itoa(c.opsPort)}
	if err := n.sup.Start(c.node, n.bin("fabric-ca-server"), args, env, c.home); err != nil && !errors.Is(err, ErrAlreadyRunning) {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return n.sup.WaitReady(wctx, c.node, func(ctx context.Context) error { return caReady(ctx, c) })
}

func caReady(ctx context.Context, c caServer) error {
	pem, err := os.ReadFile(c.tlsCert())
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("no TLS certificate yet")
	}
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return getOK(ctx, cl, c.url()+"/cainfo")
}

// caClient runs fabric-ca-client against one CA with a private client home, so calls never share
// (or clobber) a client config file.
func (n *Network) caClient(ctx context.Context, c caServer, args ...string) error {
	home, err := os.MkdirTemp("", "caclient-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	cmd := exec.CommandContext(ctx, n.bin("fabric-ca-client"), append(args, "--tls.certfiles", c.tlsCert())...)
	cmd.Env = append(baseEnv(), "FABRIC_CA_CLIENT_HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("fabric-ca-client %s at %s: %w: %s", args[0], c.node, err, lastLines(string(out), 5))
	}
	return nil
}

// caIdentity is one registered and enrolled identity.
type caIdentity struct {
	name, idType, role string // role empty: no role attribute
	// tls: enroll with the TLS profile (server+client auth, SANs localhost/127.0.0.1).
	tls bool
}

// enrollAdmin enrolls a CA's bootstrap admin (used to register everything else).
func (n *Network) enrollAdmin(ctx context.Context, c caServer) error {
	pw, err := n.secret(c.node)
	if err != nil {
		return err
	}
	u := strings.Replace(c.url(), "https://", "https://ca-admin:"+pw+"@", 1)
	return n.caClient(ctx, c, "enroll", "-u", u, "--mspdir", c.adminMSP())
}

// registerEnroll registers id at CA c and enrolls it into dir (a fresh folder each time: enrolling
// twice into one folder would leave two keys).
func (n *Network) registerEnroll(ctx context.Context, c caServer, id caIdentity, dir string) error {
	secret := randomHex(16)
	args := []string{"register", "-u", c.url(), "--mspdir", c.adminMSP(), "--id.name", id.name,
		"--id.secret", secret, "--id.type", id.idType}
	if id.role != "" {
		// ":ecert" puts the attribute into the enrollment certificate by default, so chaincode can
		// authorise by MSP id + role without a separate attribute request.
		args = append(args, "--id.attrs", "role="+id.role+":ecert")
	}
	if err := n.caClient(ctx, c, args...); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	u := strings.Replace(c.url(), "https://", "https://"+id.name+":"+secret+"@", 1)
	eargs := []string{"enroll", "-u", u, "--mspdir", dir, "--csr.cn", id.name}
	if id.tls {
		eargs = append(eargs, "--enrollment.profile", "tls", "--csr.hosts", "localhost,127.0.0.1")
	}
	if err := n.caClient(ctx, c, eargs...); err != nil {
		return err
	}
	if id.tls {
		return normaliseTLSDir(dir)
	}
	return nil
}

// normaliseTLSDir turns an enrolled TLS folder into server.crt / server.key / ca.crt, the names every
// node config refers to (the enrolled names depend on the CA URL and the key's SKI).
func normaliseTLSDir(dir string) error {
	key, err := onlyFile(filepath.Join(dir, "keystore"))
	if err != nil {
		return err
	}
	ca, err := onlyFile(filepath.Join(dir, "tlscacerts"))
	if err != nil {
		return err
	}
	for src, dst := range map[string]string{
		filepath.Join(dir, "signcerts", "cert.pem"): "server.crt",
		key: "server.key",
		ca:  "ca.crt",
	} {
		if err := copyFile(src, filepath.Join(dir, dst), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// finishMSP gives an enrolled MSP folder stable CA file names, the org's TLS CA certificate and the
// NodeOUs config.yaml (without it the peer will not start and osnadmin refuses the orderer admin).
func finishMSP(dir, caCert, tlsCACert string) error {
	// Replace the enroll-URL-dependent cacerts file name with ca.pem.
	if err := os.RemoveAll(filepath.Join(dir, "cacerts")); err != nil {
		return err
	}
	if err := copyFile(caCert, filepath.Join(dir, "cacerts", "ca.pem"), 0o644); err != nil {
		return err
	}
	if err := copyFile(tlsCACert, filepath.Join(dir, "tlscacerts", "tlsca.pem"), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(nodeOUConfig), 0o644)
}

const nodeOUConfig = `NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: orderer
`

// secret returns the bootstrap password of a CA, created once and kept (0600) under <root>/secrets.
func (n *Network) secret(name string) (string, error) {
	p := filepath.Join(n.root, "secrets", name)
	if b, err := os.ReadFile(p); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", err
	}
	pw := randomHex(16)
	if err := os.WriteFile(p, []byte(pw), 0o600); err != nil {
		return "", err
	}
	return pw, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux; a failure leaves no safe way on
	}
	return hex.EncodeToString(b)
}

func onlyFile(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(entries) != 1 {
		return "", fmt.Errorf("%s: want exactly one file, found %d", dir, len(entries))
	}
	return filepath.Join(dir, entries[0].Name()), nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
