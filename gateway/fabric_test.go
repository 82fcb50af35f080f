package gateway

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-gateway/pkg/identity"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	gwproto "github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// fakePeer is a Fabric Gateway gRPC service whose every step is scripted,
// to test the submit pipeline's handling of lost commits, MVCC conflicts
// and endorsement failures against the real fabric-gateway client.
type fakePeer struct {
	gwproto.UnimplementedGatewayServer
	mu sync.Mutex
	// endorse decides an endorsement: a result or an error.
	endorse func(n int, txID string, args []string) ([]byte, error)
	// commit decides the n-th commit status request: a code, or block
	// until the client gives up (lost).
	commit func(n int, txID string) (peer.TxValidationCode, bool)
	// evaluate answers queries.
	evaluate func(fn string, args []string) ([]byte, error)
	// evaluateOn, if set, answers queries aimed at organisations
	// (WithEndorsingOrganizations) instead of evaluate.
	evaluateOn func(orgs []string, fn string, args []string) ([]byte, error)
	// endorsers are the MSP ids of the endorsements of a prepared transaction.
	endorsers []string

	endorsements []endorsement
	submits      [][]byte // signed envelopes as received
	statuses     int
}

type endorsement struct {
	txID string
	args []string
}

func proposalArgs(sp *peer.SignedProposal) (string, []string) {
	var prop peer.Proposal
	_ = proto.Unmarshal(sp.ProposalBytes, &prop)
	var cpp peer.ChaincodeProposalPayload
	_ = proto.Unmarshal(prop.Payload, &cpp)
	var cis peer.ChaincodeInvocationSpec
	_ = proto.Unmarshal(cpp.Input, &cis)
	var out []string
	for _, a := range cis.GetChaincodeSpec().GetInput().GetArgs() {
		out = append(out, string(a))
	}
	if len(out) == 0 {
		return "", nil
	}
	return out[0], out[1:]
}

func (f *fakePeer) Endorse(_ context.Context, req *gwproto.EndorseRequest) (*gwproto.EndorseResponse, error) {
	fn, args := proposalArgs(req.ProposedTransaction)
	f.mu.Lock()
	f.endorsements = append(f.endorsements, endorsement{txID: req.TransactionId, args: append([]string{fn}, args...)})
	n := len(f.endorsements)
	f.mu.Unlock()
	result, err := f.endorse(n, req.TransactionId, args)
	if err != nil {
		return nil, err
	}
	mk := func(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }
	var endorsements []*peer.Endorsement
	for _, m := range f.endorsers {
		endorsements = append(endorsements, &peer.Endorsement{Endorser: mk(&msp.SerializedIdentity{Mspid: m})})
	}
	env := &common.Envelope{Payload: mk(&common.Payload{
		Header: &common.Header{ChannelHeader: mk(&common.ChannelHeader{ChannelId: req.ChannelId, TxId: req.TransactionId})},
		Data: mk(&peer.Transaction{Actions: []*peer.TransactionAction{{Payload: mk(&peer.ChaincodeActionPayload{
			Action: &peer.ChaincodeEndorsedAction{ProposalResponsePayload: mk(&peer.ProposalResponsePayload{
				Extension: mk(&peer.ChaincodeAction{Response: &peer.Response{Status: 200, Payload: result}}),
			}), Endorsements: endorsements},
		})}}}),
	})}
	return &gwproto.EndorseResponse{PreparedTransaction: env}, nil
}

func (f *fakePeer) Submit(_ context.Context, req *gwproto.SubmitRequest) (*gwproto.SubmitResponse, error) {
	b, _ := proto.Marshal(req.PreparedTransaction)
	f.mu.Lock()
	f.submits = append(f.submits, b)
	f.mu.Unlock()
	return &gwproto.SubmitResponse{}, nil
}

func (f *fakePeer) CommitStatus(ctx context.Context, req *gwproto.SignedCommitStatusRequest) (*gwproto.CommitStatusResponse, error) {
	var r gwproto.CommitStatusRequest
	_ = proto.Unmarshal(req.Request, &r)
	f.mu.Lock()
	f.statuses++
	n := f.statuses
	f.mu.Unlock()
	code, lost := f.commit(n, r.TransactionId)
	if lost {
		<-ctx.Done() // the orderer dropped it: the status never comes
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	return &gwproto.CommitStatusResponse{Result: code, BlockNumber: 40 + uint64(n)}, nil
}

func (f *fakePeer) Evaluate(_ context.Context, req *gwproto.EvaluateRequest) (*gwproto.EvaluateResponse, error) {
	fn, args := proposalArgs(req.ProposedTransaction)
	var res []byte
	var err error
	switch {
	case f.evaluateOn != nil:
		res, err = f.evaluateOn(req.TargetOrganizations, fn, args)
	case f.evaluate != nil:
		res, err = f.evaluate(fn, args)
	default:
		err = status.Error(codes.Unknown, "evaluate call to endorser returned error: chaincode response 500, no such query")
	}
	if err != nil {
		return nil, err
	}
	return &gwproto.EvaluateResponse{Result: &peer.Response{Status: 200, Payload: res}}, nil
}

func (f *fakePeer) counts() (endorse, submit int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.endorsements), len(f.submits)
}

