package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/network"
)

// Exit codes (docs/cli.md).
const (
	exitOK          = 0
	exitUsage       = 1 // bad flags or arguments, missing or unreadable settings
	exitRefused     = 2 // the ledger or the API refused the request (4xx other than 401/403)
	exitUnavailable = 3 // gateway, peer or privacy service unavailable, or an unexpected answer
	exitAuth        = 4 // token unknown (401) or agency/role not allowed (403)
	exitCheckFailed = 5 // a check ran and failed: document not anchored, ledger not intact
	exitInterrupted = 130
)

// errUsage marks errors in how the command was called.
var errUsage = errors.New("usage")

// errCheckFailed marks a verification whose answer is "no".
var errCheckFailed = errors.New("check failed")

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, errUsage), errors.Is(err, client.ErrConfig):
		return exitUsage
	case errors.Is(err, errCheckFailed):
		return exitCheckFailed
	case errors.Is(err, client.ErrUnauthenticated), errors.Is(err, client.ErrForbidden):
		return exitAuth
	case errors.Is(err, client.ErrRefused), errors.Is(err, client.ErrNotFound):
		return exitRefused
	}
	return exitUnavailable
}

// globals are the settings every command takes (flag, else environment).
type globals struct {
	url, tokenFile, ca string
	org, role          string
	root, connection   string
	output             string
	timeout            time.Duration
	retries            int
	quiet              bool
	afterBlock         uint64
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.url, "url", g.url, "gateway URL, https://host:port (env CASELEDGER_URL)")
	fs.StringVar(&g.tokenFile, "token-file", g.tokenFile, "file holding the API token (env CASELEDGER_TOKEN_FILE; or the token itself in CASELEDGER_TOKEN)")
	fs.StringVar(&g.ca, "ca", g.ca, "PEM file of the CA of the gateway's certificate (env CASELEDGER_CA)")
	fs.StringVar(&g.org, "org", g.org, "agency whose generated <root>/connection/<org>-api.json to use (env CASELEDGER_ORG)")
	fs.StringVar(&g.role, "role", g.role, "role of the token to take from that file: caseworker, dublin-officer, auditor, admin (env CASELEDGER_ROLE)")
	fs.StringVar(&g.root, "root", g.root, "network folder holding connection/ (env CASELEDGER_ROOT; default .run/demo of the module)")
	fs.StringVar(&g.connection, "connection", g.connection, "path of an <org>-api.json, instead of --root/--org (env CASELEDGER_CONNECTION)")
	fs.StringVar(&g.output, "output", g.output, "text or json (env CASELEDGER_OUTPUT)")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "bound of the whole command (0: none; env CASELEDGER_TIMEOUT)")
	fs.IntVar(&g.retries, "retries", g.retries, "retries of transient failures, writes with the same Idempotency-Key (env CASELEDGER_RETRIES)")
	fs.BoolVar(&g.quiet, "quiet", g.quiet, "no progress lines on stderr")
	fs.Uint64Var(&g.afterBlock, "after-block", g.afterBlock, "act only once your gateway's peer has committed this block (another agency's write's blockNumber)")
}

func defaultGlobals(getenv func(string) string) globals {
	g := globals{
		url: getenv("CASELEDGER_URL"), tokenFile: getenv("CASELEDGER_TOKEN_FILE"), ca: getenv("CASELEDGER_CA"),
		org: getenv("CASELEDGER_ORG"), role: getenv("CASELEDGER_ROLE"), root: getenv("CASELEDGER_ROOT"),
		connection: getenv("CASELEDGER_CONNECTION"), output: getenv("CASELEDGER_OUTPUT"), timeout: 2 * time.Minute,
		retries: 4,
	}
	if n, err := strconv.Atoi(getenv("CASELEDGER_RETRIES")); err == nil {
		g.retries = n
	}
	if d, err := time.ParseDuration(getenv("CASELEDGER_TIMEOUT")); err == nil {
		g.timeout = d
	}
	if g.output == "" {
		g.output = "text"
	}
	return g
}

