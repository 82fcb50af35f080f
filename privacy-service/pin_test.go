package privacy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// A certificate the agency's TLS CA issued with a pinned identity's very name is still not that
// identity: with its public key pinned, only the pinned certificate gets an answer. Same CA, same
// CN, another key is what anyone able to enroll at the agency's TLS CA could mint. The gateway's
// key opens the API, the privacy admin's backup and restore.
func TestPinnedKeys(t *testing.T) {
	for _, pc := range []struct {
		name, cn string
		config   func(leaf *x509.Certificate) ServerConfig
		call     func(c *Client) error
	}{
		{"gateway", "gateway-client", func(leaf *x509.Certificate) ServerConfig {
			return ServerConfig{AllowedCNs: []string{"gateway-client"}, AllowedKeys: []string{KeyPin(leaf)}}
		}, func(c *Client) error {
			_, _, err := c.Pseudonymize(context.Background(), "national", "F-pin")
			return err
		}},
		{"admin", "privacy-admin", func(leaf *x509.Certificate) ServerConfig {
			return ServerConfig{AdminCNs: []string{"privacy-admin"}, AdminKeys: []string{KeyPin(leaf)}}
		}, func(c *Client) error { return c.Backup(context.Background(), io.Discard) }},
	} {
		t.Run(pc.name, func(t *testing.T) {
			dir := t.TempDir()
			ca, caKey, caDER := newCA(t, "asylum-office TLS CA")
			caFile := filepath.Join(dir, "ca.crt")
			writePEM(t, caFile, "CERTIFICATE", caDER)
			srvCert := issue(t, dir, "server", ca, caKey, certSpec{cn: "privacy", server: true}, 2)
			pinned := issue(t, dir, "pinned", ca, caKey, certSpec{cn: pc.cn}, 3)
			twin := issue(t, dir, "twin", ca, caKey, certSpec{cn: pc.cn}, 4)
			kp, err := tls.LoadX509KeyPair(pinned[0], pinned[1])
			if err != nil {
				t.Fatal(err)
			}
			cfg := pc.config(kp.Leaf)
			cfg.Store = newTestStore(t)
			srv, err := NewServer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tlsCfg, err := ServerTLSConfig(srvCert[0], srvCert[1], caFile)
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewUnstartedServer(srv.Handler())
			ts.TLS = tlsCfg
			ts.StartTLS()
			t.Cleanup(ts.Close)
			for _, tc := range []struct {
				name string
				cert [2]string
				want error
			}{
				{"pinned " + pc.name, pinned, nil},
				{"same CA and CN, other key", twin, ErrForbidden},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ccfg, err := ClientTLSConfig(tc.cert[0], tc.cert[1], caFile)
					if err != nil {
						t.Fatal(err)
					}
					c, err := NewClient(ts.URL, ccfg)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					if err := pc.call(c); (tc.want == nil) != (err == nil) || tc.want != nil && !errors.Is(err, tc.want) {
						t.Fatalf("%s: %v, want %v", pc.name, err, tc.want)
					}
				})
			}
		})
	}
}
