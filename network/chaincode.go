package network

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func (n *Network) chaincodeDir(org string) string { return filepath.Join(n.orgDir(org), "chaincode") }
func (n *Network) chaincodeLabel() string {
	return n.desc.Chaincode.Name + "_" + n.desc.Chaincode.Version
}

// ChaincodeConfigPath is the chaincode configuration every org's chaincode server loads: the same
// file for all, so every endorser decides alike.
func (n *Network) ChaincodeConfigPath() string { return filepath.Join(n.root, "chaincode-config.json") }

// ccserverBin is the chaincode-as-a-service binary built from this module.
func (n *Network) ccserverBin() string { return filepath.Join(n.root, "bin", "ccserver") }

// buildChaincodeServer builds cmd/ccserver (go build is incremental: cheap when nothing changed).
func (n *Network) buildChaincodeServer(ctx context.Context) error {
	if n.moduleDir == "" {
		return fmt.Errorf("build chaincode server: module directory unknown")
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", n.ccserverBin(), "./cmd/ccserver")
	cmd.Dir = n.moduleDir
	cmd.Env = os.Environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build chaincode server: %w: %s", err, lastLines(string(out), 10))
	}
	return nil
}

// packageChaincode writes the org's CCaaS package (metadata.json + code.tar.gz holding
// connection.json) with fixed timestamps, so the package id only changes when its content does.
func (n *Network) packageChaincode(org string) (path, id string, err error) {
	p := n.desc.PortsOf(org)
	peerTLS := n.ServiceTLSDir(org, "peer0")
	read := func(f string) string {
		b, rerr := os.ReadFile(f)
		if rerr != nil && err == nil {
			err = rerr
		}
		return string(b)
	}
	conn := map[string]any{
		"address":              n.addr(p.ChaincodeServer),
		"dial_timeout":         "10s",
		"tls_required":         true,
		"client_auth_required": true,
		// The peer presents its own TLS certificate to the chaincode server.
		"client_key":  read(filepath.Join(peerTLS, "server.key")),
		"client_cert": read(filepath.Join(peerTLS, "server.crt")),
		"root_cert":   read(n.TLSCACert(org)),
	}
	if err != nil {
		return "", "", err
	}
	connJSON, _ := json.MarshalIndent(conn, "", "  ")
	code, err := tarGz(map[string][]byte{"connection.json": connJSON})
	if err != nil {
		return "", "", err
	}
	meta, _ := json.Marshal(map[string]string{"type": "ccaas", "label": n.chaincodeLabel()})
	pkg, err := tarGz(map[string][]byte{"metadata.json": meta, "code.tar.gz": code})
	if err != nil {
		return "", "", err
	}
	path = filepath.Join(n.chaincodeDir(org), n.chaincodeLabel()+".tgz")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(path, pkg, 0o600); err != nil {
		return "", "", err
	}
	// Fabric's package id: label ":" hex(sha256(package bytes)).
	sum := sha256.Sum256(pkg)
	return path, fmt.Sprintf("%s:%x", n.chaincodeLabel(), sum), nil
}

