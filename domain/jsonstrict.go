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
