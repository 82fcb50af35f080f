package privacy

import (
	"fmt"
	"regexp"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Input limits. Error texts built here never quote the rejected value: a
// local reference must not reach a log line or a problem body.
const (
	MaxLocalRefLen   = 256 // bytes
	MaxRefsPerEntry  = 16
	MaxDomains       = 16
	maxHistory       = 1000
	maxDomainNameLen = 32
)

var domainNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// ValidateDomainName checks a configured domain name (not a request).
func ValidateDomainName(name string) error {
	if len(name) == 0 || len(name) > maxDomainNameLen || !domainNameRE.MatchString(name) {
		return fmt.Errorf("%w: domain name must match [a-z][a-z0-9-]* and be at most %d bytes", ErrInvalidInput, maxDomainNameLen)
	}
	return nil
}

// ValidateLocalRef checks a local reference: 1..MaxLocalRefLen bytes of
// UTF-8 without control characters or surrounding white space (which would
// make "AB 1" and "AB 1 " two different cases).
func ValidateLocalRef(ref string) error {
	switch {
	case ref == "":
		return fmt.Errorf("%w: local reference is empty", ErrInvalidInput)
	case len(ref) > MaxLocalRefLen:
		return fmt.Errorf("%w: local reference longer than %d bytes", ErrTooLarge, MaxLocalRefLen)
	case !utf8.ValidString(ref):
		return fmt.Errorf("%w: local reference is not valid UTF-8", ErrInvalidInput)
	}
	for _, r := range ref {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: local reference contains a control character", ErrInvalidInput)
		}
	}
	first, _ := utf8.DecodeRuneInString(ref)
	last, _ := utf8.DecodeLastRuneInString(ref)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return fmt.Errorf("%w: local reference starts or ends with white space", ErrInvalidInput)
	}
	return nil
}

// ParsePseudonym accepts only the canonical lower-case form of a random
// (version 4, RFC 4122 variant) UUID, so one pseudonym has one spelling.
func ParsePseudonym(s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, fmt.Errorf("%w: pseudonym is empty", ErrInvalidInput)
	}
	if len(s) != 36 {
		return uuid.Nil, fmt.Errorf("%w: pseudonym is not a canonical UUID", ErrInvalidInput)
	}
	id, err := uuid.Parse(s)
	if err != nil || id.String() != s {
		return uuid.Nil, fmt.Errorf("%w: pseudonym is not a canonical UUID", ErrInvalidInput)
	}
	if id.Version() != 4 || id.Variant() != uuid.RFC4122 {
		return uuid.Nil, fmt.Errorf("%w: pseudonym is not a random (version 4) UUID", ErrInvalidInput)
	}
	return id, nil
}
