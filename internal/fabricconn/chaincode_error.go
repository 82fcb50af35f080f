package fabricconn

import (
	"google.golang.org/grpc/status"

	"github.com/caseledger/caseledger/domain"
)

// ChaincodeError is a chaincode error ("KIND: message", domain.Error) found in
// a fabric-gateway error.
type ChaincodeError struct {
	Err *domain.Error
	// FromPeer: the error came from a peer's error detail (gateway.ErrorDetail),
	// which names the endorser that gave it (MSPID, Address); otherwise it came
	// from the gRPC status message.
	FromPeer       bool
	MSPID, Address string
}

// ChaincodeErrors lists the chaincode errors a fabric-gateway error carries,
// in the order Fabric reports them: its gRPC status message first, then each
// peer's error detail. It is empty when err has no gRPC status or no text in
// it names one of the closed set of kinds (domain.FindKind).
//
// This is the one place that reads the chaincode's "KIND: message" out of a
// Fabric error (the gateway classifies refusals with it, the load tool counts
// them).
func ChaincodeErrors(err error) []ChaincodeError {
	st, ok := status.FromError(err)
	if err == nil || !ok {
		return nil
	}
	var out []ChaincodeError
	if kind, msg, found := domain.FindKind(st.Message()); found {
		out = append(out, ChaincodeError{Err: &domain.Error{Kind: kind, Message: msg}})
	}
	for _, d := range st.Details() {
		m, ok := d.(interface{ GetMessage() string })
		if !ok {
			continue
		}
		kind, msg, found := domain.FindKind(m.GetMessage())
		if !found {
			continue
		}
		ce := ChaincodeError{Err: &domain.Error{Kind: kind, Message: msg}}
		if p, ok := d.(interface {
			GetMspId() string
			GetAddress() string
		}); ok {
			ce.FromPeer, ce.MSPID, ce.Address = true, p.GetMspId(), p.GetAddress()
		}
		out = append(out, ce)
	}
	return out
}
