package load

import (
	"context"
	"fmt"
	"sort"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/domain"
)

// Verification is what an independent reading of the ledger found about a run's writes.
type Verification struct {
	Cases         int // cases with at least one write attempted
	AckedWrites   int
	OnLedger      int // acknowledged writes found on the ledger exactly once, at their place
	UnackedStored int // writes that failed for the client but are on the ledger (at most one per case)
	Automatic     int // steps the gateways recorded by themselves in these cases (not the script's)
	// BlocksScanned and ValidTx count what the block scan read per channel.
	BlocksScanned map[string]uint64
	ValidTx       map[string]int
	// Problems lists every inconsistency; empty means every acknowledged write is on the ledger
	// exactly once and nothing else of these cases is.
	Problems []string
}

// OK reports whether nothing is wrong.
func (v Verification) OK() bool { return len(v.Problems) == 0 && v.OnLedger == v.AckedWrites }

func (v *Verification) problem(format string, a ...any) {
	if len(v.Problems) < 50 {
		v.Problems = append(v.Problems, fmt.Sprintf(format, a...))
	} else if len(v.Problems) == 50 {
		v.Problems = append(v.Problems, "… (more problems not listed)")
	}
}

// Verify checks the run's cases against the ledger as reader (an auditor identity), through the
// bare client, independently of whatever driver made the writes:
//
//   - every case's timeline is a prefix of its script, with no request id twice;
//   - every acknowledged write is in the timeline at the sequence number and with the
//     transaction id the client was given;
//   - beyond the acknowledged writes, at most the one write whose outcome the client did not
//     learn (the case's last attempt) is on the ledger;
//   - a scan of every block of every channel finds each acknowledged transaction id exactly once
//     as a valid transaction.
func Verify(ctx context.Context, b *Bare, reader Actor, channels []string, cases []*Case) (Verification, error) {
	v := Verification{BlocksScanned: map[string]uint64{}, ValidTx: map[string]int{}}
	acked := map[string]map[string]int{} // channel -> txID -> count wanted (1)
	for _, c := range cases {
		if len(c.Writes) == 0 {
			continue
		}
		v.Cases++
		nAcked := 0
		for _, w := range c.Writes {
			if w.Acked {
				nAcked++
			}
		}
		v.AckedWrites += nAcked
		if !c.Writes[0].Acked && c.Pseudonym == "" {
			continue // a registration that failed under a pseudonym the client never learnt
		}
		tl, err := b.Timeline(ctx, reader, c.Channel, c.Pseudonym)
		if err != nil {
			if nAcked == 0 && Classify(err) == "chaincode/NOT_FOUND" {
				continue // the registration failed and did not commit either
			}
			return v, fmt.Errorf("timeline of case %d: %w", c.ID, err)
		}
		for _, tx := range v.checkCase(c, tl, nAcked) {
			if acked[c.Channel] == nil {
				acked[c.Channel] = map[string]int{}
			}
			acked[c.Channel][tx]++
		}
	}
	for _, ch := range channels {
		counts, height, err := b.ScanValidTx(ctx, reader, ch)
		if err != nil {
			return v, fmt.Errorf("block scan of %s: %w", ch, err)
		}
		v.BlocksScanned[ch], v.ValidTx[ch] = height, len(counts)
		var missing []string
		for tx := range acked[ch] {
			switch n := counts[tx]; {
			case n == 0:
				missing = append(missing, tx)
			case n > 1:
				v.problem("%s: transaction %s is valid %d times", ch, tx, n)
			}
		}
		sort.Strings(missing)
		for _, tx := range missing {
			v.problem("%s: acknowledged transaction %s is not a valid transaction in any block", ch, tx)
		}
	}
	return v, nil
}

// automatic are the steps an agency's gateway records by itself when it sees another agency's
// write (docs/gateway.md, automations), so they interleave with a script at no fixed place: the
// requested state's acknowledgement of a Dublin request's receipt.
var automatic = map[string]bool{string(domain.EvReceiptAcknowledged): true}

