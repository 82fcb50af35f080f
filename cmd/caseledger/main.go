// Command caseledger is a terminal client of an agency's caseledger gateway:
// it talks to the gateway's HTTPS API only (register, record events, show a
// case and its timeline, the Dublin deadline board, anchor and verify
// documents, erasure, audit, live events). "caseledger help" lists the
// commands; docs/cli.md is the reference, with the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
