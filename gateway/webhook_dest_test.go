package gateway

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

func TestWebhookDestinations(t *testing.T) {
	local := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for _, tc := range []struct {
		ip    string
		allow []netip.Prefix
		want  bool
	}{
		{"10.20.30.40", nil, true}, // agency receivers live on private networks
		{"192.168.1.5", nil, true},
		{"203.0.113.7", nil, true},
		{"2001:db8::1", nil, true},
		{"127.0.0.1", nil, false},
		{"127.8.9.10", nil, false},
		{"::1", nil, false},
		{"::ffff:127.0.0.1", nil, false}, // IPv4-mapped loopback
		{"169.254.169.254", nil, false},  // cloud metadata
		{"fe80::1", nil, false},
		{"0.0.0.0", nil, false},
		{"::", nil, false},
		{"224.0.0.1", nil, false},
		{"ff02::1", nil, false},
		{"127.0.0.1", local, true},
		{"::ffff:127.0.0.1", local, true},
		{"::1", local, false}, // only what is listed
		{"169.254.169.254", local, false},
	} {
		if got := destinationAllowed(netip.MustParseAddr(tc.ip), tc.allow); got != tc.want {
			t.Errorf("destinationAllowed(%s, %v) = %v, want %v", tc.ip, tc.allow, got, tc.want)
		}
	}
}

func TestParseAllowNets(t *testing.T) {
	got, err := ParseAllowNets(" 127.0.0.0/8, ::1 ,10.1.2.3/16,")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"127.0.0.0/8", "::1/128", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "1.2.3"} {
		if _, err := ParseAllowNets(bad); err == nil {
			t.Errorf("ParseAllowNets(%q) accepted", bad)
		}
	}
}

func FuzzParseAllowNets(f *testing.F) {
	for _, s := range []string{"127.0.0.0/8,::1", "", ",,", "fe80::1%eth0", "10.0.0.0/8, 192.168.0.0/16", "::ffff:1.2.3.4/104"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseAllowNets(s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("%q gave %v", s, p)
			}
		}
	})
}

// A name that resolves to a refused address is caught when dialled.
func TestGuardedDialerChecksTheResolvedAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx := context.Background()
	if c, err := guardedDialer(0, nil).DialContext(ctx, "tcp", net.JoinHostPort("localhost", port)); !errors.Is(err, errWebhookDestination) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("dial localhost: %v, want %v", err, errWebhookDestination)
	}
	c, err := guardedDialer(0, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}).DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial an allowed loopback address: %v", err)
	}
	c.Close()
}

func TestWebhookClientDoesNotFollowRedirects(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	}))
	defer hs.Close()
	resp, err := webhookClient(0, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}).Post(hs.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want the 302 itself (a failed delivery)", resp.StatusCode)
	}
}

func TestWebhookSubscriptionRefusesInternalDestinations(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, func(c *Config) { c.Webhooks.AllowNets = nil })
	for _, u := range []string{
		"http://127.0.0.1:8080/hook", "http://localhost:9/x", "http://[::1]/x", "http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0:80/", "https://[fe80::1]/x", "https://api.localhost/x",
	} {
		r := a.call(domain.RoleCaseworker, "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: u}, "")
		if p := r.problem(t); r.status != 400 || p.Code != string(domain.KindInvalidArgument) {
			t.Errorf("%s: %d %+v, want 400 INVALID_ARGUMENT", u, r.status, p)
		}
	}
	var wh api.CreatedWebhook
	a.must(201, a.call(domain.RoleCaseworker, "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: "https://10.1.2.3/hook"}, ""), &wh)
	a.must(201, a.call(domain.RoleCaseworker, "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: "https://receiver.agency.internal/hook"}, ""), &wh)
}
