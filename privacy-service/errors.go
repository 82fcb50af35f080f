package privacy

import (
	"errors"
	"net/http"

	"github.com/caseledger/caseledger/api"
)

// Sentinel errors of the vault. Both Store and Client return errors that wrap
// one of these, so callers check them with errors.Is whatever the transport.
var (
	ErrInvalidInput    = errors.New("invalid input")
	ErrUnknownDomain   = errors.New("unknown pseudonymisation domain")
	ErrNotFound        = errors.New("not found")
	ErrConflict        = errors.New("conflict")
	ErrTooLarge        = errors.New("payload too large")
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	ErrUnavailable     = errors.New("vault unavailable")
	// ErrCorrupt means stored or backed-up data failed authentication.
	ErrCorrupt = errors.New("corrupt data")
	// ErrKeyUnavailable means a key-encryption key version is not held (for
	// example retired after rotation).
	ErrKeyUnavailable = errors.New("key-encryption key unavailable")
)

// Code is the stable, machine-readable error code carried in problem bodies.
type Code string

// Stable error codes of the HTTP API.
const (
	CodeInvalidInput         Code = "INVALID_INPUT"
	CodeUnknownDomain        Code = "UNKNOWN_DOMAIN"
	CodeNotFound             Code = "NOT_FOUND"
	CodeConflict             Code = "CONFLICT"
	CodePayloadTooLarge      Code = "PAYLOAD_TOO_LARGE"
	CodeUnauthenticated      Code = "UNAUTHENTICATED"
	CodeForbidden            Code = "FORBIDDEN"
	CodeUnsupportedMediaType Code = "UNSUPPORTED_MEDIA_TYPE"
	CodeUnavailable          Code = "UNAVAILABLE"
	CodeInternal             Code = "INTERNAL"
)

// codeSpec is how the service answers one code, and the sentinel error the
// code stands for.
type codeSpec struct {
	code Code
	// err selects the code (errors.Is) and is what a client's error unwraps to.
	err    error
	status int
	title  string
}

// codes is the service's one table of errors: code, sentinel, HTTP status,
// title. The first row whose sentinel the error matches decides, so the more
// specific sentinels (errUnsupportedMedia and ErrUnknownDomain wrap or refine
// ErrInvalidInput) come first; an error matching none is INTERNAL.
var codes = []codeSpec{
	{CodeUnsupportedMediaType, errUnsupportedMedia, http.StatusUnsupportedMediaType, "Unsupported media type"},
	{CodeUnknownDomain, ErrUnknownDomain, http.StatusBadRequest, "Unknown pseudonymisation domain"},
	{CodeInvalidInput, ErrInvalidInput, http.StatusBadRequest, "Invalid input"},
	{CodeNotFound, ErrNotFound, http.StatusNotFound, "Not found"},
	{CodeConflict, ErrConflict, http.StatusConflict, "Conflict"},
	{CodePayloadTooLarge, ErrTooLarge, http.StatusRequestEntityTooLarge, "Payload too large"},
	{CodeUnauthenticated, ErrUnauthenticated, http.StatusUnauthorized, "Unauthenticated"},
	{CodeForbidden, ErrForbidden, http.StatusForbidden, "Forbidden"},
	{CodeUnavailable, ErrUnavailable, http.StatusServiceUnavailable, "Service unavailable"},
	{CodeInternal, nil, http.StatusInternalServerError, "Internal error"},
}

func specOf(code Code) codeSpec {
	for _, cs := range codes {
		if cs.code == code {
			return cs
		}
	}
	return codes[len(codes)-1]
}

// CodeOf maps an error to its stable code; unknown errors are INTERNAL.
func CodeOf(err error) Code {
	var pe *ProblemError
	if errors.As(err, &pe) && pe.Code != "" {
		return Code(pe.Code)
	}
	for _, cs := range codes {
		if cs.err != nil && errors.Is(err, cs.err) {
			return cs.code
		}
	}
	return CodeInternal
}

// ProblemError is a problem document (api.Problem) the service answered, as
// the client returns it: it unwraps to the sentinel error of its code, so
// errors.Is(err, ErrNotFound) works whatever the transport. It holds the
// document by value on purpose: errors.As(err, &*api.Problem) must not find
// it, or the gateway would relay the privacy service's problem to its own
// callers as is instead of mapping it through its table.
type ProblemError struct {
	api.Problem
}

// Unwrap lets errors.Is(err, ErrNotFound) work on errors from the client.
func (e *ProblemError) Unwrap() error {
	return specOf(Code(e.Code)).err
}

// problemFor builds the problem document for err. The detail is taken from
// the error text, which never carries a local reference (see validate.go).
func problemFor(err error) *api.Problem {
	cs := specOf(CodeOf(err))
	detail := err.Error()
	if cs.code == CodeInternal {
		detail = "" // internal errors may name paths; keep them in the log only
	}
	return &api.Problem{
		Type:   "urn:caseledger:privacy:problem:" + string(cs.code),
		Title:  cs.title,
		Status: cs.status,
		Detail: detail,
		Code:   string(cs.code),
	}
}
