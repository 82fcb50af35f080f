package inproc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/attrmgr"
	mspproto "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// msp is one organisation's certificate authority with the identities it
// issued: a root certificate the channel configuration declares, the peer
// that endorses, one client identity per enrolled role. Certificates carry
// the role as a Fabric CA attribute, so the chaincode reads callers exactly
// as it does on a peer (cid).
type msp struct {
	id      string
	key     *ecdsa.PrivateKey
	cert    *x509.Certificate
	rootPEM []byte
	serial  int64
}

// signer is an enrolled identity: its key and its serialized form.
type signer struct {
	mspID   string
	key     *ecdsa.PrivateKey
	creator []byte // msp.SerializedIdentity
}

// sign is an ECDSA signature over the SHA-256 of msg, as Fabric signs.
func (s *signer) sign(msg []byte) ([]byte, error) {
	d := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.key, d[:])
}

// validity of every certificate: from a day before the clock's start, so a
// fake clock set in the past or future still lies inside it for the tests'
// range of years.
func validity(now time.Time) (time.Time, time.Time) {
	return now.AddDate(-5, 0, 0), now.AddDate(20, 0, 0)
}

func newMSP(id string, now time.Time) (*msp, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	from, to := validity(now)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca." + id, Organization: []string{id}},
		NotBefore: from, NotAfter: to, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("inproc: CA of %s: %w", id, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &msp{id: id, key: key, cert: cert, rootPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), serial: 1}, nil
}

// issue enrols an identity; attrs become the certificate's Fabric CA
// attributes (nil: none, as for a peer).
func (m *msp) issue(name string, attrs map[string]string) (*signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	m.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(m.serial), Subject: pkix.Name{CommonName: name, Organization: []string{m.id}},
		NotBefore: m.cert.NotBefore, NotAfter: m.cert.NotAfter, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if attrs != nil {
		val, err := json.Marshal(&attrmgr.Attributes{Attrs: attrs})
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: attrmgr.AttrOID, Value: val})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, m.cert, &key.PublicKey, m.key)
	if err != nil {
		return nil, fmt.Errorf("inproc: certificate of %s: %w", name, err)
	}
	creator, err := proto.Marshal(&mspproto.SerializedIdentity{Mspid: m.id, IdBytes: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})})
	if err != nil {
		return nil, err
	}
	return &signer{mspID: m.id, key: key, creator: creator}, nil
}

// config is the MSP definition a channel configuration holds.
func (m *msp) config() ([]byte, error) {
	fc, err := proto.Marshal(&mspproto.FabricMSPConfig{Name: m.id, RootCerts: [][]byte{m.rootPEM}})
	if err != nil {
		return nil, err
	}
	return proto.Marshal(&mspproto.MSPConfig{Config: fc})
}