// fabricOver connects a FabricLedger to the fake peer.
func fabricOver(t *testing.T, f *fakePeer) *FabricLedger {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	gwproto.RegisterGatewayServer(srv, f)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, _ := newCert(t, "caseworker1", key, nil, nil)
	id, err := identity.NewX509Identity("BorderPoliceMSP", cert)
	if err != nil {
		t.Fatal(err)
	}
	sign, err := identity.NewPrivateKeySign(key)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := client.Connect(id, client.WithSign(sign), client.WithClientConnection(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Close() })
	return &FabricLedger{
		mspID: "BorderPoliceMSP", chaincode: "caseledger", log: testLogger(t), now: time.Now,
		t: Timeouts{Evaluate: time.Second, Endorse: time.Second, Submit: time.Second, CommitStatus: 150 * time.Millisecond,
			Write: 10 * time.Second, MaxRetries: 3, MaxResubmits: 2, LagWait: 2 * time.Second, ClockSkewPersist: time.Minute},
		gateways: map[domain.Role]*client.Gateway{domain.RoleCaseworker: gw},
		roles:    []domain.Role{domain.RoleCaseworker},
		channels: []api.ChannelInfo{{Name: "national", Procedure: domain.ProcedureNational}},
	}
}

func writeResult(txID string) []byte {
	b, _ := json.Marshal(api.WriteResult{Pseudonym: "p", Seq: 1, Code: domain.EvCaseRegistered, TxID: txID})
	return b
}

const reqID = "0f8fad5b-d9cb-469f-a165-70867728950e"

// TestSubmitResubmitsTheSameSignedTransaction: a commit status that never
// comes (the orderer lost the transaction) is answered by resubmitting the
// same signed envelope, not by endorsing a new transaction.
func TestSubmitResubmitsTheSameSignedTransaction(t *testing.T) {
	f := &fakePeer{
		endorse: func(_ int, txID string, _ []string) ([]byte, error) { return writeResult(txID), nil },
		commit: func(n int, _ string) (peer.TxValidationCode, bool) {
			return peer.TxValidationCode_VALID, n == 1 // the first wait is lost
		},
	}
	l := fabricOver(t, f)
	rec, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "national", api.FnRegisterCase, reqID, "p", "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	e, s := f.counts()
	if e != 1 || s != 2 || !bytes.Equal(f.submits[0], f.submits[1]) {
		t.Fatalf("endorsements %d, submits %d (identical: %v); want 1 endorsement, the same envelope twice", e, s, s == 2 && bytes.Equal(f.submits[0], f.submits[1]))
	}
	if rec.TxID != f.endorsements[0].txID || rec.BlockNumber != 42 || rec.Attempts != 1 {
		t.Fatalf("receipt %+v", rec)
	}
}

// TestSubmitRetriesInvalidatedAsNewTransaction: an MVCC conflict, or an
// endorsement policy that changed between endorsement and validation,
// invalidated the transaction; a new one with the same requestID is endorsed.
// A code no new proposal can cure is reported at once.
func TestSubmitRetriesInvalidatedAsNewTransaction(t *testing.T) {
	for _, tc := range []struct {
		code  peer.TxValidationCode
		retry bool
	}{
		{peer.TxValidationCode_MVCC_READ_CONFLICT, true},
		{peer.TxValidationCode_PHANTOM_READ_CONFLICT, true},
		{peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE, true},
		{peer.TxValidationCode_BAD_PAYLOAD, false},
	} {
		t.Run(tc.code.String(), func(t *testing.T) {
			f := &fakePeer{
				endorse: func(_ int, txID string, _ []string) ([]byte, error) { return writeResult(txID), nil },
				commit: func(n int, _ string) (peer.TxValidationCode, bool) {
					if n == 1 {
						return tc.code, false
					}
					return peer.TxValidationCode_VALID, false
				},
			}
			l := fabricOver(t, f)
			rec, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "national", api.FnRegisterCase, reqID, "p", "2026-11-27")
			if !tc.retry {
				var cf *CommitFailure
				if !errors.As(err, &cf) || cf.Code != tc.code.String() || len(f.endorsements) != 1 {
					t.Fatalf("err %v, endorsements %d; want the commit failure after one endorsement", err, len(f.endorsements))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.endorsements) != 2 || f.endorsements[0].txID == f.endorsements[1].txID ||
				f.endorsements[0].args[1] != reqID || f.endorsements[1].args[1] != reqID || rec.Attempts != 2 || rec.TxID != f.endorsements[1].txID {
				t.Fatalf("endorsements %+v, receipt %+v", f.endorsements, rec)
			}
		})
	}
}

