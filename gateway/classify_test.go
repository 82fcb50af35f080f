package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/gateway"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

func statusWith(code codes.Code, msg string, details ...string) error {
	st := status.New(code, msg)
	for _, d := range details {
		var err error
		st, err = st.WithDetails(&gateway.ErrorDetail{Address: "127.0.0.1:7104", MspId: "AsylumOfficeMSP", Message: d})
		if err != nil {
			panic(err)
		}
	}
	return st.Err()
}

// TestClassify: chaincode kinds are found in the status message or in a
// peer's error detail, as fabric-gateway reports them; transport failures
// become ErrLedgerUnavailable.
func TestClassify(t *testing.T) {
	cases := []struct {
		name        string
		err         error
		kind        domain.Kind
		msg         string
		unavailable bool
	}{
		{"evaluate", statusWith(codes.Unknown, "evaluate call to endorser returned error: chaincode response 500, NOT_FOUND: case not found"),
			domain.KindNotFound, "case not found", false},
		{"endorse detail", statusWith(codes.Aborted, "failed to endorse transaction, see attached details for more info",
			"chaincode response 500, INVALID_TRANSITION: REGISTERED does not allow HEARING_HELD"),
			domain.KindInvalidTransition, "REGISTERED does not allow HEARING_HELD", false},
		{"internal kind", statusWith(codes.Unknown, "chaincode response 500, INTERNAL: query failed"), domain.KindInternal, "query failed", false},
		{"no kind, unavailable", statusWith(codes.Unavailable, "connection refused"), "", "", true},
		{"no kind, aborted", statusWith(codes.Aborted, "failed to collect enough endorsements", "connection refused"), "", "", true},
		{"deadline", fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			var de *domain.Error
			if tc.unavailable {
				if !errors.Is(got, ErrLedgerUnavailable) || errors.As(got, &de) {
					t.Fatalf("classify = %v, want ErrLedgerUnavailable", got)
				}
				return
			}
			if !errors.As(got, &de) || de.Kind != tc.kind || de.Message != tc.msg {
				t.Fatalf("classify = %#v, want %s %q", got, tc.kind, tc.msg)
			}
		})
	}
}

// TestProblemOf maps every error class to its status and stable code.
func TestProblemOf(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{domain.Errorf(domain.KindPersonalData, "x"), 422, "PERSONAL_DATA"},
		{domain.Errorf(domain.KindDeadlinePassed, "x"), 422, "DEADLINE_PASSED"},
		{domain.Errorf(domain.KindClockSkew, "x"), 503, "CLOCK_SKEW"},
		{fmt.Errorf("%w: x", ErrOutcomeUnknown), 503, api.CodeOutcomeUnknown},
		{&CommitFailure{TxID: "t", Code: "ENDORSEMENT_POLICY_FAILURE"}, http.StatusBadGateway, api.CodeCommitFailed},
		{fmt.Errorf("%w: x", ErrLedgerUnavailable), 503, api.CodeLedgerUnavailable},
		{fmt.Errorf("%w: x", ErrNoIdentity), 403, "FORBIDDEN"},
		{fmt.Errorf("%w: x", privacy.ErrNotFound), 404, api.CodeUnknownLocalRef},
		{fmt.Errorf("%w: local reference is empty", privacy.ErrInvalidInput), 400, "INVALID_ARGUMENT"},
		{fmt.Errorf("%w: x", privacy.ErrConflict), 409, "CONFLICT"},
		{fmt.Errorf("%w: x", privacy.ErrUnavailable), 503, api.CodePrivacyUnavailable},
		{errors.New("anything else"), 500, "INTERNAL"},
	}
	for _, tc := range cases {
		p := problemOf(tc.err)
		if p.Status != tc.status || p.Code != tc.code {
			t.Errorf("%v: %d %s, want %d %s", tc.err, p.Status, p.Code, tc.status, tc.code)
		}
		if p.Status == 503 && p.RetryAfter == 0 {
			t.Errorf("%v: 503 without Retry-After", tc.err)
		}
	}
	for _, k := range domain.Kinds() {
		if p := problemOf(&domain.Error{Kind: k}); p.Status != problems[string(k)].status || p.Code != string(k) {
			t.Errorf("kind %s: %d %s", k, p.Status, p.Code)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{base: 100 * time.Millisecond, max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.delay(i + 1); got != w*time.Millisecond {
			t.Errorf("attempt %d: %s, want %s", i+1, got, w*time.Millisecond)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if b.sleep(ctx, 1) {
		t.Fatal("sleep on a cancelled context returned true")
	}
}
