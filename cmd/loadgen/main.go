// Command loadgen drives a running caseledger network (loopback only) with N concurrent clients
// and a realistic mix of case writes, timeline reads and Dublin steps — through the agencies'
// HTTP gateways and, in the same run, through a bare fabric-gateway client — and reports committed
// writes/s, latency percentiles, errors by code, the CPU and RSS of every node, the gateway ÷ bare
// throughput ratio, and whether every acknowledged write is on the ledger exactly once.
//
//	go run ./cmd/loadgen --root .run/demo --drivers bare,gateway --workers 16,64     # a running network
//	go run ./cmd/loadgen --fresh --batch-timeout 250ms --drivers bare,gateway        # its own, from nothing
//
// Every phase is bounded by --ops and --duration; the tool stops by itself (or on Ctrl-C, after
// the operations in flight).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caseledger/caseledger/load"
	"github.com/caseledger/caseledger/network"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	root := fs.String("root", "", "network folder (default .run/demo in the module root; with --fresh a new temporary folder)")
	drivers := fs.String("drivers", "bare", "drivers to run at each level, in order: bare, gateway, bare-public (details as public arguments, chaincode servers restarted to accept them: the state before the visibility policy)")
	workers := fs.String("workers", "16,64", "concurrency levels (comma-separated)")
	ops := fs.Int("ops", 3000, "operations per phase (0: bounded by --duration only)")
	duration := fs.Duration("duration", 60*time.Second, "wall time per phase (0: bounded by --ops only)")
	rounds := fs.Int("rounds", 1, "repeat every level and driver this many times, in reverse driver order every other round (use an even number for a fair ratio)")
	rate := fs.Float64("rate", 0, "pace each phase at this many operations/s in total (0: closed loop, as fast as the workers go)")
	opTimeout := fs.Duration("op-timeout", time.Minute, "bound of one operation, retries included")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the case scripts")
	dublin := fs.Float64("dublin", load.DefaultMix().DublinShare, "share of Dublin cases")
	late := fs.Float64("late-dublin", load.DefaultMix().LateDublinShare, "share of Dublin cases resolved by ResolveDeadlines")
	reads := fs.Float64("reads", load.DefaultMix().ReadShare, "timeline reads per write")
	verify := fs.Bool("verify", true, "check every acknowledged write against the ledger after each phase")
	pause := fs.Duration("pause", 3*time.Second, "quiet time between phases")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	fresh := fs.Bool("fresh", false, "bring up a network of its own (nodes, privacy services, gateways) in a temporary folder, and stop it at the end")
	topology := fs.String("topology", "demo", "--fresh: built-in topology or description file")
	basePort := fs.Int("base-port", 0, "--fresh: first port of the network (0: the first free block from 20100 on; the demo uses 7100, the integration tests 9100)")
	batchTimeout := fs.Duration("batch-timeout", 0, "--fresh: orderer BatchTimeout (0: the topology's)")
	maxMessages := fs.Int("max-message-count", 0, "--fresh: orderer MaxMessageCount (0: the topology's)")
	profiling := fs.Bool("pprof", false, "--fresh: serve /debug/pprof/ on the gateways' and privacy services' operations ports (base+20·org+11, +10)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	levels, err := parseInts(*workers)
	if err != nil {
		return fmt.Errorf("--workers: %w", err)
	}
	if *ops <= 0 && *duration <= 0 {
		return errors.New("--ops and --duration cannot both be unbounded")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var freshNet *network.Network
	if *fresh {
		f, err := load.StartFresh(ctx, load.FreshOptions{Topology: *topology, BasePort: *basePort, BatchTimeout: *batchTimeout,
			MaxMessageCount: *maxMessages, Root: *root, Profiling: *profiling, Logger: log})
		if err != nil {
			return err
		}
		defer func() {
			if err := f.Stop(); err != nil {
				log.Error("stop network", "err", err)
			}
		}()
		d := f.Net.Description()
		fmt.Printf("network %s up from nothing in %s (nodes %s, privacy services and gateways %s); BatchTimeout %s, MaxMessageCount %d\n",
			d.Name, (f.NodesUp + f.ServicesUp).Round(time.Millisecond), f.NodesUp.Round(time.Millisecond), f.ServicesUp.Round(time.Millisecond),
			d.BatchTimeout, d.MaxMessageCount)
		*root = f.Net.Root()
		freshNet = f.Net
	}
	moduleDir, err := network.FindModuleDir(".")
	if err != nil {
		return err
	}
	if *root == "" {
		*root = filepath.Join(moduleDir, ".run", "demo")
	}
	plan := load.Plan{
		Root: *root, Drivers: strings.Split(*drivers, ","), Workers: levels, Rounds: *rounds,
		Run: load.Config{MaxOps: *ops, Duration: *duration, OpTimeout: *opTimeout, Seed: *seed, Rate: *rate,
			Progress: func(p load.Progress) {
				log.Info("progress", "elapsed", p.Elapsed.Round(time.Second), "writes", p.Writes, "reads", p.Reads, "errors", p.Errors, "writes/s", fmt.Sprintf("%.1f", p.WritesPerSecond))
			}},
		Mix:         load.Mix{DublinShare: *dublin, LateDublinShare: *late, ReadShare: *reads},
		Verify:      *verify,
		SampleEvery: time.Second, Pause: *pause,
		NewDriver: load.NewDriver, Log: log, Out: os.Stdout,
	}
	if slices.Contains(plan.Drivers, load.DriverBarePublic) {
		// The "before" driver needs the chaincode servers to accept details as arguments; every
		// other phase runs with the generated configuration (docs/performance.md, issue 15).
		n := freshNet
		if n == nil {
			desc, err := network.Load(filepath.Join(*root, "network.yaml"))
			if err != nil {
				return err
			}
			if n, err = network.New(desc, network.Options{Root: *root, ModuleDir: moduleDir, Logger: log}); err != nil {
				return err
			}
		}
		sw := load.NewNetworkDetailsSwitch(n, log)
		plan.BeforePhase = sw.BeforePhase
		defer func() {
			if err := sw.Restore(context.WithoutCancel(ctx)); err != nil {
				log.Error("restore the generated chaincode configuration", "err", err)
			}
		}()
	}
	out, err := plan.Execute(ctx)
	if *jsonOut != "" && len(out.Results) > 0 {
		f, ferr := os.Create(*jsonOut)
		if ferr != nil {
			return errors.Join(err, ferr)
		}
		ferr = load.WriteJSON(f, out.Results, out.Ratios)
		err = errors.Join(err, ferr, f.Close())
	}
	if err != nil {
		return err
	}
	for _, v := range out.Verifications {
		if !v.OK() {
			return errors.New("ledger check failed: acknowledged writes missing or duplicated")
		}
	}
	return nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
