//go:build integration

package test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/peer"

	"github.com/caseledger/caseledger/domain"
)

// TestAdversarialCanonicalArguments (issue 11, finding 1): a member that talks to the peers itself
// sends event payloads that decode to a valid event but are not its canonical encoding — duplicate
// keys whose first value is personal data, whitespace, key order, escapes, case-folded keys. Every
// peer must refuse each, so the bytes that would go into a block are only ever the bytes that were
// checked. The canonical payload, sent last, is accepted: the refusals were about the form alone.
func TestAdversarialCanonicalArguments(t *testing.T) {
	f := fixture(t)
	a := newAdversary(t)
	bp := signerOf(t, "border-police", "caseworker")
	endorsers := []string{"border-police", "asylum-office"}

	// A case of its own, registered with canonical arguments over the raw path: the control that
	// the harness can write at all.
	p := newID()
	if _, code, _ := a.submit(a.propose(bp, "national", time.Now(), "cases:RegisterCase", strArgs(newID(), p, today())...), endorsers...); code != peer.TxValidationCode_VALID {
		t.Fatalf("honest registration over the raw path: %s", code)
	}
	w := f.w
	w.add("national", p)
	before := w.snapshot(t)

	pd := personalData
	escaped := `\u004c\u0065\u0079\u006c\u0061 \u0052\u0061\u0068\u0069\u006d\u0069` // "Leyla Rahimi", escaped
	noteMarkers(pd.name, pd.birth, pd.fileNo, pd.email, pd.all, escaped)
	// The base is a payload an honest client sends as it is: a coded field that stays on the
	// channel (a withheld detail as an argument is refused for that reason alone, since
	// visibility.refusePublicDetails, so it would not test the variants).
	d := today()
	good := canonical(t, domain.EventInput{Code: domain.EvHearingScheduled, OccurredOn: d, EventFields: domain.EventFields{ScheduledFor: d}})
	head := `{"vocabularyVersion":1,"code":"HEARING_SCHEDULED","occurredOn":"` + d + `"`
	field := `"scheduledFor":"` + d + `"`
	variants := []struct{ name, payload string }{
		{"duplicate key, personal data first", head + `,"scheduledFor":"` + pd.all + `",` + field + `}`},
		{"duplicate key, name first", head + `,"scheduledFor":"` + pd.name + `",` + field + `}`},
		{"duplicate occurredOn, birth date first", `{"vocabularyVersion":1,"code":"HEARING_SCHEDULED","occurredOn":"` + pd.birth + `","occurredOn":"` + d + `",` + field + `}`},
		{"duplicate code, e-mail first", `{"vocabularyVersion":1,"code":"` + pd.email + `","code":"HEARING_SCHEDULED","occurredOn":"` + d + `",` + field + `}`},
		{"duplicate vocabularyVersion, file number first", `{"vocabularyVersion":"` + pd.fileNo + `","vocabularyVersion":1,"code":"HEARING_SCHEDULED","occurredOn":"` + d + `",` + field + `}`},
		{"duplicate key, same value", head + `,` + field + `,` + field + `}`},
		{"duplicate key, escaped name first", head + `,"scheduledFor":"` + escaped + `",` + field + `}`},
		{"case-folded duplicate key, name first", head + `,"SCHEDULEDFOR":"` + pd.name + `",` + field + `}`},
		{"case-folded key", head + `,"ScheduledFor":"` + d + `"}`},
		{"key order", `{"code":"HEARING_SCHEDULED","vocabularyVersion":1,"occurredOn":"` + d + `",` + field + `}`},
		{"space after colon", strings.Replace(good, `"code":`, `"code": `, 1)},
		{"leading space", " " + good},
		{"trailing newline", good + "\n"},
		{"pretty-printed", strings.NewReplacer(`{`, "{\n  ", `,`, ",\n  ", `}`, "\n}").Replace(good)},
		{"byte order mark", "\ufeff" + good},
		{"escaped letter in a code", strings.Replace(good, `"HEARING_SCHEDULED"`, `"\u0048EARING_SCHEDULED"`, 1)},
		{"escaped underscore in the code", strings.Replace(good, `"HEARING_SCHEDULED"`, `"HEARING\u005fSCHEDULED"`, 1)},
		{"number as 1.0", strings.Replace(good, `:1,`, `:1.0,`, 1)},
		{"number as 1e0", strings.Replace(good, `:1,`, `:1e0,`, 1)},
		{"null field", strings.Replace(good, `}`, `,"regionCode":null}`, 1)},
		{"empty optional field", strings.Replace(good, `}`, `,"regionCode":""}`, 1)},
		{"trailing NUL", good + "\x00"},
		{"invalid UTF-8 in a value", strings.Replace(good, field, `"scheduledFor":"`+d+"\xff\"", 1)},
		{"second JSON value", good + `{"scheduledFor":"` + pd.name + `"}`},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			a := a.in(t)
			if v.payload == good {
				t.Fatalf("variant equals the canonical payload %s", good)
			}
			a.expectRefused(a.propose(bp, "national", time.Now(), "cases:RecordEvent", strArgs(newID(), p, v.payload)...),
				"INVALID_ARGUMENT|PERSONAL_DATA", endorsers...)
		})
	}

	// Every other argument is canonical too: UUIDs in lower case, dates exactly YYYY-MM-DD,
	// page sizes as plain decimals, the holiday list as its canonical JSON.
	upper := strings.ToUpper(newID())
	other := []struct {
		name, ch string
		who      *advSigner
		fn       string
		args     []string
	}{
		{"upper-case pseudonym", "national", bp, "cases:RegisterCase", []string{newID(), upper, d}},
		{"pseudonym with a space", "national", bp, "cases:RegisterCase", []string{newID(), " " + newID(), d}},
		{"upper-case request id", "national", bp, "cases:RecordEvent", []string{upper, p, good}},
		{"request id in braces", "national", bp, "cases:RecordEvent", []string{"{" + newID() + "}", p, good}},
		{"date with a space", "national", bp, "cases:RegisterCase", []string{newID(), newID(), " " + d}},
		{"date as a timestamp", "national", bp, "cases:RegisterCase", []string{newID(), newID(), d + "T00:00:00Z"}},
		{"page size with a leading zero (read)", "national", bp, "cases:GetTimeline", []string{p, "", "010"}},
		{"page size with a sign (read)", "national", bp, "cases:GetTimeline", []string{p, "", "+10"}},
		{"upper-case pseudonym (read)", "national", bp, "cases:GetCase", []string{strings.ToUpper(p)}},
		{"holiday list with spaces", "dublin", signerOf(t, "partner-state", "dublin-officer"), "dublin:SetHolidays",
			[]string{newID(), "AT", "2027", `["2027-01-01", "2027-01-06"]`}},
	}
	for _, c := range other {
		t.Run(c.name, func(t *testing.T) {
			a := a.in(t)
			orgs := endorsers
			if c.ch == "dublin" {
				orgs = []string{"asylum-office", "partner-state"}
			}
			a.expectRefused(a.propose(c.who, c.ch, time.Now(), c.fn, strArgs(c.args...)...), "INVALID_ARGUMENT|PERSONAL_DATA", orgs...)
		})
	}
	w.unchanged(t, before, "non-canonical arguments")

	// Controls: the canonical base passes every argument check (the border police may not
	// schedule a hearing: the workflow's FORBIDDEN, nothing about the arguments), and a canonical
	// identity check with its withheld detail in the transient map is accepted and recorded once.
	a.expectRefused(a.propose(bp, "national", time.Now(), "cases:RecordEvent", strArgs(newID(), p, good)...), "FORBIDDEN", endorsers...)
	check := canonical(t, domain.EventInput{Code: domain.EvIdentityChecked, OccurredOn: d, EventFields: domain.EventFields{EurodacHit: "NONE"}})
	if _, code, _ := a.submit(a.proposeWithDetails(bp, "national", time.Now(), "cases:RecordEvent", newID(), p, check), endorsers...); code != peer.TxValidationCode_VALID {
		t.Fatalf("canonical payload: %s", code)
	}
	if s := getCase(t, "auditor", "auditor", "national", p); s.Seq != 2 || s.Status != "IDENTITY_CHECKED" {
		t.Fatalf("after the canonical payload the case is %+v", s)
	}
}

