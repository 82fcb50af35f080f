package main

import (
	"encoding/json"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

type testFlags struct {
	fs            *flag.FlagSet
	code, channel *string
}

func newTestFlagSet() testFlags {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return testFlags{fs: fs, code: fs.String("code", "", ""), channel: fs.String("channel", "", "")}
}

func TestParseFields(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // JSON of the result, or "error: <text>"
	}{
		{nil, `{}`},
		{[]string{"eurodacHit=CATEGORY_1"}, `{"eurodacHit":"CATEGORY_1"}`},
		{[]string{"suspensive=true", "urgent=false"}, `{"suspensive":true,"urgent":false}`},
		{[]string{"outcome="}, `{"outcome":""}`},
		{[]string{"a=b=c"}, `{"a":"b=c"}`},
		{[]string{"True=TRUE"}, `{"True":"TRUE"}`},
		{[]string{"noequals"}, "error: want key=value"},
		{[]string{"=x"}, "error: field name"},
		{[]string{"1a=x"}, "error: field name"},
		{[]string{"a-b=x"}, "error: field name"},
		{[]string{"code=FILE_CREATED"}, "error: given with --code"},
		{[]string{"occurredOn=2026-01-01"}, "error: given with --date"},
		{[]string{"vocabularyVersion=1"}, "error: set by the gateway"},
		{[]string{"a=1", "a=2"}, "error: given twice"},
	} {
		got, err := ParseFields(tc.args)
		if strings.HasPrefix(tc.want, "error: ") {
			if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), strings.TrimPrefix(tc.want, "error: ")) {
				t.Errorf("%q: err %v, want %s", tc.args, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		b, _ := json.Marshal(got)
		if string(b) != tc.want {
			t.Errorf("%q: %s, want %s", tc.args, b, tc.want)
		}
	}
}

func TestEventJSON(t *testing.T) {
	for _, tc := range []struct {
		base, code, date string
		fields           map[string]any
		want             string
	}{
		{"", "FILE_CREATED", "2026-11-27", nil, `{"code":"FILE_CREATED","occurredOn":"2026-11-27"}`},
		{`{"code":"HEARING_SCHEDULED","scheduledFor":"2026-12-01","occurredOn":"2026-11-27"}`, "", "", nil,
			`{"code":"HEARING_SCHEDULED","occurredOn":"2026-11-27","scheduledFor":"2026-12-01"}`},
		{`{"vocabularyVersion":1,"code":"X"}`, "X", "2026-11-27", map[string]any{"suspensive": true},
			`{"code":"X","occurredOn":"2026-11-27","suspensive":true,"vocabularyVersion":1}`},
		{`{"code":"X"}`, "Y", "", nil, "error: code given twice"},
		{`{"code":"X","outcome":"A"}`, "", "", map[string]any{"outcome": "B"}, "error: outcome given twice"},
		{"", "", "2026-11-27", nil, "error: --code is required"},
		{`[1]`, "X", "", nil, "error: must be a JSON object"},
		{`null`, "X", "", nil, "error: must be a JSON object"},
		{`{"code":"X"} {}`, "", "", nil, "error: trailing data"},
	} {
		got, err := EventJSON(tc.base, tc.code, tc.date, tc.fields)
		if strings.HasPrefix(tc.want, "error: ") {
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tc.want, "error: ")) {
				t.Errorf("%q: err %v, want %s", tc.base, err, tc.want)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: %s %v, want %s", tc.base, got, err, tc.want)
		}
	}
}

func FuzzParseFields(f *testing.F) {
	for _, s := range []string{"eurodacHit=CATEGORY_1", "suspensive=true", "a=b=c", "=", "code=X", "x\x00=1", "é=ü"} {
		f.Add(s, "urgent=false")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got, err := ParseFields([]string{a, b})
		if err != nil {
			if !errors.Is(err, errUsage) {
				t.Fatalf("error outside the usage class: %v", err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error message not clipped: %d bytes", len(err.Error()))
			}
			return
		}
		for k, v := range got {
			if !isFieldName(k) {
				t.Fatalf("accepted field name %q", k)
			}
			if _, reserved := reservedFields[k]; reserved {
				t.Fatalf("accepted reserved field %q", k)
			}
			if s, ok := v.(string); ok && (s == "true" || s == "false") {
				t.Fatalf("boolean left as string %q", s)
			}
		}
		// Whatever is accepted builds a valid event object.
		ev, err := EventJSON("", "FILE_CREATED", "2026-11-27", got)
		if err != nil || !json.Valid(ev) {
			t.Fatalf("EventJSON of accepted fields: %v", err)
		}
	})
}

func FuzzEventJSON(f *testing.F) {
	for _, s := range []string{`{"code":"X"}`, `{"code":"X","occurredOn":"2026-01-01"}`, `[1]`, `null`, `{"a":1} {}`, `{"code":1}`, ``} {
		f.Add(s, "FILE_CREATED", "2026-11-27")
	}
	f.Fuzz(func(t *testing.T, base, code, date string) {
		ev, err := EventJSON(base, code, date, map[string]any{"regionCode": "DE-BY"})
		if err != nil {
			if !errors.Is(err, errUsage) {
				t.Fatalf("error outside the usage class: %v", err)
			}
			return
		}
		var m map[string]any
		if err := json.Unmarshal(ev, &m); err != nil || m == nil {
			t.Fatalf("not a JSON object: %s", ev)
		}
		if _, ok := m["code"]; !ok || m["regionCode"] != "DE-BY" {
			t.Fatalf("event %s lacks code or fields", ev)
		}
		// JSON carries valid UTF-8 only; the gateway refuses whatever the
		// replacement character makes of an invalid code.
		if code != "" && utf8.ValidString(code) && m["code"] != code {
			t.Fatalf("code %v, want %q", m["code"], code)
		}
	})
}
