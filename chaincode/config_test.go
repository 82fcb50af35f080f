package chaincode

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

func TestLoadConfig(t *testing.T) {
	cfg, err := api.LoadChaincodeConfig("testdata/config.json")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClockTolerance != 5*time.Minute || cfg.LateRecordingDays != 30 || cfg.MaxPageSize != 100 || len(cfg.Membership.Members) != 5 {
		t.Fatalf("config %+v", cfg)
	}
	// The encoded form parses back to the same configuration.
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := api.ParseChaincodeConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(again)
	if string(b) != string(b2) {
		t.Fatalf("round trip:\n%s\n%s", b, b2)
	}
	if _, err := api.LoadChaincodeConfig("testdata/missing.json"); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestParseConfigDefaultsAndRefusals(t *testing.T) {
	raw, err := os.ReadFile("testdata/config.json")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	cfg, err := api.ParseChaincodeConfig(edit(func(m map[string]any) {
		delete(m, "clockTolerance")
		delete(m, "lateRecordingDays")
		delete(m, "maxPageSize")
	}))
	if err != nil || cfg.ClockTolerance != api.DefaultClockTolerance || cfg.LateRecordingDays != api.DefaultLateRecordingDays || cfg.MaxPageSize != api.DefaultMaxPageSize {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	tests := []struct {
		name string
		f    func(m map[string]any)
		want string
	}{
		{"unknown field", func(m map[string]any) { m["debug"] = true }, "unknown field"},
		{"no membership", func(m map[string]any) { delete(m, "membership") }, "required"},
		{"no deadlines", func(m map[string]any) { delete(m, "deadlines") }, "required"},
		{"bad membership", func(m map[string]any) { m["membership"].(map[string]any)["version"] = 9 }, "version"},
		{"deadline config missing a choice", func(m map[string]any) {
			delete(m["deadlines"].(map[string]any), "switchDayRegime")
		}, "switchDayRegime"},
		{"tolerance syntax", func(m map[string]any) { m["clockTolerance"] = "five minutes" }, "clockTolerance"},
		{"tolerance too large", func(m map[string]any) { m["clockTolerance"] = "2h" }, "clockTolerance"},
		{"tolerance too small", func(m map[string]any) { m["clockTolerance"] = "0s" }, "clockTolerance"},
		{"late window negative", func(m map[string]any) { m["lateRecordingDays"] = -1 }, "lateRecordingDays"},
		{"page size zero", func(m map[string]any) { m["maxPageSize"] = 0 }, "maxPageSize"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := api.ParseChaincodeConfig(edit(tc.f))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := api.ParseChaincodeConfig(append(raw, []byte(" {}")...)); err == nil {
		t.Fatal("trailing data accepted")
	}
	if _, err := New(api.ChaincodeConfig{}); err == nil {
		t.Fatal("New accepted a zero config")
	}
}

func FuzzParseConfig(f *testing.F) {
	raw, err := os.ReadFile("testdata/config.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"membership":{},"deadlines":{}}`))
	f.Add([]byte(`{"membership":null,"deadlines":null,"clockTolerance":"1s"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := api.ParseChaincodeConfig(data)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted but invalid: %v", err)
		}
		if _, err := New(cfg); err != nil {
			t.Fatalf("accepted but New refuses: %v", err)
		}
	})
}

func TestAdminQueries(t *testing.T) {
	n := newNet(t, t0)
	info := decode[api.ChaincodeInfo](t, n.must("dublin", "at-do", "admin:GetChaincodeInfo"))
	if info.Channel != "dublin" || info.Procedure != domain.ProcedureDublin || info.Caller.MSPID != "PartnerStateMSP" ||
		info.CallerRole != domain.RoleDublinOfficer || info.VocabularyVersion != domain.VocabularyVersion || len(info.Rules) == 0 {
		t.Fatalf("info %+v", info)
	}
	v := decode[api.Vocabulary](t, n.must("national", "aud", "admin:GetVocabulary"))
	codes := map[domain.EventCode]bool{}
	for _, e := range v.Events {
		codes[e.Code] = true
	}
	if v.Procedure != domain.ProcedureNational || !codes[domain.EvHearingHeld] || codes[domain.EvTakeChargeRequested] || len(v.Values["regionCode"]) == 0 {
		t.Fatalf("vocabulary %+v", v)
	}
}
