package gateway

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	mspproto "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
	"github.com/caseledger/caseledger/internal/protostrict"
)

// Audit verification: the auditor's gateway reads every block of each of its
// channels from its own peer and recomputes what makes the ledger tamper-
// evident:
//
//   - data hash = SHA-256 of the block's concatenated envelopes, equal to the
//     header's DataHash;
//   - header hash = SHA-256 of the ASN.1 DER of {number, previous_hash,
//     data_hash}, equal to the next block's PreviousHash and, for the last
//     block, to the peer's current block hash;
//   - block numbers consecutive from 0;
//   - every transaction signed by its creator (ECDSA over the payload) with a
//     certificate that chains to a root of the creator's MSP as declared in
//     the channel configuration;
//   - the validation code of every transaction (block metadata), counted;
//   - every private record's hash as the chain committed it last, against
//     what the verifier's own peer holds (audit_private.go).
//
// The first inconsistency found is reported. Two lists name committed VALID
// transactions the auditor should look at, by block, transaction id, the
// creator's MSP id and the function if it is one the chaincode admits —
// never the arguments:
//
//   - noWrites: endorser transactions that wrote nothing (empty write set). A
//     read is meant to be evaluated, not ordered; one that was ordered anyway
//     put its arguments into the block (issue 11, finding 5).
//   - lateTimestamps: transactions whose timestamp lies more than the
//     chaincode's clock tolerance before the latest timestamp of a writing
//     transaction committed in an earlier block of the channel. Endorsers
//     check a write's timestamp against their clocks at endorsement, not at
//     commit, so a signed proposal held back and submitted minutes later still
//     commits with its old timestamp as recordedAt. Honest transactions reach
//     the orderer within seconds and honest clocks agree within seconds, so a
//     gap larger than the tolerance means the proposal was held (or a client
//     clock was off by more than the chaincode accepts). Only writing
//     transactions set the reference, since only their timestamps were checked.
//     The rule cannot see a hold during which nothing else was committed.
//
// A third list, invalid, names every committed transaction the peers marked
// invalid, with its validation code: ordering is not validation, so such an
// envelope's bytes are in the block although it changed nothing.

// maxTxNotes bounds each list of a report; the totals count every case.
const maxTxNotes = 1000

type auditVerifier struct {
	s  *Server
	mu sync.Mutex // one verification at a time
}

func newAuditVerifier(s *Server) *auditVerifier { return &auditVerifier{s: s} }

// Verify runs a full verification of every channel and stores the reports.
func (a *auditVerifier) Verify(ctx context.Context) (api.AuditReport, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rep := api.AuditReport{Intact: true}
	for _, ch := range a.s.ledger.Channels() {
		cr := verifyChain(ctx, a.s.ledger, ch.Name, a.s.now, a.clockTolerance(ctx, ch.Name))
		if err := a.s.store.putJSON(pfxAudit+ch.Name, cr, 0); err != nil {
			return rep, err
		}
		rep.Intact = rep.Intact && cr.Intact
		rep.Channels = append(rep.Channels, cr)
	}
	return rep, nil
}

// clockTolerance is the chaincode's clock tolerance on a channel, as its
// admin:GetChaincodeInfo reports it; the default when it cannot be read (the
// network generates every chaincode configuration with the default).
func (a *auditVerifier) clockTolerance(ctx context.Context, channel string) time.Duration {
	roles := a.s.ledger.Roles()
	if len(roles) == 0 {
		return api.DefaultClockTolerance
	}
	b, err := a.s.ledger.Evaluate(ctx, roles[0], channel, api.FnGetChaincodeInfo)
	if err != nil {
		return api.DefaultClockTolerance
	}
	var info struct {
		Config struct {
			ClockTolerance string `json:"clockTolerance"`
		} `json:"config"`
	}
	if json.Unmarshal(b, &info) != nil {
		return api.DefaultClockTolerance
	}
	d, err := time.ParseDuration(info.Config.ClockTolerance)
	if err != nil || d <= 0 {
		return api.DefaultClockTolerance
	}
	return d
}

