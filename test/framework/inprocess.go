package framework

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/gateway"
	"github.com/caseledger/caseledger/internal/inproc"
	"github.com/caseledger/caseledger/network"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// InProcessOptions configure StartInProcess.
type InProcessOptions struct {
	// DeadlinePoll is how often the gateways' deadline watchers look (default 200 ms; the real
	// gateways look every minute, but react to every event at once as well).
	DeadlinePoll time.Duration
	// Keep leaves the data folder behind after Close.
	Keep bool
	// Log receives the gateways' logs (default: discarded).
	Log io.Writer
}

// InProcess is the demo topology in this process: for each agency a gateway (gateway.Server over
// an httptest TLS listener), its privacy store (privacy.Store over Badger in a temporary folder)
// and its view of one in-process ledger (internal/inproc: the real chaincode, signed transactions,
// real Fabric blocks). No Fabric processes: no peer or orderer to kill or freeze, no files of
// theirs to read; what a body asks of it goes through the same HTTPS API as on the real network.
type InProcess struct {
	desc   network.Description
	dir    string
	keep   bool
	caFile string
	o      InProcessOptions
	log    *slog.Logger
	ledger *inproc.Network

	mu   sync.Mutex
	orgs map[string]*inprocOrg
}

var _ Cluster = (*InProcess)(nil)

// inprocOrg is one agency's gateway and privacy store.
type inprocOrg struct {
	org    network.Org
	dir    string
	vault  *privacy.Store
	ledger gateway.Ledger
	tokens gateway.TokenFile
	info   api.APIInfo
	addr   string // the listener's address, kept across restarts so the URL stays

	srv   *gateway.Server
	store *gateway.Store
	hs    *httptest.Server
}

// StartInProcess starts every agency of the demo topology in this process.
func StartInProcess(ctx context.Context, o InProcessOptions) (c *InProcess, err error) {
	if o.DeadlinePoll <= 0 {
		o.DeadlinePoll = 200 * time.Millisecond
	}
	desc, err := network.LoadBuiltin("demo")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "caseledger-inproc-")
	if err != nil {
		return nil, err
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	c = &InProcess{desc: desc, dir: dir, keep: o.Keep, o: o, orgs: map[string]*inprocOrg{},
		log: slog.New(slog.NewTextHandler(logw, nil))}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Close())
		}
	}()
	if c.ledger, err = inproc.New(inproc.Options{Topology: desc}); err != nil {
		return nil, err
	}
	for _, org := range desc.Orgs {
		if err := c.startOrg(ctx, org); err != nil {
			return nil, fmt.Errorf("%s: %w", org.Name, err)
		}
	}
	return c, nil
}

func (c *InProcess) startOrg(ctx context.Context, org network.Org) error {
	a := &inprocOrg{org: org, dir: filepath.Join(c.dir, org.Name)}
	var domains []string
	for _, ch := range c.desc.ChannelsOf(org.Name) {
		domains = append(domains, ch.Name)
	}
	kek, err := privacy.NewKeyring()
	if err != nil {
		return err
	}
	if a.vault, err = privacy.Open(ctx, privacy.Options{Dir: filepath.Join(a.dir, "privacy"), Domains: domains, KEK: kek}); err != nil {
		return err
	}
	c.orgs[org.Name] = a // Close closes what was opened, also on a failure below
	a.ledger = c.ledger.Ledger(org.MSPID)
	// One token per role the org holds an identity for, as the real network generates them.
	a.info = api.APIInfo{Org: org.Name, MSPID: org.MSPID, Tokens: map[string]string{}}
	for _, u := range org.Enrolled() {
		if _, dup := a.info.Tokens[u.Role]; dup {
			continue
		}
		tok, _, err := a.tokens.Add(org.MSPID, domain.Role(u.Role), "test-"+u.Role, time.Now())
		if err != nil {
			return err
		}
		a.info.Tokens[u.Role] = tok
	}
	if err := c.startGateway(a); err != nil {
		return err
	}
	return nil
}

