package fabricconn

import (
	"errors"
	"fmt"
	"testing"

	gwproto "github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/caseledger/caseledger/domain"
)

func TestChaincodeErrors(t *testing.T) {
	withDetails := func(msg string, ds ...*gwproto.ErrorDetail) error {
		st := status.New(codes.Aborted, msg)
		for _, d := range ds {
			var err error
			if st, err = st.WithDetails(d); err != nil {
				t.Fatal(err)
			}
		}
		return fmt.Errorf("endorse: %w", st.Err())
	}
	cases := []struct {
		name string
		err  error
		want []ChaincodeError
	}{
		{"nil", nil, nil},
		{"not a status", errors.New("NOT_FOUND: looks like one"), nil},
		{"no kind", status.Error(codes.Unavailable, "connection refused"), nil},
		{"in the message", status.Error(codes.Unknown, "chaincode response 500, NOT_FOUND: case unknown"),
			[]ChaincodeError{{Err: &domain.Error{Kind: domain.KindNotFound, Message: "case unknown"}}}},
		{"in the details, naming the endorser", withDetails("failed to endorse transaction, see attached details for more info",
			&gwproto.ErrorDetail{Address: "peer0.a:7051", MspId: "AMSP", Message: "chaincode response 500, CONFLICT: stale"},
			&gwproto.ErrorDetail{Address: "peer0.b:7051", MspId: "BMSP", Message: "no kind here"},
			&gwproto.ErrorDetail{Address: "peer0.c:7051", MspId: "CMSP", Message: "FORBIDDEN: not a holder"}),
			[]ChaincodeError{
				{Err: &domain.Error{Kind: domain.KindConflict, Message: "stale"}, FromPeer: true, MSPID: "AMSP", Address: "peer0.a:7051"},
				{Err: &domain.Error{Kind: domain.KindForbidden, Message: "not a holder"}, FromPeer: true, MSPID: "CMSP", Address: "peer0.c:7051"},
			}},
		{"message first, then details", withDetails("INVALID_ARGUMENT: x",
			&gwproto.ErrorDetail{MspId: "AMSP", Message: "INTERNAL"}),
			[]ChaincodeError{
				{Err: &domain.Error{Kind: domain.KindInvalidArgument, Message: "x"}},
				{Err: &domain.Error{Kind: domain.KindInternal}, FromPeer: true, MSPID: "AMSP"},
			}},
	}
	for _, tc := range cases {
		got := ChaincodeErrors(tc.err)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d errors %+v, want %d", tc.name, len(got), got, len(tc.want))
			continue
		}
		for i := range got {
			g, w := got[i], tc.want[i]
			if *g.Err != *w.Err || g.FromPeer != w.FromPeer || g.MSPID != w.MSPID || g.Address != w.Address {
				t.Errorf("%s[%d]: %+v %v, want %+v %v", tc.name, i, g, g.Err, w, w.Err)
			}
		}
	}
}
