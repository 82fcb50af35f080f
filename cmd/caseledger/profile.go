package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
)

// ProfilePath is where the network writes an org's API details
// (network.Network.APIInfoPath).
func ProfilePath(root, org string) string {
	return filepath.Join(root, "connection", org+"-api.json")
}

// profile is an org's generated API details.
type profile struct{ api.APIInfo }

// LoadProfile reads <root>/connection/<org>-api.json.
func LoadProfile(path string) (profile, error) {
	info, err := api.LoadAPIInfo(path)
	if err != nil {
		return profile{}, fmt.Errorf("%w: %w (is the network up? make demo)", client.ErrConfig, err)
	}
	if info.URL == "" || len(info.Tokens) == 0 {
		return profile{}, fmt.Errorf("%w: %s names no gateway URL or token", client.ErrConfig, path)
	}
	return profile{info}, nil
}

// commonRoles orders the roles by how many people of an agency act in them:
// with no --role, the most common role the org has a token for is taken.
func commonRoles() []string { return []string{"caseworker", "dublin-officer", "auditor", "admin"} }

// Token picks the token of role. With no role it takes prefer (the role the
// command needs) if the org has a token for it, else the org's most common
// role; defaulted says that it chose.
func (p profile) Token(role, prefer string) (token, chosen string, defaulted bool, err error) {
	var roles []string
	for r := range p.Tokens {
		roles = append(roles, r)
	}
	slices.Sort(roles)
	if role == "" {
		defaulted = true
		order := append([]string{prefer}, commonRoles()...)
		order = append(order, roles...) // roles this list does not know, alphabetically
		for _, r := range order {
			if _, ok := p.Tokens[r]; ok && r != "" {
				role = r
				break
			}
		}
	}
	tok, ok := p.Tokens[role]
	if !ok {
		return "", "", false, fmt.Errorf("%w: %s has no token for role %q (it has %s)", client.ErrConfig, p.Org, role, strings.Join(roles, ", "))
	}
	return tok, role, defaulted, nil
}
