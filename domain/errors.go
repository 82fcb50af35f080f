package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Kind classifies a domain failure. The set is closed: every error that
// leaves the chaincode carries exactly one of these kinds, and the gateway maps
// kinds (never messages) to HTTP statuses in its problem table
// (gateway/problem.go); this package knows no transport.
type Kind string

// The closed set of error kinds.
const (
	KindInvalidArgument    Kind = "INVALID_ARGUMENT"
	KindPersonalData       Kind = "PERSONAL_DATA"
	KindUnauthenticated    Kind = "UNAUTHENTICATED"
	KindForbidden          Kind = "FORBIDDEN"
	KindNotFound           Kind = "NOT_FOUND"
	KindAlreadyExists      Kind = "ALREADY_EXISTS"
	KindInvalidTransition  Kind = "INVALID_TRANSITION"
	KindDeadlinePassed     Kind = "DEADLINE_PASSED"
	KindDeadlineNotReached Kind = "DEADLINE_NOT_REACHED"
	KindConflict           Kind = "CONFLICT"
	KindClockSkew          Kind = "CLOCK_SKEW"
	KindInternal           Kind = "INTERNAL"
)

// Kinds lists every kind, in a stable order (documentation and tests).
func Kinds() []Kind {
	return []Kind{
		KindInvalidArgument, KindPersonalData, KindUnauthenticated, KindForbidden,
		KindNotFound, KindAlreadyExists, KindInvalidTransition, KindDeadlinePassed,
		KindDeadlineNotReached, KindConflict, KindClockSkew, KindInternal,
	}
}

// Valid reports whether k is one of the closed set.
func (k Kind) Valid() bool {
	return slices.Contains(Kinds(), k)
}

// Error is a domain failure. Its text is "KIND: message", the form in which
// it crosses the ledger boundary. Messages never carry submitted values: a
// refused value may be personal data and error texts end up in logs.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Kind)
	}
	return string(e.Kind) + ": " + e.Message
}

// Is makes errors.Is(err, ErrNotFound) true for any *Error of kind NOT_FOUND,
// whatever its message.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Kind == e.Kind && (t.Message == "" || t.Message == e.Message)
}

// Sentinel errors, one per kind; compare with errors.Is.
var (
	ErrInvalidArgument    = &Error{Kind: KindInvalidArgument}
	ErrPersonalData       = &Error{Kind: KindPersonalData}
	ErrUnauthenticated    = &Error{Kind: KindUnauthenticated}
	ErrForbidden          = &Error{Kind: KindForbidden}
	ErrNotFound           = &Error{Kind: KindNotFound}
	ErrAlreadyExists      = &Error{Kind: KindAlreadyExists}
	ErrInvalidTransition  = &Error{Kind: KindInvalidTransition}
	ErrDeadlinePassed     = &Error{Kind: KindDeadlinePassed}
	ErrDeadlineNotReached = &Error{Kind: KindDeadlineNotReached}
	ErrConflict           = &Error{Kind: KindConflict}
	ErrClockSkew          = &Error{Kind: KindClockSkew}
	ErrInternal           = &Error{Kind: KindInternal}
)

// Errorf builds a domain error of the given kind. Never format a submitted
// value into the message.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain, INTERNAL for any
// other non-nil error and "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Wire renders err for the ledger boundary: "KIND: message". Errors that are
// not domain errors become INTERNAL with a fixed text, because their message
// could come from anywhere (and might echo input).
func Wire(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindInternal, Message: "internal error"}
}

// ParseError finds "KIND: message" in msg — a chaincode response as it reaches
// a client, usually wrapped by Fabric ("chaincode response 500, KIND: …") and
// by gRPC status text. It returns INTERNAL and the whole text when no known
// kind is present (contract API errors such as a wrong argument count).
func ParseError(msg string) (Kind, string) {
	k, m, _ := FindKind(msg)
	return k, m
}

// FindKind is ParseError that also says whether a kind was found (found is
// false when ParseError falls back to INTERNAL for a text without any kind).
func FindKind(msg string) (kind Kind, message string, found bool) {
	best := -1
	for _, k := range Kinds() {
		tok := string(k)
		from := 0
		for {
			i := strings.Index(msg[from:], tok)
			if i < 0 {
				break
			}
			i += from
			end := i + len(tok)
			// A kind counts only as a whole word at the start or after a
			// separator, followed by ":" or the end of the text.
			startOK := i == 0 || !isWordByte(msg[i-1])
			endOK := end == len(msg) || msg[end] == ':'
			if startOK && endOK {
				if best < 0 || i < best {
					best, kind = i, k
				}
				break
			}
			from = i + 1
		}
	}
	if best < 0 {
		return KindInternal, strings.TrimSpace(msg), false
	}
	rest := msg[best+len(kind):]
	rest = strings.TrimPrefix(rest, ":")
	return kind, strings.TrimSpace(rest), true
}

func isWordByte(b byte) bool {
	return b == '_' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
}
