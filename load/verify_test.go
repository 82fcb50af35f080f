package load

import (
	"strings"
	"testing"
)

// TestCheckCaseAutomaticSteps: a step a gateway records by itself (the requested state's receipt
// acknowledgement) may sit anywhere between a script's writes; any other step the script does not
// name, or an acknowledgement at the wrong place, is a problem.
func TestCheckCaseAutomaticSteps(t *testing.T) {
	script := []string{"TAKE_CHARGE_REQUESTED", "REQUEST_ACCEPTED", "TRANSFER_DECISION_ISSUED"}
	newCase := func() *Case {
		c := &Case{ID: 1, Channel: "dublin", Procedure: "dublin"}
		for _, code := range script {
			op := Op{Kind: OpEvent, Case: c, Event: Event{Code: code}}
			c.Ops = append(c.Ops, op)
			c.Writes = append(c.Writes, WriteOutcome{Op: op, Acked: true, Ack: Ack{TxID: "tx" + code}})
		}
		return c
	}
	// timeline builds a ledger timeline from codes; the script's writes carry their own tx ids
	// and acknowledged seqs are set to where they landed.
	timeline := func(c *Case, codes ...string) []TimelineEntry {
		var tl []TimelineEntry
		w := 0
		for i, code := range codes {
			e := TimelineEntry{Seq: uint64(i + 1), Code: code, TxID: "auto" + code, RequestID: "r" + code}
			if w < len(c.Writes) && c.Writes[w].Op.Event.Code == code {
				e.TxID = c.Writes[w].Ack.TxID
				c.Writes[w].Ack.Seq = e.Seq
				w++
			}
			tl = append(tl, e)
		}
		return tl
	}
	tests := []struct {
		name    string
		ledger  []string
		wantErr string
	}{
		{"script only", script, ""},
		{"acknowledgement after the request", []string{"TAKE_CHARGE_REQUESTED", "RECEIPT_ACKNOWLEDGED", "REQUEST_ACCEPTED", "TRANSFER_DECISION_ISSUED"}, ""},
		{"acknowledgement last", []string{"TAKE_CHARGE_REQUESTED", "REQUEST_ACCEPTED", "TRANSFER_DECISION_ISSUED", "RECEIPT_ACKNOWLEDGED"}, ""},
		{"another step the script does not name", []string{"TAKE_CHARGE_REQUESTED", "IMPLICITLY_ACCEPTED", "REQUEST_ACCEPTED", "TRANSFER_DECISION_ISSUED"}, "seq 2 is IMPLICITLY_ACCEPTED"},
		{"a script write missing", []string{"TAKE_CHARGE_REQUESTED", "RECEIPT_ACKNOWLEDGED", "TRANSFER_DECISION_ISSUED"}, "script says REQUEST_ACCEPTED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCase()
			tl := timeline(c, tc.ledger...)
			v := Verification{AckedWrites: len(c.Writes)}
			v.checkCase(c, tl, len(c.Writes))
			got := strings.Join(v.Problems, "\n")
			if tc.wantErr == "" {
				if !v.OK() {
					t.Fatalf("problems: %s (on ledger %d of %d)", got, v.OnLedger, v.AckedWrites)
				}
				return
			}
			if v.OK() || !strings.Contains(got, tc.wantErr) {
				t.Fatalf("want a problem with %q, got OK=%v %s", tc.wantErr, v.OK(), got)
			}
		})
	}
}