// app is one invocation.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	g              globals
	cl             *client.Client
	today          string
	// role is the role the command needs, taken when --role is left out.
	role string
}

func (a *app) json() bool { return a.g.output == "json" }

// print writes v as indented JSON with --output json, else calls text.
func (a *app) print(v any, text func(w io.Writer)) error {
	if a.json() {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(a.stdout)
	return nil
}

// progressOut is where progress lines go (nil: none).
func (a *app) progressOut() io.Writer {
	if a.g.quiet {
		return io.Discard
	}
	return a.stderr
}

// settings resolved for the client.
type settings struct {
	url, token, ca string
}

// resolve picks URL, token and CA: flags and environment first, then the
// generated connection file of --org (or --connection) for what is missing.
func (a *app) resolve() (settings, error) {
	s := settings{url: a.g.url, ca: a.g.ca, token: a.getenv("CASELEDGER_TOKEN")}
	if a.g.tokenFile != "" {
		b, err := os.ReadFile(a.g.tokenFile)
		if err != nil {
			return s, fmt.Errorf("%w: token file: %w", client.ErrConfig, err)
		}
		s.token = strings.TrimSpace(string(b))
	}
	if s.url != "" && s.token != "" {
		return s, nil
	}
	path := a.g.connection
	if path == "" {
		if a.g.org == "" {
			return s, fmt.Errorf("%w: no gateway given: use --org ORG [--role ROLE] (generated connection file), or --url with CASELEDGER_TOKEN / --token-file", client.ErrConfig)
		}
		root := a.g.root
		if root == "" {
			root = defaultRoot()
		}
		path = ProfilePath(root, a.g.org)
	}
	p, err := LoadProfile(path)
	if err != nil {
		return s, err
	}
	tok, role, defaulted, err := p.Token(a.g.role, a.role)
	if err != nil {
		return s, err
	}
	if defaulted && len(p.Tokens) > 1 && s.token == "" {
		others := make([]string, 0, len(p.Tokens)-1)
		for r := range p.Tokens {
			if r != role {
				others = append(others, r)
			}
		}
		slices.Sort(others)
		fmt.Fprintf(a.progressOut(), "caseledger: %s as %s (it also has %s: choose with --role)\n", p.Org, role, strings.Join(others, ", "))
	}
	a.g.role = role
	if s.url == "" {
		s.url = p.URL
	}
	if s.ca == "" {
		s.ca = p.CAFile
	}
	if s.token == "" {
		s.token = tok
	}
	return s, nil
}

// defaultRoot is the demo network's folder in the module this runs in.
func defaultRoot() string {
	if dir, err := network.FindModuleDir("."); err == nil {
		return filepath.Join(dir, ".run", "demo")
	}
	return filepath.Join(".run", "demo")
}

func (a *app) client() (*client.Client, error) {
	if a.cl != nil {
		return a.cl, nil
	}
	s, err := a.resolve()
	if err != nil {
		return nil, err
	}
	retries := a.g.retries
	if retries <= 0 {
		retries = -1 // the client's "none"
	}
	c, err := client.New(client.Config{BaseURL: s.url, Token: s.token, CAFile: s.ca, Retries: retries, UserAgent: "caseledger-cli/1"})
	if err != nil {
		return nil, err
	}
	if a.g.afterBlock > 0 {
		c = c.AfterBlock(a.g.afterBlock)
	}
	a.cl = c
	return c, nil
}

// dateOr returns d, or today in the calling agency's member state (the day
// the ledger will consider "today" for it).
func (a *app) dateOr(ctx context.Context, d string) (string, error) {
	if d != "" {
		return d, nil
	}
	if a.today != "" {
		return a.today, nil
	}
	c, err := a.client()
	if err != nil {
		return "", err
	}
	who, err := c.Whoami(ctx)
	if err != nil {
		return "", err
	}
	a.today = Today(time.Now(), who.MemberState)
	return a.today, nil
}

// Today is now's date in the member state's time zone (UTC if unknown).
func Today(now time.Time, memberState string) string {
	loc := time.UTC
	if memberState != "" {
		if l, err := time.LoadLocation(domain.TimeZone(memberState)); err == nil {
			loc = l
		}
	}
	return now.In(loc).Format(time.DateOnly)
}

// command is one subcommand.
type command struct {
	name    string // "register" or "dublin request"
	args    string // synopsis of its flags and arguments
	summary string
	help    string // details and examples
	// setup registers the command's flags and returns its runner.
	setup func(fs *flag.FlagSet) func(ctx context.Context, a *app, args []string) error
	// positional says whether arguments other than flags are allowed.
	positional bool
	// long commands run without the --timeout bound (event streams).
	long bool
	// role is the role the command needs ("": any); with --org and no
	// --role it is taken if the org has a token for it.
	role string
}

// run is the whole command line; it returns the exit code.
func run(ctx context.Context, argv []string, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv, g: defaultGlobals(getenv)}
	cmds := commands()
	top := flag.NewFlagSet("caseledger", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	a.g.register(top)
	if err := top.Parse(argv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, cmds)
			return exitOK
		}
		fmt.Fprintf(stderr, "caseledger: %v\n\n", err)
		printUsage(stderr, cmds)
		return exitUsage
	}
	rest := top.Args()
	if len(rest) == 0 {
		printUsage(stderr, cmds)
		return exitUsage
	}
	if rest[0] == "help" {
		return help(stdout, stderr, cmds, rest[1:])
	}
	cmd, rest, ok := lookup(cmds, rest)
	if !ok {
		if g, isGroup := findGroup(rest[0]); isGroup {
			return groupOnly(stdout, stderr, g, cmds, rest[1:])
		}
		fmt.Fprintf(stderr, "caseledger: unknown command %q\n\n", strings.Join(rest, " "))
		printUsage(stderr, cmds)
		return exitUsage
	}
	fs := flag.NewFlagSet("caseledger "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runner := cmd.setup(fs)
	a.g.register(fs)
	pos, err := parseInterleaved(fs, rest)
	a.role = cmd.role
	if ch := fs.Lookup("channel"); a.role == "" && ch != nil && ch.Value.String() == "dublin" {
		a.role = "dublin-officer" // the dublin channel is the Dublin units'
	}
	if err == nil && len(pos) > 0 && !cmd.positional {
		err = usagef("unexpected argument %q", pos[0])
	}
	if err == nil && a.g.output != "text" && a.g.output != "json" {
		err = usagef("--output must be text or json")
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandHelp(stdout, cmd, fs)
			return exitOK
		}
		fmt.Fprintf(stderr, "caseledger %s: %v\n\n", cmd.name, strings.TrimPrefix(err.Error(), "usage: "))
		commandHelp(stderr, cmd, fs)
		return exitUsage
	}
	if a.g.timeout > 0 && !cmd.long {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.g.timeout)
		defer cancel()
	}
	err = runner(ctx, a, pos)
	if cmd.long && errors.Is(err, context.Canceled) {
		err = nil // Ctrl-C is how a stream ends
	}
	if err != nil {
		report(a, cmd, err)
	}
	return exitCode(err)
}

