package inproc

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The messages below are the ones fabric-gateway and the peers exchange, so
// that what the in-process ledger puts into a block is what a Fabric block
// holds and the auditor's verification reads it as it reads the real one.

func marshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("inproc: marshal %T: %v", m, err)) // only for messages built here
	}
	return b
}

// proposal is a signed proposal and what was derived from it.
type proposal struct {
	signed *peer.SignedProposal
	prop   *peer.Proposal
	txID   string
}

// newProposal builds and signs the proposal a client sends for fn(args) on
// channel: a fresh nonce, the transaction id Fabric derives from it and the
// creator, the timestamp ts.
func newProposal(s *signer, channel, chaincode string, ts time.Time, args []string) (*proposal, error) {
	nonce := make([]byte, 24)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append(append([]byte{}, nonce...), s.creator...))
	txID := hex.EncodeToString(sum[:])
	id := &peer.ChaincodeID{Name: chaincode}
	hdr := &common.Header{
		ChannelHeader: marshal(&common.ChannelHeader{Type: int32(common.HeaderType_ENDORSER_TRANSACTION), Timestamp: timestamppb.New(ts),
			ChannelId: channel, TxId: txID, Extension: marshal(&peer.ChaincodeHeaderExtension{ChaincodeId: id})}),
		SignatureHeader: marshal(&common.SignatureHeader{Creator: s.creator, Nonce: nonce}),
	}
	input := &peer.ChaincodeInput{}
	for _, a := range args {
		input.Args = append(input.Args, []byte(a))
	}
	cis := &peer.ChaincodeInvocationSpec{ChaincodeSpec: &peer.ChaincodeSpec{Type: peer.ChaincodeSpec_GOLANG, ChaincodeId: id, Input: input}}
	prop := &peer.Proposal{Header: marshal(hdr), Payload: marshal(&peer.ChaincodeProposalPayload{Input: marshal(cis)})}
	pb := marshal(prop)
	sig, err := s.sign(pb)
	if err != nil {
		return nil, err
	}
	return &proposal{signed: &peer.SignedProposal{ProposalBytes: pb, Signature: sig}, prop: prop, txID: txID}, nil
}

// simulation is what endorsing a proposal produced.
type simulation struct {
	rwset    *kvrwset.KVRWSet
	response *peer.Response
	event    *peer.ChaincodeEvent // nil: none
	// pvt: the private writes (collection -> key -> value, nil for a purge); the block carries
	// their hashes only, as Fabric's does.
	pvt map[string]map[string][]byte
}

// hashedCollections is the hashed write set Fabric puts in the block for a transaction's private
// writes: per collection, SHA-256 of each key and value; a purge (the chaincode's only private
// deletion) is a delete marked IsPurge.
func hashedCollections(pvt map[string]map[string][]byte) []*rwset.CollectionHashedReadWriteSet {
	var out []*rwset.CollectionHashedReadWriteSet
	for _, coll := range slices.Sorted(maps.Keys(pvt)) {
		h := &kvrwset.HashedRWSet{}
		for _, k := range slices.Sorted(maps.Keys(pvt[coll])) {
			kh := sha256.Sum256([]byte(k))
			w := &kvrwset.KVWriteHash{KeyHash: kh[:]}
			if v := pvt[coll][k]; v == nil {
				w.IsDelete, w.IsPurge = true, true
			} else {
				vh := sha256.Sum256(v)
				w.ValueHash = vh[:]
			}
			h.HashedWrites = append(h.HashedWrites, w)
		}
		out = append(out, &rwset.CollectionHashedReadWriteSet{CollectionName: coll, HashedRwset: marshal(h)})
	}
	return out
}

// envelope assembles the transaction a client sends to the orderer: the
// proposal, the endorsed response (read-write set, event, chaincode
// response) signed by every endorser, the whole signed by the creator.
func envelope(p *proposal, sim simulation, chaincode string, creator *signer, endorsers []*signer) ([]byte, error) {
	results := marshal(&rwset.TxReadWriteSet{DataModel: rwset.TxReadWriteSet_KV,
		NsRwset: []*rwset.NsReadWriteSet{{Namespace: chaincode, Rwset: marshal(sim.rwset), CollectionHashedRwset: hashedCollections(sim.pvt)}}})
	act := &peer.ChaincodeAction{Results: results, Response: sim.response, ChaincodeId: &peer.ChaincodeID{Name: chaincode}}
	if sim.event != nil {
		act.Events = marshal(sim.event)
	}
	ph := sha256.Sum256(p.signed.ProposalBytes)
	prp := marshal(&peer.ProposalResponsePayload{ProposalHash: ph[:], Extension: marshal(act)})
	var ends []*peer.Endorsement
	for _, e := range endorsers {
		sig, err := e.sign(append(append([]byte{}, prp...), e.creator...))
		if err != nil {
			return nil, err
		}
		ends = append(ends, &peer.Endorsement{Endorser: e.creator, Signature: sig})
	}
	var hdr common.Header
	if err := proto.Unmarshal(p.prop.Header, &hdr); err != nil {
		return nil, err
	}
	cap := &peer.ChaincodeActionPayload{ChaincodeProposalPayload: p.prop.Payload,
		Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: prp, Endorsements: ends}}
	tx := &peer.Transaction{Actions: []*peer.TransactionAction{{Header: hdr.SignatureHeader, Payload: marshal(cap)}}}
	pl := marshal(&common.Payload{Header: &hdr, Data: marshal(tx)})
	sig, err := creator.sign(pl)
	if err != nil {
		return nil, err
	}
	return marshal(&common.Envelope{Payload: pl, Signature: sig}), nil
}

