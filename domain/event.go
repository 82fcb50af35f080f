package domain

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// EventFields are the typed, coded fields an event may carry. Which fields an
// event requires or allows is in Vocabulary(). Zero values mean "absent".
type EventFields struct {
	EurodacHit              EurodacHit      `json:"eurodacHit,omitempty"`
	RegionCode              string          `json:"regionCode,omitempty"`
	Outcome                 Outcome         `json:"outcome,omitempty"`
	Suspensive              *bool           `json:"suspensive,omitempty"`
	AppealOutcome           AppealOutcome   `json:"appealOutcome,omitempty"`
	ExtensionReason         ExtensionReason `json:"extensionReason,omitempty"`
	Urgent                  *bool           `json:"urgent,omitempty"`
	RequestedMemberState    string          `json:"requestedMemberState,omitempty"`
	ReceivedOn              string          `json:"receivedOn,omitempty"`
	Evidence                Evidence        `json:"evidence,omitempty"`
	ApplicationRegisteredOn string          `json:"applicationRegisteredOn,omitempty"`
	EvidenceReceivedOn      string          `json:"evidenceReceivedOn,omitempty"`
	UrgentReplyDue          string          `json:"urgentReplyDue,omitempty"`
	ScheduledFor            string          `json:"scheduledFor,omitempty"`
	DocumentHash            string          `json:"documentHash,omitempty"`
	DocumentType            DocumentType    `json:"documentType,omitempty"`
	ClosureReason           ClosureReason   `json:"closureReason,omitempty"`
}

// EventInput is the payload a caller submits to record an event. Who records
// it and when it is recorded come from the transaction, never from the payload.
type EventInput struct {
	VocabularyVersion int       `json:"vocabularyVersion"`
	Code              EventCode `json:"code"`
	OccurredOn        string    `json:"occurredOn"` // YYYY-MM-DD, the day the act took place
	EventFields
}

// maxPayloadBytes bounds an event payload; the largest valid one is far smaller.
const maxPayloadBytes = 4096

// present lists the fields that carry a value.
func (f EventFields) present() []Field {
	var out []Field
	add := func(ok bool, name Field) {
		if ok {
			out = append(out, name)
		}
	}
	add(f.EurodacHit != "", FieldEurodacHit)
	add(f.RegionCode != "", FieldRegionCode)
	add(f.Outcome != "", FieldOutcome)
	add(f.Suspensive != nil, FieldSuspensive)
	add(f.AppealOutcome != "", FieldAppealOutcome)
	add(f.ExtensionReason != "", FieldExtensionReason)
	add(f.Urgent != nil, FieldUrgent)
	add(f.RequestedMemberState != "", FieldRequestedMemberState)
	add(f.ReceivedOn != "", FieldReceivedOn)
	add(f.Evidence != "", FieldEvidence)
	add(f.ApplicationRegisteredOn != "", FieldApplicationOn)
	add(f.EvidenceReceivedOn != "", FieldEvidenceOn)
	add(f.UrgentReplyDue != "", FieldReplyDue)
	add(f.ScheduledFor != "", FieldScheduledFor)
	add(f.DocumentHash != "", FieldDocumentHash)
	add(f.DocumentType != "", FieldDocumentType)
	add(f.ClosureReason != "", FieldClosureReason)
	return out
}

// payloadKeys is the set of JSON keys an event payload may contain.
func payloadKeys() []string {
	keys := []string{"vocabularyVersion", "code", "occurredOn"}
	for _, f := range allFields() {
		keys = append(keys, string(f))
	}
	return keys
}

func allFields() []Field {
	return []Field{FieldEurodacHit, FieldRegionCode, FieldOutcome, FieldSuspensive, FieldAppealOutcome,
		FieldExtensionReason, FieldUrgent, FieldRequestedMemberState, FieldReceivedOn, FieldEvidence,
		FieldApplicationOn, FieldEvidenceOn, FieldReplyDue, FieldScheduledFor, FieldDocumentHash,
		FieldDocumentType, FieldClosureReason}
}

// DecodeEventInput strictly decodes and statically validates an event payload:
// size, JSON shape, known keys only, vocabulary version, known code, fields
// required/allowed for that code, and every value against its closed list or
// syntax. Checks that need the ledger (workflow, membership, dates relative to
// the transaction) happen in Apply. Errors are INVALID_ARGUMENT, or
// PERSONAL_DATA when the refused input looks like personal data.
func DecodeEventInput(data []byte) (EventInput, error) {
	in, err := decodeEventShape(data)
	if err != nil {
		return EventInput{}, err
	}
	if err := in.validateStatic(); err != nil {
		return EventInput{}, err
	}
	return in, nil
}

