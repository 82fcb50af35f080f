package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// problemSpec is how the gateway answers one problem code.
type problemSpec struct {
	status int
	title  string
	typ    string // RFC 9457 type URI
	// retryAfter, in seconds, is sent as Retry-After (0: none). Every 503
	// has one; 502s (a lasting clock error, disagreeing endorsers) do not:
	// retrying at once does not cure them.
	retryAfter int
}

const (
	kindType = "urn:caseledger:problem:"
	ownType  = "urn:caseledger:gateway:problem:"
)

// problems is the one table of what /v1 answers: every chaincode error kind
// (domain.Kinds) and every code of the gateway's own. A code not in it is
// answered as INTERNAL.
var problems = map[string]problemSpec{
	string(domain.KindInvalidArgument):    {http.StatusBadRequest, "Invalid argument", kindType + "invalid-argument", 0},
	string(domain.KindPersonalData):       {http.StatusUnprocessableEntity, "Value looks like personal data", kindType + "personal-data", 0},
	string(domain.KindUnauthenticated):    {http.StatusUnauthorized, "Unauthenticated", kindType + "unauthenticated", 0},
	string(domain.KindForbidden):          {http.StatusForbidden, "Forbidden", kindType + "forbidden", 0},
	string(domain.KindNotFound):           {http.StatusNotFound, "Not found", kindType + "not-found", 0},
	string(domain.KindAlreadyExists):      {http.StatusConflict, "Already exists", kindType + "already-exists", 0},
	string(domain.KindInvalidTransition):  {http.StatusConflict, "Invalid transition", kindType + "invalid-transition", 0},
	string(domain.KindDeadlinePassed):     {http.StatusUnprocessableEntity, "Deadline passed", kindType + "deadline-passed", 0},
	string(domain.KindDeadlineNotReached): {http.StatusConflict, "Deadline not reached", kindType + "deadline-not-reached", 0},
	string(domain.KindConflict):           {http.StatusConflict, "Conflict", kindType + "conflict", 0},
	string(domain.KindClockSkew):          {http.StatusServiceUnavailable, "Clock skew between client and endorser", kindType + "clock-skew", 5},
	string(domain.KindInternal):           {http.StatusInternalServerError, "Internal error", kindType + "internal", 0},

	api.CodeIdempotencyKeyRequired: {http.StatusPreconditionRequired, "Idempotency-Key header required on writes", ownType + "idempotency-key-required", 0},
	api.CodeIdempotencyKeyReused:   {http.StatusUnprocessableEntity, "Idempotency-Key already used with another request", ownType + "idempotency-key-reused", 0},
	api.CodeRequestInProgress:      {http.StatusConflict, "A request with this Idempotency-Key is in progress", ownType + "request-in-progress", 1},
	api.CodeOverloaded:             {http.StatusServiceUnavailable, "Too many requests in flight", ownType + "overloaded", 1},
	api.CodeLedgerUnavailable:      {http.StatusServiceUnavailable, "Ledger unavailable; nothing was recorded", ownType + "ledger-unavailable", 1},
	api.CodeOutcomeUnknown:         {http.StatusServiceUnavailable, "Outcome unknown; retry with the same Idempotency-Key", ownType + "outcome-unknown", 1},
	api.CodeCommitFailed:           {http.StatusBadGateway, "Transaction invalidated by the ledger", ownType + "commit-failed", 0},
	api.CodePrivacyUnavailable:     {http.StatusServiceUnavailable, "Privacy service unavailable", ownType + "privacy-unavailable", 1},
	api.CodeUnknownLocalRef:        {http.StatusNotFound, "Local reference unknown to this agency", ownType + "unknown-local-ref", 0},
	api.CodePayloadTooLarge:        {http.StatusRequestEntityTooLarge, "Payload too large", ownType + "payload-too-large", 0},
	api.CodeUnsupportedMediaType:   {http.StatusUnsupportedMediaType, "Unsupported media type", ownType + "unsupported-media-type", 0},
	api.CodeRouteNotFound:          {http.StatusNotFound, "No such route", ownType + "route-not-found", 0},
	api.CodeMethodNotAllowed:       {http.StatusMethodNotAllowed, "Method not allowed", ownType + "method-not-allowed", 0},
	api.CodeShuttingDown:           {http.StatusServiceUnavailable, "Gateway shutting down", ownType + "shutting-down", 1},
	api.CodePositionExpired:        {http.StatusGone, "Event position no longer retained", ownType + "position-expired", 0},
	api.CodeLedgerBehind:           {http.StatusServiceUnavailable, "The agency's peer has not reached the requested block yet", ownType + "ledger-behind", 1},
	api.CodeEndorserBehind:         {http.StatusServiceUnavailable, "Another organisation's endorser refused before it had caught up; nothing was recorded; retry with the same Idempotency-Key", ownType + "endorser-behind", 1},
	api.CodeEndorsersDisagree:      {http.StatusBadGateway, "Endorsers at the same height disagree about this write; nothing was recorded", ownType + "endorsers-disagree", 0},
	api.CodeEndorserClockSkew:      {http.StatusBadGateway, "An endorser's clock has been off for a while; nothing was recorded; its operators must correct it", ownType + "endorser-clock-skew", 0},
	api.CodeStorageLow:             {http.StatusServiceUnavailable, "The gateway's data folder is almost full", ownType + "storage-low", 1},
}

// ProblemCodes lists every code the gateway may answer with, sorted
// (documentation and the OpenAPI test).
func ProblemCodes() []string {
	return slices.Sorted(maps.Keys(problems))
}

// newProblem builds the problem of a code from the table.
func newProblem(code, detail string) *api.Problem {
	ps, ok := problems[code]
	if !ok {
		code = string(domain.KindInternal)
		ps = problems[code]
	}
	return &api.Problem{Type: ps.typ, Title: ps.title, Status: ps.status, Detail: detail, Code: code, RetryAfter: ps.retryAfter}
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
	var pp *privacy.ProblemError
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