// prepared is a transaction read back from its envelope: what the
// committer needs of it.
type prepared struct {
	raw       []byte
	channel   string
	txID      string
	timestamp time.Time
	fn        string
	rwset     *kvrwset.KVRWSet
	response  *peer.Response
	event     *peer.ChaincodeEvent
}

// parseEnvelope decodes a prepared transaction (one built here, possibly by
// an earlier attempt that journaled it).
func parseEnvelope(raw []byte) (*prepared, error) {
	var env common.Envelope
	var pl common.Payload
	var chdr common.ChannelHeader
	var tx peer.Transaction
	var cap peer.ChaincodeActionPayload
	var prp peer.ProposalResponsePayload
	var act peer.ChaincodeAction
	var txrw rwset.TxReadWriteSet
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	bad := errors.New("inproc: undecodable transaction")
	if proto.Unmarshal(raw, &env) != nil || proto.Unmarshal(env.Payload, &pl) != nil || pl.Header == nil ||
		proto.Unmarshal(pl.Header.ChannelHeader, &chdr) != nil || proto.Unmarshal(pl.Data, &tx) != nil || len(tx.Actions) != 1 ||
		proto.Unmarshal(tx.Actions[0].Payload, &cap) != nil || cap.Action == nil ||
		proto.Unmarshal(cap.Action.ProposalResponsePayload, &prp) != nil || proto.Unmarshal(prp.Extension, &act) != nil ||
		proto.Unmarshal(act.Results, &txrw) != nil || len(txrw.NsRwset) != 1 ||
		proto.Unmarshal(cap.ChaincodeProposalPayload, &cpp) != nil || proto.Unmarshal(cpp.Input, &cis) != nil {
		return nil, bad
	}
	p := &prepared{raw: raw, channel: chdr.ChannelId, txID: chdr.TxId, timestamp: chdr.GetTimestamp().AsTime(),
		rwset: &kvrwset.KVRWSet{}, response: act.Response}
	if args := cis.GetChaincodeSpec().GetInput().GetArgs(); len(args) > 0 {
		p.fn = string(args[0])
	}
	if proto.Unmarshal(txrw.NsRwset[0].Rwset, p.rwset) != nil {
		return nil, bad
	}
	if len(act.Events) > 0 {
		p.event = &peer.ChaincodeEvent{}
		if proto.Unmarshal(act.Events, p.event) != nil {
			return nil, bad
		}
	}
	return p, nil
}

// genesis is block 0 of a channel: its configuration, declaring the
// members' MSPs with their root certificates. Unsigned, like a genesis block.
func genesis(channel string, members []*msp) (*common.Block, error) {
	groups := map[string]*common.ConfigGroup{}
	for _, m := range members {
		v, err := m.config()
		if err != nil {
			return nil, err
		}
		groups[m.id] = &common.ConfigGroup{Values: map[string]*common.ConfigValue{"MSP": {Value: v}}}
	}
	cfg := marshal(&common.ConfigEnvelope{Config: &common.Config{ChannelGroup: &common.ConfigGroup{
		Groups: map[string]*common.ConfigGroup{"Application": {Groups: groups}}}}})
	chdr := marshal(&common.ChannelHeader{Type: int32(common.HeaderType_CONFIG), ChannelId: channel})
	env := marshal(&common.Envelope{Payload: marshal(&common.Payload{Header: &common.Header{ChannelHeader: chdr}, Data: cfg})})
	return newBlock(0, nil, env, peer.TxValidationCode_VALID)
}

// newBlock is a block of one transaction with its validation code.
func newBlock(number uint64, prev *common.Block, env []byte, code peer.TxValidationCode) (*common.Block, error) {
	b := &common.Block{Header: &common.BlockHeader{Number: number}, Data: &common.BlockData{Data: [][]byte{env}},
		Metadata: &common.BlockMetadata{Metadata: make([][]byte, len(common.BlockMetadataIndex_name))}}
	if prev != nil {
		h, err := headerHash(prev.Header)
		if err != nil {
			return nil, err
		}
		b.Header.PreviousHash = h
	}
	sum := sha256.Sum256(bytes.Join(b.Data.Data, nil))
	b.Header.DataHash = sum[:]
	b.Metadata.Metadata[common.BlockMetadataIndex_TRANSACTIONS_FILTER] = []byte{byte(code)}
	return b, nil
}

// headerHash is Fabric's block hash: SHA-256 of the ASN.1 encoding of
// number, previous hash and data hash.
func headerHash(h *common.BlockHeader) ([]byte, error) {
	der, err := asn1.Marshal(struct {
		Number       *big.Int
		PreviousHash []byte
		DataHash     []byte
	}{new(big.Int).SetUint64(h.GetNumber()), h.GetPreviousHash(), h.GetDataHash()})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return sum[:], nil
}
