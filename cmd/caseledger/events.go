package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/render"
)

// Events: follow the agency's events live.

func eventsCommand() command {
	return command{name: "events", args: "[--channel C] [--held] [--after POSITION] [--count N]",
		summary: "follow your agency's events live (server-sent events; Ctrl-C to stop)",
		help: `Each line names the event's position; resume after it with --after POSITION. With --output json
each event is one JSON object per line.`,
		setup: setupEvents, long: true}
}

func setupEvents(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "only this channel")
	held := fs.Bool("held", false, "only cases your agency holds a reference to")
	after := fs.String("after", "", "resume after this position (default: from the beginning of the gateway's log)")
	count := fs.Int("count", 0, "stop after this many events (0: follow until Ctrl-C)")
	return func(ctx context.Context, a *app, _ []string) error {
		if *count < 0 {
			return usagef("--count must not be negative")
		}
		c, err := a.connect()
		if err != nil {
			return err
		}
		n := 0
		enc := json.NewEncoder(a.stdout)
		return c.Follow(ctx, client.FollowOptions{Channel: *channel, HeldOnly: *held, After: *after,
			OnReconnect: func(err error, attempt int) {
				if !a.g.quiet {
					fmt.Fprintf(a.stderr, "event stream interrupted (%v); reconnecting (attempt %d)\n", err, attempt)
				}
			}},
			func(ev api.EventView) error {
				if a.json() {
					if err := enc.Encode(ev); err != nil {
						return err
					}
				} else {
					render.Event(a.stdout, ev)
				}
				n++
				if *count > 0 && n >= *count {
					return client.ErrStop
				}
				return nil
			})
	}
}