func tarGz(files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	// Deterministic order and timestamps.
	for _, name := range []string{"metadata.json", "code.tar.gz", "connection.json"} {
		b, ok := files[name]
		if !ok {
			continue
		}
		// connection.json holds the peer's TLS client key: owner-only wherever it is unpacked.
		hdr := &tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// StartChaincodeServer starts an org's chaincode server with the package id its peer knows.
func (n *Network) StartChaincodeServer(ctx context.Context, org string) error {
	idb, err := os.ReadFile(filepath.Join(n.chaincodeDir(org), "package-id"))
	if err != nil {
		return fmt.Errorf("chaincode server %s: %w", org, err)
	}
	tlsDir := n.ServiceTLSDir(org, "ccserver")
	port := n.desc.PortsOf(org).ChaincodeServer
	env := []string{
		"CHAINCODE_ID=" + strings.TrimSpace(string(idb)),
		"CHAINCODE_SERVER_ADDRESS=" + n.addr(port),
		"CHAINCODE_TLS_CERT_FILE=" + filepath.Join(tlsDir, "server.crt"),
		"CHAINCODE_TLS_KEY_FILE=" + filepath.Join(tlsDir, "server.key"),
		"CHAINCODE_TLS_CLIENT_CA_FILE=" + n.TLSCACert(org),
		// Only the org's own peer may connect: its TLS certificate's key is pinned (any other
		// certificate of the org's TLS CA fails the handshake).
		"CHAINCODE_TLS_CLIENT_CERT_FILE=" + filepath.Join(n.ServiceTLSDir(org, "peer0"), "server.crt"),
		"CASELEDGER_CC_CONFIG=" + n.ChaincodeConfigPath(),
	}
	name := ChaincodeNode(org)
	if err := n.sup.Start(name, n.ccserverBin(), nil, env, n.chaincodeDir(org)); err != nil && !errors.Is(err, ErrAlreadyRunning) {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cert, err := tls.LoadX509KeyPair(filepath.Join(n.ServiceTLSDir(org, "peer0"), "server.crt"), filepath.Join(n.ServiceTLSDir(org, "peer0"), "server.key"))
	if err != nil {
		return err
	}
	return n.sup.WaitReady(wctx, name, func(ctx context.Context) error {
		// A completed mTLS handshake means the server is up with the right certificates.
		d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}}} //nolint:gosec // liveness probe only
		c, err := d.DialContext(ctx, "tcp", n.addr(port))
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// deployChaincode builds and starts every org's chaincode server, installs each org's package on
// its peer, has every member approve, and commits the definition on each channel with the
// channel's endorsement policy. Steps already done (markers) are skipped on a restart.
func (n *Network) deployChaincode(ctx context.Context) error {
	if len(n.localOrgs()) == 0 {
		return nil // the orderer org's host runs no chaincode
	}
	if err := n.buildChaincodeServer(ctx); err != nil {
		return err
	}
	err := parallel(n.localOrgs(), func(o Org) error {
		if !n.done("installed." + o.Name) {
			path, id, err := n.packageChaincode(o.Name)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(n.chaincodeDir(o.Name), "package-id"), []byte(id+"\n"), 0o644); err != nil {
				return err
			}
			if _, err := n.peerCLI(ctx, o.Name, "admin", "lifecycle", "chaincode", "install", path); err != nil {
				return err
			}
			if err := n.markDone("installed." + o.Name); err != nil {
				return err
			}
		}
		return n.StartChaincodeServer(ctx, o.Name)
	})
	if err != nil {
		return err
	}
	for _, ch := range n.desc.Channels {
		if n.done("committed."+ch.Name) || len(n.localMembers(ch)) == 0 {
			continue
		}
		if err := n.approveAndCommit(ctx, ch); err != nil {
			return err
		}
		if err := n.markDone("committed." + ch.Name); err != nil {
			return err
		}
	}
	return nil
}

// EndorsementPolicy renders a channel's endorsement rule as a Fabric signature policy.
func (n *Network) EndorsementPolicy(ch Channel) string {
	var ids []string
	for _, org := range ch.Endorsement.Orgs {
		o, _ := n.desc.Org(org)
		ids = append(ids, "'"+o.MSPID+".peer'")
	}
	return fmt.Sprintf("OutOf(%d,%s)", ch.Endorsement.OutOf, strings.Join(ids, ","))
}

func (n *Network) approveAndCommit(ctx context.Context, ch Channel) error {
	cc := n.desc.Chaincode
	// The sequence this root last approved (1 on a new network; ApproveDefinition moves it on).
	seq := strconv.Itoa(n.approvedSequence(ch.Name))
	common := []string{"--channelID", ch.Name, "--name", cc.Name, "--version", cc.Version,
		"--signature-policy", n.EndorsementPolicy(ch),
		"-o", n.OrdererAddress(0), "--tls", "--cafile", n.OrdererTLSCA()}
	colls, err := n.collectionsArgs(ch)
	if err != nil {
		return err
	}
	common = append(common, colls...)
	err = parallel(n.localMembers(ch), func(org string) error {
		idb, err := os.ReadFile(filepath.Join(n.chaincodeDir(org), "package-id"))
		if err != nil {
			return err
		}
		// On a host of its own, an org may be up before the orderers answer: retry. An org that
		// joins a running channel approves the definition in force, whose sequence its peer learns
		// as it catches up (so each attempt asks again).
		return n.retry(ctx, 2*time.Minute, func() error {
			s := seq
			// (With the whole network here nothing was committed before this very step: no query.)
			if n.local != nil {
				if c, ok := n.committedSequence(ctx, org, ch.Name); ok && c > n.approvedSequence(ch.Name) {
					s = strconv.Itoa(c)
				}
			}
			args := append([]string{"lifecycle", "chaincode", "approveformyorg", "--package-id", strings.TrimSpace(string(idb)), "--sequence", s}, common...)
			_, err := n.peerCLI(ctx, org, "admin", args...)
			return err
		})
	})
	if err != nil {
		return err
	}
	committer := ch.Governance.Orgs[0]
	if !n.Local(committer) {
		// Another host commits once every member approved; this host waits for the definition, so
		// `up` returns with the chaincode usable here.
		org := n.localMembers(ch)[0]
		return n.retry(ctx, 5*time.Minute, func() error {
			_, err := n.peerCLI(ctx, org, "admin", "lifecycle", "chaincode", "querycommitted", "--channelID", ch.Name, "--name", cc.Name)
			return err
		})
	}
	if n.local != nil {
		// The other members approve on their own hosts: commit only once each of them has (an org
		// that has not approved could not run the chaincode).
		rargs := []string{"lifecycle", "chaincode", "checkcommitreadiness", "--output", "json", "--channelID", ch.Name,
			"--name", cc.Name, "--version", cc.Version, "--sequence", seq, "--signature-policy", n.EndorsementPolicy(ch)}
		rargs = append(rargs, colls...)
		err := n.retry(ctx, 5*time.Minute, func() error {
			out, err := n.peerCLI(ctx, committer, "admin", rargs...)
			if err != nil {
				return err
			}
			var r struct {
				Approvals map[string]bool `json:"approvals"`
			}
			if err := json.Unmarshal(out, &r); err != nil {
				return fmt.Errorf("checkcommitreadiness: %w", err)
			}
			for _, m := range ch.Members {
				if o, _ := n.desc.Org(m); !r.Approvals[o.MSPID] {
					return fmt.Errorf("%s has not approved the definition on %s yet", o.MSPID, ch.Name)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	args := append([]string{"lifecycle", "chaincode", "commit", "--sequence", seq}, common...)
	for _, org := range ch.Members {
		args = append(args, "--peerAddresses", n.addr(n.desc.PortsOf(org).Peer), "--tlsRootCertFiles", n.TLSCACert(org))
	}
	_, err = n.peerCLI(ctx, committer, "admin", args...)
	return err
}

// retry runs f until it succeeds, within, or ctx ends; the last error is returned.
func (n *Network) retry(ctx context.Context, within time.Duration, f func() error) error {
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}
