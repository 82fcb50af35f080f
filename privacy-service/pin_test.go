package privacy

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// A certificate the agency's TLS CA issued with the gateway's very name is still not the gateway:
// with the gateway's public key pinned, only the pinned certificate gets an answer.
func TestPinnedGatewayKey(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caDER := newCA(t, "asylum-office TLS CA")
	caFile := filepath.Join(dir, "ca.crt")
	writePEM(t, caFile, "CERTIFICATE", caDER)
	srvCert := issue(t, dir, "server", ca, caKey, certSpec{cn: "privacy", server: true}, 2)
	gateway := issue(t, dir, "gateway", ca, caKey, certSpec{cn: "gateway-client"}, 3)
	// Same CA, same CN as the gateway, another key: what anyone able to enroll at the agency's TLS
	// CA could mint.
	twin := issue(t, dir, "twin", ca, caKey, certSpec{cn: "gateway-client"}, 4)
	gw, err := tls.LoadX509KeyPair(gateway[0], gateway[1])
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerConfig{Store: newTestStore(t),
		AllowedCNs: []string{"gateway-client"}, AllowedKeys: []string{KeyPin(gw.Leaf)}})
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
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cert [2]string
		want error
	}{
		{"pinned gateway", gateway, nil},
		{"same CA and CN, other key", twin, ErrForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ClientTLSConfig(tc.cert[0], tc.cert[1], caFile)
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewClient(ts.URL, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _, err = c.Pseudonymize(ctx, "national", "F-pin")
			if (tc.want == nil) != (err == nil) || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Pseudonymize: %v, want %v", err, tc.want)
			}
		})
	}
}