// TestAdversarialMalformedArguments: wrong argument counts, bytes that are not UTF-8, huge
// arguments and functions that do not exist, each sent straight to two peers, are refused by both
// (so no transaction can be built from them) and change nothing.
func TestAdversarialMalformedArguments(t *testing.T) {
	f := fixture(t)
	a := newAdversary(t)
	bp := signerOf(t, "border-police", "caseworker")
	aud := signerOf(t, "auditor", "auditor")
	endorsers := []string{"border-police", "asylum-office"}
	before := f.w.snapshot(t)
	pd := personalData
	noteMarkers(pd.all)
	good := canonical(t, domain.EventInput{Code: domain.EvFileCreated, OccurredOn: today()})
	huge := strings.Repeat(pd.all+" ", (1<<20)/len(pd.all))
	cases := []struct {
		name  string
		who   *advSigner
		fn    string
		args  [][]byte
		kinds string // "" = any refusal
	}{
		{"no arguments", bp, "cases:RegisterCase", nil, ""},
		{"one argument too few", bp, "cases:RegisterCase", strArgs(newID(), newID()), ""},
		{"one argument too many", bp, "cases:RegisterCase", strArgs(newID(), newID(), today(), pd.all), ""},
		{"read with one argument too many", aud, "cases:GetCase", strArgs(f.nat, pd.all), ""},
		{"read with no argument", aud, "cases:GetCase", nil, ""},
		{"pseudonym not UTF-8", bp, "cases:RegisterCase", [][]byte{[]byte(newID()), {0xff, 0xfe, 0x41, 0x80}, []byte(today())}, "INVALID_ARGUMENT|PERSONAL_DATA"},
		{"payload not UTF-8", bp, "cases:RecordEvent", [][]byte{[]byte(newID()), []byte(f.nat), append([]byte(good[:len(good)-1]), 0xc3, 0x28, '}')}, "INVALID_ARGUMENT|PERSONAL_DATA"},
		{"request id not UTF-8", bp, "cases:RegisterCase", [][]byte{{0xc0, 0xaf}, []byte(newID()), []byte(today())}, "INVALID_ARGUMENT|PERSONAL_DATA"},
		{"huge payload", bp, "cases:RecordEvent", strArgs(newID(), f.nat, huge), "INVALID_ARGUMENT|PERSONAL_DATA"},
		{"huge pseudonym", bp, "cases:RegisterCase", strArgs(newID(), huge, today()), "INVALID_ARGUMENT|PERSONAL_DATA"},
		{"huge bookmark (read)", aud, "cases:GetTimeline", strArgs(f.nat, base64.RawURLEncoding.EncodeToString([]byte(huge)), "10"), "INVALID_ARGUMENT|PERSONAL_DATA"},
		{"unknown function", bp, "cases:DeleteCase", strArgs(f.nat), ""},
		{"unknown contract", bp, "backdoor:RecordEvent", strArgs(newID(), f.nat, good), ""},
		{"function name with personal data", bp, "cases:" + pd.all, strArgs(f.nat), ""},
		{"lower-case function", bp, "cases:registerCase", strArgs(newID(), newID(), today()), ""},
		{"contract method that is no transaction", bp, "cases:GetEvaluateTransactions", nil, ""},
		{"empty function name", bp, "", strArgs(newID(), newID(), today()), ""},
		{"function name not UTF-8", bp, "cases:\xffRegisterCase", strArgs(newID(), newID(), today()), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := a.in(t)
			a.expectRefused(a.propose(c.who, "national", time.Now(), c.fn, c.args...), c.kinds, endorsers...)
		})
	}
	f.w.unchanged(t, before, "malformed arguments")
}