// Stored returns the last reports.
func (a *auditVerifier) Stored() (api.AuditReport, error) {
	rep := api.AuditReport{Intact: true, Channels: []api.ChainReport{}}
	for _, ch := range a.s.ledger.Channels() {
		var cr api.ChainReport
		found, err := a.s.store.getJSON(pfxAudit+ch.Name, &cr)
		if err != nil {
			return rep, err
		}
		if !found {
			rep.Intact = false
			continue
		}
		rep.Intact = rep.Intact && cr.Intact
		rep.Channels = append(rep.Channels, cr)
	}
	return rep, nil
}

type asn1Header struct {
	Number       *big.Int
	PreviousHash []byte
	DataHash     []byte
}

// BlockHeaderHash is Fabric's block hash.
func BlockHeaderHash(h *common.BlockHeader) ([]byte, error) {
	der, err := asn1.Marshal(asn1Header{Number: new(big.Int).SetUint64(h.GetNumber()), PreviousHash: h.GetPreviousHash(), DataHash: h.GetDataHash()})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return sum[:], nil
}

// BlockDataHash is Fabric's hash of a block's data.
func BlockDataHash(d *common.BlockData) []byte {
	sum := sha256.Sum256(bytes.Join(d.GetData(), nil))
	return sum[:]
}

// chainState carries what verification of one block needs from the earlier ones.
type chainState struct {
	prevHash  []byte
	msps      map[string]*x509.CertPool
	functions map[string]bool // what the chaincode admits, so a note may name it
	tolerance time.Duration
	pvt       *privateLedger // private records the chain committed (audit_private.go)
	// latestWrite is the latest timestamp of a VALID writing transaction in
	// the blocks before the current one; blockLatest that of the current block.
	latestWrite, blockLatest time.Time
}

// verifyChain checks one channel from block 0 to the peer's height.
// tolerance is the chaincode's clock tolerance (lateTimestamps).
func verifyChain(ctx context.Context, l Ledger, channel string, now func() time.Time, tolerance time.Duration) (cr api.ChainReport) {
	cr = api.ChainReport{Channel: channel, ValidationCodes: map[string]int{}, StartedAt: now().UTC(),
		NoWrites: []api.TxNote{}, LateTimestamps: []api.TxNote{}, LateTolerance: tolerance.String(), UnexpectedContent: []api.TxNote{}, Invalid: []api.TxNote{}}
	defer func() { cr.FinishedAt = now().UTC() }() // a named result: the deferred write reaches the caller
	height, current, err := l.ChainInfo(ctx, channel)
	if err != nil {
		cr.Error = "chain info: " + err.Error()
		return cr
	}
	cr.PeerCurrentHash = hex.EncodeToString(current)
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, err := l.Blocks(bctx, channel, 0)
	if err != nil {
		cr.Error = "block events: " + err.Error()
		return cr
	}
	st := &chainState{msps: map[string]*x509.CertPool{}, functions: map[string]bool{}, tolerance: tolerance, pvt: newPrivateLedger()}
	for _, f := range api.Functions() {
		st.functions[f] = true
	}
	for n := uint64(0); n < height; n++ {
		var b *common.Block
		select {
		case b = <-blocks:
		case <-time.After(30 * time.Second):
			cr.Error = fmt.Sprintf("block %d not delivered", n)
			return cr
		case <-ctx.Done():
			cr.Error = ctx.Err().Error()
			return cr
		}
		if b == nil {
			cr.Error = fmt.Sprintf("block stream ended before block %d", n)
			return cr
		}
		if inc := st.verifyBlock(b, n, &cr); inc != nil {
			cr.FirstInconsistency = inc
			return cr
		}
		cr.Blocks = n + 1
	}
	cr.LastBlockHash = hex.EncodeToString(st.prevHash)
	if height > 0 && !bytes.Equal(st.prevHash, current) {
		cr.FirstInconsistency = &api.Inconsistency{Block: height - 1, Problem: "hash of the last block differs from the peer's current block hash"}
		return cr
	}
	inc, err := verifyPrivate(ctx, l, channel, st.pvt, &cr)
	if err != nil {
		cr.Error = err.Error()
		return cr
	}
	if inc != nil {
		cr.FirstInconsistency = inc
		return cr
	}
	cr.Intact = true
	return cr
}

