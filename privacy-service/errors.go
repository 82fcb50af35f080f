package privacy

import (
	"errors"
	"net/http"
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

type codeInfo struct {
	err    error
	status int
	title  string
}

var codeTable = map[Code]codeInfo{
	CodeInvalidInput:         {ErrInvalidInput, http.StatusBadRequest, "Invalid input"},
	CodeUnknownDomain:        {ErrUnknownDomain, http.StatusBadRequest, "Unknown pseudonymisation domain"},
	CodeNotFound:             {ErrNotFound, http.StatusNotFound, "Not found"},
	CodeConflict:             {ErrConflict, http.StatusConflict, "Conflict"},
	CodePayloadTooLarge:      {ErrTooLarge, http.StatusRequestEntityTooLarge, "Payload too large"},
	CodeUnauthenticated:      {ErrUnauthenticated, http.StatusUnauthorized, "Unauthenticated"},
	CodeForbidden:            {ErrForbidden, http.StatusForbidden, "Forbidden"},
	CodeUnsupportedMediaType: {ErrInvalidInput, http.StatusUnsupportedMediaType, "Unsupported media type"},
	CodeUnavailable:          {ErrUnavailable, http.StatusServiceUnavailable, "Service unavailable"},
	CodeInternal:             {nil, http.StatusInternalServerError, "Internal error"},
}

// CodeOf maps an error to its stable code; unknown errors are INTERNAL.
func CodeOf(err error) Code {
	var p *Problem
	if errors.As(err, &p) && p.Code != "" {
		return Code(p.Code)
	}
	switch {
	case errors.Is(err, errUnsupportedMedia):
		return CodeUnsupportedMediaType
	case errors.Is(err, ErrUnknownDomain):
		return CodeUnknownDomain
	case errors.Is(err, ErrInvalidInput):
		return CodeInvalidInput
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	case errors.Is(err, ErrConflict):
		return CodeConflict
	case errors.Is(err, ErrTooLarge):
		return CodePayloadTooLarge
	case errors.Is(err, ErrUnauthenticated):
		return CodeUnauthenticated
	case errors.Is(err, ErrForbidden):
		return CodeForbidden
	case errors.Is(err, ErrUnavailable):
		return CodeUnavailable
	default:
		return CodeInternal
	}
}

// Problem is an RFC 9457 problem document with a stable Code. The client
// returns it as the error of a failed call; it unwraps to the sentinel error
// of its code.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Code + ": " + p.Detail
	}
	return p.Code + ": " + p.Title
}

// Unwrap lets errors.Is(err, ErrNotFound) work on errors from the client.
func (p *Problem) Unwrap() error {
	if info, ok := codeTable[Code(p.Code)]; ok && info.err != nil {
		return info.err
	}
	return nil
}

// problemFor builds the problem document for err. The detail is taken from
// the error text, which never carries a local reference (see validate.go).
func problemFor(err error) *Problem {
	code := CodeOf(err)
	info := codeTable[code]
	detail := err.Error()
	if code == CodeInternal {
		detail = "" // internal errors may name paths; keep them in the log only
	}
	return &Problem{
		Type:   "urn:caseledger:privacy:problem:" + string(code),
		Title:  info.title,
		Status: info.status,
		Detail: detail,
		Code:   string(code),
	}
}
