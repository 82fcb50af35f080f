package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/caseledger/caseledger/api"
)

// What the gateway says about the token and the channel: whoami, vocabulary.

func whoamiCommand() command {
	return command{name: "whoami", summary: "show the agency, role and channels of your token", setup: setupWhoami}
}

func vocabularyCommand() command {
	return command{name: "vocabulary", args: "--channel C", summary: "event codes, required fields and transitions of a channel", setup: setupVocabulary}
}

func setupWhoami(fs *flag.FlagSet) runner {
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect()
		if err != nil {
			return err
		}
		who, err := c.Whoami(ctx)
		if err != nil {
			return err
		}
		return a.print(who, func(w io.Writer) {
			fmt.Fprintf(w, "%s (%s, member state %s) as %s, token %s\n", who.Org, who.MSPID, orDash(who.MemberState), who.Role, who.TokenID)
			for _, ch := range who.Channels {
				fmt.Fprintf(w, "  channel %s (%s procedure)\n", ch.Name, ch.Procedure)
			}
			fmt.Fprintf(w, "  Fabric identities for roles: %v\n", who.Roles)
		})
	}
}

func setupVocabulary(fs *flag.FlagSet) runner {
	channel := fs.String("channel", "", "channel (required)")
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect(requireFlag("channel", *channel))
		if err != nil {
			return err
		}
		raw, err := c.Vocabulary(ctx, *channel)
		if err != nil {
			return err
		}
		var v api.Vocabulary
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("vocabulary: %w", err)
		}
		return a.print(json.RawMessage(raw), func(w io.Writer) { printVocabulary(w, v) })
	}
}

func printVocabulary(w io.Writer, v api.Vocabulary) {
	fmt.Fprintf(w, "vocabulary v%d, %s procedure\n", v.Version, v.Procedure)
	for _, e := range v.Events {
		sys := ""
		if e.System {
			sys = "  (recorded by the ledger only)"
		}
		fmt.Fprintf(w, "  %-26s required %v optional %v%s\n", e.Code, e.Required, e.Optional, sys)
	}
}
