package api

import (
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain"
)

// A hand-written configuration: everything but the visibility settings.
const handWrittenConfig = `{
  "membership": {"version": 1,
    "members": [
      {"mspId": "AsylumOfficeMSP", "kind": "asylum-office", "memberState": "DE", "dublinUnit": true},
      {"mspId": "BorderPoliceMSP", "kind": "border-police", "memberState": "DE", "dublinUnit": false},
      {"mspId": "AuditorMSP", "kind": "auditor", "dublinUnit": false}],
    "channels": [{"name": "national", "procedure": "national",
      "members": ["AsylumOfficeMSP", "BorderPoliceMSP", "AuditorMSP"],
      "governance": {"outOf": 2, "orgs": ["AsylumOfficeMSP", "BorderPoliceMSP"]}}]},
  "deadlines": {"ammrSwitchDate": "2026-07-01", "switchDayRegime": "AMMR",
    "pendingProcedure": "AMMR_LIMITS_FOR_REQUESTS_AFTER_SWITCH"}VISIBILITY
}`

// The secure default: a file that does not say refuses withheld details as public arguments; only
// an explicit false turns the refusal off.
func TestChaincodeConfigVisibilityDefaults(t *testing.T) {
	for _, c := range []struct {
		name, visibility string
		auditor          domain.AuditorAccess
		refuse           bool
		err              string
	}{
		{"no visibility object", ``, domain.AuditorHashes, true, ""},
		{"empty visibility object", `, "visibility": {}`, domain.AuditorHashes, true, ""},
		{"auditor only", `, "visibility": {"auditor": "details"}`, domain.AuditorDetails, true, ""},
		{"explicitly on", `, "visibility": {"refusePublicDetails": true}`, domain.AuditorHashes, true, ""},
		{"explicitly off", `, "visibility": {"auditor": "hashes", "refusePublicDetails": false}`, domain.AuditorHashes, false, ""},
		{"null switch", `, "visibility": {"refusePublicDetails": null}`, domain.AuditorHashes, true, ""},
		{"not a boolean", `, "visibility": {"refusePublicDetails": "no"}`, "", false, "refusePublicDetails"},
		{"unknown visibility field", `, "visibility": {"refuse": false}`, "", false, "unknown field"},
		{"bad auditor", `, "visibility": {"auditor": "everything"}`, "", false, "visibility.auditor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseChaincodeConfig([]byte(strings.Replace(handWrittenConfig, "VISIBILITY", c.visibility, 1)))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want an error mentioning %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Visibility.Auditor != c.auditor || cfg.Visibility.RefusePublicDetails != c.refuse {
				t.Fatalf("visibility %+v, want auditor %s refusePublicDetails %v", cfg.Visibility, c.auditor, c.refuse)
			}
			// What is written reads back the same, the switch included.
			b, err := cfg.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseChaincodeConfig(b)
			if err != nil || again.Visibility != cfg.Visibility {
				t.Fatalf("round trip: %+v %v", again.Visibility, err)
			}
		})
	}
}
