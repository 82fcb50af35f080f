package network

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/caseledger/caseledger/api"
	"io/fs"
	"net/http"
	"net/url"
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
	// host is the org's host from the description: a name in every certificate the CA issues with
	// the TLS profile, so other organisations can reach the org's nodes there.
	host string
}

// url is where the org's own tools reach its CA. A CA serves only its own organisation, whose
// identities are enrolled on the org's host, so the client is always local: the CA is never one
// of the addresses other organisations need.
func (c caServer) url() string { return "https://127.0.0.1:" + strconv.Itoa(c.port) }

// tlsHosts are the names in a TLS certificate of the org: loopback for its own local clients,
// plus the org's host from the description.
func (c caServer) tlsHosts() string {
	if c.host == "" || c.host == Loopback || c.host == "localhost" {
		return "localhost,127.0.0.1"
	}
	return "localhost,127.0.0.1," + c.host
}
func (c caServer) tlsCert() string  { return filepath.Join(c.home, "tls-cert.pem") }
func (c caServer) caCert() string   { return filepath.Join(c.home, "ca-cert.pem") }
func (c caServer) adminMSP() string { return filepath.Join(c.home, "admin", "msp") }

// caServers returns the CA pair of an org (enrollment CA, TLS CA).
func (n *Network) caServers(org string, p api.OrgPorts) (caServer, caServer) {
	dir := n.orgDir(org)
	h := n.desc.HostOf(org)
	return caServer{node: "ca." + org, home: filepath.Join(dir, "ca"), port: p.CA, opsPort: p.CAOps, host: h},
		caServer{node: "tlsca." + org, home: filepath.Join(dir, "tlsca"), port: p.TLSCA, opsPort: p.TLSCAOps, host: h}
}

// startCA starts (or restarts, keeping its database) one CA server and waits until it answers.
// The bootstrap registrar never appears on a command line or in a log: a first `init` reads it from
// the environment (readable only by this user) and writes it into fabric-ca-server-config.yaml
// (registry.identities, 0600), which every later start reads; the server's start-up log leaves out
// the config lines that hold a password.
func (n *Network) startCA(ctx context.Context, c caServer) error {
	if err := os.MkdirAll(c.home, 0o700); err != nil {
		return err
	}
	args := c.serverArgs()
	env := []string{"FABRIC_CA_SERVER_OPERATIONS_LISTENADDRESS=127.0.0.1:" + strconv.Itoa(c.opsPort)}
	if err := n.initCA(ctx, c, env); err != nil {
		return err
	}
	if err := n.sup.Start(c.node, n.bin("fabric-ca-server"), append([]string{"start"}, args...), env, c.home); err != nil && !errors.Is(err, ErrAlreadyRunning) {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := n.sup.WaitReady(wctx, c.node, func(ctx context.Context) error { return caReady(ctx, c) }); err != nil {
		return err
	}
	// The server writes its keys, database and TLS key with the default umask: only this user may
	// read anything of a CA's home.
	return restrictTree(c.home)
}

// serverArgs are the fabric-ca-server arguments shared by init and start (no secret among them).
func (c caServer) serverArgs() []string {
	// Bound to loopback (fabric-ca-server's default is every interface): only the org's own tools
	// on its own host ever call its CA, so on a host of its own nobody else can reach it.
	return []string{"--home", c.home, "--address", Loopback, "--port", strconv.Itoa(c.port),
		"--tls.enabled", "--csr.hosts", c.tlsHosts(), "--csr.cn", c.node, "--ca.name", c.node}
}

func (c caServer) configFile() string { return filepath.Join(c.home, "fabric-ca-server-config.yaml") }

// initCA creates the CA's key, certificate and configuration (with the bootstrap registrar) once.
func (n *Network) initCA(ctx context.Context, c caServer, env []string) error {
	if _, err := os.Stat(c.configFile()); err == nil {
		return nil
	}
	pw, err := n.secret(c.node)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, n.bin("fabric-ca-server"), append([]string{"init"}, c.serverArgs()...)...)
	cmd.Dir = c.home
	cmd.Env = append(append(baseEnv(), env...), "FABRIC_CA_SERVER_BOOT=ca-admin:"+pw)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// The output is kept in memory only; redact before it becomes an error message.
		return fmt.Errorf("fabric-ca-server init %s: %w: %s", c.node, err, redact(lastLines(string(out), 5), pw))
	}
	return restrictTree(c.home)
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
// (or clobber) a client config file. Secrets go in env (FABRIC_CA_CLIENT_URL with the enrollment
// secret, FABRIC_CA_CLIENT_ID_SECRET for a registration), never in args: a process's environment
// is readable only by its own user, its command line by everybody.
func (n *Network) caClient(ctx context.Context, c caServer, secretEnv []string, args ...string) error {
	home, err := os.MkdirTemp("", "caclient-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	cmd := exec.CommandContext(ctx, n.bin("fabric-ca-client"), caClientArgs(c, args)...)
	cmd.Env = append(append(baseEnv(), "FABRIC_CA_CLIENT_HOME="+home), secretEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := lastLines(string(out), 5)
		for _, kv := range secretEnv {
			_, v, _ := strings.Cut(kv, "=")
			msg = redact(msg, v)
			if u, err := url.Parse(v); err == nil && u.User != nil {
				pw, _ := u.User.Password()
				msg = redact(msg, pw)
			}
		}
		return fmt.Errorf("fabric-ca-client %s at %s: %w: %s", args[0], c.node, err, msg)
	}
	return nil
}

func caClientArgs(c caServer, args []string) []string {
	return append(append([]string{}, args...), "--tls.certfiles", c.tlsCert())
}

// enrollEnv is the environment that carries an enrollment secret to fabric-ca-client: the URL
// with user:secret@ (the client has no other way to take the secret than a URL).
func enrollEnv(c caServer, user, secret string) []string {
	u := &url.URL{Scheme: "https", User: url.UserPassword(user, secret), Host: "127.0.0.1:" + strconv.Itoa(c.port)}
	return []string{"FABRIC_CA_CLIENT_URL=" + u.String()}
}

// redact replaces every occurrence of secret (and its URL-escaped form) in s.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	s = strings.ReplaceAll(s, secret, "[redacted]")
	return strings.ReplaceAll(s, url.QueryEscape(secret), "[redacted]")
}

