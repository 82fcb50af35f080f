// Command ccserver runs the caseledger chaincode as a service (CCaaS): a long-running gRPC server
// that the org's peer dials. Configuration comes from the environment, as the network tooling sets it:
//
//	CHAINCODE_ID                   package id (label:sha256) the peer installed
//	CHAINCODE_SERVER_ADDRESS       listen address, e.g. 127.0.0.1:7127
//	CHAINCODE_TLS_CERT_FILE        server certificate (PEM); with the key and client CA: mTLS required
//	CHAINCODE_TLS_KEY_FILE         server key (PEM)
//	CHAINCODE_TLS_CLIENT_CA_FILE   CA that signs the peer's client certificate (PEM)
//	CHAINCODE_TLS_CLIENT_CERT_FILE optional: the one client certificate accepted, the org's own
//	                               peer's (PEM); its public key is pinned
//	CASELEDGER_CC_CONFIG           chaincode configuration (JSON), identical for every org
package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/caseledger/caseledger/api"
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
	tlsCfg, err := loadTLS(os.Getenv("CHAINCODE_TLS_CERT_FILE"), os.Getenv("CHAINCODE_TLS_KEY_FILE"),
		os.Getenv("CHAINCODE_TLS_CLIENT_CA_FILE"), os.Getenv("CHAINCODE_TLS_CLIENT_CERT_FILE"))
	if err != nil {
		return err
	}
	cfg, err := api.LoadChaincodeConfig(os.Getenv("CASELEDGER_CC_CONFIG"))
	if err != nil {
		return err
	}
	cc, err := chaincode.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return err
	}
	// The shim's own ChaincodeServer.Start cannot check which client certificate it got, so the
	// server is ours; the shim still handles each peer stream (Connect).
	srv := newGRPCServer(tlsCfg)
	peer.RegisterChaincodeServer(srv, &shim.ChaincodeServer{CCID: ccid, Address: address, CC: cc})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("chaincode server listening", "address", address, "tls", tlsCfg != nil)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-errc:
		return err
	case s := <-sig:
		// Every transaction is atomic on the peer side: stopping here loses nothing the peer has
		// not yet committed.
		log.Info("chaincode server stopping", "signal", s.String())
		srv.Stop()
		return nil
	}
}
