package privacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
)

// Request bodies of the HTTP API. Local references travel only here, never
// in a URL. Decoding is strict: unknown fields, trailing data, oversized or
// empty bodies are INVALID_INPUT or PAYLOAD_TOO_LARGE.

// RefRequest addresses a case by local reference.
type RefRequest struct {
	LocalRef string `json:"localRef"`
}

// PseudonymRequest addresses a case by pseudonym.
type PseudonymRequest struct {
	Pseudonym string `json:"pseudonym"`
}

// BindRequest attaches a local reference to a pseudonym.
type BindRequest struct {
	Pseudonym string `json:"pseudonym"`
	LocalRef  string `json:"localRef"`
}

// LinkRequest links a pseudonym to one in another domain. For link-new,
// ToPseudonym must be empty.
type LinkRequest struct {
	Pseudonym   string `json:"pseudonym"`
	ToDomain    string `json:"toDomain"`
	ToPseudonym string `json:"toPseudonym,omitempty"`
}

// RectifyRequest replaces a local reference.
type RectifyRequest struct {
	Pseudonym   string `json:"pseudonym"`
	OldLocalRef string `json:"oldLocalRef"`
	NewLocalRef string `json:"newLocalRef"`
}

// EraseRequest names the case by exactly one of pseudonym or local reference.
type EraseRequest struct {
	Pseudonym string `json:"pseudonym,omitempty"`
	LocalRef  string `json:"localRef,omitempty"`
}

// EraseEntryRequest names the entry to erase by its pseudonym.
type EraseEntryRequest struct {
	Pseudonym string `json:"pseudonym"`
}

// ListRequest pages through a domain's pseudonyms.
type ListRequest struct {
	After string `json:"after,omitempty"`
	Limit int    `json:"limit"`
}

// Response bodies.
type (
	// PseudonymResponse answers pseudonymize, bind, resolve-ref, link, link-new, linked.
	PseudonymResponse struct {
		Pseudonym string `json:"pseudonym"`
		Created   bool   `json:"created"`
	}
	// RefsResponse answers resolve-pseudonym.
	RefsResponse struct {
		LocalRefs []string `json:"localRefs"`
	}
	// AnchorKeyResponse answers anchor-key (key is base64 in JSON).
	AnchorKeyResponse struct {
		Key []byte `json:"key"`
	}
	// ListResponse answers list.
	ListResponse struct {
		Pseudonyms []string `json:"pseudonyms"`
		Next       string   `json:"next"`
	}
)

// requestValidator checks the shape of a decoded request (field presence,
// formats). Domain checks need the store's configuration and happen there.
type requestValidator interface{ validate() error }

func (r *RefRequest) validate() error       { return ValidateLocalRef(r.LocalRef) }
func (r *PseudonymRequest) validate() error { _, err := ParsePseudonym(r.Pseudonym); return err }
func (r *BindRequest) validate() error {
	if _, err := ParsePseudonym(r.Pseudonym); err != nil {
		return err
	}
	return ValidateLocalRef(r.LocalRef)
}
func (r *LinkRequest) validate() error {
	if _, err := ParsePseudonym(r.Pseudonym); err != nil {
		return err
	}
	if r.ToDomain == "" {
		return fmt.Errorf("%w: toDomain is required", ErrInvalidInput)
	}
	if r.ToPseudonym != "" {
		_, err := ParsePseudonym(r.ToPseudonym)
		return err
	}
	return nil
}
func (r *RectifyRequest) validate() error {
	if _, err := ParsePseudonym(r.Pseudonym); err != nil {
		return err
	}
	if err := ValidateLocalRef(r.OldLocalRef); err != nil {
		return fmt.Errorf("oldLocalRef: %w", err)
	}
	if err := ValidateLocalRef(r.NewLocalRef); err != nil {
		return fmt.Errorf("newLocalRef: %w", err)
	}
	return nil
}
func (r *EraseRequest) validate() error {
	switch {
	case (r.Pseudonym == "") == (r.LocalRef == ""):
		return fmt.Errorf("%w: give exactly one of pseudonym and localRef", ErrInvalidInput)
	case r.Pseudonym != "":
		_, err := ParsePseudonym(r.Pseudonym)
		return err
	default:
		return ValidateLocalRef(r.LocalRef)
	}
}
func (r *EraseEntryRequest) validate() error {
	_, err := ParsePseudonym(r.Pseudonym)
	return err
}
func (r *ListRequest) validate() error {
	if r.Limit <= 0 || r.Limit > MaxListLimit {
		return fmt.Errorf("%w: limit must be between 1 and %d", ErrInvalidInput, MaxListLimit)
	}
	if r.After != "" {
		_, err := ParsePseudonym(r.After)
		return err
	}
	return nil
}

// DefaultMaxBodyBytes bounds a request body (refs are at most 256 bytes).
const DefaultMaxBodyBytes = 16 << 10

// checkContentType accepts a missing type or application/json (for the
// admin routes, which carry backups, application/octet-stream).
func checkContentType(ct string, binary bool) error {
	if ct == "" {
		return nil
	}
	want := "application/json"
	if binary {
		want = "application/octet-stream"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != want {
		return fmt.Errorf("%w: content type must be %s", errUnsupportedMedia, want)
	}
	return nil
}

var errUnsupportedMedia = fmt.Errorf("%w: unsupported media type", ErrInvalidInput)

// decodeRequest reads at most maxBytes from r into v and validates it.
func decodeRequest(r io.Reader, maxBytes int64, v requestValidator) error {
	body, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return fmt.Errorf("%w: reading body failed", ErrInvalidInput)
	}
	if int64(len(body)) > maxBytes {
		return fmt.Errorf("%w: body exceeds %d bytes", ErrTooLarge, maxBytes)
	}
	return parseRequest(body, v)
}

// parseRequest decodes one JSON object strictly and validates it. It is the
// fuzzed entry point.
func parseRequest(body []byte, v requestValidator) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("%w: empty body", ErrInvalidInput)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return fmt.Errorf("%w: malformed JSON at byte %d", ErrInvalidInput, syn.Offset)
		case errors.As(err, &typ):
			return fmt.Errorf("%w: field %q has the wrong type", ErrInvalidInput, truncate(typ.Field, 64))
		default:
			// Other decoder messages may quote input (unknown field names):
			// keep the detail generic.
			return fmt.Errorf("%w: body is not the expected JSON object", ErrInvalidInput)
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the JSON object", ErrInvalidInput)
	}
	return v.validate()
}
