package domain

// SplitPayload splits a canonical RecordEvent payload recorded on a channel of procedure p into the public
// payload and the canonical transient details {collection, salt, fields} of the event's audience
// (docs/visibility.md). details is nil, and salt is not called, when the event withholds nothing;
// the payload is then returned as it is. salt supplies the private record's salt (64 lower-case hex
// digits): the gateway memoises a random one per Idempotency-Key so a retry sends byte-identical
// details; direct clients and tests choose their own.
func (v Visibility) SplitPayload(p Procedure, payload []byte, salt func() (string, error)) (public, details []byte, err error) {
	in, err := DecodeEventInput(payload)
	if err != nil {
		return nil, nil, err
	}
	// The chaincode takes canonical payloads only; a split of anything else would hide that.
	if b, err := EncodeCanonical(in); err != nil || string(b) != string(payload) {
		return nil, nil, Errorf(KindInvalidArgument, "payload: must be canonical JSON")
	}
	pub, priv := v.Split(p, in.Code, in.EventFields)
	if len(priv.Present()) == 0 {
		return payload, nil, nil
	}
	s, err := salt()
	if err != nil {
		return nil, nil, err
	}
	if !IsHash64(s) {
		return nil, nil, refuseValue("details.salt", s, "must be 64 lower-case hex digits (32 random bytes)")
	}
	in.EventFields = pub
	if public, err = EncodeCanonical(in); err != nil {
		return nil, nil, Errorf(KindInternal, "encoding failed")
	}
	details, err = EncodeCanonical(DetailsInput{Collection: CollectionName(p, v.EventAudience(p, in.Code)), Salt: s, EventFields: priv})
	if err != nil {
		return nil, nil, Errorf(KindInternal, "encoding failed")
	}
	return public, details, nil
}