// caIdentity is one registered and enrolled identity.
type caIdentity struct {
	name, idType, role string // role empty: no role attribute
	// tls: enroll with the TLS profile (server+client auth, SANs localhost/127.0.0.1 and the org's host).
	tls bool
}

// enrollAdmin enrolls a CA's bootstrap admin (used to register everything else).
func (n *Network) enrollAdmin(ctx context.Context, c caServer) error {
	pw, err := n.secret(c.node)
	if err != nil {
		return err
	}
	return n.caClient(ctx, c, enrollEnv(c, "ca-admin", pw), "enroll", "--mspdir", c.adminMSP())
}

// registerEnroll registers id at CA c and enrolls it into dir (a fresh folder each time: enrolling
// twice into one folder would leave two keys). The one-time enrollment secret lives only in this
// process and the two clients' environments.
func (n *Network) registerEnroll(ctx context.Context, c caServer, id caIdentity, dir string) error {
	secret := randomHex(16)
	args := []string{"register", "-u", c.url(), "--mspdir", c.adminMSP(), "--id.name", id.name,
		"--id.type", id.idType}
	if id.role != "" {
		// ":ecert" puts the attribute into the enrollment certificate by default, so chaincode can
		// authorise by MSP id + role without a separate attribute request.
		args = append(args, "--id.attrs", "role="+id.role+":ecert")
	}
	if err := n.caClient(ctx, c, []string{"FABRIC_CA_CLIENT_ID_SECRET=" + secret}, args...); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	eargs := []string{"enroll", "--mspdir", dir, "--csr.cn", id.name}
	if id.tls {
		eargs = append(eargs, "--enrollment.profile", "tls", "--csr.hosts", c.tlsHosts())
	}
	if err := n.caClient(ctx, c, enrollEnv(c, id.name, secret), eargs...); err != nil {
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

// restrictTree makes dir and everything below it readable by this user only (folders 0700, files
// 0600, executables 0700): for folders that hold keys, passwords or keyrings.
func restrictTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		mode := fs.FileMode(0o600)
		if d.IsDir() {
			mode = 0o700
		} else if fi, err := d.Info(); err == nil && fi.Mode()&0o100 != 0 {
			mode = 0o700
		}
		return os.Chmod(p, mode)
	})
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
