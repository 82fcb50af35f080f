// Command netctl brings a caseledger Fabric network up and down as local processes.
//
//	netctl up      [--topology demo] [--root .run/demo]   start network, privacy services and gateways
//	               [--no-services]                         (generated on first use) and wait
//	netctl down    [--purge]                               stop every node by PID (purge: delete data)
//	netctl restart                                         stop and start again, keeping ledger data
//	netctl status                                          list nodes, PIDs and RSS, free space of the Fabric folders
//	netctl smoke   [--org name]                            register one case through fabric-gateway, timed
//	netctl compact --org name                              after erasures: stop the org's peer, compact its
//	                                                       LevelDB stores (purged values leave the files), restart
//	netctl bundle  --out dir                               generate identities and genesis blocks once and
//	                                                       write one bundle per organisation (dir/<org>)
//	netctl up --org name --root dir/<org>                  start one organisation's part from its bundle
//	                                                       (also down, restart, status, smoke with --org)
//
// An organisation joins a running channel (docs/operations.md; every step on its party's own host):
//
//	netctl org bundle   --org member --root B --topology grown.yaml --new joiner --out J   the joiner's starting bundle
//	                    [--snapshot]                                   with a ledger snapshot of the member's peer per channel
//	netctl org init     --org joiner --root J                          its CAs and identities, on its host
//	netctl org export   --org joiner --root J --out P                  its public material (MSP, TLS CA)
//	netctl org import   --org member --root B --topology grown.yaml --new joiner --from P
//	netctl channel propose --org member --root B --topology grown.yaml --channel C --out U
//	netctl channel sign    --org X --root B_X --update U               each governing admin on its own host
//	netctl channel submit  --org X --root B_X --channel C --update U   signs too, sends, waits for the block
//	netctl channel members --org X --root B_X --channel C              MSP ids in the channel's configuration
//	netctl org revoke   --org X --root B_X --ids caseworker1[,…]        at X's own CA; CRL into X's MSP definition
//	                                                                   (then export, import, propose, sign, submit)
//	netctl chaincode approve --org X --root B_X --topology grown.yaml --channel C   next definition sequence
//	netctl chaincode commit  --org X --root B_X --topology grown.yaml --channel C   once the governance rule is met
//	netctl membership approve --org X --root B_X --topology grown.yaml --channel C  the chaincode's membership: each
//	                                                                   governing admin, on its own host
//	netctl membership set     --org X --root B_X --topology grown.yaml --channel C  once the approvals meet the rule
//	netctl membership show    --org X --root B_X --channel C          in force, rule, pending approvals
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
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/internal/fabricconn"
	"github.com/caseledger/caseledger/network"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "netctl:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: netctl up|down|restart|status [flags]")
	}
	cmd, args := args[0], args[1:]
	if (cmd == "org" || cmd == "channel" || cmd == "chaincode" || cmd == "membership") && len(args) > 0 {
		cmd, args = cmd+" "+args[0], args[1:]
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	topology := fs.String("topology", "demo", "built-in topology name or path to a network description (YAML)")
	root := fs.String("root", "", "network folder (default .run/<name> in the module root)")
	purge := fs.Bool("purge", false, "down: also delete identities and ledger data")
	noServices := fs.Bool("no-services", false, "up/restart: only the Fabric network, without privacy services and gateways")
	profiling := fs.Bool("pprof", false, "up/restart: serve /debug/pprof/ on the privacy services' and gateways' operations ports")
	org := fs.String("org", "", "run only this organisation's part, from its bundle in --root (multi-host); smoke: submit as this org")
	out := fs.String("out", "", "bundle: folder that receives one bundle per organisation; org bundle, org export, channel propose: output")
	newOrg := fs.String("new", "", "org bundle, org import: the organisation that joins")
	from := fs.String("from", "", "org import: folder written by org export")
	channel := fs.String("channel", "", "channel propose, submit, members: the channel")
	update := fs.String("update", "", "channel sign, submit: the update envelope file")
	ids := fs.String("ids", "", "org revoke: comma-separated enrollment ids to revoke")
	snapshot := fs.Bool("snapshot", false, "org bundle: add a ledger snapshot of each of the joiner's channels from this member's peer (the joiner's peer joins from it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	moduleDir, err := network.FindModuleDir(".")
	if err != nil {
		return err
	}
	topologySet := false
	fs.Visit(func(f *flag.Flag) { topologySet = topologySet || f.Name == "topology" })
	if *org != "" && !topologySet && *root != "" {
		// A bundle carries the description it was generated from.
		*topology = filepath.Join(*root, "network.yaml")
	}
	desc, err := network.LoadTopology(*topology)
	if err != nil {
		return err
	}
	if *root == "" {
		*root = filepath.Join(moduleDir, ".run", desc.Name)
	}
	opts := network.Options{Root: *root, ModuleDir: moduleDir, Profiling: *profiling, Logger: log}
	if *org != "" && cmd != "smoke" {
		opts.Orgs = []string{*org}
	}
	if cmd == "bundle" {
		if *out == "" {
			return errors.New("bundle: --out is required")
		}
		// The provisioning root holds every organisation's keys: it lives only until the bundles
		// are written.
		opts.Root = filepath.Join(*out, ".provision")
	}
	if cmd == "up" || cmd == "restart" || cmd == "compact" || cmd == "bundle" || strings.HasPrefix(cmd, "channel ") || strings.HasPrefix(cmd, "chaincode ") || cmd == "org init" || cmd == "org revoke" || (cmd == "org bundle" && *snapshot) {
		if opts.FabricBin, err = network.EnsureFabric(ctx, moduleDir); err != nil {
			return err
		}
	}
	n, err := network.New(desc, opts)
	if err != nil {
		return err
	}
	switch cmd {
	case "up":
		start := time.Now()
		if err := up(ctx, n, *noServices); err != nil {
			return fmt.Errorf("%w\n(every other node was left as it was; `netctl status` lists them, `netctl down` stops them)", err)
		}
		fmt.Printf("network %s up in %s; logs in %s; stop with: netctl down\n", desc.Name, time.Since(start).Round(time.Millisecond), filepath.Join(n.Root(), "logs"))
		return nil
	case "down":
		return n.Down(*purge)
	case "restart":
		if err := n.Down(false); err != nil {
			return err
		}
		return up(ctx, n, *noServices)
	case "status":
		return printStatus(n)
	case "smoke":
		return smoke(ctx, n, *org)
	case "compact":
		return compact(ctx, n, *org)
	case "bundle":
		return bundle(ctx, n, *out)
	case "chaincode approve", "chaincode commit":
		if err := checkGrowth(n); err != nil {
			return err
		}
		start := time.Now()
		var seq int
		if cmd == "chaincode approve" {
			seq, err = n.ApproveDefinition(ctx, *org, *channel)
		} else {
			seq, err = n.CommitDefinition(ctx, *org, *channel, 5*time.Minute)
		}
		if err != nil {
			return err
		}
		fmt.Printf("%s: sequence %d on %s as %s in %s\n", cmd, seq, *channel, *org, time.Since(start).Round(time.Millisecond))
		return nil
	case "org bundle", "org import", "channel propose":
		if err := checkGrowth(n); err != nil {
			return err
		}
		switch cmd {
		case "org bundle":
			if err := n.WriteJoinBundle(*newOrg, *out); err != nil || !*snapshot {
				return err
			}
			for _, ch := range n.Description().ChannelsOf(*newOrg) {
				start := time.Now()
				h, err := n.SnapshotInto(ctx, *org, ch.Name, filepath.Join(*out, "snapshots"))
				if err != nil {
					return err
				}
				// Refused here already, not only on the joiner's host: the bundle must not carry a
				// snapshot its peer would crash on.
				if err := n.CheckSnapshotJoin(*newOrg, ch.Name, filepath.Join(*out, "snapshots", ch.Name)); err != nil {
					return fmt.Errorf("org bundle --snapshot: %w", err)
				}
				fmt.Printf("snapshot of %s at block %s in %s\n", ch.Name, h, time.Since(start).Round(time.Millisecond))
			}
			return nil
		case "org import":
			return n.ImportPublic(*newOrg, *from)
		}
		return n.ProposeChannelUpdate(ctx, *org, *channel, *out)
	case "membership show", "membership approve", "membership set":
		return membership(ctx, n, cmd, *org, *channel)
	case "org init":
		start := time.Now()
		if err := n.InitOrg(ctx); err != nil {
			return err
		}
		fmt.Printf("identities of %s created in %s; CAs running; send `netctl org export` output to a member\n", *org, time.Since(start).Round(time.Millisecond))
		return nil
	case "org revoke":
		return n.RevokeIdentities(ctx, *org, strings.Split(*ids, ","))
	case "org export":
		return n.ExportPublic(*org, *out)
	case "channel sign":
		return n.SignChannelUpdate(ctx, *org, *update)
	case "channel submit":
		return n.SubmitChannelUpdate(ctx, *org, *channel, *update)
	case "channel members":
		ms, err := n.ChannelMembersOnLedger(ctx, *org, *channel)
		if err != nil {
			return err
		}
		fmt.Println(strings.Join(ms, "\n"))
		return nil
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// up starts the Fabric network and, unless told otherwise, every agency's privacy service and gateway.
func up(ctx context.Context, n *network.Network, noServices bool) error {
	if err := n.Up(ctx); err != nil {
		return err
	}
	if noServices {
		return nil
	}
	return n.UpServices(ctx)
}

// smoke submits one RegisterCase through the fabric-gateway client as the first org's caseworker
// on its first channel and waits for the commit: the first committed transaction of a fresh network.
func smoke(ctx context.Context, n *network.Network, org string) error {
	if org == "" {
		org = n.Description().Orgs[0].Name
	}
	c, err := n.Connection(org)
	if err != nil {
		return err
	}
	gw, conn, err := fabricconn.Dial(c, "caseworker", fabricconn.Options{})
	if err != nil {
		return err
	}
	defer conn.Close()
	defer gw.Close()
	start := time.Now()
	contract := gw.GetNetwork(c.Channels[0].Name).GetContract(c.Chaincode)
	_, err = contract.SubmitWithContext(ctx, api.FnRegisterCase,
		client.WithArguments(uuid.NewString(), uuid.NewString(), time.Now().UTC().Format(time.DateOnly)))
	if err != nil {
		return fmt.Errorf("smoke transaction: %w", err)
	}
	fmt.Printf("committed a RegisterCase on %s as %s caseworker in %s\n", c.Channels[0].Name, org, time.Since(start).Round(time.Millisecond))
	return nil
}

// checkGrowth: a grown description keeps every running organisation in its place (its bundle's
// network.yaml is the running description).
func checkGrowth(n *network.Network) error {
	running, err := network.Load(filepath.Join(n.Root(), "network.yaml"))
	if err != nil {
		return err
	}
	return network.CheckGrowth(running, n.Description())
}

// bundle generates the network once and writes one bundle per organisation, then deletes the
// provisioning root, so the bundles are the only copies of each organisation's keys.
func bundle(ctx context.Context, n *network.Network, out string) error {
	start := time.Now()
	err := n.Generate(ctx)
	if err == nil {
		err = n.WriteBundles(out)
	}
	if rerr := os.RemoveAll(n.Root()); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	for _, org := range n.Description().BundleOrgs() {
		fmt.Printf("%s\t%s\n", org, filepath.Join(out, org))
	}
	fmt.Fprintf(os.Stderr, "bundles written in %s; ship each to its organisation's host over a channel only it can read\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func printStatus(n *network.Network) error {
	st := n.Status()
	if len(st) == 0 {
		fmt.Println("no nodes (network not started)")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tPID\tSTATE\tRSS")
	down := 0
	for _, s := range st {
		state := "running"
		if !s.Running {
			state, down = "STOPPED", down+1
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f MiB\n", s.Name, s.PID, state, float64(s.RSSKiB)/1024)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Free space of the Fabric nodes' folders, read here (same host) as their disk watchers do.
	fmt.Println()
	fmt.Fprintln(tw, "FOLDER\tAVAILABLE\tSIZE\t")
	low := 0
	for _, u := range n.DiskUsage() {
		if u.Err != nil {
			fmt.Fprintf(tw, "%s\t?\t?\t%v\n", u.Name, u.Err)
			continue
		}
		mark := ""
		if u.Avail < network.DiskWatchMinFree {
			mark, low = "LOW (docs/operations.md)", low+1
		}
		fmt.Fprintf(tw, "%s\t%.1f GiB\t%.1f GiB\t%s\n", u.Name, float64(u.Avail)/(1<<30), float64(u.Total)/(1<<30), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if down > 0 {
		return fmt.Errorf("%d node(s) not running", down)
	}
	if low > 0 {
		return fmt.Errorf("%d folder(s) below %d bytes free", low, network.DiskWatchMinFree)
	}
	return nil
}
