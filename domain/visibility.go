package domain

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
)

// Need to know (DESIGN §8, docs/visibility.md): which agency kinds on a channel may read each
// coded detail of an event. The table is data, versioned like the vocabulary and the Dublin rule
// tables. What the workflow needs on every endorser (pseudonym, sequence, code, dates, recording
// agency, the facts deadlines are computed from) stays on the channel; coded details go to a
// Fabric private data collection of their audience, salted, so the hash every peer keeps cannot
// be confirmed by guessing a code.

// VisibilityVersion is the version of the visibility table. Moving a field to a narrower
// audience, or a kind out of an audience, bumps it: details already recorded stay where they
// were written.
const VisibilityVersion = 1

// Audience names a group of agency kinds of one procedure that shares a private data collection.
type Audience string

// The audiences. AudienceChannel is every member of the channel (the public record).
const (
	AudienceChannel  Audience = ""
	AudienceAgencies Audience = "agencies" // national: every national agency, not the auditor
	AudienceDecision Audience = "decision" // national: who decides and who enforces
	AudienceStates   Audience = "states"   // dublin: the Dublin units of the member states
)

// AuditorAccess is the configured choice of what the auditor's peer holds of private details.
type AuditorAccess string

const (
	// AuditorHashes (default): the auditor's peer keeps the salted hashes only; it verifies
	// that details were recorded and purged, never what they say.
	AuditorHashes AuditorAccess = "hashes"
	// AuditorDetails: the auditor is a member of every collection (reads, never writes).
	AuditorDetails AuditorAccess = "details"
)

// Valid reports whether a is one of the closed set.
func (a AuditorAccess) Valid() bool { return a == AuditorHashes || a == AuditorDetails }

// AudienceSpec is one audience: its kinds and why.
type AudienceSpec struct {
	Procedure Procedure    `json:"procedure"`
	Name      Audience     `json:"name"`
	Kinds     []AgencyKind `json:"kinds"`
	Reason    string       `json:"reason"`
}

// VisibilityRule says who may read one field of one event code.
type VisibilityRule struct {
	Procedure Procedure `json:"procedure"`
	Code      EventCode `json:"code"`
	Field     Field     `json:"field"`
	Audience  Audience  `json:"audience"` // AudienceChannel: stays on the public record
	Reason    string    `json:"reason"`
}

// Private reports whether the field leaves the public record.
func (r VisibilityRule) Private() bool { return r.Audience != AudienceChannel }

// Visibility is the policy in force: the table plus the configured auditor choice.
type Visibility struct {
	Version   int              `json:"version"`
	Auditor   AuditorAccess    `json:"auditor"`
	Audiences []AudienceSpec   `json:"audiences"`
	Rules     []VisibilityRule `json:"rules"`
}

// NewVisibility returns the policy with the given auditor choice ("" = AuditorHashes).
func NewVisibility(auditor AuditorAccess) (Visibility, error) {
	if auditor == "" {
		auditor = AuditorHashes
	}
	if !auditor.Valid() {
		return Visibility{}, Errorf(KindInvalidArgument, "visibility: auditor must be %q or %q", AuditorHashes, AuditorDetails)
	}
	return Visibility{Version: VisibilityVersion, Auditor: auditor, Audiences: audiences(), Rules: visibilityRules()}, nil
}

// DefaultVisibility is the policy with the auditor holding hashes only.
func DefaultVisibility() Visibility {
	v, _ := NewVisibility(AuditorHashes)
	return v
}

func audiences() []AudienceSpec {
	return []AudienceSpec{
		{ProcedureNational, AudienceAgencies,
			[]AgencyKind{AgencyAsylumOffice, AgencyBorderPolice, AgencyImmigrationAuthority},
			"every national agency may record these steps (identity check, closing, anchors), so each must hold what it records"},
		{ProcedureNational, AudienceDecision,
			[]AgencyKind{AgencyAsylumOffice, AgencyImmigrationAuthority},
			"the asylum office decides; the immigration authority of the region grants residence or enforces return; the border police has no part after registration"},
		{ProcedureDublin, AudienceStates,
			[]AgencyKind{AgencyAsylumOffice, AgencyPartnerState},
			"the Dublin units of the requesting and the requested state; the auditor keeps hashes unless configured"},
	}
}

