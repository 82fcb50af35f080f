package gateway

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// lossyVault loses the answer of the first Rectify after the privacy
// service carried it out (a connection cut between the two services).
type lossyVault struct {
	privacy.Vault
	lost atomic.Bool
}

func (v *lossyVault) Rectify(ctx context.Context, domain, pseudonym, oldRef, newRef string) error {
	if err := v.Vault.Rectify(ctx, domain, pseudonym, oldRef, newRef); err != nil {
		return err
	}
	if v.lost.CompareAndSwap(false, true) {
		return privacy.ErrUnavailable
	}
	return nil
}

func eventCodes(evs []domain.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Code)+"@"+e.MSPID)
	}
	return out
}

// TestRightsExportAndRectify: the asylum office exports a person's data
// (its references and pseudonyms on both channels, each case's timeline
// with the other agencies' steps, the mapping's history), rectifies a
// reference, and every refusal has its problem; the audit lines name
// action, token, role and request, never a reference or pseudonym.
func TestRightsExportAndRectify(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	lossy := &lossyVault{}
	bpA := newAgency(t, n, clock, bp, nil)
	aoA := newAgency(t, n, clock, ao, func(c *Config) { lossy.Vault = c.Vault; c.Vault = lossy })
	nat := bpA.register(domain.RoleCaseworker, "national", "BP-R1", "2026-11-27").Pseudonym
	bpA.must(200, bpA.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "BP-R1"},
		map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": "2026-11-27", "eurodacHit": "NONE"}), nil)
	aoA.must(200, aoA.call(domain.RoleCaseworker, "POST", "/v1/cases/bind", api.BindRequest{Channel: "national", Pseudonym: nat, LocalRef: "AO-R1"}, ""), nil)
	aoA.must(200, aoA.record(domain.RoleCaseworker, api.CaseRef{Channel: "national", LocalRef: "AO-R1"},
		map[string]any{"code": "FILE_CREATED", "occurredOn": "2026-11-27"}), nil)
	var dub api.WriteResponse
	aoA.must(201, aoA.call(domain.RoleDublinOfficer, "POST", "/v1/cases", api.RegisterRequest{Channel: "dublin", LocalRef: "AO-RD1",
		OccurredOn: "2026-11-27", LinkFrom: &api.CaseRef{Channel: "national", LocalRef: "AO-R1"}}, ""), &dub)
	other := aoA.register(domain.RoleCaseworker, "national", "AO-OTHER", "2026-11-27").Pseudonym

	var ex api.SubjectExport
	r := aoA.call(domain.RoleAdmin, "POST", "/v1/rights/export", api.ExportRequest{Channel: "national", LocalRef: "AO-R1"}, "-")
	aoA.must(200, r, &ex)
	exportID := r.header.Get("X-Request-Id")
	if ex.MSPID != ao || len(ex.Cases) != 2 {
		t.Fatalf("export: %+v", ex)
	}
	byCh := map[string]api.ExportedCase{}
	for _, c := range ex.Cases {
		byCh[c.Channel] = c
	}
	n1, d1 := byCh["national"], byCh["dublin"]
	if n1.Pseudonym != nat || !slices.Equal(n1.LocalRefs, []string{"AO-R1"}) || !n1.OnLedger || n1.Case == nil || n1.Case.Status != domain.Status("FILE_CREATED") {
		t.Fatalf("national entry: %+v", n1)
	}
	if got := eventCodes(n1.Timeline); !slices.Equal(got, []string{"CASE_REGISTERED@" + bp, "IDENTITY_CHECKED@" + bp, "CASE_BOUND@" + ao, "FILE_CREATED@" + ao}) {
		t.Fatalf("national timeline %v", got)
	}
	if d1.Pseudonym != dub.Pseudonym || !slices.Equal(d1.LocalRefs, []string{"AO-RD1"}) || !d1.OnLedger || len(d1.Timeline) != 1 || d1.Timeline[0].Code != domain.EvCaseRegistered {
		t.Fatalf("dublin entry: %+v", d1)
	}
	var actions []string
	for _, h := range ex.History {
		actions = append(actions, h.Action+"/"+h.Channel)
	}
	if !slices.Contains(actions, "linked/dublin") || len(ex.History) < 2 {
		t.Fatalf("history %v", actions)
	}

	// Rectify: the privacy service's answer is lost once (503, not final);
	// the retry with the same key finds the old reference gone and the new
	// one naming the case, and answers success.
	body := api.RectifyRequest{Channel: "national", LocalRef: "AO-R1", NewLocalRef: "AO-R1-FIXED"}
	r = aoA.call(domain.RoleAdmin, "POST", "/v1/rights/rectify", body, "rect-1")
	if p := r.problem(t); r.status != 503 || p.Code != api.CodePrivacyUnavailable {
		t.Fatalf("first attempt: %d %+v", r.status, p)
	}
	var rect api.RectifyResponse
	r = aoA.call(domain.RoleAdmin, "POST", "/v1/rights/rectify", body, "rect-1")
	aoA.must(200, r, &rect)
	rectID := r.header.Get("X-Request-Id")
	if rect.Pseudonym != nat || rect.Channel != "national" || strings.Contains(string(r.body), "AO-R1") {
		t.Fatalf("rectify: %s", r.body)
	}
	// A replay is the stored answer.
	r = aoA.call(domain.RoleAdmin, "POST", "/v1/rights/rectify", body, "rect-1")
	if r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %v", r.status, r.header)
	}
	var view api.CaseView
	aoA.must(200, aoA.call(domain.RoleCaseworker, "POST", "/v1/cases/state", api.CaseRef{Channel: "national", LocalRef: "AO-R1-FIXED"}, "-"), &view)
	if view.Case.Pseudonym != nat || !slices.Equal(view.LocalRefs, []string{"AO-R1-FIXED"}) {
		t.Fatalf("after rectify: %+v", view)
	}
	// The Dublin reference is another channel's: untouched.
	if p, err := aoA.vault.ResolveRef(t.Context(), "dublin", "AO-RD1"); err != nil || p != dub.Pseudonym {
		t.Fatalf("dublin mapping: %s %v", p, err)
	}
	if _, err := aoA.vault.ResolveRef(t.Context(), "national", "AO-R1"); !errors.Is(err, privacy.ErrNotFound) {
		t.Fatalf("old reference still resolves: %v", err)
	}

	for _, tc := range []struct {
		name   string
		role   domain.Role
		path   string
		body   any
		key    string
		status int
		code   string
	}{
		{"unknown reference", domain.RoleAdmin, "/v1/rights/rectify", api.RectifyRequest{Channel: "national", LocalRef: "AO-R1", NewLocalRef: "AO-R9"}, "", 404, api.CodeUnknownLocalRef},
		{"new reference taken", domain.RoleAdmin, "/v1/rights/rectify", api.RectifyRequest{Channel: "national", LocalRef: "AO-R1-FIXED", NewLocalRef: "AO-OTHER"}, "", 409, "CONFLICT"},
		{"same reference", domain.RoleAdmin, "/v1/rights/rectify", api.RectifyRequest{Channel: "national", LocalRef: "AO-R1-FIXED", NewLocalRef: "AO-R1-FIXED"}, "", 400, "INVALID_ARGUMENT"},
		{"empty new reference", domain.RoleAdmin, "/v1/rights/rectify", api.RectifyRequest{Channel: "national", LocalRef: "AO-R1-FIXED"}, "", 400, "INVALID_ARGUMENT"},
		{"reference too long", domain.RoleAdmin, "/v1/rights/rectify", api.RectifyRequest{Channel: "national", LocalRef: "AO-R1-FIXED", NewLocalRef: strings.Repeat("X", 300)}, "", 400, "INVALID_ARGUMENT"},
		{"unknown field", domain.RoleAdmin, "/v1/rights/rectify", map[string]any{"channel": "national", "localRef": "AO-R1-FIXED", "newLocalRef": "A-2", "x": 1}, "", 400, "INVALID_ARGUMENT"},
		{"not a channel", domain.RoleAdmin, "/v1/rights/rectify", api.RectifyRequest{Channel: "nope", LocalRef: "AO-R1-FIXED", NewLocalRef: "A-2"}, "", 400, "INVALID_ARGUMENT"},
		{"no idempotency key", domain.RoleAdmin, "/v1/rights/rectify", api.RectifyRequest{Channel: "national", LocalRef: "AO-R1-FIXED", NewLocalRef: "A-2"}, "-", 428, api.CodeIdempotencyKeyRequired},
		{"caseworker may not rectify", domain.RoleCaseworker, "/v1/rights/rectify", api.RectifyRequest{Channel: "national", LocalRef: "AO-R1-FIXED", NewLocalRef: "A-2"}, "", 403, "FORBIDDEN"},
		{"auditor may not export", domain.RoleAuditor, "/v1/rights/export", api.ExportRequest{Channel: "national", LocalRef: "AO-R1-FIXED"}, "-", 403, "FORBIDDEN"},
		{"export of an unknown reference", domain.RoleAdmin, "/v1/rights/export", api.ExportRequest{Channel: "national", LocalRef: "AO-R1"}, "-", 404, api.CodeUnknownLocalRef},
		{"export without reference", domain.RoleAdmin, "/v1/rights/export", api.ExportRequest{Channel: "national"}, "-", 400, "INVALID_ARGUMENT"},
	} {
		r := aoA.call(tc.role, "POST", tc.path, tc.body, tc.key)
		if p := r.problem(t); r.status != tc.status || p.Code != tc.code {
			t.Errorf("%s: %d %+v, want %d %s", tc.name, r.status, p, tc.status, tc.code)
		}
	}
	// Nothing of the refused calls changed a mapping.
	if p, err := aoA.vault.ResolveRef(t.Context(), "national", "AO-OTHER"); err != nil || p != other {
		t.Fatalf("AO-OTHER: %s %v", p, err)
	}

	// Audit lines: one per call that reached the handler, without values.
	logs := aoA.logs.String()
	var audit []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"log":"audit"`) {
			audit = append(audit, l)
		}
	}
	want := func(action, id, outcome string) {
		t.Helper()
		for _, l := range audit {
			if strings.Contains(l, `"action":"`+action+`"`) && strings.Contains(l, `"request":"`+id+`"`) &&
				strings.Contains(l, `"outcome":"`+outcome+`"`) && strings.Contains(l, `"role":"admin"`) &&
				strings.Contains(l, `"token":"tok-`) && strings.Contains(l, `"channel":"national"`) && strings.Contains(l, `"at":"2026-11-27T10:00:00Z"`) {
				return
			}
		}
		t.Errorf("no audit line %s %s %s in\n%s", action, id, outcome, strings.Join(audit, "\n"))
	}
	want("export", exportID, "OK")
	want("rectify", rectID, "OK")
	if len(audit) != 3+9 { // export, rectify twice (503, OK), the nine refusals past the role and key checks (the request log has the others)
		t.Errorf("%d audit lines:\n%s", len(audit), strings.Join(audit, "\n"))
	}
	for _, secret := range []string{"AO-R1", "AO-RD1", "AO-OTHER", "A-2", nat, dub.Pseudonym, other} {
		if strings.Contains(logs, secret) {
			t.Errorf("the gateway's logs carry %q", secret)
		}
	}
}