// decodeEventShape is DecodeEventInput without the checks of the payload's content: JSON shape,
// known keys, value types. (Private details complete a payload before its content is checked.)
func decodeEventShape(data []byte) (EventInput, error) {
	var in EventInput
	if len(data) > maxPayloadBytes {
		return in, Errorf(KindPersonalData, "payload larger than %d bytes refused (free text?)", maxPayloadBytes)
	}
	// Pass 1: a generic look at the keys, so that unknown keys and values of the
	// wrong JSON type are classified (personal data or not) without echoing them.
	var raw map[string]json.RawMessage
	if err := DecodeStrict(data, &raw); err != nil {
		if rawLooksPersonal(data) {
			return in, Errorf(KindPersonalData, "payload refused: malformed and contains personal-data-like text")
		}
		return in, err
	}
	if raw == nil {
		return in, Errorf(KindInvalidArgument, "payload must be a JSON object")
	}
	known := payloadKeys()
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic error for payloads with several faults
	for _, k := range keys {
		v := raw[k]
		if !slices.Contains(known, k) {
			if looksPersonalKey(k) || LooksPersonal(k) || rawLooksPersonal(v) {
				return in, Errorf(KindPersonalData, "unknown field refused: it looks like personal data")
			}
			return in, Errorf(KindInvalidArgument, "unknown field")
		}
		if len(v) > 0 && v[0] != '"' && v[0] != 't' && v[0] != 'f' && v[0] != 'n' && !(v[0] >= '0' && v[0] <= '9') {
			// Objects and arrays never appear in a valid payload.
			if rawLooksPersonal(v) {
				return in, Errorf(KindPersonalData, "%s: value refused, it looks like personal data", k)
			}
			return in, Errorf(KindInvalidArgument, "%s: must be a string, boolean or number", k)
		}
		if k == string(FieldSuspensive) || k == string(FieldUrgent) || k == "vocabularyVersion" {
			var s string
			if json.Unmarshal(v, &s) == nil {
				return in, refuseValue(k, s, "wrong JSON type")
			}
		}
	}
	// Pass 2: the typed, strict decode.
	if err := DecodeStrict(data, &in); err != nil {
		return EventInput{}, err
	}
	return in, nil
}

// DecodeCanonicalEventInput is DecodeEventInput for a chaincode argument: on top of every check
// of DecodeEventInput, the payload must be exactly its canonical encoding (EncodeCanonical of the
// decoded input), so that a duplicate key, a reordered key or an escape cannot carry text past the
// checks into the block. Gateways send EncodeCanonical(in) of an input decoded by DecodeEventInput.
func DecodeCanonicalEventInput(data []byte) (EventInput, error) {
	in, err := DecodeEventInput(data)
	if err != nil {
		return EventInput{}, err
	}
	if err := RequireCanonical(data, in); err != nil {
		return EventInput{}, err
	}
	return in, nil
}

// validateStatic checks everything that does not depend on ledger state.
func (in EventInput) validateStatic() error {
	if in.VocabularyVersion != VocabularyVersion {
		return Errorf(KindInvalidArgument, "vocabularyVersion must be %d", VocabularyVersion)
	}
	spec, ok := Spec(in.Code)
	if !ok {
		return refuseValue("code", string(in.Code), "unknown event code")
	}
	if err := checkDate("occurredOn", in.OccurredOn); err != nil {
		return err
	}
	present := in.present()
	for _, f := range present {
		if !spec.Allows(f) {
			return Errorf(KindInvalidArgument, "%s: field not allowed for %s", f, in.Code)
		}
	}
	for _, f := range spec.Required {
		if !slices.Contains(present, f) {
			return Errorf(KindInvalidArgument, "%s: field required for %s", f, in.Code)
		}
	}
	if in.Code == EvCaseRegistered && (in.ApplicationRegisteredOn == "") != (in.Evidence == "") {
		return Errorf(KindInvalidArgument, "%s and %s: both or neither on %s", FieldApplicationOn, FieldEvidence, in.Code)
	}
	return in.EventFields.validateValues()
}

