// Command ccserver runs the caseledger chaincode as a service (CCaaS): a long-running gRPC server
// that the org's peer dials. Configuration comes from the environment, as the network tooling sets it:
//
//	CHAINCODE_ID                 package id (label:sha256) the peer installed
//	CHAINCODE_SERVER_ADDRESS     listen address, e.g. 127.0.0.1:7127
//	CHAINCODE_TLS_CERT_FILE      server certificate (PEM); with the key and client CA: mTLS required
//	CHAINCODE_TLS_KEY_FILE       server key (PEM)
//	CHAINCODE_TLS_CLIENT_CA_FILE CA that signs the peer's client certificate (PEM)
//	CASELEDGER_CC_CONFIG         chaincode configuration (JSON), identical for every org
package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/caseledger/caseledger/chaincode"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("chaincode server stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	ccid, address := os.Getenv("CHAINCODE_ID"), os.Getenv("CHAINCODE_SERVER_ADDRESS")
	if ccid == "" || address == "" {
		return fmt.Errorf("CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS are required")
	}
	tlsProps, err := loadTLS(os.Getenv("CHAINCODE_TLS_CERT_FILE"), os.Getenv("CHAINCODE_TLS_KEY_FILE"), os.Getenv("CHAINCODE_TLS_CLIENT_CA_FILE"))
	if err != nil {
		return err
	}
	cfg, err := chaincode.LoadConfig(os.Getenv("CASELEDGER_CC_CONFIG"))
	if err != nil {
		return err
	}
	cc, err := chaincode.New(cfg)
	if err != nil {
		return err
	}
	server := &shim.ChaincodeServer{CCID: ccid, Address: address, CC: cc, TLSProps: tlsProps}
	errc := make(chan error, 1)
	go func() { errc <- server.Start() }()
	log.Info("chaincode server listening", "address", address, "tls", !tlsProps.Disabled)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-errc:
		return err
	case s := <-sig:
		// The shim server has no graceful stop; every transaction is atomic on the peer side, so
		// exiting here loses nothing the peer has not yet committed.
		log.Info("chaincode server stopping", "signal", s.String())
		return nil
	}
}

// loadTLS reads the server's TLS files; with none set, TLS is disabled (development only).
func loadTLS(certFile, keyFile, clientCAFile string) (shim.TLSProperties, error) {
	if certFile == "" && keyFile == "" {
		return shim.TLSProperties{Disabled: true}, nil
	}
	cert, err := os.ReadFile(certFile)
	if err != nil {
		return shim.TLSProperties{}, fmt.Errorf("tls cert: %w", err)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return shim.TLSProperties{}, fmt.Errorf("tls key: %w", err)
	}
	props := shim.TLSProperties{Cert: cert, Key: key}
	if clientCAFile != "" {
		if props.ClientCACerts, err = os.ReadFile(clientCAFile); err != nil {
			return shim.TLSProperties{}, fmt.Errorf("tls client CA: %w", err)
		}
	}
	return props, nil
}
