// Command demo is `make demo`: it builds what is missing, brings the demo
// network with its chaincode servers, privacy services and gateways up (or
// keeps the running one), plays the scenario of package scenario through the
// gateways' HTTPS API, and leaves everything running for exploration.
//
//	demo [--root DIR] [--topology demo] [--no-up] [--wait-timeout 2m]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/caseledger/caseledger/cmd/demo/scenario"
	"github.com/caseledger/caseledger/network"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	root := fs.String("root", os.Getenv("CASELEDGER_ROOT"), "network folder (default .run/<topology> in the module; env CASELEDGER_ROOT)")
	topology := fs.String("topology", "demo", "built-in topology name or path to a network description")
	noUp := fs.Bool("no-up", false, "play the scenario on the running system without bringing anything up")
	waitTimeout := fs.Duration("wait-timeout", 2*time.Minute, "bound of each wait for a gateway's automation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	moduleDir, err := network.FindModuleDir(".")
	if err != nil {
		return err
	}
	desc, err := network.LoadTopology(*topology)
	if err != nil {
		return err
	}
	if *root == "" {
		*root = filepath.Join(moduleDir, ".run", desc.Name)
	}
	var n *network.Network
	var t scenario.Timings
	if *noUp {
		if n, err = network.New(desc, network.Options{Root: *root, ModuleDir: moduleDir}); err != nil {
			return err
		}
	} else {
		var logPath string
		n, t, logPath, err = scenario.Up(ctx, scenario.UpOptions{ModuleDir: moduleDir, Description: desc, Root: *root, Out: os.Stdout})
		if err != nil {
			return fmt.Errorf("%w\n(network log: %s; node logs: %s)", err, logPath, filepath.Join(*root, "logs"))
		}
	}
	agencies, err := scenario.AgenciesFrom(n.API)
	if err != nil {
		return err
	}
	rep, err := scenario.Run(ctx, scenario.Env{Agencies: agencies, Out: os.Stdout, WaitTimeout: *waitTimeout, LogsDir: filepath.Join(n.Root(), "logs")})
	if err != nil {
		return fmt.Errorf("%w\n(logs: %s)", err, filepath.Join(n.Root(), "logs"))
	}
	total := time.Since(start)
	fmt.Printf("\n   done in %s (Fabric binaries %s, network %s, services %s, scenario %s)\n",
		total.Round(100*time.Millisecond), t.Fabric.Round(100*time.Millisecond), t.Network.Round(100*time.Millisecond),
		t.Services.Round(100*time.Millisecond), rep.Elapsed.Round(100*time.Millisecond))
	rootFlag := ""
	if def, _ := filepath.Abs(filepath.Join(moduleDir, ".run", "demo")); n.Root() != def {
		rootFlag = n.Root()
	}
	scenario.PrintNext(os.Stdout, rep, n.Root(), rootFlag)
	return printConsole(os.Stdout, n)
}
