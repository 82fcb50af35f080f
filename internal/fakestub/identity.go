package fakestub

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/attrmgr"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// Identity is a client identity: an MSP id and Fabric CA attributes (e.g.
// "role"). Creator returns it as the peer hands it to chaincode.
type Identity struct {
	MSPID string
	Name  string
	Attrs map[string]string
}

// Creator returns a serialized identity (msp.SerializedIdentity with a
// self-signed X.509 certificate) whose certificate carries the attributes in
// the Fabric CA extension, exactly what cid.New parses on a peer.
func (id Identity) Creator() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("fakestub: key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: id.Name, Organization: []string{id.MSPID}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if id.Attrs != nil {
		val, err := json.Marshal(&attrmgr.Attributes{Attrs: id.Attrs})
		if err != nil {
			return nil, fmt.Errorf("fakestub: attrs: %w", err)
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: attrmgr.AttrOID, Value: val})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("fakestub: certificate: %w", err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return proto.Marshal(&msp.SerializedIdentity{Mspid: id.MSPID, IdBytes: pemBytes})
}
