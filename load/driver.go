package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/fabricconn"
)

// Driver carries out operations against the network, one way or another (bare fabric-gateway
// client, HTTP gateway). Do is called from many goroutines at once.
type Driver interface {
	Name() string
	// Do performs op and returns what the network acknowledged for a write (reads return an Ack
	// with only Events set). A gateway driver may set op.Case.Pseudonym on a registration.
	Do(ctx context.Context, op Op) (Ack, error)
	Close() error
}

// Ack is the network's acknowledgement of an operation.
type Ack struct {
	TxID string
	Seq  uint64 // the event's sequence number on its case (writes)
	// Events is the number of timeline entries a read returned.
	Events int
}

// ErrNotLoopback is returned for a target outside this machine: the load tool only drives
// networks on the loopback interface.
var ErrNotLoopback = errors.New("target is not on the loopback interface")

// CheckLoopback accepts "host:port" or a URL whose host is a loopback address or "localhost".
func CheckLoopback(target string) error {
	host := target
	if strings.Contains(target, "://") {
		u, err := url.Parse(target)
		if err != nil {
			return fmt.Errorf("target %q: %w", target, err)
		}
		host = u.Host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q", ErrNotLoopback, target)
}

// Classify names the class of an operation's error for the report: "chaincode/<KIND>" for a
// chaincode refusal, "commit/<validation code>" for a transaction the peers invalidated,
// "http/<status>/<problem code>" for a gateway answer, "<stage>/<gRPC code>" for a transport or
// Fabric failure (stage: endorse, submit, commit-status, evaluate), "net/connection-refused" or
// "net/connection-reset" for an HTTP request nobody answered, "timeout", "canceled", or "other".
func Classify(err error) string {
	if err == nil {
		return ""
	}
	var pe *api.Problem
	if errors.As(err, &pe) {
		code := pe.Code
		if code == "" {
			code = "-"
		}
		return fmt.Sprintf("http/%d/%s", pe.Status, code)
	}
	var ti *TxInvalidError
	if errors.As(err, &ti) {
		return "commit/" + ti.Code.String()
	}
	var ce *client.CommitError
	if errors.As(err, &ce) {
		return "commit/" + ce.Code.String()
	}
	if kind, ok := chaincodeKind(err); ok {
		return "chaincode/" + string(kind)
	}
	stage := ""
	var (
		ee *client.EndorseError
		se *client.SubmitError
		cs *client.CommitStatusError
	)
	switch {
	case errors.As(err, &ee):
		stage = "endorse"
	case errors.As(err, &se):
		stage = "submit"
	case errors.As(err, &cs):
		stage = "commit-status"
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.Unknown && st.Code() != codes.OK {
		if stage == "" {
			stage = "grpc"
		}
		return stage + "/" + st.Code().String()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "net/connection-refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "net/connection-reset"
	case stage != "":
		return stage + "/other"
	}
	return "other"
}

// ErrorText is the error's message followed by the messages the peers attached to its gRPC
// status (where the chaincode's "KIND: message" is).
func ErrorText(err error) string {
	parts := []string{err.Error()}
	if st, ok := status.FromError(err); ok {
		for _, d := range st.Details() {
			if ed, ok := d.(*gateway.ErrorDetail); ok {
				parts = append(parts, ed.GetMspId()+": "+ed.GetMessage())
				continue
			}
			parts = append(parts, fmt.Sprint(d))
		}
	}
	return strings.Join(parts, " | ")
}

// chaincodeKind finds the chaincode's "KIND: message" in a Fabric error (its gRPC status or
// the details the peers attached to it) or, for a ledger that is not Fabric (the in-process
// one, the tests' fakes), in the error's text.
func chaincodeKind(err error) (domain.Kind, bool) {
	if ces := fabricconn.ChaincodeErrors(err); len(ces) > 0 {
		return ces[0].Err.Kind, true
	}
	k, _, found := domain.FindKind(err.Error())
	return k, found
}
