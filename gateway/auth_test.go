package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// TestAuthenticator: only tokens of the gateway's own agency pass, each
// with its role; a token added to the file later is picked up, a revoked
// one stops working.
func TestAuthenticator(t *testing.T) {
	clock := newTestClock()
	path := filepath.Join(t.TempDir(), "tokens.json")
	var tf TokenFile
	cw, _, err := tf.Add(ao, domain.RoleCaseworker, "dms", clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	foreign, _, _ := tf.Add(bp, domain.RoleCaseworker, "other", clock.Now())
	if err := SaveTokenFile(path, tf); err != nil {
		t.Fatal(err)
	}
	a, err := NewAuthenticator(path, ao, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := a.Authenticate(cw); !ok || c.Role != domain.RoleCaseworker || c.MSPID != ao || c.Name != "dms" {
		t.Fatalf("own token: %+v %v", c, ok)
	}
	for _, bad := range []string{foreign, cw + "x", cw[:len(cw)-1], "", "Bearer " + cw, HashToken(cw)} {
		if _, ok := a.Authenticate(bad); ok {
			t.Fatalf("%q accepted", bad)
		}
	}
	admin, e, _ := tf.Add(ao, domain.RoleAdmin, "ops", clock.Now())
	if err := SaveTokenFile(path, tf); err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(2 * time.Second))
	if c, ok := a.Authenticate(admin); !ok || c.Role != domain.RoleAdmin || c.TokenID != e.ID {
		t.Fatalf("added token: %+v %v", c, ok)
	}
	tf.Revoke(e.ID)
	if err := SaveTokenFile(path, tf); err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(2 * time.Second))
	if _, ok := a.Authenticate(admin); ok {
		t.Fatal("revoked token still accepted")
	}
	if _, ok := a.Authenticate(cw); !ok {
		t.Fatal("remaining token refused")
	}
	// The stored file holds hashes only.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), cw) || !strings.Contains(string(raw), HashToken(cw)) {
		t.Fatal("the token file holds a token instead of its hash")
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v", st.Mode().Perm())
	}
	if _, _, err := tf.Add(ao, "root", "", clock.Now()); err == nil {
		t.Fatal("unknown role accepted")
	}
}
