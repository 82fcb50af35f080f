package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/render"
)

// The commands, one file per group: info.go (whoami, vocabulary), cases.go,
// dublin.go (with deadlines), holidays.go, documents.go, erasure.go,
// rights.go, audit.go, events.go; groups.go explains the groups of two-word
// commands. This file holds what the commands share.

// commands is every command, in the order "caseledger help" lists them.
func commands() []command {
	return slices.Concat(
		[]command{whoamiCommand()},
		caseCommands(),
		dublinCommands(),
		holidayCommands(),
		documentCommands(),
		erasureCommands(),
		rightsCommands(),
		auditCommands(),
		[]command{eventsCommand(), vocabularyCommand()},
	)
}

type runner = func(ctx context.Context, a *app, args []string) error

// connect is the preamble of every command that talks to the gateway: the
// command's own checks first, in order (a usage error sends nothing and needs
// no settings), then the client from flags, environment or connection file.
func (a *app) connect(checks ...error) (*client.Client, error) {
	for _, err := range checks {
		if err != nil {
			return nil, err
		}
	}
	return a.client()
}

// caseSel are the flags that select a case.
type caseSel struct {
	channel, ref, pseudonym string
	noChannel               bool // Dublin shorthands imply the channel
}

func (c *caseSel) register(fs *flag.FlagSet) {
	if !c.noChannel {
		fs.StringVar(&c.channel, "channel", "", "channel: national or dublin (required)")
	}
	fs.StringVar(&c.ref, "ref", "", "the case by your agency's own local reference")
	fs.StringVar(&c.pseudonym, "pseudonym", "", "the case by its pseudonym on the channel")
}

func (c *caseSel) caseRef() (api.CaseRef, error) {
	if !c.noChannel && c.channel == "" {
		return api.CaseRef{}, usagef("--channel is required")
	}
	if (c.ref == "") == (c.pseudonym == "") {
		return api.CaseRef{}, usagef("give exactly one of --ref and --pseudonym")
	}
	return api.CaseRef{Channel: c.channel, LocalRef: c.ref, Pseudonym: c.pseudonym}, nil
}

func (c *caseSel) dublinCase() (api.DublinCase, error) {
	r, err := c.caseRef()
	return api.DublinCase{LocalRef: r.LocalRef, Pseudonym: r.Pseudonym}, err
}

// idemFlag registers --idempotency-key; writeOpts makes it the write's option.
func idemFlag(fs *flag.FlagSet) *string {
	return fs.String("idempotency-key", "", "Idempotency-Key of the write (retry a write whose outcome you missed with the same key)")
}

func writeOpts(key string) []client.WriteOption {
	if key == "" {
		return nil
	}
	return []client.WriteOption{client.WithIdempotencyKey(key)}
}

func dateFlag(fs *flag.FlagSet) *string {
	return fs.String("date", "", "day the act took place, YYYY-MM-DD (default: today in your member state)")
}

func requireFlag(name, v string) error {
	if v == "" {
		return usagef("--%s is required", name)
	}
	return nil
}

// requireFlags checks name/value pairs in order and reports the first flag left empty.
func requireFlags(nameValue ...string) error {
	for i := 0; i+1 < len(nameValue); i += 2 {
		if err := requireFlag(nameValue[i], nameValue[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func printWrite(a *app, res api.WriteResponse) error {
	return a.print(res, func(w io.Writer) { render.Write(w, res) })
}

func pageFlags(fs *flag.FlagSet) *client.Page {
	var p client.Page
	fs.IntVar(&p.PageSize, "page-size", 0, "items per page (0: the gateway's default)")
	fs.StringVar(&p.Bookmark, "bookmark", "", "continue after an earlier page")
	return &p
}

func printBookmark(w io.Writer, bm string) {
	if bm != "" {
		fmt.Fprintf(w, "more: --bookmark %s\n", bm)
	}
}
