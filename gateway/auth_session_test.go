package gateway

import (
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// Console sessions: a minted token authenticates as the user's role with a
// token id naming the user, alongside the file's tokens, until revoked.
func TestSessionTokens(t *testing.T) {
	var f TokenFile
	fileTok, _, err := f.Add("AsylumOfficeMSP", domain.RoleAdmin, "ops", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a := NewStaticAuthenticator(f, "AsylumOfficeMSP")
	tok, err := a.MintSessionToken("alice", domain.RoleCaseworker)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := a.Authenticate(tok)
	if !ok || c.TokenID != "user:alice" || c.Role != domain.RoleCaseworker || c.MSPID != "AsylumOfficeMSP" || c.Name != "alice" {
		t.Fatalf("session token: %+v %v", c, ok)
	}
	if c, ok := a.Authenticate(fileTok); !ok || c.Role != domain.RoleAdmin {
		t.Fatalf("file token next to sessions: %+v %v", c, ok)
	}
	a.RevokeSessionToken(tok)
	if _, ok := a.Authenticate(tok); ok {
		t.Fatal("revoked session token still authenticates")
	}
	if _, err := a.MintSessionToken("bob", domain.Role("root")); err == nil {
		t.Fatal("minted a token for an unknown role")
	}
}