// TestSubmitEndorsementOutcomes: a chaincode refusal is final; an
// endorsement that could not be collected is retried; an invalidation that
// a retry does not cure is reported.
func TestSubmitEndorsementOutcomes(t *testing.T) {
	refused := func(int, string, []string) ([]byte, error) {
		st, _ := status.New(codes.Aborted, "failed to endorse transaction, see attached details for more info").
			WithDetails(&gwproto.ErrorDetail{Address: "peer0", MspId: "BorderPoliceMSP", Message: "chaincode response 500, INVALID_TRANSITION: not from REGISTERED"})
		return nil, st.Err()
	}
	flaky := func(n int, txID string, _ []string) ([]byte, error) {
		if n == 1 {
			return nil, status.Error(codes.Unavailable, "failed to collect enough endorsements")
		}
		return writeResult(txID), nil
	}
	valid := func(int, string) (peer.TxValidationCode, bool) { return peer.TxValidationCode_VALID, false }
	policy := func(int, string) (peer.TxValidationCode, bool) {
		return peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE, false
	}
	cases := []struct {
		name     string
		endorse  func(int, string, []string) ([]byte, error)
		commit   func(int, string) (peer.TxValidationCode, bool)
		check    func(error) bool
		endorsed int
	}{
		{"chaincode refusal", refused, valid, func(err error) bool {
			var de *domain.Error
			return errors.As(err, &de) && de.Kind == domain.KindInvalidTransition && de.Message == "not from REGISTERED"
		}, 1},
		{"endorsement not collected once", flaky, valid, func(err error) bool { return err == nil }, 2},
		// A policy no new proposal meets: retried within MaxRetries (3 here), then reported.
		{"policy failure that persists", func(_ int, txID string, _ []string) ([]byte, error) { return writeResult(txID), nil }, policy,
			func(err error) bool {
				var cf *CommitFailure
				return errors.As(err, &cf) && cf.Code == "ENDORSEMENT_POLICY_FAILURE" && errors.Is(err, ErrCommitFailed)
			}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakePeer{endorse: tc.endorse, commit: tc.commit}
			l := fabricOver(t, f)
			_, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "national", api.FnRecordEvent, reqID, "p", "{}")
			if !tc.check(err) {
				t.Fatalf("error %v", err)
			}
			if e, _ := f.counts(); e != tc.endorsed {
				t.Fatalf("%d endorsements, want %d", e, tc.endorsed)
			}
		})
	}
}

// TestSubmitAmbiguousToTheEnd: when no commit status ever comes, the
// chaincode's record of the requestID decides: found → success with the
// stored result; not found → ErrOutcomeUnknown (safe to retry).
func TestSubmitAmbiguousToTheEnd(t *testing.T) {
	for _, committed := range []bool{true, false} {
		f := &fakePeer{
			endorse: func(_ int, txID string, _ []string) ([]byte, error) { return writeResult(txID), nil },
			commit:  func(int, string) (peer.TxValidationCode, bool) { return 0, true },
		}
		f.evaluate = func(fn string, args []string) ([]byte, error) {
			if fn == api.FnGetRequestResult && committed && args[0] == reqID {
				return json.Marshal(api.RequestResult{RequestID: reqID, TxID: f.endorsements[0].txID, Result: writeResult(f.endorsements[0].txID)})
			}
			if fn == "GetBlockByTxID" {
				return proto.Marshal(&common.Block{Header: &common.BlockHeader{Number: 77}})
			}
			return nil, status.Error(codes.Unknown, "evaluate call to endorser returned error: chaincode response 500, NOT_FOUND: no committed request with that id")
		}
		l := fabricOver(t, f)
		rec, err := l.Submit(context.Background(), nil, domain.RoleCaseworker, "national", api.FnRegisterCase, reqID, "p", "2026-11-27")
		e, s := f.counts()
		if e != 1 || s != 1+l.t.MaxResubmits {
			t.Fatalf("committed=%v: %d endorsements, %d submits", committed, e, s)
		}
		switch {
		case committed && (err != nil || rec.TxID != f.endorsements[0].txID || rec.BlockNumber != 77):
			t.Fatalf("committed: %+v %v", rec, err)
		case !committed && !errors.Is(err, ErrOutcomeUnknown):
			t.Fatalf("not committed: %v", err)
		case !committed && problemOf(err).Code != api.CodeOutcomeUnknown:
			// The chaincode's NOT_FOUND for the request id must not reach the
			// client as a final 404: the transaction may still commit.
			t.Fatalf("not committed: answered %s, want %s", problemOf(err).Code, api.CodeOutcomeUnknown)
		}
	}
}

