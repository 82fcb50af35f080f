package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"google.golang.org/grpc/status"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/internal/fabricconn"
	"github.com/caseledger/caseledger/network"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// FabricOptions configure StartFabric.
type FabricOptions struct {
	// Name and BasePort place the network (default "it" on 9100, away from the demo's ports).
	Name     string
	BasePort int
	// Keep leaves the network's folder behind after Close (for a post-mortem).
	Keep bool
	// Log receives the network's progress (default: discarded).
	Log io.Writer
}

// Fabric is the real network: the demo topology as local processes in a temporary folder.
type Fabric struct {
	n    *network.Network
	keep bool

	servicesOnce sync.Once
	servicesErr  error
	servicesUp   bool

	mu     sync.Mutex
	vaults map[string]*privacy.Client
}

var _ Cluster = (*Fabric)(nil)

// StartFabric brings the network up from nothing (Fabric binaries are built once and cached outside
// the clone). The privacy services and gateways start on the first API or UpServices call.
func StartFabric(ctx context.Context, o FabricOptions) (*Fabric, error) {
	moduleDir, err := network.FindModuleDir(".")
	if err != nil {
		return nil, err
	}
	bin, err := network.EnsureFabric(ctx, moduleDir)
	if err != nil {
		return nil, err
	}
	desc, err := network.LoadBuiltin("demo")
	if err != nil {
		return nil, err
	}
	desc.Name, desc.BasePort = "it", 9100
	if o.Name != "" {
		desc.Name = o.Name
	}
	if o.BasePort != 0 {
		desc.BasePort = o.BasePort
	}
	root, err := os.MkdirTemp("", "caseledger-it-")
	if err != nil {
		return nil, err
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	n, err := network.New(desc, network.Options{
		Root: root, FabricBin: bin, ModuleDir: moduleDir, TieToParent: true,
		Logger: slog.New(slog.NewTextHandler(logw, nil)),
	})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := n.Up(ctx); err != nil {
		return nil, errors.Join(err, n.Down(!o.Keep))
	}
	fmt.Fprintf(os.Stderr, "integration network up in %s (root %s)\n", time.Since(start).Round(time.Millisecond), root)
	return &Fabric{n: n, keep: o.Keep, vaults: map[string]*privacy.Client{}}, nil
}

// BasePortFromEnv reads CASELEDGER_IT_BASEPORT (0 if unset): two test runs at once on one machine
// need different ports.
func BasePortFromEnv() (int, error) {
	v := os.Getenv("CASELEDGER_IT_BASEPORT")
	if v == "" {
		return 0, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("CASELEDGER_IT_BASEPORT: %w", err)
	}
	return p, nil
}

// Network is the network behind the cluster, for the tests only the real network can run.
func (f *Fabric) Network() *network.Network { return f.n }

func (f *Fabric) Kind() string { return "fabric" }

func (f *Fabric) Orgs() []string {
	var out []string
	for _, o := range f.n.Description().Orgs {
		out = append(out, o.Name)
	}
	return out
}

// UpServices starts every org's privacy service and gateway, once.
func (f *Fabric) UpServices() error {
	f.servicesOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		start := time.Now()
		f.servicesErr = f.n.UpServices(ctx)
		f.servicesUp = f.servicesErr == nil
		fmt.Fprintf(os.Stderr, "privacy services and gateways up in %s\n", time.Since(start).Round(time.Millisecond))
	})
	if f.servicesErr != nil {
		return fmt.Errorf("services: %w", f.servicesErr)
	}
	return nil
}

// ServicesUp reports whether UpServices started the services (a test that restarts the whole
// network starts them again, so the tests after it find them as every test before did).
func (f *Fabric) ServicesUp() bool { return f.servicesUp }

func (f *Fabric) API(org string) (api.APIInfo, error) {
	if err := f.UpServices(); err != nil {
		return api.APIInfo{}, err
	}
	return f.n.API(org)
}

// Vault is a privacy-service client with the gateway's own client identity (the only one the
// service admits).
func (f *Fabric) Vault(org string) (privacy.Vault, error) {
	if err := f.UpServices(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.vaults[org]; ok {
		return c, nil
	}
	conn, err := f.n.Connection(org)
	if err != nil {
		return nil, err
	}
	id, ok := conn.Services["privacy-client"]
	if !ok {
		return nil, fmt.Errorf("%s: no privacy-client identity in the connection", org)
	}
	tc, err := privacy.ClientTLSConfig(id.CertFile, id.KeyFile, id.CAFile)
	if err != nil {
		return nil, err
	}
	c, err := privacy.NewClient(f.n.PrivacyURL(org), tc)
	if err != nil {
		return nil, err
	}
	f.vaults[org] = c
	return c, nil
}

func (f *Fabric) StopGateway(org string) error {
	return f.n.Supervisor().Stop(network.GatewayNode(org), 20*time.Second)
}

func (f *Fabric) StartGateway(ctx context.Context, org string) error {
	return f.n.StartGateway(ctx, org)
}

func (f *Fabric) Height(ctx context.Context, org, channel string) (uint64, error) {
	return f.n.PeerHeight(ctx, org, channel)
}

// Query dials org's peer with the fabric-gateway client as org's identity for role.
func (f *Fabric) Query(ctx context.Context, org, role, channel, fn string, args ...string) ([]byte, error) {
	c, err := f.n.Connection(org)
	if err != nil {
		return nil, err
	}
	gw, conn, err := fabricconn.Dial(c, role, fabricconn.Options{})
	if err != nil {
		return nil, fmt.Errorf("dial %s as %s: %w", org, role, err)
	}
	defer conn.Close()
	defer gw.Close()
	b, err := gw.GetNetwork(channel).GetContract(c.Chaincode).EvaluateWithContext(ctx, fn, client.WithArguments(args...))
	if err != nil {
		return nil, fmt.Errorf("%s on %s as %s/%s: %s", fn, channel, org, role, ErrorText(err))
	}
	return b, nil
}

// ErrorText is the error and every detail the peers attached (the chaincode's "KIND: message"),
// for messages and for tests that look for a kind in what a peer answered.
func ErrorText(err error) string {
	parts := []string{err.Error()}
	if st, ok := status.FromError(err); ok {
		for _, d := range st.Details() {
			parts = append(parts, fmt.Sprint(d))
		}
	}
	return strings.Join(parts, "; ")
}

// Block fetches block n with the peer CLI as org's admin (an independent client, no gateway).
func (f *Fabric) Block(ctx context.Context, org, channel string, n uint64) ([]byte, error) {
	dir, err := os.MkdirTemp("", "caseledger-block-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "block")
	if _, err := f.n.PeerCLI(ctx, org, "admin", "channel", "fetch", strconv.FormatUint(n, 10), file, "-c", channel); err != nil {
		return nil, err
	}
	return os.ReadFile(file)
}

// Close stops every node and service and fails if any process it started outlives it.
func (f *Fabric) Close() error {
	f.mu.Lock()
	for _, c := range f.vaults {
		c.Close()
	}
	f.mu.Unlock()
	pids := map[string]int{}
	for _, s := range f.n.Status() {
		pids[s.Name] = s.PID
	}
	if err := f.n.Down(!f.keep); err != nil {
		return fmt.Errorf("tear down: %w", err)
	}
	var errs []error
	for name, pid := range pids {
		if alive(pid) {
			errs = append(errs, fmt.Errorf("tear down: %s (pid %d) still running", name, pid))
		}
	}
	return errors.Join(errs...)
}

// alive reports whether pid is a live (non-zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ')' {
			return i+2 < len(s) && s[i+2] != 'Z'
		}
	}
	return true
}
