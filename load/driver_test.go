package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/caseledger/caseledger/api"
)

func TestClassify(t *testing.T) {
	withDetail := func(code codes.Code, msg, detail string) error {
		st, err := status.New(code, msg).WithDetails(&gateway.ErrorDetail{Address: "127.0.0.1:7144", MspId: "AsylumOfficeMSP", Message: detail})
		if err != nil {
			t.Fatal(err)
		}
		return st.Err()
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"chaincode kind in the peers' details", withDetail(codes.Aborted, "failed to endorse transaction, see attached details for more info",
			"chaincode response 500, INVALID_TRANSITION: FILE_CREATED may not follow REGISTERED"), "chaincode/INVALID_TRANSITION"},
		{"chaincode kind wrapped", fmt.Errorf("submit: %w", withDetail(codes.Aborted, "failed", "chaincode response 500, PERSONAL_DATA: looks like a name")), "chaincode/PERSONAL_DATA"},
		{"gRPC code without a kind", withDetail(codes.Unavailable, "no peers available", "connection refused"), "grpc/Unavailable"},
		{"gRPC code text is not a kind", status.Error(codes.Internal, "Internal: oops"), "grpc/Internal"},
		{"invalid transaction", &TxInvalidError{TxID: "abc", Code: peer.TxValidationCode_MVCC_READ_CONFLICT}, "commit/MVCC_READ_CONFLICT"},
		{"gateway problem", fmt.Errorf("POST: %w", &api.Problem{Status: 429, Code: "overloaded"}), "http/429/overloaded"},
		{"gateway problem without code", &api.Problem{Status: 502}, "http/502/-"},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), "timeout"},
		{"gRPC deadline", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), "grpc/DeadlineExceeded"},
		{"canceled", context.Canceled, "canceled"},
		{"connection refused", &url.Error{Op: "Post", URL: "https://127.0.0.1:1", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, "net/connection-refused"},
		{"connection reset", &url.Error{Op: "Post", URL: "https://127.0.0.1:1", Err: io.EOF}, "net/connection-reset"},
		{"anything else", errors.New("boom"), "other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.err); got != tc.want {
				t.Fatalf("Classify(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"127.0.0.1:7104", true},
		{"localhost:7104", true},
		{"[::1]:7104", true},
		{"127.8.9.10:1", true},
		{"https://127.0.0.1:7149/v1", true},
		{"http://localhost:8080", true},
		{"10.0.0.5:7104", false},
		{"peer.example.org:7051", false},
		{"https://api.example.org/v1", false},
		{"0.0.0.0:7104", false},
		{"", false},
	}
	for _, tc := range tests {
		err := CheckLoopback(tc.target)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok=%v", tc.target, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrNotLoopback) && tc.target != "" {
			t.Errorf("%q: %v is not ErrNotLoopback", tc.target, err)
		}
	}
}

func FuzzCheckLoopback(f *testing.F) {
	for _, s := range []string{"127.0.0.1:7104", "localhost:1", "[::1]:2", "https://127.0.0.1:7149/v1", "10.0.0.1:1", "http://evil.example/127.0.0.1", "127.0.0.1.example.org:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckLoopback(s) != nil {
			return
		}
		// Whatever was accepted must name this machine: localhost or a loopback address.
		host := s
		if u, err := url.Parse(s); err == nil && strings.Contains(s, "://") {
			host = u.Host
		}
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			t.Fatalf("accepted %q (host %q)", s, host)
		}
	})
}
