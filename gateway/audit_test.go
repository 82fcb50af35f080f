package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	mspproto "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// chainBuilder makes a small, real Fabric block chain: a configuration
// block declaring an MSP with its root certificate, then blocks of
// transactions signed by a member of that MSP.
type chainBuilder struct {
	t        *testing.T
	caKey    *ecdsa.PrivateKey
	caCert   *x509.Certificate
	userKey  *ecdsa.PrivateKey
	userPEM  []byte
	blocks   []*common.Block
	prevHash []byte
	ts       time.Time // timestamp of the next envelopes (zero: none)
}

func newCert(t *testing.T, cn string, key *ecdsa.PrivateKey, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true}
	signer := parentKey
	if parent == nil {
		tmpl.IsCA, tmpl.KeyUsage = true, x509.KeyUsageCertSign
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newChainBuilder(t *testing.T) *chainBuilder {
	b := &chainBuilder{t: t}
	b.caKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b.userKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var caPEM []byte
	b.caCert, caPEM = newCert(t, "ca", b.caKey, nil, nil)
	_, b.userPEM = newCert(t, "user", b.userKey, b.caCert, b.caKey)
	fc, _ := proto.Marshal(&mspproto.FabricMSPConfig{Name: "Org1MSP", RootCerts: [][]byte{caPEM}})
	mc, _ := proto.Marshal(&mspproto.MSPConfig{Config: fc})
	cfg := &common.ConfigEnvelope{Config: &common.Config{ChannelGroup: &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{
		"Application": {Groups: map[string]*common.ConfigGroup{"Org1": {Values: map[string]*common.ConfigValue{"MSP": {Value: mc}}}}},
	}}}}
	data, _ := proto.Marshal(cfg)
	b.add(b.envelope(common.HeaderType_CONFIG, data, nil, nil))
	return b
}

// envelope builds a transaction; key signs it as creator (nil: unsigned).
func (b *chainBuilder) envelope(typ common.HeaderType, data []byte, creatorPEM []byte, key *ecdsa.PrivateKey) []byte {
	chdr := &common.ChannelHeader{Type: int32(typ), ChannelId: "national", TxId: randHex(8)}
	if !b.ts.IsZero() {
		chdr.Timestamp = timestamppb.New(b.ts)
	}
	ch, _ := proto.Marshal(chdr)
	var sh []byte
	if creatorPEM != nil {
		id, _ := proto.Marshal(&mspproto.SerializedIdentity{Mspid: "Org1MSP", IdBytes: creatorPEM})
		sh, _ = proto.Marshal(&common.SignatureHeader{Creator: id, Nonce: []byte("n")})
	}
	pl, _ := proto.Marshal(&common.Payload{Header: &common.Header{ChannelHeader: ch, SignatureHeader: sh}, Data: data})
	env := &common.Envelope{Payload: pl}
	if key != nil {
		d := sha256.Sum256(pl)
		env.Signature, _ = ecdsa.SignASN1(rand.Reader, key, d[:])
	}
	raw, _ := proto.Marshal(env)
	return raw
}

func (b *chainBuilder) tx() []byte {
	return b.envelope(common.HeaderType_ENDORSER_TRANSACTION, []byte("endorsed"), b.userPEM, b.userKey)
}

// endorsed builds a real endorser transaction calling args[0] with the rest,
// timestamped ts, whose write set holds one write or none.
func (b *chainBuilder) endorsed(ts time.Time, write bool, args ...string) []byte {
	return b.endorsedAltered(ts, write, nil, args...)
}

