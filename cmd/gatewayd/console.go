package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/console"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/gateway"
)

// mountConsole serves the web console next to the API (docs/console.md).
func mountConsole(ctx context.Context, apiHandler http.Handler, auth *gateway.Authenticator, connFile, usersFile string,
	idle, maxSession time.Duration, sso *console.OIDCConfig, log *slog.Logger) (http.Handler, error) {
	conn, err := api.LoadConnection(connFile)
	if err != nil {
		return nil, err
	}
	users, err := console.OpenUsers(usersFile, nil)
	if err != nil {
		return nil, err
	}
	c, err := console.New(console.Config{API: apiHandler, Tokens: auth, Users: users, Org: conn.Org, MSPID: conn.MSPID,
		MemberState: conn.MemberState, Kind: domain.AgencyKind(conn.Kind), Logger: log, IdleTimeout: idle, MaxSession: maxSession, SSO: sso})
	if err != nil {
		return nil, err
	}
	go func() { // end idle sessions (and their API tokens) even when nobody calls
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.Sweep()
			}
		}
	}()
	log.Info("console", "path", console.Prefix, "users", usersFile)
	if sso != nil {
		log.Info("console single sign-on", "issuer", sso.Issuer, "clientId", sso.ClientID, "claim", sso.Claim, "redirect", sso.RedirectURL)
	}
	return console.Mount(apiHandler, c), nil
}

// users manages the console's accounts: the agency's admin runs it on the
// gateway's host (the file is 0600 beside the gateway's data; a running
// gateway picks changes up within a second).
func users(sub string, args []string, stdin io.Reader, out io.Writer) error {
	f := flags{flag.NewFlagSet("users "+sub, flag.ContinueOnError)}
	path := f.str("users", "", "console user file")
	dataDir := f.str("data-dir", "", "the gateway's data folder (the user file is "+console.DefaultUsersFile+" in it)")
	name := f.str("name", "", "user name (1-32 of a-z 0-9 . _ -, starting with a letter)")
	var role, subject *string
	var fromStdin, asJSON, ssoOnly *bool
	switch sub {
	case "add":
		role = f.str("role", "", "caseworker, dublin-officer, auditor or admin")
		subject = f.str("sso-subject", "", "link the account to this value of the SSO claim (--oidc-claim; sub by default) at the agency's OpenID Connect provider")
		ssoOnly = f.flag("sso-only", "no password: the account signs in with single sign-on only (needs --sso-subject)")
		fallthrough
	case "passwd":
		fromStdin = f.flag("password-stdin", "read the password from the first line of standard input (default: generate one and print it once)")
		asJSON = f.flag("json", "print {name, role, password} as JSON")
	case "link":
		subject = f.str("subject", "", "the value of the SSO claim (--oidc-claim; sub by default) of this person at the agency's OpenID Connect provider")
		ssoOnly = f.flag("sso-only", "also remove the account's password: single sign-on only")
	case "list", "disable", "enable", "unlink":
	default:
		return fmt.Errorf("users %s: add, list, passwd, disable, enable, link or unlink: %w", sub, flag.ErrHelp)
	}
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if *path == "" && *dataDir != "" {
		*path = filepath.Join(*dataDir, console.DefaultUsersFile)
	}
	if *path == "" {
		return fmt.Errorf("--users or --data-dir is required: %w", flag.ErrHelp)
	}
	uf, err := console.LoadUserFile(*path)
	if err != nil {
		return err
	}
	now := time.Now()
	if sub == "list" {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tCREATED\tCHANGED\tSIGN-IN\tSSO SUBJECT")
		for _, u := range uf.Users {
			st := "enabled"
			if u.Disabled {
				st = "disabled"
			}
			via := "password"
			switch {
			case u.Hash == "":
				via = "sso-only"
			case u.SSOSubject != "":
				via = "password+sso"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, st, u.CreatedAt.Format(time.RFC3339), u.ChangedAt.Format(time.RFC3339),
				via, u.SSOSubject)
		}
		return tw.Flush()
	}
	if *name == "" {
		return fmt.Errorf("--name is required: %w", flag.ErrHelp)
	}
	switch sub {
	case "disable", "enable":
		if err := uf.SetDisabled(*name, sub == "disable", now); err != nil {
			return err
		}
		return console.SaveUserFile(*path, uf)
	case "link", "unlink":
		if sub == "link" {
			err = uf.LinkSSO(*name, *subject, *ssoOnly, now)
		} else {
			err = uf.UnlinkSSO(*name, now)
		}
		if err != nil {
			return err
		}
		if err := console.SaveUserFile(*path, uf); err != nil {
			return err
		}
		fmt.Fprintf(out, "user %s: %sed\n", *name, sub)
		return nil
	case "add":
		if *ssoOnly {
			if *subject == "" {
				return fmt.Errorf("--sso-only needs --sso-subject: %w", flag.ErrHelp)
			}
			if err := uf.AddSSO(*name, domain.Role(*role), *subject, now); err != nil {
				return err
			}
			if err := console.SaveUserFile(*path, uf); err != nil {
				return err
			}
			if *asJSON {
				return json.NewEncoder(out).Encode(map[string]string{"name": *name, "role": *role, "ssoSubject": *subject})
			}
			fmt.Fprintf(out, "user %s (%s) saved, single sign-on only\n", *name, *role)
			return nil
		}
	}
	pw, generated, err := password(*fromStdin, stdin)
	if err != nil {
		return err
	}
	var r domain.Role
	if sub == "add" {
		r = domain.Role(*role)
		err = uf.Add(*name, r, pw, console.DefaultKDF, now)
		if err == nil && *subject != "" {
			err = uf.LinkSSO(*name, *subject, false, now)
		}
	} else {
		err = uf.SetPassword(*name, pw, console.DefaultKDF, now)
		for _, u := range uf.Users {
			if u.Name == *name {
				r = u.Role
			}
		}
	}
	if err != nil {
		return err
	}
	if err := console.SaveUserFile(*path, uf); err != nil {
		return err
	}
	switch {
	case *asJSON:
		o := map[string]string{"name": *name, "role": string(r)}
		if generated {
			o["password"] = pw
		}
		return json.NewEncoder(out).Encode(o)
	case generated:
		fmt.Fprintf(os.Stderr, "user %s (%s): password (shown once):\n", *name, r)
		fmt.Fprintln(out, pw)
	default:
		fmt.Fprintf(out, "user %s (%s) saved\n", *name, r)
	}
	return nil
}

// password reads one from stdin (never from a flag: command lines are
// visible to every local user) or generates one.
func password(fromStdin bool, stdin io.Reader) (string, bool, error) {
	if !fromStdin {
		pw, err := console.GeneratePassword()
		return pw, true, err
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, console.MaxPasswordLength+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, err
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}