// checkCase compares one case's writes with its timeline on the ledger and returns the
// acknowledged transaction ids. Steps the gateways record by themselves are passed over where
// the script does not name them.
func (v *Verification) checkCase(c *Case, tl []TimelineEntry, nAcked int) []string {
	codes := c.Codes()
	seen := map[string]bool{}
	var script []TimelineEntry // the timeline's entries of the script's writes, in order
	for i, e := range tl {
		if e.Seq != uint64(i+1) {
			v.problem("case %d: timeline entry %d has seq %d", c.ID, i, e.Seq)
		}
		if seen[e.RequestID] {
			v.problem("case %d: request id of seq %d recorded twice", c.ID, e.Seq)
		}
		seen[e.RequestID] = true
		j := len(script)
		if j >= len(codes) || e.Code != codes[j] {
			if automatic[e.Code] {
				v.Automatic++
				continue
			}
			v.problem("case %d: seq %d is %s, script says %v", c.ID, e.Seq, e.Code, codesAt(codes, j))
		}
		script = append(script, e)
	}
	switch extra := len(script) - nAcked; {
	case extra < 0:
		v.problem("case %d: %d acknowledged writes but only %d on the ledger", c.ID, nAcked, len(script))
	case extra == 1 && !c.Writes[len(c.Writes)-1].Acked:
		v.UnackedStored++
	case extra > 0:
		v.problem("case %d: %d writes on the ledger beyond the %d acknowledged (attempted %d)", c.ID, extra, nAcked, len(c.Writes))
	}
	var txs []string
	for i, w := range c.Writes {
		if !w.Acked {
			continue
		}
		if i < len(script) && w.Ack.Seq != script[i].Seq {
			v.problem("case %d: write %d (%s) acknowledged with seq %d, on the ledger at seq %d", c.ID, i+1, w.Op.Event.Code, w.Ack.Seq, script[i].Seq)
		}
		if i < len(script) && script[i].TxID != w.Ack.TxID {
			v.problem("case %d: write %d was acknowledged as tx %s but the ledger has tx %s", c.ID, i+1, w.Ack.TxID, script[i].TxID)
		} else if i < len(script) {
			v.OnLedger++
		}
		txs = append(txs, w.Ack.TxID)
	}
	return txs
}

func codesAt(codes []string, i int) string {
	if i < len(codes) {
		return codes[i]
	}
	return "nothing more"
}

// Height asks the reader's peer for a channel's height (qscc GetChainInfo).
func (b *Bare) Height(ctx context.Context, reader Actor, channel string) (uint64, error) {
	nw, err := b.network(reader, channel)
	if err != nil {
		return 0, err
	}
	ectx, cancel := context.WithTimeout(ctx, b.t.Evaluate)
	defer cancel()
	res, err := nw.GetContract("qscc").EvaluateWithContext(ectx, "GetChainInfo", client.WithArguments(channel))
	if err != nil {
		return 0, err
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(res, &info); err != nil {
		return 0, fmt.Errorf("chain info: %w", err)
	}
	return info.GetHeight(), nil
}

// ScanValidTx reads every block of a channel (filtered block events from block 0 to the current
// height) and counts, per transaction id, how often it was committed as valid.
func (b *Bare) ScanValidTx(ctx context.Context, reader Actor, channel string) (map[string]int, uint64, error) {
	height, err := b.Height(ctx, reader, channel)
	if err != nil {
		return nil, 0, err
	}
	nw, err := b.network(reader, channel)
	if err != nil {
		return nil, 0, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, err := nw.FilteredBlockEvents(sctx, client.WithStartBlock(0))
	if err != nil {
		return nil, 0, err
	}
	counts := map[string]int{}
	for next := uint64(0); next < height; {
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case blk, ok := <-blocks:
			if !ok {
				return nil, 0, fmt.Errorf("block stream ended at block %d of %d", next, height)
			}
			if blk.GetNumber() != next {
				return nil, 0, fmt.Errorf("block stream gave block %d, expected %d", blk.GetNumber(), next)
			}
			for _, tx := range blk.GetFilteredTransactions() {
				if tx.GetTxValidationCode() == peer.TxValidationCode_VALID {
					counts[tx.GetTxid()]++
				}
			}
			next++
		}
	}
	return counts, height, nil
}