// startGateway opens the org's gateway store and serves a new gateway.Server on the org's address
// (a fresh one the first time).
func (c *InProcess) startGateway(a *inprocOrg) error {
	addr := a.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	st, err := gateway.OpenStore(filepath.Join(a.dir, "gateway"), nil)
	if err != nil {
		ln.Close()
		return err
	}
	srv, err := gateway.New(gateway.Config{
		Org: a.org.Name, MSPID: a.org.MSPID, MemberState: a.org.MemberState,
		Ledger: a.ledger, Vault: a.vault, Store: st, Auth: gateway.NewStaticAuthenticator(a.tokens, a.org.MSPID),
		Logger: c.log.With("org", a.org.Name),
		// As the network's gateways are started (network.startGateway): webhooks to local
		// receivers allowed, the watchers' grace period of gatewayd.
		Webhooks:    gateway.WebhookOptions{AllowHTTP: true, AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}},
		Automations: gateway.AutomationOptions{DeadlinePoll: c.o.DeadlinePoll, DeadlineGraceDays: 3},
	})
	if err != nil {
		ln.Close()
		return errors.Join(err, st.Close())
	}
	srv.Start(context.Background())
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.EnableHTTP2 = true
	hs.StartTLS()
	if c.caFile == "" {
		// Every httptest server presents the same certificate: one CA file for all gateways.
		f := filepath.Join(c.dir, "gateway-ca.pem")
		b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw})
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return err
		}
		c.caFile = f
	}
	a.srv, a.store, a.hs, a.addr = srv, st, hs, ln.Addr().String()
	a.info.URL, a.info.CAFile = hs.URL, c.caFile
	return nil
}

// listen retries briefly: a restarted gateway takes its old port, which the closed listener may
// not have released yet.
func listen(addr string) (net.Listener, error) {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

// stopGateway shuts the org's gateway down as gatewayd does on SIGTERM and closes its store.
func (a *inprocOrg) stopGateway() error {
	if a.srv == nil {
		return nil
	}
	a.srv.BeginShutdown()
	a.hs.CloseClientConnections()
	a.hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := errors.Join(a.srv.Shutdown(ctx), a.store.Close())
	a.srv, a.store, a.hs = nil, nil, nil
	return err
}

func (c *InProcess) Kind() string { return "in-process" }

func (c *InProcess) Orgs() []string {
	var out []string
	for _, o := range c.desc.Orgs {
		out = append(out, o.Name)
	}
	return out
}

func (c *InProcess) org(name string) (*inprocOrg, error) {
	a, ok := c.orgs[name]
	if !ok {
		return nil, fmt.Errorf("unknown org %q", name)
	}
	return a, nil
}

func (c *InProcess) API(org string) (api.APIInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.org(org)
	if err != nil {
		return api.APIInfo{}, err
	}
	info := a.info
	info.Tokens = map[string]string{}
	for k, v := range a.info.Tokens {
		info.Tokens[k] = v
	}
	return info, nil
}

func (c *InProcess) Vault(org string) (privacy.Vault, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.org(org)
	if err != nil {
		return nil, err
	}
	return a.vault, nil
}

func (c *InProcess) StopGateway(org string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.org(org)
	if err != nil {
		return err
	}
	return a.stopGateway()
}

func (c *InProcess) StartGateway(_ context.Context, org string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.org(org)
	if err != nil {
		return err
	}
	if a.srv != nil {
		return nil // running, as network.StartGateway finds it
	}
	return c.startGateway(a)
}

func (c *InProcess) Height(ctx context.Context, org, channel string) (uint64, error) {
	c.mu.Lock()
	a, err := c.org(org)
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	h, _, err := a.ledger.ChainInfo(ctx, channel)
	return h, err
}

// Query evaluates on org's view of the in-process ledger.
func (c *InProcess) Query(ctx context.Context, org, role, channel, fn string, args ...string) ([]byte, error) {
	c.mu.Lock()
	a, err := c.org(org)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return a.ledger.Evaluate(ctx, domain.Role(role), channel, fn, args...)
}

// Block is block n of channel as org's ledger has it, marshalled as a peer delivers it.
func (c *InProcess) Block(ctx context.Context, org, channel string, n uint64) ([]byte, error) {
	c.mu.Lock()
	a, err := c.org(org)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, err := a.ledger.Blocks(ctx, channel, n)
	if err != nil {
		return nil, err
	}
	select {
	case b, ok := <-blocks:
		if !ok {
			return nil, fmt.Errorf("%s block %d: the stream ended", channel, n)
		}
		return proto.Marshal(b)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops every gateway and closes every store.
func (c *InProcess) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, a := range c.orgs {
		errs = append(errs, a.stopGateway())
		if a.vault != nil {
			errs = append(errs, a.vault.Close())
		}
	}
	if !c.keep {
		errs = append(errs, os.RemoveAll(c.dir))
	}
	return errors.Join(errs...)
}
