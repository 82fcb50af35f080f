package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/caseledger/caseledger/console"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/network"
)

// consoleRoles are the accounts the demo gives each agency for its web
// console: the role whose work the scenario showed there.
func consoleRoles(kind domain.AgencyKind) []domain.Role {
	switch kind {
	case domain.AgencyAsylumOffice:
		return []domain.Role{domain.RoleCaseworker, domain.RoleDublinOfficer}
	case domain.AgencyPartnerState:
		return []domain.Role{domain.RoleDublinOfficer}
	case domain.AgencyAuditor:
		return []domain.Role{domain.RoleAuditor}
	}
	return []domain.Role{domain.RoleCaseworker}
}

// printConsole creates (or gives a fresh password to) one console account
// per agency and role in each gateway's user file — what the agency's admin
// does with `gatewayd users add` — and prints where to sign in.
func printConsole(w io.Writer, n *network.Network) error {
	fmt.Fprintf(w, "\n   Click through it in each agency's web console (each gateway's certificate is issued by its org's TLS CA,\n"+
		"   named below: import it into your browser, or accept the warning):\n")
	for _, o := range n.Description().Orgs {
		info, err := n.API(o.Name)
		if err != nil {
			return err
		}
		path := filepath.Join(n.GatewayDataDir(o.Name), console.DefaultUsersFile)
		uf, err := console.LoadUserFile(path)
		if err != nil {
			return err
		}
		for _, role := range consoleRoles(domain.AgencyKind(o.Kind)) {
			pw, err := console.GeneratePassword()
			if err != nil {
				return err
			}
			name := string(role)
			err = uf.SetPassword(name, pw, console.DefaultKDF, time.Now())
			if errors.Is(err, console.ErrUnknownUser) {
				err = uf.Add(name, role, pw, console.DefaultKDF, time.Now())
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "     %-22s %s%s  user %-15s password %s\n", o.Name, info.URL, console.Prefix, name, pw)
		}
		if err := console.SaveUserFile(path, uf); err != nil {
			return err
		}
		fmt.Fprintf(w, "     %-22s CA %s\n", "", info.CAFile)
	}
	return nil
}
