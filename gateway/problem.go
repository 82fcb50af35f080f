package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

type ownProblem struct {
	status int
	title  string
}

var ownProblems = map[string]ownProblem{
	api.CodeIdempotencyKeyRequired: {http.StatusPreconditionRequired, "Idempotency-Key header required on writes"},
	api.CodeIdempotencyKeyReused:   {http.StatusUnprocessableEntity, "Idempotency-Key already used with another request"},
	api.CodeRequestInProgress:      {http.StatusConflict, "A request with this Idempotency-Key is in progress"},
	api.CodeOverloaded:             {http.StatusServiceUnavailable, "Too many requests in flight"},
	api.CodeLedgerUnavailable:      {http.StatusServiceUnavailable, "Ledger unavailable; nothing was recorded"},
	api.CodeOutcomeUnknown:         {http.StatusServiceUnavailable, "Outcome unknown; retry with the same Idempotency-Key"},
	api.CodeCommitFailed:           {http.StatusBadGateway, "Transaction invalidated by the ledger"},
	api.CodePrivacyUnavailable:     {http.StatusServiceUnavailable, "Privacy service unavailable"},
	api.CodeUnknownLocalRef:        {http.StatusNotFound, "Local reference unknown to this agency"},
	api.CodePayloadTooLarge:        {http.StatusRequestEntityTooLarge, "Payload too large"},
	api.CodeUnsupportedMediaType:   {http.StatusUnsupportedMediaType, "Unsupported media type"},
	api.CodeRouteNotFound:          {http.StatusNotFound, "No such route"},
	api.CodeMethodNotAllowed:       {http.StatusMethodNotAllowed, "Method not allowed"},
	api.CodeShuttingDown:           {http.StatusServiceUnavailable, "Gateway shutting down"},
	api.CodePositionExpired:        {http.StatusGone, "Event position no longer retained"},
	api.CodeLedgerBehind:           {http.StatusServiceUnavailable, "The agency's peer has not reached the requested block yet"},
	api.CodeEndorserBehind:         {http.StatusServiceUnavailable, "Another organisation's endorser refused before it had caught up; nothing was recorded; retry with the same Idempotency-Key"},
	api.CodeEndorsersDisagree:      {http.StatusBadGateway, "Endorsers at the same height disagree about this write; nothing was recorded"},
	api.CodeEndorserClockSkew:      {http.StatusBadGateway, "An endorser's clock has been off for a while; nothing was recorded; its operators must correct it"},
	api.CodeStorageLow:             {http.StatusServiceUnavailable, "The gateway's data folder is almost full"},
}

// ProblemCodes lists every code the gateway may answer with (documentation
// and the OpenAPI test).
func ProblemCodes() []string {
	var out []string
	for _, k := range domain.Kinds() {
		out = append(out, string(k))
	}
	for c := range ownProblems {
		out = append(out, c)
	}
	return out
}

// newProblem builds a problem of the gateway's own codes or of a domain kind.
func newProblem(code, detail string) *api.Problem {
	if op, ok := ownProblems[code]; ok {
		p := &api.Problem{Type: "urn:caseledger:gateway:problem:" + strings.ToLower(strings.ReplaceAll(code, "_", "-")),
			Title: op.title, Status: op.status, Detail: detail, Code: code}
		// 502s (a lasting clock error, disagreeing endorsers) carry no
		// Retry-After: retrying at once does not cure them.
		if op.status == http.StatusServiceUnavailable || code == api.CodeRequestInProgress {
			p.RetryAfter = 1
		}
		return p
	}
	k := domain.Kind(code)
	dp := domain.ProblemFor(k)
	if !k.Valid() {
		k = domain.KindInternal
	}
	p := &api.Problem{Type: "urn:caseledger:problem:" + dp.Type, Title: dp.Title, Status: dp.Status, Detail: detail, Code: string(k)}
	if k == domain.KindClockSkew {
		p.RetryAfter = 5
	}
	return p
}

func problemf(code, format string, args ...any) *api.Problem {
	return newProblem(code, fmt.Sprintf(format, args...))
}

// problemOf maps any error to its problem. Details are only ever taken from
// texts that are known not to carry submitted values: chaincode messages
// (domain.Error never quotes input) and the gateway's own fixed texts.
func problemOf(err error) *api.Problem {
	var p *api.Problem
	var de *domain.Error
	var cf *CommitFailure
	var cs *ClockSkewError
	var eb *EndorserBehind
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &cs) && cs.Persistent:
		return problemf(api.CodeEndorserClockSkew, "the endorser of %s (%s) has refused every transaction for %s: %s",
			cs.MSPID, cs.Address, cs.For.Round(time.Second), cs.Message)
	case errors.As(err, &cs):
		return problemf(string(domain.KindClockSkew), "the endorser of %s (%s): %s", cs.MSPID, cs.Address, cs.Message)
	case errors.As(err, &eb) && eb.Disagree:
		return problemf(api.CodeEndorsersDisagree, "the endorser of %s refused (%s: %s) at height %d, where this agency's peer approved",
			eb.MSPID, eb.Refusal.Kind, eb.Refusal.Message, eb.Height)
	case errors.As(err, &eb):
		return problemf(api.CodeEndorserBehind, "the endorser of %s refused (%s: %s) at height %d, before reaching %d",
			eb.MSPID, eb.Refusal.Kind, eb.Refusal.Message, eb.Height, eb.Target)
	case errors.As(err, &de):
		return newProblem(string(de.Kind), de.Message)
	case errors.Is(err, ErrOutcomeUnknown):
		return newProblem(api.CodeOutcomeUnknown, "the transaction was sent but its commit could not be confirmed")
	case errors.As(err, &cf):
		return newProblem(api.CodeCommitFailed, "validation code "+cf.Code)
	case errors.Is(err, ErrLedgerUnavailable):
		return newProblem(api.CodeLedgerUnavailable, "")
	case errors.Is(err, ErrNoIdentity):
		return newProblem(string(domain.KindForbidden), "this agency holds no Fabric identity for the caller's role")
	case errors.Is(err, privacy.ErrNotFound):
		return newProblem(api.CodeUnknownLocalRef, "")
	case errors.Is(err, privacy.ErrTooLarge):
		return newProblem(string(domain.KindInvalidArgument), "local reference too long")
	case errors.Is(err, privacy.ErrInvalidInput), errors.Is(err, privacy.ErrUnknownDomain):
		return newProblem(string(domain.KindInvalidArgument), privacyDetail(err))
	case errors.Is(err, privacy.ErrConflict):
		return newProblem(string(domain.KindConflict), "the local reference is bound to another case")
	case errors.Is(err, privacy.ErrUnavailable), errors.Is(err, privacy.ErrUnauthenticated), errors.Is(err, privacy.ErrForbidden):
		return newProblem(api.CodePrivacyUnavailable, "")
	}
	return newProblem(string(domain.KindInternal), "")
}

// privacyDetail keeps the privacy service's validation text: it never quotes
// the rejected value (privacy-service/validate.go).
func privacyDetail(err error) string {
	var pp *privacy.Problem
	if errors.As(err, &pp) {
		return pp.Detail
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, "invalid input: "); i >= 0 {
		return msg[i+len("invalid input: "):]
	}
	return "invalid input"
}

// writeProblem sends p as application/problem+json.
func writeProblem(w http.ResponseWriter, p *api.Problem) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
