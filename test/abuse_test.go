package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Bad input and abuse against the gateway API: every request gets the documented problem
// (status and stable code, application/problem+json) and leaves no trace on the ledger — the
// auditor's reads show the case unchanged, the channels' heights do not move, refused local
// references have no mapping, and the final block scan finds none of the identifiers sent.

// rawCall is one HTTP request built byte by byte.
type rawCall struct {
	token       string // "" sends no Authorization header
	method      string
	path        string
	contentType string
	body        []byte
	key         string // Idempotency-Key; "" sends none
	header      http.Header
}

func (a *gwAPI) raw(c rawCall) gwResp {
	a.t.Helper()
	req, err := http.NewRequest(c.method, a.info.URL+c.path, bytes.NewReader(c.body))
	if err != nil {
		a.t.Fatal(err)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.key != "" {
		req.Header.Set("Idempotency-Key", c.key)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	res, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return gwResp{status: res.StatusCode, header: res.Header, body: b}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ledgerHeights reads both channels' heights as the auditor's peer (or ledger) has them.
func ledgerHeights(t *testing.T) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, ch := range []string{"national", "dublin"} {
		h, err := cluster.Height(context.Background(), "auditor", ch)
		if err != nil {
			t.Fatal(err)
		}
		out[ch] = h
	}
	return out
}

func TestAbuseBadInputLeavesNoTrace(t *testing.T) {
	bp, ao, ia, aud := gatewayOf(t, "border-police"), gatewayOf(t, "asylum-office"), gatewayOf(t, "immigration-authority"), gatewayOf(t, "auditor")

	// A case at IDENTITY_CHECKED that the asylum office knows under its own reference.
	bpRef, aoRef := gwRef("BPX"), gwRef("AOX")
	var reg gwWrite
	bp.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": bpRef, "occurredOn": today()}, &reg)
	bp.ok(http.StatusOK, "caseworker", "POST", "/v1/cases/events", map[string]any{"channel": "national", "localRef": bpRef,
		"event": map[string]any{"code": "IDENTITY_CHECKED", "occurredOn": today(), "eurodacHit": "NONE"}}, nil)
	eventually(t, 20*time.Second, "asylum office binds", func(context.Context) error {
		if r := ao.do("caseworker", "POST", "/v1/cases/bind", map[string]any{"channel": "national", "pseudonym": reg.Pseudonym, "localRef": aoRef}, ""); r.status != http.StatusOK {
			return fmt.Errorf("bind: %d %s", r.status, r.body)
		}
		return nil
	})
	personal := []string{"Amina Haddad", "Haddad, Amina", "1994-03-12", "amina.haddad@example.org", "+49 30 1234567", "BAMF-7654321-438", "Straße des 17. Juni 135"}
	noteRealIdentifiers(personal...)

	aoTok, bpTok := ao.info.Tokens["caseworker"], bp.info.Tokens["caseworker"]
	event := func(ev map[string]any) []byte {
		return mustJSON(t, map[string]any{"channel": "national", "localRef": aoRef, "event": ev})
	}
	fresh := gwRef("AOF") // never registered: refused registrations must not create it
	big := strings.Repeat("A", 70<<10)
	tests := []struct {
		name       string
		gw         *gwAPI
		call       rawCall
		wantStatus int
		wantCode   string
	}{
		{"malformed JSON", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: []byte(`{"channel":"national","localRef":`)}, 400, "INVALID_ARGUMENT"},
		{"trailing data", ao, rawCall{token: aoTok, path: "/v1/cases", body: append(mustJSON(t, map[string]any{"channel": "national", "localRef": fresh, "occurredOn": today()}), []byte(`{}`)...)}, 400, "INVALID_ARGUMENT"},
		{"JSON array instead of object", ao, rawCall{token: aoTok, path: "/v1/cases", body: []byte(`[1,2,3]`)}, 400, "INVALID_ARGUMENT"},
		{"empty body", ao, rawCall{token: aoTok, path: "/v1/cases/events"}, 400, "INVALID_ARGUMENT"},
		{"not JSON", ao, rawCall{token: aoTok, path: "/v1/cases", contentType: "text/plain", body: []byte("register " + fresh)}, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"oversized body", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": today(), "regionCode": big})}, 413, "PAYLOAD_TOO_LARGE"},
		{"oversized local reference", ao, rawCall{token: aoTok, path: "/v1/cases", body: mustJSON(t, map[string]any{"channel": "national", "localRef": strings.Repeat("F", 300), "occurredOn": today()})}, 400, "INVALID_ARGUMENT"},
		{"date as a number", ao, rawCall{token: aoTok, path: "/v1/cases", body: []byte(`{"channel":"national","localRef":"` + fresh + `","occurredOn":20261127}`)}, 400, "INVALID_ARGUMENT"},
		{"local reference as an object", ao, rawCall{token: aoTok, path: "/v1/cases", body: []byte(`{"channel":"national","localRef":{"id":1},"occurredOn":"` + today() + `"}`)}, 400, "INVALID_ARGUMENT"},
		{"event as a string", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: mustJSON(t, map[string]any{"channel": "national", "localRef": aoRef, "event": "FILE_CREATED"})}, 400, "INVALID_ARGUMENT"},
		{"boolean where a code belongs", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "ALLOCATED", "occurredOn": today(), "regionCode": true})}, 400, "INVALID_ARGUMENT"},
		{"not a date", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": "yesterday"})}, 400, "INVALID_ARGUMENT"},
		{"date in the future", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": "2099-01-01"})}, 400, "INVALID_ARGUMENT"},
		{"unknown event code", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "CASE_TELEPORTED", "occurredOn": today()})}, 400, "INVALID_ARGUMENT"},
		{"lower-case event code", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "file_created", "occurredOn": today()})}, 400, "INVALID_ARGUMENT"},
		{"system event submitted", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "IMPLICITLY_ACCEPTED", "occurredOn": today()})}, 400, "INVALID_ARGUMENT"},
		{"event of the other channel", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "TRANSFER_COMPLETED", "occurredOn": today()})}, 400, "INVALID_ARGUMENT"},
		{"unknown vocabulary version", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"vocabularyVersion": 99, "code": "FILE_CREATED", "occurredOn": today()})}, 400, "INVALID_ARGUMENT"},
		{"unknown field in the request", ao, rawCall{token: aoTok, path: "/v1/cases", body: mustJSON(t, map[string]any{"channel": "national", "localRef": fresh, "occurredOn": today(), "applicantId": 7})}, 400, "INVALID_ARGUMENT"},
		{"unknown channel", ao, rawCall{token: aoTok, path: "/v1/cases", body: mustJSON(t, map[string]any{"channel": "secret", "localRef": fresh, "occurredOn": today()})}, 400, "INVALID_ARGUMENT"},
		{"name where a code belongs", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "ALLOCATED", "occurredOn": today(), "regionCode": personal[1]})}, 422, "PERSONAL_DATA"},
		{"name in an extra field", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": today(), "name": personal[0]})}, 422, "PERSONAL_DATA"},
		{"birth date in an extra field", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": today(), "birthDate": personal[2]})}, 422, "PERSONAL_DATA"},
		{"e-mail where a code belongs", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "DECISION_ISSUED", "occurredOn": today(), "outcome": personal[3]})}, 422, "PERSONAL_DATA"},
		{"address as free text", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "ALLOCATED", "occurredOn": today(), "regionCode": personal[6]})}, 422, "PERSONAL_DATA"},
		{"file number as pseudonym", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: mustJSON(t, map[string]any{"channel": "national", "pseudonym": personal[5], "event": map[string]any{"code": "FILE_CREATED", "occurredOn": today()}})}, 422, "PERSONAL_DATA"},
		{"unknown local reference", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: mustJSON(t, map[string]any{"channel": "national", "localRef": fresh, "event": map[string]any{"code": "FILE_CREATED", "occurredOn": today()}})}, 404, "UNKNOWN_LOCAL_REF"},
		{"no Idempotency-Key", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": today()}), key: "-"}, 428, "IDEMPOTENCY_KEY_REQUIRED"},
		{"no token", ao, rawCall{path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": today()})}, 401, "UNAUTHENTICATED"},
		{"forged token", ao, rawCall{token: "clg_" + strings.Repeat("0", 40), path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": today()})}, 401, "UNAUTHENTICATED"},
		{"another agency's token", ao, rawCall{token: bpTok, path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": today()})}, 401, "UNAUTHENTICATED"},
		{"role without the right (Dublin officer, national file)", ao, rawCall{token: ao.info.Tokens["dublin-officer"], path: "/v1/cases/events", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": today()})}, 403, "FORBIDDEN"},
		{"agency without the right (immigration authority creates the file)", ia, rawCall{token: ia.info.Tokens["caseworker"], path: "/v1/cases/events", body: mustJSON(t, map[string]any{"channel": "national", "pseudonym": reg.Pseudonym, "event": map[string]any{"code": "FILE_CREATED", "occurredOn": today()}})}, 403, "FORBIDDEN"},
		{"auditor writing", aud, rawCall{token: aud.info.Tokens["auditor"], path: "/v1/cases/events", body: mustJSON(t, map[string]any{"channel": "national", "pseudonym": reg.Pseudonym, "event": map[string]any{"code": "FILE_CREATED", "occurredOn": today()}})}, 403, "FORBIDDEN"},
		{"step out of order", ao, rawCall{token: aoTok, path: "/v1/cases/events", body: event(map[string]any{"code": "DECISION_ISSUED", "occurredOn": today(), "outcome": "REJECTED"})}, 409, "INVALID_TRANSITION"},
		{"registered twice", bp, rawCall{token: bpTok, path: "/v1/cases", body: mustJSON(t, map[string]any{"channel": "national", "localRef": bpRef, "occurredOn": today()})}, 409, "ALREADY_EXISTS"},
		{"unknown route", ao, rawCall{token: aoTok, path: "/v1/cases/delete", body: event(map[string]any{"code": "FILE_CREATED", "occurredOn": today()})}, 404, "ROUTE_NOT_FOUND"},
		{"wrong method", ao, rawCall{token: aoTok, method: http.MethodDelete, path: "/v1/cases/events"}, 405, "METHOD_NOT_ALLOWED"},
	}
	before := ledgerHeights(t)
	seqBefore := getCase(t, "auditor", "auditor", "national", reg.Pseudonym).Seq
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.call
			if c.method == "" {
				c.method = http.MethodPost
			}
			if c.contentType == "" && c.body != nil {
				c.contentType = "application/json"
			}
			switch c.key {
			case "":
				c.key = uuid.NewString()
			case "-":
				c.key = ""
			}
			r := tc.gw.raw(c)
			if r.status != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if p := r.problem(t); p.Code != tc.wantCode || p.Status != tc.wantStatus {
				t.Fatalf("problem %+v, want %s", p, tc.wantCode)
			}
			for _, id := range personal {
				if bytes.Contains(r.body, []byte(id)) {
					t.Fatalf("the answer echoes a refused value: %s", r.body)
				}
			}
		})
	}
	// No trace: the auditor sees the case as it was, no block was added, and the fresh local
	// reference of the refused registrations maps to nothing.
	if got := getCase(t, "auditor", "auditor", "national", reg.Pseudonym); got.Seq != seqBefore || got.Status != "IDENTITY_CHECKED" {
		t.Fatalf("after the refusals the case is %+v, was seq %d", got, seqBefore)
	}
	if after := ledgerHeights(t); after["national"] != before["national"] || after["dublin"] != before["dublin"] {
		t.Fatalf("refused requests changed the ledger: heights %v -> %v", before, after)
	}
	if r := ao.do("caseworker", "POST", "/v1/cases/state", map[string]any{"channel": "national", "localRef": fresh}, ""); r.status != http.StatusNotFound || r.problem(t).Code != "UNKNOWN_LOCAL_REF" {
		t.Fatalf("a refused registration left a mapping: %d %s", r.status, r.body)
	}
}