// visibilityRules is the table: one row per event code and allowed field on each procedure.
// docs/visibility.md explains it; TestVisibilityCoversTheVocabulary holds it complete.
func visibilityRules() []VisibilityRule {
	nat, dub := ProcedureNational, ProcedureDublin
	const (
		deadlineFact = "a deadline is computed from it on every endorser and shown on both states' boards"
		dateWorkflow = "a date: the workflow and the deadline board need it on every endorser"
	)
	return append([]VisibilityRule{
		// National channel.
		{nat, EvIdentityChecked, FieldEurodacHit, AudienceAgencies,
			"the hit category tells whether the person applied or was apprehended elsewhere; agencies handling the case need it, the auditor does not"},
		{nat, EvAllocated, FieldRegionCode, AudienceDecision,
			"the region reveals where the person lives; the border police and the auditor do not need it"},
		{nat, EvHearingScheduled, FieldScheduledFor, AudienceChannel, dateWorkflow},
		{nat, EvDecisionIssued, FieldOutcome, AudienceDecision,
			"the outcome is the core of the asylum decision; only the deciding and the enforcing authority need it (the public record keeps only whether return counselling may follow)"},
		{nat, EvAppealFiled, FieldSuspensive, AudienceDecision,
			"suspensive effect bars enforcement, which is the immigration authority's task"},
		{nat, EvAppealDecided, FieldAppealOutcome, AudienceDecision,
			"the court's ruling on the decision; same audience as the decision"},
		{nat, EvCaseClosed, FieldClosureReason, AudienceAgencies,
			"why a case ended (departed, protection granted) is a personal fact; any national agency may close what it holds"},
		{nat, EvDocumentAnchored, FieldDocumentHash, AudienceChannel,
			"a keyed hash (key in the privacy service); anyone holding the document and key verifies it against the public anchor"},
		{nat, EvDocumentAnchored, FieldDocumentType, AudienceAgencies,
			"the kind of document (decision, hearing minutes) tells what happened in the case"},
		// Dublin channel: both member states are parties to every step, and nearly every field
		// feeds a legal deadline both states and the auditor must be able to verify.
		{nat, EvCaseRegistered, FieldApplicationOn, AudienceChannel, "refused on the national channel (a Dublin fact); a date"},
		{nat, EvCaseRegistered, FieldEvidence, AudienceChannel, "refused on the national channel (a Dublin fact)"},
		{nat, EvCaseRegistered, FieldEvidenceOn, AudienceChannel, "refused on the national channel (a Dublin fact); a date"},
		{dub, EvCaseRegistered, FieldApplicationOn, AudienceChannel, deadlineFact},
		{dub, EvCaseRegistered, FieldEvidence, AudienceChannel, deadlineFact},
		{dub, EvCaseRegistered, FieldEvidenceOn, AudienceChannel, deadlineFact},
		{dub, EvAppealFiled, FieldSuspensive, AudienceChannel, deadlineFact + " (a suspensive appeal moves the transfer deadline)"},
		{dub, EvAppealDecided, FieldAppealOutcome, AudienceChannel, "an upheld appeal annuls the transfer decision: the status depends on it"},
		{dub, EvCaseClosed, FieldClosureReason, AudienceStates, "why the case ended is for the two states; the auditor sees that it ended"},
		{dub, EvDocumentAnchored, FieldDocumentHash, AudienceChannel, "a keyed hash; verified against the public anchor"},
		{dub, EvDocumentAnchored, FieldDocumentType, AudienceStates, "the kind of document exchanged is for the two states"},
	}, dublinDeadlineRules()...)
}

// dublinDeadlineFields: every field of the Dublin request and transfer steps starts or moves a
// legal deadline, so it stays on the channel.
func dublinDeadlineRules() []VisibilityRule {
	var out []VisibilityRule
	for _, s := range Vocabulary() {
		if !s.OnProcedure(ProcedureDublin) || s.OnProcedure(ProcedureNational) {
			continue
		}
		for _, f := range append(slices.Clone(s.Required), s.Optional...) {
			reason := "a deadline is computed from it on every endorser and shown on both states' boards"
			switch f {
			case FieldRequestedMemberState:
				reason = "names the party that must reply: the workflow admits its Dublin unit only"
			case FieldExtensionReason:
				reason = "decides the extended transfer deadline (12 or 18 months, its article), which the public deadline shows anyway"
			case FieldUrgent:
				reason = "an urgent request has its own reply period"
			}
			out = append(out, VisibilityRule{ProcedureDublin, s.Code, f, AudienceChannel, reason})
		}
	}
	return out
}