func (st *chainState) verifyBlock(b *common.Block, want uint64, cr *api.ChainReport) *api.Inconsistency {
	bad := func(tx int, f string, a ...any) *api.Inconsistency {
		return &api.Inconsistency{Block: want, Tx: tx, Problem: fmt.Sprintf(f, a...)}
	}
	h := b.GetHeader()
	if h == nil || b.GetData() == nil {
		return bad(0, "block without header or data")
	}
	if h.Number != want {
		return bad(0, "block number %d where %d was expected", h.Number, want)
	}
	if want > 0 && !bytes.Equal(h.PreviousHash, st.prevHash) {
		return bad(0, "previous hash does not match the hash of block %d", want-1)
	}
	if !bytes.Equal(BlockDataHash(b.Data), h.DataHash) {
		return bad(0, "data hash does not match the block's transactions")
	}
	hh, err := BlockHeaderHash(h)
	if err != nil {
		return bad(0, "header not encodable")
	}
	st.prevHash = hh
	var filter []byte
	if md := b.GetMetadata().GetMetadata(); len(md) > int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) {
		filter = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
	}
	if len(filter) != 0 && len(filter) != len(b.Data.Data) {
		return bad(0, "validation codes for %d transactions, block holds %d", len(filter), len(b.Data.Data))
	}
	for i, raw := range b.Data.Data {
		cr.Transactions++
		code := "UNRECORDED"
		if len(filter) > 0 {
			code = peer.TxValidationCode(filter[i]).String()
		}
		cr.ValidationCodes[code]++
		if inc := st.verifyEnvelope(raw, want, i, code, cr); inc != nil {
			return inc
		}
	}
	if st.blockLatest.After(st.latestWrite) {
		st.latestWrite = st.blockLatest
	}
	return nil
}

// verifyEnvelope checks the creator's signature of one transaction, takes
// the MSP roots from configuration transactions and notes a valid endorser
// transaction that wrote nothing or whose timestamp is implausibly old.
func (st *chainState) verifyEnvelope(raw []byte, block uint64, i int, code string, cr *api.ChainReport) *api.Inconsistency {
	valid := code == peer.TxValidationCode_VALID.String()
	bad := func(f string, a ...any) *api.Inconsistency {
		return &api.Inconsistency{Block: block, Tx: i, Problem: fmt.Sprintf(f, a...)}
	}
	var env common.Envelope
	if err := proto.Unmarshal(raw, &env); err != nil {
		return bad("undecodable envelope")
	}
	var pl common.Payload
	if err := proto.Unmarshal(env.Payload, &pl); err != nil || pl.Header == nil {
		return bad("undecodable payload")
	}
	var chdr common.ChannelHeader
	if err := proto.Unmarshal(pl.Header.ChannelHeader, &chdr); err != nil {
		return bad("undecodable channel header")
	}
	if common.HeaderType(chdr.Type) == common.HeaderType_CONFIG {
		if err := st.loadConfig(pl.Data); err != nil {
			return bad("configuration: %v", err)
		}
		if len(env.Signature) == 0 {
			return nil // the genesis configuration is not signed
		}
	}
	var shdr common.SignatureHeader
	if err := proto.Unmarshal(pl.Header.SignatureHeader, &shdr); err != nil {
		return bad("undecodable signature header")
	}
	var id mspproto.SerializedIdentity
	if err := proto.Unmarshal(shdr.Creator, &id); err != nil {
		return bad("undecodable creator")
	}
	blk, _ := pem.Decode(id.IdBytes)
	if blk == nil {
		return bad("creator has no certificate")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return bad("creator certificate unreadable")
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return bad("creator key is not ECDSA")
	}
	digest := sha256.Sum256(env.Payload)
	if !ecdsa.VerifyASN1(pub, digest[:], env.Signature) {
		return bad("creator signature does not verify")
	}
	if roots := st.msps[id.Mspid]; roots != nil {
		_, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: cert.NotBefore.Add(time.Minute)})
		if err != nil {
			return bad("creator certificate does not chain to a root of %s", id.Mspid)
		}
	} else if common.HeaderType(chdr.Type) == common.HeaderType_ENDORSER_TRANSACTION {
		return bad("creator's MSP %s is not in the channel configuration", id.Mspid)
	}
	cr.SignaturesVerified++
	if !valid {
		// Any member can have the orderers put a signed envelope into a block; the peers then
		// mark it invalid but the bytes stay. Naming each one with its signer keeps that
		// accountable (docs/security.md, accepted risks).
		n := api.TxNote{Block: block, Tx: i, TxID: chdr.TxId, Creator: id.Mspid, Timestamp: chdr.GetTimestamp().AsTime().UTC(), Problem: code}
		if fn, _ := endorserTx(pl.Data); st.functions[fn] {
			n.Function = fn
		}
		cr.InvalidTotal++
		if len(cr.Invalid) < maxTxNotes {
			cr.Invalid = append(cr.Invalid, n)
		}
		return nil
	}
	if common.HeaderType(chdr.Type) == common.HeaderType_ENDORSER_TRANSACTION {
		n := api.TxNote{Block: block, Tx: i, TxID: chdr.TxId, Creator: id.Mspid, Timestamp: chdr.GetTimestamp().AsTime().UTC()}
		fn, rws := endorserTx(pl.Data)
		st.note(cr, n, fn, hasWrites(rws))
		st.pvt.collect(rws, block, i)
		problem := ""
		for _, m := range []proto.Message{&env, &pl, &chdr, &shdr, &id} {
			if protostrict.HasUnknownFields(m) {
				problem = "unknown protobuf fields in the envelope or its header"
			}
		}
		if problem == "" {
			problem = st.transactionProblem(pl.Data)
		}
		if problem != "" {
			if st.functions[fn] {
				n.Function = fn
			}
			n.Problem = problem
			cr.UnexpectedContentTotal++
			if len(cr.UnexpectedContent) < maxTxNotes {
				cr.UnexpectedContent = append(cr.UnexpectedContent, n)
			}
		}
	}
	return nil
}

