package main

import (
	"fmt"
	"io"
	"strings"
)

// group is the first word several commands share ("dublin request",
// "dublin reply", …). "caseledger help dublin", "caseledger dublin -h" and a
// bare "caseledger dublin" explain it and list its commands.
type group struct {
	name, summary, help string
	// related are commands of other names a newcomer looks for here.
	related []string
}

// groups is every command group; TestHelpForEveryGroup checks that each
// first word of a two-word command has one.
func groups() []group {
	return []group{
		{name: "dublin", summary: "the Dublin procedure between member states (Dublin units: dublin-officer, admin)",
			help: `Requests to take charge or take back, the requested state's replies, transfers and the
consequences of lapsed deadlines, on the dublin channel. Periods end on the next working day of
the acting state (weekends and its recorded public holidays); the ledger computes every deadline
from the dates you give (--date: the day of the act, default today in your member state).
Example, the asylum office's Dublin unit asking Austria to take charge:
  caseledger --org asylum-office --role dublin-officer dublin request --ref BAMF-D-1 --kind TAKE_CHARGE \
    --to AT --received 2026-11-10 --application-registered 2026-11-09 --evidence EURODAC_HIT --evidence-received 2026-11-08`,
			related: []string{"deadlines", "holidays set", "holidays show"}},
		{name: "holidays", summary: "the member states' public holidays that Dublin periods skip",
			help: `Each member state's Dublin unit records its own state's public holidays per year; a Dublin
period that ends on a weekend or on one of them ends on the next working day (Reg. 1182/71 Art 3(4)).
Without a recorded calendar only weekends count, and the deadline board says so.`,
			related: []string{"deadlines"}},
		{name: "erasure", summary: "erasure of cases (GDPR art. 17): request, follow, reconcile",
			help: `"caseledger erase" requests erasure of a case; every holding agency's gateway erases its own
mappings and confirms on the ledger. "erasure-status" shows who has confirmed, "erasures" lists
requests not yet confirmed by every holder, and "erasure reconcile" (admin) erases again what a
restore of the privacy service brought back.`,
			related: []string{"erase", "erasure-status", "erasures", "audit erasures"}},
		{name: "audit", summary: "the auditor's verification of the ledger and its queries (auditor token)",
			help: `The auditor's gateway reads its own peer: "audit verify" recomputes the hash chain, data hashes
and signatures of every channel; the other commands list late recordings, unconfirmed erasures,
an agency's writes and a case's state history. Example:
  caseledger --org auditor audit late --channel dublin`},
	}
}

func groupNames() []string {
	var names []string
	for _, g := range groups() {
		names = append(names, g.name)
	}
	return names
}

func findGroup(name string) (group, bool) {
	for _, g := range groups() {
		if g.name == name {
			return g, true
		}
	}
	return group{}, false
}

// groupHelp explains a group and lists its commands.
func groupHelp(w io.Writer, g group, cmds []command) {
	var subs []string
	for _, c := range cmds {
		if sub, ok := strings.CutPrefix(c.name, g.name+" "); ok {
			subs = append(subs, sub)
		}
	}
	fmt.Fprintf(w, "usage: caseledger %s <%s> [flags]\n\n%s\n", g.name, strings.Join(subs, "|"), g.summary)
	if g.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(g.help, "\n"))
	}
	list := func(title string, names []string) {
		width := 0
		for _, n := range names {
			width = max(width, len(n))
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, n := range names {
			for _, c := range cmds {
				if c.name == n {
					fmt.Fprintf(w, "  %-*s  %s\n", width, n, c.summary)
				}
			}
		}
	}
	var names []string
	for _, s := range subs {
		names = append(names, g.name+" "+s)
	}
	list("commands", names)
	if len(g.related) > 0 {
		list("see also", g.related)
	}
	fmt.Fprintf(w, "\n\"caseledger help %s %s\" or \"caseledger %s %s -h\" explains one command.\n", g.name, subs[0], g.name, subs[0])
}
