// Command diskwatch serves the free space of a Fabric node's data folders
// (peer ledger and snapshots; orderer file ledger, Raft WAL and snapshots)
// and a readiness that goes false below a threshold, before the node fails
// on a full disk. It runs on the node's host, next to it; netctl starts one
// per organisation. docs/operations.md says what to do when it fires.
//
//	diskwatch --listen 127.0.0.1:9446 --min-free 1GiB \
//	    --folder peer0-ledger=/var/hyperledger/production \
//	    --folder peer0-snapshots=/var/hyperledger/production/snapshots
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/caseledger/caseledger/internal/diskspace"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "diskwatch: %v\n", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type folders []diskspace.Folder

func (f *folders) String() string { return fmt.Sprint(*f) }
func (f *folders) Set(s string) error {
	d, err := diskspace.ParseFolder(s)
	if err == nil {
		*f = append(*f, d)
	}
	return err
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("diskwatch", flag.ContinueOnError)
	var fl folders
	fs.Var(&fl, "folder", "NAME=PATH of a folder to watch (repeat); NAME is the metric's folder label")
	listen := fs.String("listen", "127.0.0.1:9446", "operations address: /metrics, /healthz, /readyz (plain HTTP: loopback or a management network)")
	minFree := fs.String("min-free", "1GiB", "readiness is false while a folder's file system has less available (bytes, or with KiB, MiB, GiB, TiB; 0: never)")
	interval := fs.Duration("interval", 30*time.Second, "how often the state is checked for the log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(fl) == 0 || fs.NArg() > 0 {
		return fmt.Errorf("%w: at least one --folder, no other arguments", flag.ErrHelp)
	}
	minBytes, err := diskspace.ParseBytes(*minFree)
	if err != nil {
		return fmt.Errorf("--min-free: %w", err)
	}
	if *interval <= 0 {
		return fmt.Errorf("--interval must be positive")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	w := diskspace.Watch{Folders: fl, MinFree: minBytes, StatFS: diskspace.SysStatFS}
	return diskspace.Serve(ctx, *listen, w, diskspace.Metrics{Namespace: "fabric", Of: "each watched Fabric data folder"}, *interval, log, nil)
}