// endorsedAltered is endorsed with the transaction altered by alter (nil: not) after it was
// endorsed, as a client assembling the envelope could.
func (b *chainBuilder) endorsedAltered(ts time.Time, write bool, alter func(tx *peer.Transaction, ap *peer.ChaincodeActionPayload), args ...string) []byte {
	m := func(v proto.Message) []byte {
		out, err := proto.Marshal(v)
		if err != nil {
			b.t.Fatal(err)
		}
		return out
	}
	kv := &kvrwset.KVRWSet{Reads: []*kvrwset.KVRead{{Key: "k"}}}
	if write {
		kv.Writes = []*kvrwset.KVWrite{{Key: "k", Value: []byte("v")}}
	}
	rws := &rwset.TxReadWriteSet{DataModel: rwset.TxReadWriteSet_KV, NsRwset: []*rwset.NsReadWriteSet{{Namespace: "caseledger", Rwset: m(kv)}}}
	input := &peer.ChaincodeInput{}
	for _, a := range args {
		input.Args = append(input.Args, []byte(a))
	}
	cis := &peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{ChaincodeId: &peer.ChaincodeID{Name: "caseledger"}, Input: input}}
	ap := &peer.ChaincodeActionPayload{
		ChaincodeProposalPayload: m(&peer.ChaincodeProposalPayload{Input: m(cis)}),
		Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: m(&peer.ProposalResponsePayload{
			Extension: m(&peer.ChaincodeAction{Results: m(rws)})})},
	}
	// One endorsement by the member (its key signs the response payload and its identity).
	endorser := m(&mspproto.SerializedIdentity{Mspid: "Org1MSP", IdBytes: b.userPEM})
	d := sha256.Sum256(append(append([]byte{}, ap.Action.ProposalResponsePayload...), endorser...))
	sig, err := ecdsa.SignASN1(rand.Reader, b.userKey, d[:])
	if err != nil {
		b.t.Fatal(err)
	}
	ap.Action.Endorsements = []*peer.Endorsement{{Endorser: endorser, Signature: sig}}
	tx := &peer.Transaction{Actions: []*peer.TransactionAction{{Header: m(&common.SignatureHeader{Nonce: []byte("n")})}}}
	if alter != nil {
		alter(tx, ap)
	}
	tx.Actions[0].Payload = m(ap)
	b.ts = ts
	defer func() { b.ts = time.Time{} }()
	return b.envelope(common.HeaderType_ENDORSER_TRANSACTION, m(tx), b.userPEM, b.userKey)
}

func (b *chainBuilder) add(envs ...[]byte) {
	n := uint64(len(b.blocks))
	blk := &common.Block{Header: &common.BlockHeader{Number: n, PreviousHash: b.prevHash}, Data: &common.BlockData{Data: envs},
		Metadata: &common.BlockMetadata{Metadata: make([][]byte, 5)}}
	blk.Header.DataHash = BlockDataHash(blk.Data)
	filter := make([]byte, len(envs))
	for i := range filter {
		filter[i] = byte(peer.TxValidationCode_VALID)
	}
	if n > 2 {
		filter[0] = byte(peer.TxValidationCode_MVCC_READ_CONFLICT)
	}
	blk.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = filter
	h, err := BlockHeaderHash(blk.Header)
	if err != nil {
		b.t.Fatal(err)
	}
	b.prevHash = h
	b.blocks = append(b.blocks, blk)
}

func clone(bs []*common.Block) []*common.Block {
	out := make([]*common.Block, len(bs))
	for i, b := range bs {
		out[i] = proto.Clone(b).(*common.Block)
	}
	return out
}

