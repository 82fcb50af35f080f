package domain

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeEventInputAccepts(t *testing.T) {
	tests := []string{
		`{"vocabularyVersion":1,"code":"CASE_REGISTERED","occurredOn":"2026-03-02"}`,
		`{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE"}`,
		`{"vocabularyVersion":1,"code":"ALLOCATED","occurredOn":"2026-03-02","regionCode":"DE-BY"}`,
		`{"vocabularyVersion":1,"code":"DECISION_ISSUED","occurredOn":"2026-03-02","outcome":"REJECTED"}`,
		`{"vocabularyVersion":1,"code":"APPEAL_FILED","occurredOn":"2026-03-02","suspensive":false}`,
		`{"vocabularyVersion":1,"code":"APPEAL_DECIDED","occurredOn":"2026-03-02","appealOutcome":"DISMISSED"}`,
		`{"vocabularyVersion":1,"code":"CASE_CLOSED","occurredOn":"2026-03-02","closureReason":"DEPARTED"}`,
		`{"vocabularyVersion":1,"code":"DOCUMENT_ANCHORED","occurredOn":"2026-03-02","documentHash":"` + strings.Repeat("ab", 32) + `"}`,
		`{"vocabularyVersion":1,"code":"TAKE_CHARGE_REQUESTED","occurredOn":"2026-03-02","requestedMemberState":"AT","receivedOn":"2026-03-02","applicationRegisteredOn":"2026-02-10","evidence":"EURODAC_HIT","evidenceReceivedOn":"2026-02-20"}`,
		`{"vocabularyVersion":1,"code":"TAKE_CHARGE_REQUESTED","occurredOn":"2026-03-02","requestedMemberState":"AT","receivedOn":"2026-03-02","applicationRegisteredOn":"2026-02-10","evidence":"OTHER","urgent":true,"urgentReplyDue":"2026-03-20"}`,
		`{"vocabularyVersion":1,"code":"TRANSFER_DEADLINE_EXTENDED","occurredOn":"2026-03-02","extensionReason":"ABSCONDING"}`,
		`{"vocabularyVersion":1,"code":"TRANSFER_SCHEDULED","occurredOn":"2026-03-02","scheduledFor":"2026-04-01"}`,
	}
	for _, s := range tests {
		if _, err := DecodeEventInput([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestDecodeEventInputRefuses(t *testing.T) {
	base := `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE"`
	tests := []struct {
		name, in string
		kind     Kind
	}{
		{"unknown field", base + `,"priority":"HIGH"}`, KindInvalidArgument},
		{"name field", base + `,"name":"Max"}`, KindPersonalData},
		{"birth date field", base + `,"dateOfBirth":"1990-02-01"}`, KindPersonalData},
		{"nationality field", base + `,"nationality":"SY"}`, KindPersonalData},
		{"free text field", base + `,"comment":"ok"}`, KindPersonalData},
		{"unknown field with a name as value", base + `,"x":"Max Mustermann"}`, KindPersonalData},
		{"unknown code", `{"vocabularyVersion":1,"code":"PERSON_ARRESTED","occurredOn":"2026-03-02"}`, KindInvalidArgument},
		{"name as code", `{"vocabularyVersion":1,"code":"Max Mustermann","occurredOn":"2026-03-02"}`, KindPersonalData},
		{"wrong version", `{"vocabularyVersion":2,"code":"CASE_REGISTERED","occurredOn":"2026-03-02"}`, KindInvalidArgument},
		{"version missing", `{"code":"CASE_REGISTERED","occurredOn":"2026-03-02"}`, KindInvalidArgument},
		{"required field missing", `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02"}`, KindInvalidArgument},
		{"field not allowed for code", `{"vocabularyVersion":1,"code":"CASE_REGISTERED","occurredOn":"2026-03-02","regionCode":"DE-BY"}`, KindInvalidArgument},
		{"unknown value", `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"CATEGORY_3"}`, KindInvalidArgument},
		{"file number as region", `{"vocabularyVersion":1,"code":"ALLOCATED","occurredOn":"2026-03-02","regionCode":"BAMF-7654321-438"}`, KindPersonalData},
		{"town as region", `{"vocabularyVersion":1,"code":"ALLOCATED","occurredOn":"2026-03-02","regionCode":"Berlin"}`, KindPersonalData},
		{"e-mail as outcome", `{"vocabularyVersion":1,"code":"DECISION_ISSUED","occurredOn":"2026-03-02","outcome":"max@example.org"}`, KindPersonalData},
		{"national date notation", `{"vocabularyVersion":1,"code":"CASE_REGISTERED","occurredOn":"01.02.1990"}`, KindPersonalData},
		{"birth date as occurredOn", `{"vocabularyVersion":1,"code":"CASE_REGISTERED","occurredOn":"1990-02-01"}`, KindInvalidArgument},
		{"date with time", `{"vocabularyVersion":1,"code":"CASE_REGISTERED","occurredOn":"2026-03-02T10:00:00Z"}`, KindInvalidArgument},
		{"impossible date", `{"vocabularyVersion":1,"code":"CASE_REGISTERED","occurredOn":"2026-02-30"}`, KindInvalidArgument},
		{"hash upper case", `{"vocabularyVersion":1,"code":"DOCUMENT_ANCHORED","occurredOn":"2026-03-02","documentHash":"` + strings.Repeat("AB", 32) + `"}`, KindInvalidArgument},
		{"bool as string", `{"vocabularyVersion":1,"code":"APPEAL_FILED","occurredOn":"2026-03-02","suspensive":"yes"}`, KindInvalidArgument},
		{"name in a bool", `{"vocabularyVersion":1,"code":"APPEAL_FILED","occurredOn":"2026-03-02","suspensive":"Max Mustermann"}`, KindPersonalData},
		{"object value", base[:len(base)-len(`"eurodacHit":"NONE"`)] + `"eurodacHit":{"a":1}}`, KindInvalidArgument},
		{"array with a name", base[:len(base)-len(`"eurodacHit":"NONE"`)] + `"eurodacHit":["Max Mustermann"]}`, KindPersonalData},
		{"trailing data", base + `}{}`, KindInvalidArgument},
		{"not an object", `["CASE_REGISTERED"]`, KindInvalidArgument},
		{"null", `null`, KindInvalidArgument},
		{"free text not JSON", `Max Mustermann, born 01.02.1990`, KindPersonalData},
		{"long payload", base + `,"x":"` + strings.Repeat("a", 5000) + `"}`, KindPersonalData},
		{"zero-width in code", `{"vocabularyVersion":1,"code":"CASE_REGISTERED\u200b","occurredOn":"2026-03-02"}`, KindPersonalData},
		{"homoglyph code", `{"vocabularyVersion":1,"code":"CASE_REGІSTERED","occurredOn":"2026-03-02"}`, KindPersonalData},
		{"evidence hit without date", `{"vocabularyVersion":1,"code":"TAKE_BACK_NOTIFIED","occurredOn":"2026-08-03","requestedMemberState":"AT","receivedOn":"2026-08-03","applicationRegisteredOn":"2026-07-10","evidence":"EURODAC_HIT"}`, KindInvalidArgument},
		{"urgent without due", `{"vocabularyVersion":1,"code":"TAKE_CHARGE_REQUESTED","occurredOn":"2026-03-02","requestedMemberState":"AT","receivedOn":"2026-03-02","applicationRegisteredOn":"2026-02-10","evidence":"OTHER","urgent":true}`, KindInvalidArgument},
		{"lower-case member state", `{"vocabularyVersion":1,"code":"TAKE_BACK_NOTIFIED","occurredOn":"2026-08-03","requestedMemberState":"at","receivedOn":"2026-08-03","applicationRegisteredOn":"2026-07-10","evidence":"OTHER"}`, KindInvalidArgument},
		{"country name", `{"vocabularyVersion":1,"code":"TAKE_BACK_NOTIFIED","occurredOn":"2026-08-03","requestedMemberState":"Austria","receivedOn":"2026-08-03","applicationRegisteredOn":"2026-07-10","evidence":"OTHER"}`, KindPersonalData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEventInput([]byte(tc.in))
			if err == nil {
				t.Fatal("accepted")
			}
			if KindOf(err) != tc.kind {
				t.Fatalf("got %v, want %s", err, tc.kind)
			}
			for _, w := range []string{"Max", "Mustermann", "BAMF", "example.org", "1990", "Berlin", "Austria"} {
				if strings.Contains(err.Error(), w) {
					t.Fatalf("error %q echoes input %q", err, w)
				}
			}
		})
	}
}

// allowedString: the only strings an accepted payload may contain.
func allowedString(s string) bool {
	if IsUUIDv4(s) || IsHash64(s) || IsMemberState(s) || IsRegionCode(s) {
		return true
	}
	if _, ok := parseISODate(s); ok {
		return true
	}
	for _, spec := range Vocabulary() {
		if string(spec.Code) == s {
			return true
		}
	}
	for _, l := range [][]string{
		strs(EurodacHits()), strs(Outcomes()), strs(AppealOutcomes()), strs(ExtensionReasons()),
		strs(Evidences()), strs(DocumentTypes()), strs(ClosureReasons()),
	} {
		for _, v := range l {
			if v == s {
				return true
			}
		}
	}
	return false
}

func strs[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func FuzzDecodeEventInput(f *testing.F) {
	f.Add([]byte(`{"vocabularyVersion":1,"code":"CASE_REGISTERED","occurredOn":"2026-03-02"}`))
	f.Add([]byte(`{"vocabularyVersion":1,"code":"ALLOCATED","occurredOn":"2026-03-02","regionCode":"DE-BY"}`))
	f.Add([]byte(`{"vocabularyVersion":1,"code":"TAKE_CHARGE_REQUESTED","occurredOn":"2026-03-02","requestedMemberState":"AT","receivedOn":"2026-03-02","applicationRegisteredOn":"2026-02-10","evidence":"VIS_HIT","evidenceReceivedOn":"2026-02-20","urgent":false}`))
	f.Add([]byte(`{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE","name":"Max"}`))
	f.Add([]byte(`{"vocabularyVersion":1,"code":"DOCUMENT_ANCHORED","occurredOn":"2026-03-02","documentHash":"` + strings.Repeat("0f", 32) + `","documentType":"DECISION"}`))
	f.Add([]byte(`Max Mustermann`))
	f.Add([]byte(`{"code":"\u0000"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := DecodeEventInput(data)
		if err != nil {
			if k := KindOf(err); k != KindInvalidArgument && k != KindPersonalData {
				t.Fatalf("error kind %s: %v", k, err)
			}
			return
		}
		// Invariant: an accepted payload holds only allowed strings.
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var generic map[string]any
		if err := json.Unmarshal(b, &generic); err != nil {
			t.Fatal(err)
		}
		for k, v := range generic {
			if s, ok := v.(string); ok && !allowedString(s) {
				t.Fatalf("accepted %s=%q", k, s)
			}
		}
		// And it decodes again to the same input.
		in2, err := DecodeEventInput(b)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		b2, _ := json.Marshal(in2)
		if string(b) != string(b2) {
			t.Fatal("round trip changed the payload")
		}
	})
}
