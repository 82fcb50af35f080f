package domain

import (
	"strings"
	"unicode/utf8"
)

// The only kinds of string allowed on chain (DESIGN §5): a UUIDv4 pseudonym or
// request id, a code from a closed list, a date, an MSP id from the membership,
// a member-state code from a closed list, a 64-hex keyed hash. The checks here
// are syntactic; membership and code lists are checked where they live.

// maxValueLen bounds every submitted string before any other check, so a
// pathological input costs nothing.
const maxValueLen = 128

// IsUUIDv4 reports whether s is a canonical, lower-case RFC 4122 version-4
// UUID (8-4-4-4-12 hex, version nibble 4, variant 10xx). Only the canonical
// form is accepted so that one case has exactly one key.
func IsUUIDv4(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isLowerHex(c) {
				return false
			}
		}
	}
	if s[14] != '4' {
		return false
	}
	switch s[19] {
	case '8', '9', 'a', 'b':
	default:
		return false
	}
	return true
}

// IsHash64 reports whether s is 64 lower-case hex digits (an HMAC-SHA256 or
// SHA-256 value).
func IsHash64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

func isLowerHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
}

// IsMSPID reports whether s has the shape of a Fabric MSP id as this network
// names them: ASCII letter first, then letters, digits, '.', '-', at most 64.
func IsMSPID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// checkPseudonym validates a case pseudonym argument.
func checkPseudonym(field, s string) error {
	if IsUUIDv4(s) {
		return nil
	}
	return refuseValue(field, s, "must be a lower-case UUIDv4 pseudonym")
}

// CheckPseudonym validates a case pseudonym (UUIDv4, canonical form).
func CheckPseudonym(s string) error { return checkPseudonym("pseudonym", s) }

// CheckRequestID validates an idempotency request id (UUID, canonical form).
// Any version is accepted because the gateway may derive ids (v5) from a
// client's Idempotency-Key.
func CheckRequestID(s string) error {
	if isCanonicalUUID(s) {
		return nil
	}
	return refuseValue("requestId", s, "must be a lower-case UUID")
}

func isCanonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isLowerHex(c) {
				return false
			}
		}
	}
	return true
}

// refuseValue builds the error for a value that failed its check: PERSONAL_DATA
// when it looks like personal data, INVALID_ARGUMENT otherwise. The value itself
// is never put into the message.
func refuseValue(field, value, want string) error {
	if LooksPersonal(value) {
		return Errorf(KindPersonalData, "%s: value refused, it looks like personal data or free text", field)
	}
	return Errorf(KindInvalidArgument, "%s: %s", field, want)
}

// LooksPersonal is a heuristic for values that must never reach the ledger:
// names, birth dates in national notations, file numbers, e-mail addresses,
// phone numbers, free text, long strings and non-ASCII text. It only decides
// the error kind of a value that already failed its strict check — nothing is
// accepted because this returns false.
func LooksPersonal(s string) bool {
	if len(s) > maxValueLen || !utf8.ValidString(s) {
		return true
	}
	var letters, digits, spaces, other, nonASCII int
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letters++
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			spaces++
		case r >= utf8.RuneSelf:
			nonASCII++
		default:
			other++
		}
	}
	switch {
	case nonASCII > 0: // accented names, homoglyphs, zero-width and bidi tricks
		return true
	case spaces > 0 && letters > 0: // "Max Mustermann", free text
		return true
	case strings.Contains(s, "@"): // e-mail
		return true
	case looksLikeNationalDate(s): // 01.02.1990, 1/2/1990
		return true
	case len(s) >= 19 && looksISODate(s[:10]) && s[10] == 'T': // a timestamp, not an identifier
		return false
	case letters > 0 && digits >= 4: // file numbers: BAMF-7654321-438, AZ 123/24
		return true
	case digits >= 6 && letters == 0 && !looksISODate(s): // phone, ids
		return true
	case letters >= 2 && isNameLike(s): // "Mustermann", "Ahmad"
		return true
	}
	return false
}

// isNameLike: a capitalised word of letters (and hyphens/apostrophes), as
// names are written, but not an UPPER_SNAKE code.
func isNameLike(s string) bool {
	if s == "" || !(s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	lower := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			lower++
		case c >= 'A' && c <= 'Z', c == '-', c == '\'':
		default:
			return false
		}
	}
	return lower > 0
}

func looksISODate(s string) bool {
	return len(s) == 10 && s[4] == '-' && s[7] == '-'
}

// looksLikeNationalDate matches d.m.yyyy, d/m/yyyy and similar (1–2, 1–2, 2–4
// digits separated by '.', '/' or '-'), which is how birth dates are written.
func looksLikeNationalDate(s string) bool {
	var groups []int
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			n++
		case c == '.' || c == '/' || c == '-':
			if n == 0 {
				return false
			}
			groups = append(groups, n)
			n = 0
		default:
			return false
		}
	}
	groups = append(groups, n)
	if len(groups) != 3 {
		return false
	}
	return groups[0] <= 2 && groups[1] <= 2 && groups[2] >= 2 && groups[2] <= 4
}

// CheckDate validates a date argument: exactly YYYY-MM-DD, an existing day in the range every
// ledger date lies in. The value is never echoed.
func CheckDate(field, s string) error { return checkDate(field, s) }

// CheckHash64 validates a keyed-hash argument: 64 lower-case hex digits.
func CheckHash64(field, s string) error {
	if IsHash64(s) {
		return nil
	}
	return refuseValue(field, s, "must be 64 lower-case hex digits")
}

// ParseDecimal parses a non-negative integer argument in its one canonical spelling: ASCII
// digits, no sign, no leading zero (except "0" itself), no whitespace, at most max. Anything
// else — "+5", "05", " 5", "5\n", "1e1" — is refused, so a number argument carries no
// caller-chosen bytes beyond its value.
func ParseDecimal(field, s string, max int) (int, error) {
	bad := func() (int, error) {
		return 0, refuseValue(field, s, "must be a decimal number without sign or leading zeros")
	}
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return bad()
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return bad()
		}
		n = n*10 + int(c-'0')
	}
	if n > max {
		return 0, Errorf(KindInvalidArgument, "%s: at most %d", field, max)
	}
	return n, nil
}
