package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/caseledger/caseledger/network"
)

// FreshOptions describe a network the load tool brings up for itself: the built-in topology or a
// description file, with the block-cutting settings and ports overridden.
type FreshOptions struct {
	Topology string // built-in name or path to a description (YAML)
	// BasePort moves the network's ports; 0 picks the first block from 20100 on (in steps of
	// 1000) whose ports are all free, away from the demo (7100) and the integration tests (9100).
	BasePort int
	// BatchTimeout and MaxMessageCount override the orderer's block cutting (0: the description's).
	BatchTimeout    time.Duration
	MaxMessageCount int
	// Root is the network's folder (""): a new temporary folder, deleted at the end).
	Root string
	// Profiling serves /debug/pprof/ on the privacy services' and gateways' operations ports.
	Profiling bool
	Logger    *slog.Logger
}

// Fresh is a network the load tool started and will stop.
type Fresh struct {
	Net *network.Network
	// NodesUp and ServicesUp are how long bringing up the network (CAs, identities, orderers,
	// peers, channels, chaincode) and then the privacy services and gateways took.
	NodesUp, ServicesUp time.Duration
	tempRoot            bool
}

// StartFresh brings up a whole network — nodes, privacy services, gateways — from nothing. Its
// processes die with this one (a killed load tool leaves nothing running); call Stop at the end.
func StartFresh(ctx context.Context, o FreshOptions) (*Fresh, error) {
	moduleDir, err := network.FindModuleDir(".")
	if err != nil {
		return nil, err
	}
	var desc network.Description
	if desc, err = network.LoadTopology(o.Topology); err != nil {
		return nil, err
	}
	if o.BasePort == 0 {
		if o.BasePort, err = freeBlock(20100, 20*(len(desc.Orgs)+1)); err != nil {
			return nil, err
		}
	}
	desc.BasePort = o.BasePort
	if o.BatchTimeout != 0 {
		desc.BatchTimeout = o.BatchTimeout
	}
	if o.MaxMessageCount != 0 {
		desc.MaxMessageCount = o.MaxMessageCount
	}
	if err := desc.Validate(); err != nil {
		return nil, err
	}
	bin, err := network.EnsureFabric(ctx, moduleDir)
	if err != nil {
		return nil, err
	}
	f := &Fresh{}
	root := o.Root
	if root == "" {
		if root, err = os.MkdirTemp("", "caseledger-load-"); err != nil {
			return nil, err
		}
		f.tempRoot = true
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	n, err := network.New(desc, network.Options{Root: root, FabricBin: bin, ModuleDir: moduleDir, TieToParent: true, Profiling: o.Profiling, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	f.Net = n
	start := time.Now()
	if err := n.Up(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("network up: %w", err), f.Stop())
	}
	f.NodesUp = time.Since(start)
	start = time.Now()
	if err := n.UpServices(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("services up: %w", err), f.Stop())
	}
	f.ServicesUp = time.Since(start)
	return f, nil
}

// freeBlock finds a base port from which size ports are free on the loopback interface.
func freeBlock(from, size int) (int, error) {
	for base := from; base+size < 65000; base += 1000 {
		free := true
		for p := base; p < base+size && free; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no block of %d free ports from %d on", size, from)
}

// Stop stops every process of the network and deletes a temporary root.
func (f *Fresh) Stop() error {
	return f.Net.Down(f.tempRoot)
}