func TestAuditVerification(t *testing.T) {
	b := newChainBuilder(t)
	for i := 0; i < 4; i++ {
		b.add(b.tx(), b.tx())
	}
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	l := n.ledger(au)
	check := func(chain []*common.Block) api.ChainReport {
		n.blockChains = map[string][]*common.Block{"national": chain}
		return verifyChain(context.Background(), l, "national", clock.Now, 5*time.Minute)
	}
	cr := check(b.blocks)
	if !cr.Intact || cr.Blocks != 5 || cr.Transactions != 9 || cr.SignaturesVerified != 8 ||
		cr.ValidationCodes["VALID"] != 7 || cr.ValidationCodes["MVCC_READ_CONFLICT"] != 2 || cr.LastBlockHash != cr.PeerCurrentHash {
		t.Fatalf("intact chain: %+v", cr)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	foreignCA, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	foreignCACert, _ := newCert(t, "rogue-ca", foreignCA, nil, nil)
	_, roguePEM := newCert(t, "rogue", other, foreignCACert, foreignCA)
	cases := []struct {
		name   string
		tamper func(chain []*common.Block)
		block  uint64
		want   string
	}{
		{"transaction altered", func(c []*common.Block) { c[2].Data.Data[1][len(c[2].Data.Data[1])-3] ^= 1 }, 2, "data hash"},
		{"previous hash altered", func(c []*common.Block) { c[3].Header.PreviousHash = []byte("x") }, 3, "previous hash"},
		{"header rewritten consistently", func(c []*common.Block) {
			// The forger fixes the block's data hash; the next block's
			// previous hash betrays the change.
			c[1].Data.Data[0] = b.tx()
			c[1].Header.DataHash = BlockDataHash(c[1].Data)
		}, 2, "previous hash"},
		{"signature forged", func(c []*common.Block) {
			c[2].Data.Data[0] = b.envelope(common.HeaderType_ENDORSER_TRANSACTION, []byte("endorsed"), b.userPEM, other)
			c[2].Header.DataHash = BlockDataHash(c[2].Data)
		}, 2, "signature does not verify"},
		{"creator outside the MSP", func(c []*common.Block) {
			c[4].Data.Data[0] = b.envelope(common.HeaderType_ENDORSER_TRANSACTION, []byte("endorsed"), roguePEM, other)
			c[4].Header.DataHash = BlockDataHash(c[4].Data)
		}, 4, "does not chain"},
		{"validation codes cut", func(c []*common.Block) {
			c[3].Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = []byte{0}
		}, 3, "validation codes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chain := clone(b.blocks)
			tc.tamper(chain)
			cr := check(chain)
			if cr.Intact || cr.FirstInconsistency == nil || cr.FirstInconsistency.Block != tc.block ||
				!strings.Contains(cr.FirstInconsistency.Problem, tc.want) {
				t.Fatalf("report %+v (inconsistency %+v), want block %d %q", cr, cr.FirstInconsistency, tc.block, tc.want)
			}
		})
	}
	// The last block replaced wholesale: only the peer's current hash betrays it.
	chain := clone(b.blocks)
	n.blockChains = map[string][]*common.Block{"national": b.blocks}
	_, real, _ := l.ChainInfo(context.Background(), "national")
	last := chain[4]
	last.Data.Data[0] = b.tx()
	last.Header.DataHash = BlockDataHash(last.Data)
	n.blockChains = map[string][]*common.Block{"national": chain}
	cr = verifyChain(context.Background(), &pinnedHash{testLedger: l, hash: real}, "national", clock.Now, 5*time.Minute)
	if cr.Intact || cr.FirstInconsistency == nil || !strings.Contains(cr.FirstInconsistency.Problem, "current block hash") {
		t.Fatalf("replaced last block: %+v", cr)
	}
}

