package main

import (
	"strings"
	"testing"
)

// TestHelpForEveryGroup walks every first word that two-word commands share:
// each has a group whose help lists all its commands, given by "help G",
// "G -h" (stdout, exit 0) and a bare "G" (stderr, exit 1).
func TestHelpForEveryGroup(t *testing.T) {
	members := map[string][]command{}
	for _, c := range commands() {
		if first, _, two := strings.Cut(c.name, " "); two {
			members[first] = append(members[first], c)
		}
	}
	if len(members) == 0 {
		t.Fatal("no two-word command")
	}
	for _, g := range groups() {
		if len(members[g.name]) == 0 {
			t.Errorf("group %q has no command", g.name)
		}
		for _, r := range g.related {
			if _, _, ok := lookup(commands(), strings.Fields(r)); !ok {
				t.Errorf("group %q: related %q is no command", g.name, r)
			}
		}
	}
	for name, cmds := range members {
		g, ok := findGroup(name)
		if !ok {
			t.Errorf("commands %q have no group help", name)
			continue
		}
		h := cli(t, nil, "help", name)
		if h.code != exitOK || !strings.Contains(h.stdout, "usage: caseledger "+name) || !strings.Contains(h.stdout, g.summary) {
			t.Errorf("help %s: exit %d\n%s%s", name, h.code, h.stdout, h.stderr)
		}
		for _, c := range cmds {
			if !strings.Contains(h.stdout, c.name) || !strings.Contains(h.stdout, c.summary) {
				t.Errorf("help %s lacks %q and its summary:\n%s", name, c.name, h.stdout)
			}
		}
		if d := cli(t, nil, name, "-h"); d.code != exitOK || d.stdout != h.stdout {
			t.Errorf("%s -h: exit %d, differs from help %s:\n%s", name, d.code, name, d.stdout)
		}
		if b := cli(t, nil, name); b.code != exitUsage || b.stderr != h.stdout || b.stdout != "" {
			t.Errorf("bare %s: exit %d, stdout %q, stderr:\n%s", name, b.code, b.stdout, b.stderr)
		}
		if u := cli(t, nil, name, "frobnicate"); u.code != exitUsage || !strings.Contains(u.stderr, `unknown command "`+name+` frobnicate"`) ||
			!strings.Contains(u.stderr, cmds[0].name) {
			t.Errorf("%s frobnicate: exit %d\n%s", name, u.code, u.stderr)
		}
	}
	if o := cli(t, nil, "help"); !strings.Contains(o.stdout, "caseledger help <group>") {
		t.Errorf("overview does not name the groups:\n%s", o.stdout)
	}
}