// validateValues checks each present value against its closed list or syntax.
func (f EventFields) validateValues() error {
	if f.EurodacHit != "" && !slices.Contains(EurodacHits(), f.EurodacHit) {
		return refuseValue(string(FieldEurodacHit), string(f.EurodacHit), "unknown Eurodac hit category")
	}
	if f.RegionCode != "" && !IsRegionCode(f.RegionCode) {
		return refuseValue(string(FieldRegionCode), f.RegionCode, "unknown region code")
	}
	if f.Outcome != "" && !slices.Contains(Outcomes(), f.Outcome) {
		return refuseValue(string(FieldOutcome), string(f.Outcome), "unknown outcome code")
	}
	if f.AppealOutcome != "" && !slices.Contains(AppealOutcomes(), f.AppealOutcome) {
		return refuseValue(string(FieldAppealOutcome), string(f.AppealOutcome), "unknown appeal outcome code")
	}
	if f.ExtensionReason != "" && !slices.Contains(ExtensionReasons(), f.ExtensionReason) {
		return refuseValue(string(FieldExtensionReason), string(f.ExtensionReason), "unknown extension reason")
	}
	if f.RequestedMemberState != "" && !IsMemberState(f.RequestedMemberState) {
		return refuseValue(string(FieldRequestedMemberState), f.RequestedMemberState, "unknown member-state code")
	}
	if f.Evidence != "" && !slices.Contains(Evidences(), f.Evidence) {
		return refuseValue(string(FieldEvidence), string(f.Evidence), "unknown evidence code")
	}
	if f.DocumentHash != "" && !IsHash64(f.DocumentHash) {
		return refuseValue(string(FieldDocumentHash), f.DocumentHash, "must be 64 lower-case hex digits (HMAC-SHA256)")
	}
	if f.DocumentType != "" && !slices.Contains(DocumentTypes(), f.DocumentType) {
		return refuseValue(string(FieldDocumentType), string(f.DocumentType), "unknown document type")
	}
	if f.ClosureReason != "" && !slices.Contains(ClosureReasons(), f.ClosureReason) {
		return refuseValue(string(FieldClosureReason), string(f.ClosureReason), "unknown closure reason")
	}
	for _, d := range []struct {
		f Field
		v string
	}{
		{FieldReceivedOn, f.ReceivedOn}, {FieldApplicationOn, f.ApplicationRegisteredOn},
		{FieldEvidenceOn, f.EvidenceReceivedOn}, {FieldReplyDue, f.UrgentReplyDue},
		{FieldScheduledFor, f.ScheduledFor},
	} {
		if d.v != "" {
			if err := checkDate(string(d.f), d.v); err != nil {
				return err
			}
		}
	}
	if f.Evidence != "" && f.Evidence != EvidenceOther && f.EvidenceReceivedOn == "" {
		return Errorf(KindInvalidArgument, "%s: required when evidence is a hit", FieldEvidenceOn)
	}
	if (f.Evidence == EvidenceOther || f.Evidence == "") && f.EvidenceReceivedOn != "" {
		return Errorf(KindInvalidArgument, "%s: only with a Eurodac or VIS hit", FieldEvidenceOn)
	}
	urgent := f.Urgent != nil && *f.Urgent
	if urgent != (f.UrgentReplyDue != "") {
		return Errorf(KindInvalidArgument, "%s: required exactly when urgent is true", FieldReplyDue)
	}
	return nil
}

// Date bounds: nothing in this system happened before Dublin III applied, and
// nothing is scheduled beyond the century. A birth date of an adult is thereby
// refused in any date field.
const (
	minDate = "2014-01-01"
	maxDate = "2099-12-31"
)

// checkDate validates a civil date in the one accepted notation, YYYY-MM-DD.
func checkDate(field, s string) error {
	if _, ok := parseISODate(s); !ok {
		return refuseValue(field, s, "must be a date YYYY-MM-DD")
	}
	if s < minDate || s > maxDate {
		return refuseValue(field, s, "date out of range "+minDate+".."+maxDate)
	}
	return nil
}

func parseISODate(s string) (time.Time, bool) {
	if len(s) != 10 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return time.Time{}, false
	}
	return t, true
}

// looksPersonalKey flags JSON keys that name personal data.
func looksPersonalKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{
		"name", "birth", "dob", "born", "nationality", "citizenship", "email", "mail", "phone",
		"address", "street", "file", "aktenzeichen", "passport", "idcard", "document_number",
		"gender", "sex", "religion", "ethnic", "language", "photo", "finger", "comment", "note",
		"text", "remark", "description", "reason_text", "ssn", "tax", "insurance",
	} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// rawLooksPersonal walks a JSON value (or malformed bytes) and reports
// whether any string in it looks like personal data.
func rawLooksPersonal(raw []byte) bool {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		// Not JSON: judge the bytes as text.
		return LooksPersonal(string(raw))
	}
	return anyLooksPersonal(v, 0)
}

func anyLooksPersonal(v any, depth int) bool {
	if depth > 32 {
		return true
	}
	switch x := v.(type) {
	case string:
		return LooksPersonal(x) && !isAllowedToken(x)
	case json.Number:
		return len(x) >= 6 // long numbers: phone or ID numbers
	case []any:
		for _, e := range x {
			if anyLooksPersonal(e, depth+1) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if looksPersonalKey(k) || LooksPersonal(k) || anyLooksPersonal(e, depth+1) {
				return true
			}
		}
	}
	return false
}

// isAllowedToken: strings of the allowed kinds are never personal data.
func isAllowedToken(s string) bool {
	_, date := parseISODate(s)
	return IsUUIDv4(s) || IsHash64(s) || date
}