// memJournal is an in-memory TxJournal.
type memJournal map[string][]byte

func (m memJournal) LoadTx(id string) []byte { return m[id] }
func (m memJournal) SaveTx(id string, b []byte) error {
	m[id] = b
	return nil
}

// TestSubmitResumesJournaledTransaction: a write that ended OUTCOME_UNKNOWN
// is retried (by a fresh gateway, as after a restart) by resubmitting the
// journaled transaction — same transaction id, no second endorsement; once
// it was invalidated, a new transaction may be endorsed.
func TestSubmitResumesJournaledTransaction(t *testing.T) {
	lost := true
	f := &fakePeer{
		endorse: func(_ int, txID string, _ []string) ([]byte, error) { return writeResult(txID), nil },
		evaluate: func(string, []string) ([]byte, error) {
			return nil, status.Error(codes.Unknown, "chaincode response 500, NOT_FOUND: no committed request with that id")
		},
	}
	var mu sync.Mutex
	f.commit = func(int, string) (peer.TxValidationCode, bool) {
		mu.Lock()
		defer mu.Unlock()
		return peer.TxValidationCode_VALID, lost
	}
	j := memJournal{}
	ctx := context.Background()
	if _, err := fabricOver(t, f).Submit(ctx, j, domain.RoleCaseworker, "national", api.FnRegisterCase, reqID, "p", "2026-11-27"); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("first attempt: %v", err)
	}
	if j[reqID] == nil {
		t.Fatal("prepared transaction not journaled")
	}
	firstTx := f.endorsements[0].txID
	mu.Lock()
	lost = false
	mu.Unlock()
	rec, err := fabricOver(t, f).Submit(ctx, j, domain.RoleCaseworker, "national", api.FnRegisterCase, reqID, "p", "2026-11-27")
	if err != nil || rec.TxID != firstTx {
		t.Fatalf("retry: %+v %v", rec, err)
	}
	if e, _ := f.counts(); e != 1 {
		t.Fatalf("%d endorsements: the retry endorsed a second transaction", e)
	}
	// Every envelope submitted carries the first transaction id.
	for i, raw := range f.submits {
		var env common.Envelope
		var pl common.Payload
		var ch common.ChannelHeader
		_ = proto.Unmarshal(raw, &env)
		_ = proto.Unmarshal(env.Payload, &pl)
		_ = proto.Unmarshal(pl.Header.ChannelHeader, &ch)
		if ch.TxId != firstTx {
			t.Fatalf("submission %d carries transaction %s", i, ch.TxId)
		}
	}
	// An invalidated journaled transaction gives way to a new one.
	f.commit = func(n int, txID string) (peer.TxValidationCode, bool) {
		if txID == firstTx {
			return peer.TxValidationCode_MVCC_READ_CONFLICT, false
		}
		return peer.TxValidationCode_VALID, false
	}
	rec, err = fabricOver(t, f).Submit(ctx, j, domain.RoleCaseworker, "national", api.FnRegisterCase, reqID, "p", "2026-11-27")
	if err != nil || rec.TxID == firstTx || len(f.endorsements) != 2 || f.endorsements[1].args[1] != reqID {
		t.Fatalf("after invalidation: %+v %v, endorsements %d", rec, err, len(f.endorsements))
	}
}

// failJournal keeps nothing.
type failJournal struct{}

func (failJournal) LoadTx(string) []byte        { return nil }
func (failJournal) SaveTx(string, []byte) error { return errors.New("disk full") }

// TestSubmitJournalsBeforeOrdering: a prepared transaction that cannot be
// journaled is never handed to the orderer (Ledger's contract): the write
// fails as unavailable and a retry starts afresh.
func TestSubmitJournalsBeforeOrdering(t *testing.T) {
	f := &fakePeer{
		endorse: func(_ int, txID string, _ []string) ([]byte, error) { return writeResult(txID), nil },
		commit:  func(int, string) (peer.TxValidationCode, bool) { return peer.TxValidationCode_VALID, false },
	}
	_, err := fabricOver(t, f).Submit(context.Background(), failJournal{}, domain.RoleCaseworker, "national", api.FnRegisterCase, reqID, "p", "2026-11-27")
	if !errors.Is(err, ErrLedgerUnavailable) {
		t.Fatalf("unjournaled write: %v", err)
	}
	if e, s := f.counts(); e != 1 || s != 0 {
		t.Fatalf("%d endorsements, %d submissions; want 1, 0", e, s)
	}
}