// note classifies one valid endorser transaction.
func (st *chainState) note(cr *api.ChainReport, n api.TxNote, fn string, writes bool) {
	if st.functions[fn] {
		n.Function = fn
	}
	if !writes {
		cr.NoWritesTotal++
		if len(cr.NoWrites) < maxTxNotes {
			cr.NoWrites = append(cr.NoWrites, n)
		}
		return
	}
	if behind := st.latestWrite.Sub(n.Timestamp); !st.latestWrite.IsZero() && behind > st.tolerance {
		n.Behind = behind.String()
		cr.LateTimestampsTotal++
		if len(cr.LateTimestamps) < maxTxNotes {
			cr.LateTimestamps = append(cr.LateTimestamps, n)
		}
	}
	if n.Timestamp.After(st.blockLatest) {
		st.blockLatest = n.Timestamp
	}
}

// transactionProblem inspects the parts of an endorser transaction the client
// assembled after endorsement, which the chaincode never saw: one action, no
// unknown protobuf fields in any layer, and every endorsement signed (ECDSA
// over the response payload and the endorser) by a certificate of a channel
// MSP. The committing peer skips an endorsement that does not verify rather
// than invalidating the transaction, so junk endorsements could carry bytes.
// "" when nothing is wrong.
func (st *chainState) transactionProblem(data []byte) string {
	var tx peer.Transaction
	var sh common.SignatureHeader
	var ap peer.ChaincodeActionPayload
	var prp peer.ProposalResponsePayload
	var act peer.ChaincodeAction
	decode := func(b []byte, m proto.Message) bool {
		return proto.Unmarshal(b, m) == nil && !protostrict.HasUnknownFields(m)
	}
	if !decode(data, &tx) {
		return "undecodable transaction, or unknown protobuf fields in it"
	}
	if len(tx.Actions) != 1 {
		return fmt.Sprintf("%d actions, one expected", len(tx.Actions))
	}
	if !decode(tx.Actions[0].Header, &sh) || !decode(tx.Actions[0].Payload, &ap) || ap.Action == nil ||
		!decode(ap.Action.ProposalResponsePayload, &prp) || !decode(prp.Extension, &act) {
		return "undecodable action, or unknown protobuf fields in it"
	}
	for _, e := range ap.Action.Endorsements {
		var id mspproto.SerializedIdentity
		if !decode(e.Endorser, &id) {
			return "undecodable endorser, or unknown protobuf fields in it"
		}
		blk, _ := pem.Decode(id.IdBytes)
		if blk == nil {
			return "endorser without a certificate"
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return "endorser certificate unreadable"
		}
		pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
		digest := sha256.Sum256(append(append([]byte{}, ap.Action.ProposalResponsePayload...), e.Endorser...))
		if !ok || !ecdsa.VerifyASN1(pub, digest[:], e.Signature) {
			return "an endorsement signature does not verify"
		}
		roots := st.msps[id.Mspid]
		if roots == nil {
			return "an endorser's MSP is not in the channel configuration"
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: cert.NotBefore.Add(time.Minute)}); err != nil {
			return "an endorser's certificate does not chain to its MSP"
		}
	}
	return ""
}

