package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	pb "github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

type testCert struct{ certFile, keyFile string }

func issueCert(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, serial int64) testCert {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	c := testCert{filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")}
	if err := os.WriteFile(c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// The chaincode server answers only its own peer: another certificate of the same TLS CA (the
// gateway's, the privacy service's, a freshly minted one) fails the handshake.
func TestChaincodeServerAcceptsOnlyPinnedPeer(t *testing.T) {
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlsca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	server := issueCert(t, dir, "ccserver", ca, caKey, 2)
	peer := issueCert(t, dir, "peer0", ca, caKey, 3)
	other := issueCert(t, dir, "gateway", ca, caKey, 4)

	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := loadTLS(server.certFile, server.keyFile, caFile, peer.certFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	srv := newGRPCServer(tlsCfg)
	pb.RegisterChaincodeServer(srv, &shim.ChaincodeServer{CCID: "cc:1", Address: addr, CC: nopChaincode{}})
	go srv.Serve(ln) //nolint:errcheck // stopped below
	defer srv.Stop()
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	try := func(c testCert) error {
		kp, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			t.Fatal(err)
		}
		var conn *tls.Conn
		for i := 0; ; i++ {
			conn, err = tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{kp}, NextProtos: []string{"h2"}})
			if err == nil || i > 50 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			return err
		}
		defer conn.Close()
		// TLS 1.3 reports a refused client certificate on the first read; an accepted client gets
		// the server's HTTP/2 settings frame.
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, err = conn.Read(make([]byte, 16))
		return err
	}
	if err := try(peer); err != nil {
		t.Fatalf("own peer refused: %v", err)
	}
	if err := try(other); err == nil {
		t.Fatal("a certificate of the same CA that is not the peer's was accepted")
	}
}

type nopChaincode struct{}

func (nopChaincode) Init(shim.ChaincodeStubInterface) *pb.Response   { return nil }
func (nopChaincode) Invoke(shim.ChaincodeStubInterface) *pb.Response { return nil }
