package gateway

import (
	"net/http"
	"slices"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// TestWebhooksBelongToTheirToken: a subscription is listed and deleted only
// by the token that created it and by the agency's admin; another token —
// of the same role or another, the auditor's included — neither sees it nor
// can delete it (404, as for a subscription that does not exist).
func TestWebhooksBelongToTheirToken(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, au, nil)
	second, _, err := a.tf.Add(au, domain.RoleAuditor, "second-system", clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	a.restart() // the authenticator is built from the token file at start
	as := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	var mine, theirs api.CreatedWebhook
	a.must(201, a.call(domain.RoleAuditor, "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: "https://one.example/hook"}, ""), &mine)
	a.must(201, a.callWith(as(second), "", "POST", "/v1/webhooks", api.CreateWebhookRequest{URL: "https://two.example/hook"}, ""), &theirs)
	ids := func(h http.Header, role domain.Role) []string {
		var list struct {
			Items []api.WebhookStatus `json:"items"`
		}
		a.must(200, a.callWith(h, role, "GET", "/v1/webhooks", nil, ""), &list)
		var out []string
		for _, w := range list.Items {
			out = append(out, w.ID)
		}
		slices.Sort(out)
		return out
	}
	if got := ids(nil, domain.RoleAuditor); !slices.Equal(got, []string{mine.ID}) {
		t.Fatalf("first token lists %v, want only %s", got, mine.ID)
	}
	if got := ids(as(second), ""); !slices.Equal(got, []string{theirs.ID}) {
		t.Fatalf("second token lists %v, want only %s", got, theirs.ID)
	}
	all := []string{mine.ID, theirs.ID}
	slices.Sort(all)
	if got := ids(nil, domain.RoleAdmin); !slices.Equal(got, all) {
		t.Fatalf("admin lists %v, want %v", got, all)
	}
	// Neither another token of the same role nor one of another role may delete it.
	for _, h := range []http.Header{as(second), as(a.tokens[domain.RoleCaseworker])} {
		if r := a.callWith(h, "", "DELETE", "/v1/webhooks/"+mine.ID, nil, ""); r.status != 404 || r.problem(t).Code != "NOT_FOUND" {
			t.Fatalf("another token deletes the webhook: %d %s", r.status, r.body)
		}
	}
	if got := ids(nil, domain.RoleAuditor); !slices.Equal(got, []string{mine.ID}) {
		t.Fatalf("after refused deletes: %v", got)
	}
	a.must(204, a.call(domain.RoleAuditor, "DELETE", "/v1/webhooks/"+mine.ID, nil, ""), nil)
	a.must(204, a.call(domain.RoleAdmin, "DELETE", "/v1/webhooks/"+theirs.ID, nil, ""), nil)
	if got := ids(nil, domain.RoleAdmin); len(got) != 0 {
		t.Fatalf("left after deletes: %v", got)
	}
}