// Rule returns the row of one field of one code on a procedure.
func (v Visibility) Rule(p Procedure, code EventCode, f Field) (VisibilityRule, bool) {
	for _, r := range v.Rules {
		if r.Procedure == p && r.Code == code && r.Field == f {
			return r, true
		}
	}
	return VisibilityRule{}, false
}

// Audience returns the spec of a named audience of a procedure.
func (v Visibility) Audience(p Procedure, a Audience) (AudienceSpec, bool) {
	for _, s := range v.Audiences {
		if s.Procedure == p && s.Name == a {
			return s, true
		}
	}
	return AudienceSpec{}, false
}

// EventAudience returns the audience of an event's private fields on a procedure, or
// AudienceChannel when it has none. The table gives each code at most one private audience
// (TestVisibilityOneAudiencePerEvent), so one record per event suffices.
func (v Visibility) EventAudience(p Procedure, code EventCode) Audience {
	for _, r := range v.Rules {
		if r.Procedure == p && r.Code == code && r.Private() {
			return r.Audience
		}
	}
	return AudienceChannel
}

// Readers lists the agency kinds that read an audience's details: its kinds, plus the auditor
// when configured so.
func (v Visibility) Readers(p Procedure, a Audience) []AgencyKind {
	s, ok := v.Audience(p, a)
	if !ok {
		return nil
	}
	kinds := slices.Clone(s.Kinds)
	if v.Auditor == AuditorDetails {
		kinds = append(kinds, AgencyAuditor)
	}
	return kinds
}

// MayRead reports whether an agency kind reads a field of a code (channel fields: everyone).
func (v Visibility) MayRead(p Procedure, code EventCode, f Field, k AgencyKind) bool {
	r, ok := v.Rule(p, code, f)
	if !ok || !r.Private() {
		return true
	}
	return slices.Contains(v.Readers(p, r.Audience), k)
}

// CollectionName is the private data collection of an audience on a procedure's channel.
func CollectionName(p Procedure, a Audience) string { return string(p) + "-" + string(a) }

// CollectionSpec is one collection as the network defines it for one channel.
type CollectionSpec struct {
	Name     string
	Audience Audience
	// Members read the collection (memberOnlyRead) and hold its records: the
	// channel members of the audience's kinds, the auditor too when it reads details.
	Members []string
	// Writers are the members that endorse a write (collection-level endorsement policy): the
	// audience without the auditor, who never writes.
	Writers []string
}

// Collections lists the collections of a channel: one per audience of its procedure with a
// member on the channel, in table order. MSP ids are sorted.
func (v Visibility) Collections(m Membership, ch Channel) []CollectionSpec {
	var out []CollectionSpec
	for _, a := range v.Audiences {
		if a.Procedure != ch.Procedure {
			continue
		}
		cs := CollectionSpec{Name: CollectionName(ch.Procedure, a.Name), Audience: a.Name}
		readers := v.Readers(ch.Procedure, a.Name)
		for _, id := range ch.Members {
			mem, ok := m.Member(id)
			if !ok || !slices.Contains(readers, mem.Kind) {
				continue
			}
			cs.Members = append(cs.Members, id)
			if mem.Kind != AgencyAuditor {
				cs.Writers = append(cs.Writers, id)
			}
		}
		if len(cs.Writers) == 0 {
			continue
		}
		slices.Sort(cs.Members)
		slices.Sort(cs.Writers)
		out = append(out, cs)
	}
	return out
}

// CollectionByName finds a collection of a channel by name.
func (v Visibility) CollectionByName(m Membership, ch Channel, name string) (CollectionSpec, bool) {
	for _, c := range v.Collections(m, ch) {
		if c.Name == name {
			return c, true
		}
	}
	return CollectionSpec{}, false
}

// clear makes one field absent.
func (f *EventFields) clear(field Field) {
	switch field {
	case FieldEurodacHit:
		f.EurodacHit = ""
	case FieldRegionCode:
		f.RegionCode = ""
	case FieldOutcome:
		f.Outcome = ""
	case FieldSuspensive:
		f.Suspensive = nil
	case FieldAppealOutcome:
		f.AppealOutcome = ""
	case FieldExtensionReason:
		f.ExtensionReason = ""
	case FieldUrgent:
		f.Urgent = nil
	case FieldRequestedMemberState:
		f.RequestedMemberState = ""
	case FieldReceivedOn:
		f.ReceivedOn = ""
	case FieldEvidence:
		f.Evidence = ""
	case FieldApplicationOn:
		f.ApplicationRegisteredOn = ""
	case FieldEvidenceOn:
		f.EvidenceReceivedOn = ""
	case FieldReplyDue:
		f.UrgentReplyDue = ""
	case FieldScheduledFor:
		f.ScheduledFor = ""
	case FieldDocumentHash:
		f.DocumentHash = ""
	case FieldDocumentType:
		f.DocumentType = ""
	case FieldClosureReason:
		f.ClosureReason = ""
	}
}

