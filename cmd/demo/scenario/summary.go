package scenario

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client/render"
)

// The epilogue: what happened, and how to go on exploring with the command line.

func (s *scenario) summary() {
	s.section("Summary")
	a, b := s.rep.CaseA, s.rep.CaseB
	s.say("case A  national %s: %s (subsidiary protection); decision letter anchored as %s", a.National, a.Status, render.Short(a.DocumentHash))
	s.say("case B  national %s / dublin %s: Eurodac hit, take-charge request to AT recorded late,", b.National, b.Dublin)
	s.say("        implicitly accepted (deadline %s) by the gateway of %s, transferred, then erased by every holder",
		b.ReplyDeadline, b.ImplicitlyAcceptedBy)
	blocks := []string{}
	for _, c := range s.rep.Audit.Channels {
		blocks = append(blocks, fmt.Sprintf("%s %d blocks", c.Channel, c.Blocks))
	}
	s.say("ledger  intact (%s); %d late recordings of this run listed; %d erasure requests unconfirmed",
		strings.Join(blocks, ", "), len(s.rep.LateEvents), s.rep.OpenErasures)
	s.say("events of this run's cases on each agency's stream (of them on cases it holds a reference to):")
	for _, org := range []string{s.bp.org, s.ao.org, s.ia.org, s.ps.org, s.aud.org} {
		n, held := s.feeds[org].count(func(ev api.EventView) bool { return s.ours[ev.Pseudonym] })
		s.say("  %-22s %3d  (%d)", org, n, held)
	}
	s.say("%d transactions recorded by the scenario, plus those of the gateways' automations; %s",
		s.rep.Writes, s.rep.Elapsed.Round(100*time.Millisecond))
	if s.env.LogsDir != "" {
		s.say("logs: %s (gateway.<org>.log, privacy.<org>.log, peer, orderer, CA and chaincode logs)", s.env.LogsDir)
	}
}

// PrintNext says how to explore the running system with the command line
// and how to stop it. rootFlag is "" for the default root, else the
// --root the commands need.
func PrintNext(w io.Writer, rep Report, root, rootFlag string) {
	a, b := rep.CaseA.Refs, rep.CaseB.Refs
	cl := "go run ./cmd/caseledger"
	stop := "make down (or go run ./cmd/netctl down)"
	if rootFlag != "" {
		cl += " --root " + rootFlag
		stop = "go run ./cmd/netctl down --root " + rootFlag
	}
	fmt.Fprintf(w, `
   The system keeps running. Explore it with the command line (each agency through its own gateway):
     %[1]s --org border-police timeline --channel national --ref %[2]s
     %[1]s --org immigration-authority show --channel national --ref %[3]s
     %[1]s --org asylum-office --role dublin-officer deadlines --within 200
     %[1]s --org partner-state show --channel dublin --ref %[4]s   # erased: exit 2, UNKNOWN_LOCAL_REF
     %[1]s --org auditor audit verify
     %[1]s --org auditor audit late --channel national
     %[1]s --org asylum-office --role caseworker events --held   # live; Ctrl-C to stop
   API details per agency (URL, CA, tokens): %[5]s/connection/<org>-api.json; logs: %[5]s/logs/
   Run it again for new cases: make demo.  Stop everything: %[6]s;
   make demo starts it again with the data kept, make clean deletes it.
`, cl, a["border-police"], a["immigration-authority"], b["partner-state"], root, stop)
}
