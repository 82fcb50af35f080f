package test

import (
	"net/http"
	"slices"
	"testing"
)

// TestGatewayHolidayCalendars: a Dublin unit keeps its member state's holiday calendar on the ledger
// through its gateway; the other member state reads it; wrong roles and bad dates are refused.
// (Year 2031, so no deadline computed by the other tests can fall on these days.)
func TestGatewayHolidayCalendars(t *testing.T) {
	at := gatewayOf(t, "partner-state")
	de := gatewayOf(t, "asylum-office")
	dates := []string{"2031-01-01", "2031-01-06", "2031-12-25", "2031-12-26"}

	var cal struct {
		MemberState string   `json:"memberState"`
		Year        int      `json:"year"`
		Holidays    []string `json:"holidays"`
		SetBy       string   `json:"setBy"`
	}
	// Given out of order: the gateway stores the canonical ascending calendar.
	unordered := []string{dates[2], dates[0], dates[3], dates[1]}
	at.ok(http.StatusOK, "dublin-officer", http.MethodPost, "/v1/dublin/holidays", map[string]any{"year": 2031, "dates": unordered}, &cal)
	if cal.MemberState != "AT" || cal.Year != 2031 || !slices.Equal(cal.Holidays, dates) || cal.SetBy != "PartnerStateMSP" {
		t.Fatalf("recorded %+v", cal)
	}
	// The other member state reads Austria's calendar from its own peer.
	de.ok(http.StatusOK, "dublin-officer", http.MethodGet, "/v1/dublin/holidays?memberState=AT&year=2031", nil, &cal)
	if !slices.Equal(cal.Holidays, dates) {
		t.Fatalf("asylum office reads %+v", cal)
	}
	// A caseworker may not keep the calendar; a date outside the year and a non-date are refused.
	for _, tc := range []struct {
		role   string
		body   map[string]any
		status int
		code   string
	}{
		{"caseworker", map[string]any{"year": 2031, "dates": dates}, http.StatusForbidden, ""},
		{"dublin-officer", map[string]any{"year": 2031, "dates": []string{"2032-01-01"}}, http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"dublin-officer", map[string]any{"year": 2031, "dates": []string{"Christmas"}}, http.StatusBadRequest, "INVALID_ARGUMENT"},
		{"dublin-officer", map[string]any{"year": 2031, "dates": dates, "note": "free text"}, http.StatusBadRequest, "INVALID_ARGUMENT"},
	} {
		r := de.do(tc.role, http.MethodPost, "/v1/dublin/holidays", tc.body, "")
		if r.status != tc.status {
			t.Fatalf("%s %v: %d %s, want %d", tc.role, tc.body, r.status, r.body, tc.status)
		}
		if p := r.problem(t); tc.code != "" && p.Code != tc.code {
			t.Fatalf("%s %v: code %s, want %s", tc.role, tc.body, p.Code, tc.code)
		}
	}
	// Germany's calendar for 2031 was never recorded.
	if r := de.do("dublin-officer", http.MethodGet, "/v1/dublin/holidays?year=2031", nil, ""); r.status != http.StatusNotFound {
		t.Fatalf("unrecorded calendar: %d %s", r.status, r.body)
	}
}