// Split separates an event's fields into what stays on the channel and what goes to the
// audience's collection.
func (v Visibility) Split(p Procedure, code EventCode, f EventFields) (public, private EventFields) {
	public, private = f, f
	priv := v.privateFields(p, code)
	for _, field := range f.present() {
		if slices.Contains(priv, field) {
			public.clear(field)
		} else {
			private.clear(field)
		}
	}
	return public, private
}

// privateFields lists the private fields of a code on a procedure.
func (v Visibility) privateFields(p Procedure, code EventCode) []Field {
	var out []Field
	for _, r := range v.Rules {
		if r.Procedure == p && r.Code == code && r.Private() {
			out = append(out, r.Field)
		}
	}
	return out
}

// PrivateFields lists the private fields of a code on a procedure, in table order.
func (v Visibility) PrivateFields(p Procedure, code EventCode) []Field {
	return v.privateFields(p, code)
}

// Present lists the fields that carry a value.
func (f EventFields) Present() []Field { return f.present() }

// Merge returns f with every field present in g set from g (the two are disjoint when they come
// from Split or from a checked payload and its details).
func (f EventFields) Merge(g EventFields) EventFields {
	out := f
	b, _ := json.Marshal(g)
	_ = json.Unmarshal(b, &out) // g's present fields overwrite; absent ones are omitted by omitempty
	return out
}

// PublicState is the case state as the public record keeps it: the national facts that are
// private details are left out (each stays in its event's private record); the facts the
// workflow derived from them (NegativeDecision) stay.
func (v Visibility) PublicState(s CaseState) CaseState {
	out := s.clone()
	if n := out.National; n != nil {
		p := ProcedureNational
		if v.EventAudience(p, EvIdentityChecked) != AudienceChannel {
			n.EurodacHit = ""
		}
		if v.EventAudience(p, EvAllocated) != AudienceChannel {
			n.RegionCode = ""
		}
		if v.EventAudience(p, EvDecisionIssued) != AudienceChannel {
			n.Outcome = ""
		}
		if v.EventAudience(p, EvAppealFiled) != AudienceChannel {
			n.AppealSuspensive = nil
		}
		if v.EventAudience(p, EvAppealDecided) != AudienceChannel {
			n.AppealOutcome = ""
		}
	}
	return out
}

// TransientDetailsKey is the one key of the transient map a write may carry: the event's private
// details, never a proposal argument (arguments are stored in the block for every member).
const TransientDetailsKey = "details"

// maxDetailsBytes bounds a details document; the largest valid one is far smaller.
const maxDetailsBytes = 1024

// DetailsInput is the transient details of one event: the collection of its audience, a salt of
// 32 random bytes (64 lower-case hex; the caller draws it, so every endorser writes the same
// record), and the private fields.
type DetailsInput struct {
	Collection string `json:"collection"`
	Salt       string `json:"salt"`
	EventFields
}

// PrivateDetails is the record written to the audience's collection under the event's key. The
// salt makes its on-chain hash unconfirmable by guessing a code.
type PrivateDetails struct {
	Pseudonym string    `json:"pseudonym"`
	Seq       uint64    `json:"seq"`
	Code      EventCode `json:"code"`
	Salt      string    `json:"salt"`
	EventFields
}

// isCollectionName: lower-case letters and hyphens, as CollectionName builds them.
func isCollectionName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return true
}

// DecodeCanonicalDetails decodes transient details as strictly as a public payload: canonical
// bytes only, known keys, a collection name, a 64-hex salt, at least one field, each value from
// its closed list.
func DecodeCanonicalDetails(data []byte) (DetailsInput, error) {
	var d DetailsInput
	if len(data) > maxDetailsBytes {
		return d, Errorf(KindPersonalData, "details larger than %d bytes refused (free text?)", maxDetailsBytes)
	}
	if err := DecodeCanonical(data, &d); err != nil {
		if tokensLookPersonal(data) {
			return DetailsInput{}, Errorf(KindPersonalData, "details refused: not canonical and contain personal-data-like text")
		}
		return DetailsInput{}, Errorf(KindInvalidArgument, "details: must be the canonical JSON of {collection, salt, fields}")
	}
	if !isCollectionName(d.Collection) {
		return DetailsInput{}, refuseValue("details.collection", d.Collection, "not a collection name")
	}
	if !IsHash64(d.Salt) {
		return DetailsInput{}, refuseValue("details.salt", d.Salt, "must be 64 lower-case hex digits (32 random bytes)")
	}
	if len(d.present()) == 0 {
		return DetailsInput{}, Errorf(KindInvalidArgument, "details: no field")
	}
	if err := d.validateValues(); err != nil {
		return DetailsInput{}, err
	}
	return d, nil
}

