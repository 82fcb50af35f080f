package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodeStrict decodes exactly one JSON value into v: empty input, unknown fields and trailing data
// are refused with KindInvalidArgument, and the error never quotes the input (the json package's
// messages may contain submitted values, which may be personal data). The chaincode, the gateway and
// every other decoder of untrusted JSON use it.
func DecodeStrict(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return Errorf(KindInvalidArgument, "a JSON value is required")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(KindInvalidArgument, "malformed JSON or unknown field (%s)", jsonErrorClass(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Errorf(KindInvalidArgument, "trailing data after the JSON value")
	}
	return nil
}

// jsonErrorClass names what went wrong without quoting the input.
func jsonErrorClass(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("wrong type for field %q", te.Field)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return "unknown field"
	default:
		return "invalid value"
	}
}

// EncodeCanonical renders v in the one encoding the chaincode accepts for a JSON argument: the
// standard library's json.Marshal (struct fields in declaration order, map keys sorted, no
// insignificant whitespace, HTML-safe escapes). Gateways and clients build chaincode arguments with
// it, so honest callers always send the canonical bytes.
func EncodeCanonical(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, Errorf(KindInternal, "encoding failed")
	}
	return b, nil
}

// DecodeCanonical decodes data strictly into v (see DecodeStrict) and then requires data to be
// byte-for-byte EncodeCanonical(v). That one comparison refuses every variant that decodes to the
// same value: duplicate keys (the json package keeps the last one, so the first one would reach the
// block unchecked), whitespace, key order, key case (the json package matches names case-
// insensitively), \u escapes, invalid UTF-8 (replaced on decoding), number spellings. So the bytes a
// transaction carries into a block are exactly the bytes that were validated. The error never
// quotes the input.
func DecodeCanonical(data []byte, v any) error {
	if err := DecodeStrict(data, v); err != nil {
		return err
	}
	return RequireCanonical(data, v)
}

// RequireCanonical reports INVALID_ARGUMENT unless data is exactly EncodeCanonical(v), for a v
// already decoded from data.
func RequireCanonical(data []byte, v any) error {
	b, err := EncodeCanonical(v)
	if err != nil {
		return err
	}
	if !bytes.Equal(b, data) {
		return Errorf(KindInvalidArgument, "JSON argument is not in canonical form (duplicate or reordered keys, whitespace or escapes)")
	}
	return nil
}
