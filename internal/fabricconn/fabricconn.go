// Package fabricconn connects to an org's own peer through the fabric-gateway
// client, from the connection details the network generates (api.Connection).
// It is apart from network so that the gateway and the load tools dial their
// peer without linking the network builder.
package fabricconn

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/hash"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/caseledger/caseledger/api"
)

// Options tune a fabric-gateway connection; zero values take the defaults below.
type Options struct {
	EvaluateTimeout, EndorseTimeout, SubmitTimeout, CommitStatusTimeout time.Duration
	// DialOptions are added to the gRPC connection's (e.g. reconnect backoff, keepalive).
	DialOptions []grpc.DialOption
}

// Dial connects to the org's own peer through the fabric-gateway client, signing as the org's
// identity with the given role. Close the returned gateway, then the gRPC connection.
func Dial(c api.Connection, role string, o Options) (*client.Gateway, *grpc.ClientConn, error) {
	id, ok := c.IdentityFor(role)
	if !ok {
		return nil, nil, fmt.Errorf("org %s has no identity with role %q", c.Org, role)
	}
	return DialIdentity(c, id, o)
}

// DialIdentity is Dial for a given identity.
func DialIdentity(c api.Connection, id api.Identity, o Options) (*client.Gateway, *grpc.ClientConn, error) {
	caPEM, err := os.ReadFile(c.Peer.TLSCACert)
	if err != nil {
		return nil, nil, fmt.Errorf("peer TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, nil, fmt.Errorf("peer TLS CA %s: no certificate", c.Peer.TLSCACert)
	}
	conn, err := grpc.NewClient(c.Peer.Address, append([]grpc.DialOption{grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, ""))}, o.DialOptions...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("dial peer %s: %w", c.Peer.Address, err)
	}
	certPEM, err := os.ReadFile(id.CertFile)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("identity certificate: %w", err)
	}
	cert, err := identity.CertificateFromPEM(certPEM)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	xid, err := identity.NewX509Identity(c.MSPID, cert)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	keyFile, err := onlyFile(id.KeyDir)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("identity key: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Clean(keyFile))
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	key, err := identity.PrivateKeyFromPEM(keyPEM)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	def := func(d, v time.Duration) time.Duration {
		if d == 0 {
			return v
		}
		return d
	}
	gw, err := client.Connect(xid, client.WithSign(sign), client.WithHash(hash.SHA256), client.WithClientConnection(conn),
		client.WithEvaluateTimeout(def(o.EvaluateTimeout, 5*time.Second)),
		client.WithEndorseTimeout(def(o.EndorseTimeout, 15*time.Second)),
		client.WithSubmitTimeout(def(o.SubmitTimeout, 5*time.Second)),
		client.WithCommitStatusTimeout(def(o.CommitStatusTimeout, time.Minute)))
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return gw, conn, nil
}

// onlyFile is the one file in dir (an MSP keystore holds exactly one key).
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