// lookup finds the command named by the first one or two words.
func lookup(cmds []command, args []string) (command, []string, bool) {
	if len(args) >= 2 {
		for _, c := range cmds {
			if c.name == args[0]+" "+args[1] {
				return c, args[2:], true
			}
		}
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return c, args[1:], true
		}
	}
	return command{}, args, false
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments; "--" ends flag parsing.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// report prints an error: the problem's code, title and detail, and the
// gateway's request id to quote when asking its operators.
func report(a *app, cmd command, err error) {
	var p *client.Problem
	if errors.As(err, &p) {
		if a.json() {
			enc := json.NewEncoder(a.stderr)
			enc.SetIndent("", "  ")
			_ = enc.Encode(map[string]any{"type": p.Type, "title": p.Title, "status": p.Status, "detail": p.Detail,
				"code": p.Code, "instance": p.Instance, "requestId": client.RequestID(err), "exitCode": exitCode(err)})
			return
		}
		fmt.Fprintf(a.stderr, "caseledger %s: %s: %s (%d)\n", cmd.name, kindWord(err), p.Code, p.Status)
		fmt.Fprintf(a.stderr, "  %s\n", p.Title)
		if p.Detail != "" {
			fmt.Fprintf(a.stderr, "  %s\n", p.Detail)
		}
		if id := client.RequestID(err); id != "" {
			fmt.Fprintf(a.stderr, "  gateway request id %s\n", id)
		}
		return
	}
	if a.json() {
		_ = json.NewEncoder(a.stderr).Encode(map[string]any{"error": err.Error(), "kind": kindWord(err), "exitCode": exitCode(err)})
		return
	}
	fmt.Fprintf(a.stderr, "caseledger %s: %s: %s\n", cmd.name, kindWord(err), strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
}

func kindWord(err error) string {
	switch exitCode(err) {
	case exitUsage:
		return "usage"
	case exitRefused:
		return "refused"
	case exitAuth:
		return "not allowed"
	case exitCheckFailed:
		return "check failed"
	case exitInterrupted:
		return "interrupted"
	}
	return "unavailable"
}

func printUsage(w io.Writer, cmds []command) {
	fmt.Fprint(w, `caseledger — an agency's terminal to its caseledger gateway (HTTPS API only).

usage: caseledger [global flags] <command> [flags] [arguments]

commands:
`)
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.name))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
	fmt.Fprintf(w, `
connection: --org ORG [--role ROLE] reads <root>/connection/ORG-api.json written by the demo network
(URL, CA and one token per role); or give --url, --ca and the token in CASELEDGER_TOKEN or --token-file.
global flags (also accepted after the command): --url --token-file --ca --org --role --root --connection
  --output text|json --timeout --retries --quiet
exit codes: 0 ok, 1 usage, 2 refused by the ledger or API, 3 unavailable, 4 not authenticated or
not allowed, 5 check failed (not anchored, not intact), 130 interrupted.

"caseledger help <command>" or "caseledger <command> -h" explains a command, "caseledger help <group>"
a group (%s). Reference: docs/cli.md.
`, strings.Join(groupNames(), ", "))
}