// endorserTx reads an endorser transaction's function name (the first chaincode argument) and
// its read-write set, decoded once for every check of the transaction. An undecodable
// transaction reads as no function and no read-write set.
func endorserTx(data []byte) (string, *rwset.TxReadWriteSet) {
	var tx peer.Transaction
	if err := proto.Unmarshal(data, &tx); err != nil || len(tx.Actions) == 0 {
		return "", nil
	}
	var ap peer.ChaincodeActionPayload
	if err := proto.Unmarshal(tx.Actions[0].Payload, &ap); err != nil || ap.Action == nil {
		return "", nil
	}
	fn := ""
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	if proto.Unmarshal(ap.ChaincodeProposalPayload, &cpp) == nil && proto.Unmarshal(cpp.Input, &cis) == nil {
		if args := cis.GetChaincodeSpec().GetInput().GetArgs(); len(args) > 0 {
			fn = string(args[0])
		}
	}
	var prp peer.ProposalResponsePayload
	var act peer.ChaincodeAction
	var rws rwset.TxReadWriteSet
	if proto.Unmarshal(ap.Action.ProposalResponsePayload, &prp) != nil || proto.Unmarshal(prp.Extension, &act) != nil ||
		proto.Unmarshal(act.Results, &rws) != nil {
		return fn, nil
	}
	return fn, &rws
}

// hasWrites tells whether a read-write set holds any write, public or private (nil: none).
func hasWrites(rws *rwset.TxReadWriteSet) bool {
	for _, ns := range rws.GetNsRwset() {
		var kv kvrwset.KVRWSet
		if proto.Unmarshal(ns.Rwset, &kv) == nil && (len(kv.Writes) > 0 || len(kv.MetadataWrites) > 0) {
			return true
		}
		for _, coll := range ns.CollectionHashedRwset {
			var h kvrwset.HashedRWSet
			if proto.Unmarshal(coll.HashedRwset, &h) == nil && (len(h.HashedWrites) > 0 || len(h.MetadataWrites) > 0) {
				return true
			}
		}
	}
	return false
}

