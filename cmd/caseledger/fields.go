package main

import (
	"encoding/json"
	"fmt"
	"strings"
)

// reservedFields are set by flags of "record", never by key=value.
var reservedFields = map[string]string{"code": "--code", "occurredOn": "--date", "vocabularyVersion": ""}

// ParseFields turns "key=value" arguments into an event's fields: "true"
// and "false" become booleans (suspensive, urgent), everything else a
// string; the gateway checks names and values against the vocabulary.
// Keys are JSON field names (letters and digits, starting with a letter).
func ParseFields(args []string) (map[string]any, error) {
	out := make(map[string]any, len(args))
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, usagef("field %q: want key=value", clip(a))
		}
		if !isFieldName(k) {
			return nil, usagef("field name %q: letters and digits, starting with a letter", clip(k))
		}
		if flagName, reserved := reservedFields[k]; reserved {
			if flagName == "" {
				return nil, usagef("field %s is set by the gateway", k)
			}
			return nil, usagef("field %s is given with %s", k, flagName)
		}
		if _, dup := out[k]; dup {
			return nil, usagef("field %s given twice", k)
		}
		switch v {
		case "true":
			out[k] = true
		case "false":
			out[k] = false
		default:
			out[k] = v
		}
	}
	return out, nil
}

func isFieldName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && !(i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// clip keeps error messages short (an argument could be anything).
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// EventJSON builds the event object of "record": the JSON given with
// --event (an object), merged with code, date and key=value fields.
func EventJSON(base, code, occurredOn string, fields map[string]any) (json.RawMessage, error) {
	ev := map[string]any{}
	if base != "" {
		dec := json.NewDecoder(strings.NewReader(base))
		dec.UseNumber()
		if err := dec.Decode(&ev); err != nil || ev == nil {
			return nil, usagef("--event must be a JSON object")
		}
		if dec.More() {
			return nil, usagef("--event: trailing data after the JSON object")
		}
	}
	set := func(k string, v any) error {
		if old, ok := ev[k]; ok && fmt.Sprint(old) != fmt.Sprint(v) {
			return usagef("%s given twice with different values", k)
		}
		ev[k] = v
		return nil
	}
	if code != "" {
		if err := set("code", code); err != nil {
			return nil, err
		}
	}
	if _, ok := ev["code"]; !ok {
		return nil, usagef("--code is required")
	}
	if occurredOn != "" {
		if err := set("occurredOn", occurredOn); err != nil {
			return nil, err
		}
	}
	for k, v := range fields {
		if err := set(k, v); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, usagef("event not encodable: %v", err)
	}
	return b, nil
}
