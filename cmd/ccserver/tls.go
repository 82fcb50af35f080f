package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
)

// loadTLS reads the server's TLS files; with none set, TLS is disabled (development only, nil).
// With a pinned client certificate, a client must present a certificate of the client CA whose
// public key is that certificate's: another certificate of the same CA (the gateway's, or one
// anybody able to enroll there minted) fails the handshake.
func loadTLS(certFile, keyFile, clientCAFile, pinnedCertFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls key pair: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, SessionTicketsDisabled: true}
	if clientCAFile == "" {
		if pinnedCertFile != "" {
			return nil, errors.New("a pinned client certificate needs CHAINCODE_TLS_CLIENT_CA_FILE")
		}
		return cfg, nil
	}
	caPEM, err := os.ReadFile(clientCAFile)
	if err != nil {
		return nil, fmt.Errorf("tls client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("tls client CA %s: no certificate", clientCAFile)
	}
	cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	if pinnedCertFile == "" {
		return cfg, nil
	}
	pinPEM, err := os.ReadFile(pinnedCertFile)
	if err != nil {
		return nil, fmt.Errorf("tls pinned client cert: %w", err)
	}
	blk, _ := pem.Decode(pinPEM)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("tls pinned client cert %s: no PEM certificate", pinnedCertFile)
	}
	pinned, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("tls pinned client cert: %w", err)
	}
	// Runs after the chain was verified against the client CA.
	cfg.VerifyPeerCertificate = func(_ [][]byte, chains [][]*x509.Certificate) error {
		if len(chains) == 0 || len(chains[0]) == 0 || !bytes.Equal(chains[0][0].RawSubjectPublicKeyInfo, pinned.RawSubjectPublicKeyInfo) {
			return errors.New("client certificate is not the pinned peer's")
		}
		return nil
	}
	return cfg, nil
}

// newGRPCServer has the shim's own server settings (v2.0.0 shim/internal/server.go): message
// sizes and keepalive as the peer expects them.
func newGRPCServer(tlsCfg *tls.Config) *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: time.Minute, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Minute, PermitWithoutStream: true}),
		grpc.MaxSendMsgSize(100 << 20), grpc.MaxRecvMsgSize(100 << 20),
		grpc.ConnectionTimeout(5 * time.Second),
	}
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	return grpc.NewServer(opts...)
}
