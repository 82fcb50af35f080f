package gateway

import (
	"encoding/json"
	"testing"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// TestGatewaySendsCanonicalArguments: whatever spelling a client uses, the event payload and the
// holiday list the gateway sends to the chaincode are exactly the canonical encoding the chaincode
// requires (domain.DecodeCanonicalEventInput, domain.DecodeCanonical), so honest callers are never
// refused by the argument gate.
func TestGatewaySendsCanonicalArguments(t *testing.T) {
	for _, body := range []string{
		`{"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE"}`,
		`{ "eurodacHit" : "NONE", "occurredOn":"2026-03-02", "code":"IDENTITY_CHECKED", "vocabularyVersion": 1 }`,
		`{"code":"IDENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"CATEGORY_1","eurodacHit":"NONE"}`,
		`{"code":"\u0049DENTITY_CHECKED","occurredOn":"2026-03-02","eurodacHit":"NONE"}`,
		`{"code":"TAKE_CHARGE_REQUESTED","occurredOn":"2026-03-02","urgent":true,"urgentReplyDue":"2026-03-20","requestedMemberState":"AT","receivedOn":"2026-03-02","applicationRegisteredOn":"2026-02-10","evidence":"OTHER"}`,
		`{"code":"APPEAL_FILED","occurredOn":"2026-03-02","suspensive":false}`,
	} {
		out, _, err := canonicalEvent(json.RawMessage(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if _, err := domain.DecodeCanonicalEventInput([]byte(out)); err != nil {
			t.Errorf("%s: the gateway sends %s, which the chaincode refuses: %v", body, out, err)
		}
	}
	d1, _ := deadline.ParseDate("2026-01-01")
	d2, _ := deadline.ParseDate("2026-12-25")
	h, err := deadline.NewHolidays([]deadline.Date{d2, d1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(h) // as hSetHolidays encodes it
	if err != nil {
		t.Fatal(err)
	}
	var back deadline.Holidays
	if err := domain.DecodeCanonical(b, &back); err != nil {
		t.Errorf("holidays %s refused: %v", b, err)
	}
}
