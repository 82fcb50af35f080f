package test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/domain"
)

// TestGatewayNationalProcedure drives a national case through three
// agencies' gateways over HTTPS: registration by local reference (the
// pseudonym is the privacy service's), events by local reference, another
// agency binding its own reference, reads and lists that show each agency
// only its own references, and role refusals.
func TestGatewayNationalProcedure(t *testing.T) {
	bpGw, aoGw, iaGw := gatewayOf(t, "border-police"), gatewayOf(t, "asylum-office"), gatewayOf(t, "immigration-authority")
	bpRef, aoRef := gwRef("BP"), gwRef("AO")

	var reg gwWrite
	bpGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases",
		map[string]any{"channel": "national", "localRef": bpRef, "occurredOn": today()}, &reg)
	if reg.Code != "CASE_REGISTERED" || reg.Status != "REGISTERED" || reg.Seq != 1 || !domain.IsUUIDv4(reg.Pseudonym) || reg.TxID == "" || reg.BlockNumber == 0 {
		t.Fatalf("register: %+v", reg)
	}
	// The pseudonym on the ledger is the one the border police's privacy service holds for the
	// reference.
	vault, err := cluster.Vault("border-police")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := vault.ResolveRef(context.Background(), "national", bpRef); err != nil || p != reg.Pseudonym {
		t.Fatalf("the privacy service has %q (%v), the ledger %q", p, err, reg.Pseudonym)
	}
	var ev gwWrite
	bpGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/events", map[string]any{
		"channel": "national", "localRef": bpRef,
		"event": map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": today(), "eurodacHit": "NONE"},
	}, &ev)
	if ev.Seq != 2 || ev.Pseudonym != reg.Pseudonym || ev.BlockNumber <= reg.BlockNumber {
		t.Fatalf("identity check: %+v after %+v", ev, reg)
	}

	// The asylum office receives the pseudonym with the file and binds its own reference: it
	// becomes a holder on the ledger (CASE_BOUND, seq 3).
	var bound struct {
		Holder bool    `json:"holder"`
		Event  gwWrite `json:"event"`
	}
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/bind",
		map[string]any{"channel": "national", "pseudonym": reg.Pseudonym, "localRef": aoRef}, &bound)
	if !bound.Holder || bound.Event.Code != "CASE_BOUND" || bound.Event.Seq != 3 {
		t.Fatalf("bind: %+v", bound)
	}
	// A pseudonym that is not on the ledger cannot be bound.
	r := aoGw.do("caseworker", "POST", "/v1/cases/bind", map[string]any{"channel": "national", "pseudonym": uuid.NewString(), "localRef": gwRef("AO")}, "")
	if p := r.problem(t); r.status != http.StatusNotFound || p.Code != "NOT_FOUND" {
		t.Fatalf("bind of an unknown pseudonym: %d %+v", r.status, p)
	}
	// Border police may not create the file (workflow: asylum office only).
	r = bpGw.do("caseworker", "POST", "/v1/cases/events", map[string]any{
		"channel": "national", "localRef": bpRef, "event": map[string]any{"code": "FILE_CREATED", "occurredOn": today()},
	}, "")
	if p := r.problem(t); r.status != http.StatusForbidden || p.Code != "FORBIDDEN" {
		t.Fatalf("border police FILE_CREATED: %d %+v", r.status, p)
	}
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/events", map[string]any{
		"channel": "national", "localRef": aoRef, "event": map[string]any{"code": "FILE_CREATED", "occurredOn": today()},
	}, &ev)
	if ev.Status != "FILE_CREATED" || ev.Seq != 4 {
		t.Fatalf("file created: %+v", ev)
	}

	// Each agency sees its own reference, never another's.
	for _, tc := range []struct {
		gw   *gwAPI
		body map[string]any
		refs []string
	}{
		{bpGw, map[string]any{"channel": "national", "localRef": bpRef}, []string{bpRef}},
		{aoGw, map[string]any{"channel": "national", "localRef": aoRef}, []string{aoRef}},
		{iaGw, map[string]any{"channel": "national", "pseudonym": reg.Pseudonym}, []string{}},
	} {
		var v gwCaseView
		tc.gw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/state", tc.body, &v)
		if v.Case.Status != "FILE_CREATED" || v.Case.Pseudonym != reg.Pseudonym || !slices.Equal(v.LocalRefs, tc.refs) {
			t.Fatalf("%s state: %+v refs %v, want refs %v", tc.gw.org, v.Case, v.LocalRefs, tc.refs)
		}
		if !slices.Equal(v.Case.Holders, []string{"AsylumOfficeMSP", "BorderPoliceMSP"}) {
			t.Fatalf("%s: holders %v", tc.gw.org, v.Case.Holders)
		}
	}
	var tl struct {
		Items []struct {
			Code  string `json:"code"`
			MSPID string `json:"mspId"`
		} `json:"items"`
		LocalRefs []string `json:"localRefs"`
	}
	aoGw.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/timeline", map[string]any{"channel": "national", "localRef": aoRef}, &tl)
	var codes []string
	for _, it := range tl.Items {
		codes = append(codes, it.Code+"@"+it.MSPID)
	}
	if !slices.Equal(codes, []string{"CASE_REGISTERED@BorderPoliceMSP", "IDENTITY_CHECKED@BorderPoliceMSP", "CASE_BOUND@AsylumOfficeMSP", "FILE_CREATED@AsylumOfficeMSP"}) ||
		!slices.Equal(tl.LocalRefs, []string{aoRef}) {
		t.Fatalf("timeline %v, references %v", codes, tl.LocalRefs)
	}
	// The border police lists its cases by status, with its own reference.
	found := false
	for bm := ""; !found; {
		var list struct {
			Items    []gwCaseView `json:"items"`
			Bookmark string       `json:"bookmark"`
		}
		bpGw.ok(http.StatusOK, "caseworker", "GET", "/v1/cases?channel=national&status=FILE_CREATED&pageSize=100&bookmark="+bm, nil, &list)
		found = slices.ContainsFunc(list.Items, func(v gwCaseView) bool {
			return v.Case.Pseudonym == reg.Pseudonym && slices.Equal(v.LocalRefs, []string{bpRef})
		})
		if list.Bookmark == "" || len(list.Items) == 0 {
			break
		}
		bm = list.Bookmark
	}
	if !found {
		t.Fatal("the case is not listed by its status")
	}

	// Role refusals at the gateway: the auditor never writes, a caseworker
	// does not audit, and no token means no access.
	audGw := gatewayOf(t, "auditor")
	r = audGw.do("auditor", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": "X-1", "occurredOn": today()}, "")
	if p := r.problem(t); r.status != http.StatusForbidden || p.Code != "FORBIDDEN" {
		t.Fatalf("auditor write: %d %+v", r.status, p)
	}
	r = aoGw.do("caseworker", "GET", "/v1/audit/late?channel=national", nil, "")
	if p := r.problem(t); r.status != http.StatusForbidden || p.Code != "FORBIDDEN" {
		t.Fatalf("caseworker audit: %d %+v", r.status, p)
	}
	r = aoGw.do("", "GET", "/v1/whoami", nil, "")
	if p := r.problem(t); r.status != http.StatusUnauthorized || p.Code != "UNAUTHENTICATED" {
		t.Fatalf("no token: %d %+v", r.status, p)
	}
	// A token of one agency is worthless at another agency's gateway.
	foreign := *bpGw
	foreign.info.Tokens = aoGw.info.Tokens
	if r := foreign.do("caseworker", "GET", "/v1/whoami", nil, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("asylum office token at border police: %d", r.status)
	}
	// The asylum office's Dublin officer may read national cases but not
	// record national workflow events.
	r = aoGw.do("dublin-officer", "POST", "/v1/cases/events", map[string]any{
		"channel": "national", "localRef": aoRef, "event": map[string]any{"code": "ALLOCATED", "occurredOn": today(), "regionCode": "DE-BY"},
	}, "")
	if p := r.problem(t); r.status != http.StatusForbidden || p.Code != "FORBIDDEN" {
		t.Fatalf("dublin officer national event: %d %+v", r.status, p)
	}
	var who struct {
		MSPID string `json:"mspId"`
		Role  string `json:"role"`
	}
	aoGw.ok(http.StatusOK, "dublin-officer", "GET", "/v1/whoami", nil, &who)
	if who.MSPID != "AsylumOfficeMSP" || who.Role != "dublin-officer" {
		t.Fatalf("whoami %+v", who)
	}
}