// TestAuditNotes: the verification lists every valid transaction that wrote
// nothing (a read that was ordered), naming its creator and its function only
// if the chaincode admits it, never its arguments; and every valid write whose
// timestamp lies more than the tolerance before the latest write of an
// earlier block (a proposal held back before submission).
func TestAuditNotes(t *testing.T) {
	b := newChainBuilder(t)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	name := "Max Mustermann 01.02.1990"
	b.add(b.endorsed(t0, true, api.FnRegisterCase, "r", "p", "2026-03-02"), b.endorsed(t0.Add(time.Second), true, api.FnRecordEvent, "r", "p", "{}"))
	b.add(
		b.endorsed(t0.Add(time.Minute), false, api.FnDeadlinesDue, "2026-05-05", name, "1"), // a read, ordered: no writes
		b.endorsed(t0.Add(-4*time.Minute), true, api.FnRecordEvent, "r", "p", "{}"),         // 4 min behind: within the tolerance
	)
	b.add(
		b.endorsed(t0.Add(-7*time.Minute), true, api.FnRecordEvent, "r", "p", "{}"), // held 7 minutes
		b.endorsed(t0.Add(2*time.Minute), false, name, "x"),                         // unknown function: not named
		b.endorsed(t0.Add(2*time.Minute), true, api.FnRequestErasure, "r", "p", "2026-03-02"),
	)
	// The same block's later write does not make an earlier one of the block late.
	b.add(b.endorsed(t0.Add(-2*time.Minute), true, api.FnRecordEvent, "r", "p", "{}"), b.endorsed(t0.Add(3*time.Minute), true, api.FnRecordEvent, "r", "p", "{}"))
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	l := n.ledger(au)
	n.blockChains = map[string][]*common.Block{"national": b.blocks}
	cr := verifyChain(context.Background(), l, "national", clock.Now, 5*time.Minute)
	if !cr.Intact {
		t.Fatalf("chain not intact: %+v", cr)
	}
	if cr.StartedAt.IsZero() || cr.FinishedAt.IsZero() {
		t.Fatalf("report times: started %s, finished %s", cr.StartedAt, cr.FinishedAt)
	}
	// Block 3's first transaction is MVCC_READ_CONFLICT (chainBuilder.add), hence not listed.
	wantNo := []api.TxNote{{Block: 2, Tx: 0, Creator: "Org1MSP", Function: api.FnDeadlinesDue, Timestamp: t0.Add(time.Minute)},
		{Block: 3, Tx: 1, Creator: "Org1MSP", Timestamp: t0.Add(2 * time.Minute)}}
	if cr.NoWritesTotal != len(wantNo) || len(cr.NoWrites) != len(wantNo) {
		t.Fatalf("noWrites %+v", cr.NoWrites)
	}
	for i, w := range wantNo {
		g := cr.NoWrites[i]
		if g.Block != w.Block || g.Tx != w.Tx || g.Creator != w.Creator || g.Function != w.Function || !g.Timestamp.Equal(w.Timestamp) || g.TxID == "" {
			t.Errorf("noWrites[%d] = %+v, want %+v", i, g, w)
		}
	}
	if len(cr.LateTimestamps) != 0 {
		t.Fatalf("late with block 3's held write in conflict: %+v", cr.LateTimestamps)
	}
	// The invalid transactions (the first of blocks 3 and 4) are named with their signer,
	// function and validation code.
	if cr.InvalidTotal != 2 || len(cr.Invalid) != 2 {
		t.Fatalf("invalid %+v", cr.Invalid)
	}
	for i, g := range cr.Invalid {
		if g.Block != uint64(3+i) || g.Tx != 0 || g.Creator != "Org1MSP" || g.Function != api.FnRecordEvent ||
			g.Problem != peer.TxValidationCode_MVCC_READ_CONFLICT.String() || g.TxID == "" {
			t.Fatalf("invalid[%d] = %+v", i, g)
		}
	}
	// Block 3's held write made VALID: it is flagged, 7m1s behind the latest
	// write of blocks 1-2 (t0+1s).
	chain := clone(b.blocks)
	chain[3].Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER][0] = byte(peer.TxValidationCode_VALID)
	n.blockChains = map[string][]*common.Block{"national": chain}
	cr = verifyChain(context.Background(), l, "national", clock.Now, 5*time.Minute)
	if cr.LateTimestampsTotal != 1 || len(cr.LateTimestamps) != 1 {
		t.Fatalf("late %+v", cr.LateTimestamps)
	}
	if cr.InvalidTotal != 1 || cr.Invalid[0].Block != 4 {
		t.Fatalf("invalid after block 3 was made valid: %+v", cr.Invalid)
	}
	if g := cr.LateTimestamps[0]; g.Block != 3 || g.Tx != 0 || g.Function != api.FnRecordEvent || g.Behind != "7m1s" || g.Creator != "Org1MSP" {
		t.Fatalf("late %+v", g)
	}
	if cr.UnexpectedContentTotal != 0 {
		t.Fatalf("unexpected content in honest transactions: %+v", cr.UnexpectedContent)
	}
	// The report as the API sends it never holds an argument.
	out, err := json.Marshal(cr)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "Mustermann") || strings.Contains(string(out), "2026-05-05") {
		t.Fatalf("report carries arguments: %s", out)
	}
}

// TestAuditUnexpectedContent: bytes a client adds to a transaction after endorsement, which the
// chaincode never saw and the committing peer ignores, are reported (never quoted).
func TestAuditUnexpectedContent(t *testing.T) {
	b := newChainBuilder(t)
	ts := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	name := []byte("Max Mustermann 01.02.1990")
	unknown := func(m proto.Message) {
		r := m.ProtoReflect()
		r.SetUnknown(protowire.AppendBytes(protowire.AppendTag(r.GetUnknown(), 99, protowire.BytesType), name))
	}
	b.add(
		b.endorsed(ts, true, api.FnRecordEvent, "r", "p", "{}"),
		b.endorsedAltered(ts, true, func(_ *peer.Transaction, ap *peer.ChaincodeActionPayload) {
			ap.Action.Endorsements = append(ap.Action.Endorsements, &peer.Endorsement{Endorser: ap.Action.Endorsements[0].Endorser, Signature: name})
		}, api.FnRecordEvent, "r", "p", "{}"),
		b.endorsedAltered(ts, true, func(tx *peer.Transaction, _ *peer.ChaincodeActionPayload) { unknown(tx) }, api.FnRecordEvent, "r", "p", "{}"),
		b.endorsedAltered(ts, true, func(_ *peer.Transaction, ap *peer.ChaincodeActionPayload) { unknown(ap.Action) }, api.FnRecordEvent, "r", "p", "{}"),
		b.endorsedAltered(ts, true, func(tx *peer.Transaction, _ *peer.ChaincodeActionPayload) {
			tx.Actions = append(tx.Actions, &peer.TransactionAction{Payload: name})
		}, api.FnRecordEvent, "r", "p", "{}"),
	)
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	l := n.ledger(au)
	n.blockChains = map[string][]*common.Block{"national": b.blocks}
	cr := verifyChain(context.Background(), l, "national", clock.Now, 5*time.Minute)
	if !cr.Intact {
		t.Fatalf("chain not intact: %+v", cr)
	}
	want := map[int]string{1: "endorsement signature does not verify", 2: "unknown protobuf fields", 3: "unknown protobuf fields", 4: "2 actions"}
	if cr.UnexpectedContentTotal != len(want) {
		t.Fatalf("unexpected content %+v", cr.UnexpectedContent)
	}
	for _, u := range cr.UnexpectedContent {
		if u.Block != 1 || !strings.Contains(u.Problem, want[u.Tx]) || want[u.Tx] == "" || u.Creator != "Org1MSP" {
			t.Errorf("note %+v", u)
		}
	}
	out, _ := json.Marshal(cr)
	if strings.Contains(string(out), "Mustermann") {
		t.Fatalf("report quotes the content: %s", out)
	}
}

