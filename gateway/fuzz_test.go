package gateway

import (
	"encoding/json"
	"github.com/caseledger/caseledger/api"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecodeRequest: the strict decoder never panics, never quotes the input
// in its errors, and an event it accepts is canonical (decoding the
// canonical form again yields the same bytes, so a retried request sends the
// chaincode identical arguments).
func FuzzDecodeRequest(f *testing.F) {
	seeds := []string{
		`{"channel":"national","localRef":"BP-1","occurredOn":"2026-11-27"}`,
		`{"channel":"national","localRef":"BP-1","occurredOn":"2026-11-27","linkFrom":{"channel":"dublin","pseudonym":"7d0c7a8e-3f5b-4c1a-9e2d-0b6f4a3c2d1e"}}`,
		`{"channel":"national","pseudonym":"7d0c7a8e-3f5b-4c1a-9e2d-0b6f4a3c2d1e","event":{"code":"IDENTITY_CHECKED","occurredOn":"2026-11-27","eurodacHit":"NONE"}}`,
		`{"channel":"national","localRef":"x","event":{"code":"ALLOCATED","occurredOn":"2026-11-27","regionCode":"DE-BY","vocabularyVersion":1}}`,
		`{"localRef":"D-1","kind":"TAKE_CHARGE","occurredOn":"2026-11-01","requestedMemberState":"AT","receivedOn":"2026-11-01","applicationRegisteredOn":"2026-10-01","evidence":"EURODAC_HIT","evidenceReceivedOn":"2026-10-02"}`,
		`{"channel":"national","localRef":"x","document":"aGVsbG8=","occurredOn":"2026-11-27"}`,
		`{"url":"https://example.org/hook","from":"beginning"}`,
		`{"event":{"code":"CASE_CLOSED","occurredOn":"2026-11-27","closureReason":"OTHER","name":"ZZSECRET"}}`,
		`{"channel":"national","localRef":"ZZSECRET\u0001","newLocalRef":"ZZSECRET-2"}`,
		`{"channel":"ZZSECRET"}`, `[]`, `null`, `{"a":1}{}`, ``, `{"event":"ZZSECRET"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return &api.RegisterRequest{} }, func() any { return &api.EventRequest{} }, func() any { return &api.CaseRef{} },
		func() any { return &api.BindRequest{} }, func() any { return &api.TimelineRequest{} }, func() any { return &api.DublinRequestRequest{} },
		func() any { return &api.DublinReplyRequest{} }, func() any { return &api.DublinTransferRequest{} }, func() any { return &api.AnchorRequest{} },
		func() any { return &api.VerifyRequest{} }, func() any { return &api.ErasureRequest{} }, func() any { return &api.CreateWebhookRequest{} },
		func() any { return &api.HistoryRequest{} }, func() any { return &api.RectifyRequest{} }, func() any { return &api.ExportRequest{} },
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, newT := range targets {
			v := newT()
			err := decodeJSON(data, v)
			if err != nil && strings.Contains(err.Error(), "ZZSECRET") {
				t.Fatalf("error quotes the input: %v", err)
			}
			if rr, ok := v.(*api.RectifyRequest); ok && err == nil {
				for _, e := range []error{refArg("localRef", rr.LocalRef), refArg("newLocalRef", rr.NewLocalRef)} {
					if e != nil && strings.Contains(e.Error(), "ZZSECRET") {
						t.Fatalf("reference error quotes the input: %v", e)
					}
				}
			}
			if er, ok := v.(*api.EventRequest); ok && err == nil && er.Event != nil {
				payload, _, err := canonicalEvent(er.Event)
				if err != nil {
					if strings.Contains(err.Error(), "ZZSECRET") {
						t.Fatalf("event error quotes the input: %v", err)
					}
					continue
				}
				again, _, err := canonicalEvent(json.RawMessage(payload))
				if err != nil || again != payload {
					t.Fatalf("canonical form not stable: %q -> %q (%v)", payload, again, err)
				}
			}
		}
	})
}

// FuzzTokenFile: parsing never panics, and an accepted file survives a
// save/load round trip unchanged.
func FuzzTokenFile(f *testing.F) {
	var tf TokenFile
	_, _, _ = tf.Add("AsylumOfficeMSP", "caseworker", "dms", newTestClock().Now())
	good, _ := json.Marshal(tf)
	f.Add(good)
	f.Add([]byte(`{"version":1,"tokens":[]}`))
	f.Add([]byte(`{"version":2,"tokens":[]}`))
	f.Add([]byte(`{"version":1,"tokens":[{"id":"a","mspId":"X","role":"root","sha256":"00"}]}`))
	f.Add([]byte(`{"version":1,"tokens":null,"extra":1}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		parsed, err := ParseTokenFile(data)
		if err != nil {
			return
		}
		p := filepath.Join(dir, "tokens.json")
		if err := SaveTokenFile(p, parsed); err != nil {
			t.Fatal(err)
		}
		back, err := LoadTokenFile(p)
		if err != nil {
			t.Fatalf("saved file does not load: %v", err)
		}
		if len(back.Tokens) != len(parsed.Tokens) || (len(parsed.Tokens) > 0 && !reflect.DeepEqual(back.Tokens, parsed.Tokens)) {
			t.Fatalf("round trip changed the tokens")
		}
	})
}

// FuzzPosition: positions round-trip, and no input panics or is taken for a
// position of this log unless it is one.
func FuzzPosition(f *testing.F) {
	l := &eventLog{epoch: "0123456789ab"}
	f.Add("0123456789ab-42", uint64(42))
	f.Add("ffffffffffff-1", uint64(1))
	f.Add("", uint64(0))
	f.Add("-", uint64(7))
	f.Add("0123456789ab-18446744073709551615", ^uint64(0))
	f.Fuzz(func(t *testing.T, s string, seq uint64) {
		got, ours, err := l.parsePosition(l.position(seq))
		if err != nil || !ours || got != seq {
			t.Fatalf("round trip of %d: %d %v %v", seq, got, ours, err)
		}
		n, ours, err := l.parsePosition(s)
		if err == nil && ours && s != "" && l.position(n) != s && !strings.HasPrefix(s, l.epoch+"-") {
			t.Fatalf("%q accepted as a position of this log", s)
		}
	})
}
