package scenario

import (
	"context"
	"strings"
)

// Chapter 0: who takes part — every agency introduces itself through its own gateway.

func (s *scenario) introduce(ctx context.Context) error {
	s.section("The agencies (each calls only its own gateway, with its own API token)")
	for _, a := range []actor{s.bp, s.ao, s.aoDU, s.ia, s.ps, s.aud} {
		who, err := a.c.Whoami(ctx)
		if err != nil {
			return stepErr("whoami "+a.String(), err)
		}
		var chs []string
		for _, ch := range who.Channels {
			chs = append(chs, ch.Name)
		}
		s.say("%-22s %-24s %-15s %s  channels %s", who.Org, who.MSPID, who.Role, a.c.BaseURL(), strings.Join(chs, ", "))
	}
	s.say("today is %s (Germany); local references of this run are fresh, the ledger only ever sees pseudonyms", s.cal.today)
	return nil
}