// DecodeEvent decodes a public payload and the transient details that complete it (details nil:
// none sent) and checks the whole as DecodeCanonicalEventInput checks a payload. On top:
//   - with refusePublic, a private field in the public payload is refused: it would be stored in
//     the block for every member;
//   - details must name an existing collection of the channel, that collection must be the
//     audience of the code's private fields, and carry only those fields.
//
// It returns the complete input, the details (nil without) and their collection. Whether the
// caller belongs to the audience is the chaincode's check (it knows the caller).
func (v Visibility) DecodeEvent(m Membership, ch Channel, payload, details []byte, refusePublic bool) (EventInput, *DetailsInput, CollectionSpec, error) {
	in, err := decodeEventShape(payload)
	if err != nil {
		return EventInput{}, nil, CollectionSpec{}, err
	}
	public := in
	priv := v.privateFields(ch.Procedure, in.Code)
	if refusePublic {
		for _, f := range in.present() {
			if slices.Contains(priv, f) {
				return EventInput{}, nil, CollectionSpec{}, Errorf(KindInvalidArgument,
					"%s: a withheld detail sent as a public argument; send it in the transient details", f)
			}
		}
	}
	var coll CollectionSpec
	var d *DetailsInput
	if details != nil {
		di, err := DecodeCanonicalDetails(details)
		if err != nil {
			return EventInput{}, nil, CollectionSpec{}, err
		}
		c, ok := v.CollectionByName(m, ch, di.Collection)
		if !ok {
			return EventInput{}, nil, CollectionSpec{}, Errorf(KindInvalidArgument, "details: no such collection on this channel")
		}
		if len(priv) == 0 || c.Audience != v.EventAudience(ch.Procedure, in.Code) {
			return EventInput{}, nil, CollectionSpec{}, Errorf(KindInvalidArgument, "details: %s has no details for this collection", in.Code)
		}
		for _, f := range di.present() {
			if !slices.Contains(priv, f) {
				return EventInput{}, nil, CollectionSpec{}, Errorf(KindInvalidArgument, "%s: not a withheld detail of %s", f, in.Code)
			}
			if slices.Contains(in.present(), f) {
				return EventInput{}, nil, CollectionSpec{}, Errorf(KindInvalidArgument, "%s: sent twice (payload and details)", f)
			}
		}
		in.EventFields = in.EventFields.Merge(di.EventFields)
		d, coll = &di, c
	}
	if err := in.validateStatic(); err != nil {
		return EventInput{}, nil, CollectionSpec{}, err
	}
	// After the content checks, as DecodeCanonicalEventInput: a personal value is named as such.
	if err := RequireCanonical(payload, public); err != nil {
		return EventInput{}, nil, CollectionSpec{}, err
	}
	return in, d, coll, nil
}

// tokensLookPersonal walks every JSON token of data, duplicate keys included (a decoder into a
// map keeps only the last value), and reports any key or string that looks like personal data.
func tokensLookPersonal(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return err != io.EOF && LooksPersonal(string(data))
		}
		switch x := tok.(type) {
		case string:
			if (LooksPersonal(x) && !isAllowedToken(x)) || looksPersonalKey(x) {
				return true
			}
		case json.Number:
			if len(x) >= 6 {
				return true
			}
		}
	}
}

// ApplyNationalFacts applies an event's national facts to a state, as recording it did: for a
// reader that holds the withheld details of a case (chaincode GetCase).
func ApplyNationalFacts(s *CaseState, code EventCode, f EventFields) {
	if s.Procedure != ProcedureNational || len(f.present()) == 0 {
		return
	}
	neg := s.National != nil && s.National.NegativeDecision
	applyNational(s, EventInput{Code: code, EventFields: f})
	if s.National.Outcome == "" { // the decision itself withheld from this reader
		s.National.NegativeDecision = neg
	}
}
