package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Webhook destinations. Anyone with a token that may subscribe chooses the
// URL the gateway will POST to, from inside the agency's network: without a
// check that is a server-side request forgery path to the gateway's own host
// (its operations port, the privacy service, the peer) and to link-local
// services such as cloud metadata endpoints. Receivers of an agency normally
// sit on private addresses, so those are admitted; loopback, link-local,
// unspecified and multicast destinations are refused unless the operator
// lists them (--webhook-allow-net, e.g. 127.0.0.0/8 for a receiver on the
// same host). The check runs on the address actually dialled, after name
// resolution, so a name that resolves (or re-resolves) to a refused address
// is caught too; redirects are not followed.

// errWebhookDestination marks a delivery refused because of where it would go.
var errWebhookDestination = errors.New("webhook destination refused")

// destinationAllowed reports whether the gateway may connect to ip.
func destinationAllowed(ip netip.Addr, allow []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return true
		}
	}
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() &&
		!ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() && !ip.IsUnspecified()
}

// ParseAllowNets reads a comma-separated list of CIDR prefixes or addresses.
func ParseAllowNets(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("webhook allow-net %q: %w", f, err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("webhook allow-net %q: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// guardedDialer connects only to admitted destinations.
func guardedDialer(timeout time.Duration, allow []netip.Prefix) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", errWebhookDestination, address)
		}
		if !destinationAllowed(ap.Addr(), allow) {
			return fmt.Errorf("%w: %s is loopback, link-local or not unicast", errWebhookDestination, ap.Addr())
		}
		return nil
	}}
}

// webhookClient is the default delivery client: guarded dialing, no proxy
// from the environment (the check would then see only the proxy), no
// redirects (a 3xx is a failed delivery).
func webhookClient(timeout time.Duration, allow []netip.Prefix) *http.Client {
	tr := &http.Transport{
		DialContext:           guardedDialer(timeout, allow).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Timeout: timeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// literalDestinationAllowed checks a URL host at subscription time when it
// is an address literal or localhost, so the caller gets a clear refusal
// instead of dead letters later.
func literalDestinationAllowed(host string, allow []netip.Prefix) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return destinationAllowed(netip.MustParseAddr("127.0.0.1"), allow)
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return true // a name: checked when dialled
	}
	return destinationAllowed(a, allow)
}
