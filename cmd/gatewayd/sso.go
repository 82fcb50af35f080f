package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/caseledger/caseledger/console"
)

// ssoFlags are serve's flags for the console's single sign-on
// (docs/console.md, "Single sign-on").
type ssoFlags struct {
	issuer, clientID, secretFile, redirect, claim, name, caFile *string
}

func newSSOFlags(f flags) ssoFlags {
	return ssoFlags{
		issuer:     f.str("oidc-issuer", "", "console single sign-on: the agency's OpenID Connect issuer URL (https; empty: passwords only)"),
		clientID:   f.str("oidc-client-id", "", "console single sign-on: the console's client id at the provider"),
		secretFile: f.str("oidc-client-secret-file", "", "console single sign-on: file with the client secret (mode 0600 or stricter; never the secret itself on a command line)"),
		redirect:   f.str("oidc-redirect-url", "", "console single sign-on: https://<this gateway's host>/console/sso/callback, as registered at the provider"),
		claim:      f.str("oidc-claim", "sub", "console single sign-on: the ID token claim matched against the accounts' SSO subject (sub, preferred_username, email, upn, ...)"),
		name:       f.str("oidc-name", "", "console single sign-on: the provider's name on the sign-in page (\"Sign in with <name>\"; default: the issuer's host)"),
		caFile:     f.str("oidc-ca-file", "", "console single sign-on: PEM file of the CA certificates that sign the provider's TLS certificate (default: the system's roots)"),
	}
}

// config is nil without --oidc-issuer.
func (s ssoFlags) config() (*console.OIDCConfig, error) {
	if *s.issuer == "" {
		if *s.clientID != "" || *s.secretFile != "" || *s.redirect != "" {
			return nil, fmt.Errorf("--oidc-client-id, --oidc-client-secret-file and --oidc-redirect-url need --oidc-issuer: %w", flag.ErrHelp)
		}
		return nil, nil
	}
	if *s.clientID == "" || *s.secretFile == "" || *s.redirect == "" {
		return nil, fmt.Errorf("--oidc-issuer needs --oidc-client-id, --oidc-client-secret-file and --oidc-redirect-url: %w", flag.ErrHelp)
	}
	secret, err := readSecretFile(*s.secretFile)
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if *s.caFile != "" {
		pem, err := os.ReadFile(*s.caFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--oidc-ca-file %s: no PEM certificate", *s.caFile)
		}
		tc.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	return &console.OIDCConfig{Issuer: *s.issuer, ClientID: *s.clientID, ClientSecret: secret, RedirectURL: *s.redirect,
		Claim: *s.claim, Name: *s.name, HTTPClient: &http.Client{Transport: tr, Timeout: 15 * time.Second}}, nil
}

// readSecretFile reads the client secret: a file only its owner can read
// (like the gateway's keys), one line.
func readSecretFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("--oidc-client-secret-file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("--oidc-client-secret-file %s: mode %04o, must be 0600 or stricter (chmod 600)", path, st.Mode().Perm())
	}
	if st.Size() > 4096 {
		return "", errors.New("--oidc-client-secret-file: larger than 4 KiB")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--oidc-client-secret-file: %w", err)
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" || strings.ContainsAny(secret, "\r\n") {
		return "", fmt.Errorf("--oidc-client-secret-file %s: one line with the secret expected", path)
	}
	return secret, nil
}