// loadConfig reads the MSP root certificates of every organisation from a
// configuration transaction.
func (st *chainState) loadConfig(data []byte) error {
	var ce common.ConfigEnvelope
	if err := proto.Unmarshal(data, &ce); err != nil || ce.Config == nil {
		return errors.New("undecodable configuration envelope")
	}
	msps := map[string]*x509.CertPool{}
	var walk func(g *common.ConfigGroup) error
	walk = func(g *common.ConfigGroup) error {
		if g == nil {
			return nil
		}
		if v, ok := g.Values["MSP"]; ok {
			var mc mspproto.MSPConfig
			var fc mspproto.FabricMSPConfig
			if err := proto.Unmarshal(v.Value, &mc); err != nil {
				return errors.New("undecodable MSP value")
			}
			if err := proto.Unmarshal(mc.Config, &fc); err != nil {
				return errors.New("undecodable MSP configuration")
			}
			pool := x509.NewCertPool()
			for _, r := range append(fc.RootCerts, fc.IntermediateCerts...) {
				pool.AppendCertsFromPEM(r)
			}
			msps[fc.Name] = pool
		}
		for _, sub := range g.Groups {
			if err := walk(sub); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(ce.Config.ChannelGroup); err != nil {
		return err
	}
	st.msps = msps
	return nil
}

func (s *Server) hAuditVerify(c *call) (int, any, error) {
	rep, err := s.auditor.Verify(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, rep, nil
}

func (s *Server) hAuditReport(c *call) (int, any, error) {
	rep, err := s.auditor.Stored()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, rep, nil
}

func (s *Server) hAuditHistory(c *call) (int, any, error) {
	var req api.HistoryRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	ch, err := s.channel(req.Channel)
	if err != nil {
		return 0, nil, err
	}
	if err := domain.CheckPseudonym(req.Pseudonym); err != nil {
		return 0, nil, err
	}
	ps, err := pageSizeArg(req.PageSize)
	if err != nil {
		return 0, nil, err
	}
	var page api.Page[api.HistoryEntry]
	if err := c.evaluate(ch.Name, api.FnGetHistory, &page, req.Pseudonym, req.Bookmark, ps); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.HistoryPage{Items: nonNilSlice(page.Items), Bookmark: page.Bookmark}, nil
}

// hAuditWrites lists the events an agency recorded between from and to
// (recording dates, inclusive). Paging runs over the cases the agency wrote
// on, so a page may hold no events and still have a bookmark.
func (s *Server) hAuditWrites(c *call) (int, any, error) {
	q := c.r.URL.Query()
	ch, err := s.channel(q.Get("channel"))
	if err != nil {
		return 0, nil, err
	}
	msp := q.Get("mspId")
	if !domain.IsMSPID(msp) {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "mspId: required")
	}
	from, to := q.Get("from"), q.Get("to")
	if err := checkDate("from", from); err != nil {
		return 0, nil, err
	}
	if err := checkDate("to", to); err != nil {
		return 0, nil, err
	}
	if from > to {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "from: must not lie after to")
	}
	bm, ps, err := pageQuery(q)
	if err != nil {
		return 0, nil, err
	}
	var cases api.Page[domain.CaseState]
	if err := c.evaluate(ch.Name, api.FnListByAgency, &cases, msp, bm, ps); err != nil {
		return 0, nil, err
	}
	out := api.EventPage{Items: []domain.Event{}, Bookmark: cases.Bookmark}
	for _, cs := range cases.Items {
		tbm := ""
		for {
			var tl api.Page[domain.Event]
			if err := c.evaluate(ch.Name, api.FnGetTimeline, &tl, cs.Pseudonym, tbm, ""); err != nil {
				return 0, nil, err
			}
			for _, ev := range tl.Items {
				if ev.MSPID == msp && ev.RecordedOn >= from && ev.RecordedOn <= to {
					out.Items = append(out.Items, ev)
				}
			}
			if tl.Bookmark == "" || len(tl.Items) == 0 {
				break
			}
			tbm = tl.Bookmark
		}
	}
	return http.StatusOK, out, nil
}

func (s *Server) hAuditLate(c *call) (int, any, error) {
	q := c.r.URL.Query()
	ch, bm, ps, err := s.listQuery(q)
	if err != nil {
		return 0, nil, err
	}
	var page api.Page[domain.Event]
	if err := c.evaluate(ch.Name, api.FnListLateEvents, &page, q.Get("mspId"), bm, ps); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, api.EventPage{Items: nonNilSlice(page.Items), Bookmark: page.Bookmark}, nil
}

// hAuditErasures lists unconfirmed erasure requests open for at least
// olderThanDays days.
func (s *Server) hAuditErasures(c *call) (int, any, error) {
	q := c.r.URL.Query()
	ch, err := s.channel(q.Get("channel"))
	if err != nil {
		return 0, nil, err
	}
	older := 0
	if v := q.Get("olderThanDays"); v != "" {
		if older, err = strconv.Atoi(v); err != nil || older < 0 || older > 3650 {
			return 0, nil, domain.Errorf(domain.KindInvalidArgument, "olderThanDays: 0..3650")
		}
	}
	bm, ps, err := pageQuery(q)
	if err != nil {
		return 0, nil, err
	}
	var page api.Page[api.ErasureStatus]
	if err := c.evaluate(ch.Name, api.FnListOpenErasures, &page, bm, ps); err != nil {
		return 0, nil, err
	}
	today := s.today()
	out := api.OverdueErasures{Items: []api.OverdueErasure{}, Bookmark: page.Bookmark}
	for _, e := range page.Items {
		days := 0
		if d, err := deadline.ParseDate(e.RequestedOn); err == nil {
			days = d.DaysUntil(today)
		}
		if days >= older {
			out.Items = append(out.Items, api.OverdueErasure{ErasureStatus: e, DaysOpen: days})
		}
	}
	return http.StatusOK, out, nil
}