// pinnedHash reports a fixed current block hash (the peer's own).
type pinnedHash struct {
	*testLedger
	hash []byte
}

func (p *pinnedHash) ChainInfo(ctx context.Context, ch string) (uint64, []byte, error) {
	h, _, err := p.testLedger.ChainInfo(ctx, ch)
	return h, p.hash, err
}

// TestAuditEndpoints: only auditors and admins; the report is stored.
func TestAuditEndpoints(t *testing.T) {
	b := newChainBuilder(t)
	b.add(b.tx())
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	n.blockChains = map[string][]*common.Block{"national": b.blocks, "dublin": b.blocks}
	a := newAgency(t, n, clock, au, nil)
	var rep api.AuditReport
	a.must(200, a.call(domain.RoleAuditor, "GET", "/v1/audit/verification", nil, ""), &rep)
	if rep.Intact || len(rep.Channels) != 0 {
		t.Fatalf("report before any run: %+v", rep)
	}
	a.must(200, a.call(domain.RoleAuditor, "POST", "/v1/audit/verification", nil, "-"), &rep)
	if !rep.Intact || len(rep.Channels) != 2 || rep.Channels[0].Blocks != 2 {
		t.Fatalf("run: %+v", rep)
	}
	a.must(200, a.call(domain.RoleAuditor, "GET", "/v1/audit/verification", nil, ""), &rep)
	if !rep.Intact || len(rep.Channels) != 2 {
		t.Fatalf("stored: %+v", rep)
	}
}

// TestAuditVerifiesTheInProcessChain: the blocks the in-process ledger
// writes are read by the verification as a peer's are — the configuration
// block's MSP roots, every creator and endorser signature chained to them,
// one valid writing transaction per write, nothing unexpected — and a block
// altered afterwards is found.
func TestAuditVerifiesTheInProcessChain(t *testing.T) {
	clock := newTestClock()
	n := newTestNet(t, clock.Now)
	a := newAgency(t, n, clock, bp, nil)
	for i := range 3 {
		a.register(domain.RoleCaseworker, "national", fmt.Sprintf("BP-AUD-%d", i), "2026-11-27")
	}
	l := n.ledger(au)
	cr := verifyChain(context.Background(), l, "national", clock.Now, 5*time.Minute)
	if !cr.Intact || cr.Blocks != 4 || cr.Transactions != 4 || cr.SignaturesVerified != 3 || cr.ValidationCodes["VALID"] != 4 ||
		cr.NoWritesTotal != 0 || cr.UnexpectedContentTotal != 0 || cr.InvalidTotal != 0 || cr.LateTimestampsTotal != 0 {
		t.Fatalf("report %+v", cr)
	}
	chain := make([]*common.Block, 0, 4)
	blocks, _ := l.Blocks(t.Context(), "national", 0)
	for range 4 {
		chain = append(chain, <-blocks)
	}
	chain = clone(chain)
	chain[2].Data.Data[0][len(chain[2].Data.Data[0])-5] ^= 1
	n.blockChains = map[string][]*common.Block{"national": chain}
	cr = verifyChain(context.Background(), l, "national", clock.Now, 5*time.Minute)
	if cr.Intact || cr.FirstInconsistency == nil || cr.FirstInconsistency.Block != 2 {
		t.Fatalf("altered block: %+v", cr)
	}
}
