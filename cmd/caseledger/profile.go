package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/network"
)

// ProfilePath is where the network writes an org's API details
// (network.Network.APIInfoPath).
func ProfilePath(root, org string) string {
	return filepath.Join(root, "connection", org+"-api.json")
}

// profile is an org's generated API details.
type profile struct{ network.APIInfo }

// LoadProfile reads <root>/connection/<org>-api.json.
func LoadProfile(path string) (profile, error) {
	info, err := network.LoadAPIInfo(path)
	if err != nil {
		return profile{}, fmt.Errorf("%w: %w (is the network up? make demo)", client.ErrConfig, err)
	}
	if info.URL == "" || len(info.Tokens) == 0 {
		return profile{}, fmt.Errorf("%w: %s names no gateway URL or token", client.ErrConfig, path)
	}
	return profile{info}, nil
}

// Token picks the token of role; with no role, the only non-admin role the
// org has (an org with several must be told which).
func (p profile) Token(role string) (token, chosen string, err error) {
	var roles []string
	for r := range p.Tokens {
		roles = append(roles, r)
	}
	slices.Sort(roles)
	if role == "" {
		var plain []string
		for _, r := range roles {
			if r != "admin" {
				plain = append(plain, r)
			}
		}
		if len(plain) != 1 {
			return "", "", fmt.Errorf("%w: %s has tokens for %s: choose one with --role", client.ErrConfig, p.Org, strings.Join(roles, ", "))
		}
		role = plain[0]
	}
	tok, ok := p.Tokens[role]
	if !ok {
		return "", "", fmt.Errorf("%w: %s has no token for role %q (it has %s)", client.ErrConfig, p.Org, role, strings.Join(roles, ", "))
	}
	return tok, role, nil
}