func commandHelp(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: caseledger %s %s\n\n%s\n", c.name, c.args, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.help, "\n"))
	}
	global := map[string]bool{}
	g := flag.NewFlagSet("", flag.ContinueOnError)
	(&globals{}).register(g)
	g.VisitAll(func(f *flag.Flag) { global[f.Name] = true })
	var own []string
	fs.VisitAll(func(f *flag.Flag) {
		if global[f.Name] {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		line += "\n        " + usage
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			line += " (default " + f.DefValue + ")"
		}
		own = append(own, line)
	})
	if len(own) > 0 {
		fmt.Fprintf(w, "\nflags:\n%s\n", strings.Join(own, "\n"))
	}
	fmt.Fprintln(w, "\nglobal flags: --url --token-file --ca --org --role --root --connection --output text|json --timeout --retries --quiet")
}

func help(stdout, stderr io.Writer, cmds []command, args []string) int {
	if len(args) == 0 {
		printUsage(stdout, cmds)
		return exitOK
	}
	if g, ok := findGroup(args[0]); ok && len(args) == 1 {
		groupHelp(stdout, g, cmds)
		return exitOK
	}
	c, rest, ok := lookup(cmds, args)
	if !ok || len(rest) > 0 {
		fmt.Fprintf(stderr, "caseledger help: unknown command %q\n", strings.Join(args, " "))
		return exitUsage
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	commandHelp(stdout, c, fs)
	return exitOK
}

// groupOnly answers a group's name without one of its commands: its help on
// stdout for -h, else on stderr as a usage error (like a bare "caseledger").
func groupOnly(stdout, stderr io.Writer, g group, cmds []command, args []string) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		groupHelp(stdout, g, cmds)
		return exitOK
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "caseledger: unknown command %q\n\n", g.name+" "+args[0])
	}
	groupHelp(stderr, g, cmds)
	return exitUsage
}

// oneOf checks a flag value against a closed list.
func oneOf(flagName, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return usagef("--%s must be one of %s", flagName, strings.Join(allowed, ", "))
}
