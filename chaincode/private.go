package chaincode

import (
	"encoding/json"
	"slices"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// Private details (issue 15, docs/visibility.md). A write's coded details travel in the
// proposal's transient map, never as arguments; the gate checks them as strictly as a payload;
// RecordEvent writes them salted to the audience's collection under the event's key and leaves
// only a marker on the public event; a timeline read by a member of the collection carries them;
// an erasure confirmed by every holder purges them.

// visibility is the policy in force (the configuration was validated by New).
func (c *core) visibility() domain.Visibility {
	v, err := c.cfg.Visibility.Policy()
	if err != nil {
		return domain.DefaultVisibility()
	}
	return v
}

// transientDetails returns the details a proposal carries in its transient map: nil without, or
// exactly the one key domain.TransientDetailsKey.
func transientDetails(stub shim.ChaincodeStubInterface) ([]byte, error) {
	m, err := stub.GetTransient()
	if err != nil {
		return nil, domain.Errorf(domain.KindInvalidArgument, "transient map undecodable")
	}
	if len(m) == 0 {
		return nil, nil
	}
	d, ok := m[domain.TransientDetailsKey]
	if len(m) != 1 || !ok {
		return nil, domain.Errorf(domain.KindInvalidArgument, "transient map: only the key %q is accepted", domain.TransientDetailsKey)
	}
	if d == nil {
		d = []byte{}
	}
	return d, nil
}

// checkTransient is the gate's part for the transient map: only RecordEvent takes details, and
// its payload is checked together with them.
func (x *Chaincode) checkTransient(stub shim.ChaincodeStubInterface, function string, m domain.Membership, ch domain.Channel, params []string) error {
	details, err := transientDetails(stub)
	if err != nil {
		return err
	}
	if function != api.FnRecordEvent {
		if details != nil {
			return domain.Errorf(domain.KindInvalidArgument, "transient details are accepted by %s only", api.FnRecordEvent)
		}
		return nil
	}
	_, _, _, err = x.c.visibility().DecodeEvent(m, ch, []byte(params[2]), details, x.c.cfg.Visibility.RefusePublicDetails)
	return err
}

// withhold moves an event's private details out of the public record: it writes the salted
// record to the collection under the event's key, and returns the public event (marker, no
// values) and the public state.
func (t *tx) withhold(d *domain.DetailsInput, coll domain.CollectionSpec, next domain.CaseState, ev domain.Event) (domain.CaseState, domain.Event, error) {
	v := t.c.visibility()
	pub, priv := v.Split(t.channel.Procedure, ev.Code, ev.EventFields)
	rec := domain.PrivateDetails{Pseudonym: ev.Pseudonym, Seq: ev.Seq, Code: ev.Code, Salt: d.Salt, EventFields: priv}
	b, err := domain.EncodeCanonical(rec)
	if err != nil {
		return next, ev, err
	}
	if err := t.ctx.GetStub().PutPrivateData(coll.Name, eventKey(ev.Pseudonym, ev.Seq), b); err != nil {
		return next, ev, domain.Errorf(domain.KindInternal, "private data not written")
	}
	ev.EventFields, ev.Withheld = pub, coll.Name
	return v.PublicState(next), ev, nil
}

// revealDetails completes a withheld event with its details when the reader's organisation is a
// member of the collection and its peer holds them; otherwise the event keeps its marker only.
func (t *tx) revealDetails(a domain.Actor, ev *domain.Event) {
	if ev.Withheld == "" {
		return
	}
	coll, ok := t.c.visibility().CollectionByName(t.membership, t.channel, ev.Withheld)
	if !ok || !slices.Contains(coll.Members, a.Member.MSPID) {
		return
	}
	b, err := t.ctx.GetStub().GetPrivateData(ev.Withheld, eventKey(ev.Pseudonym, ev.Seq))
	if err != nil || len(b) == 0 {
		return // not on this peer (yet), or purged
	}
	var rec domain.PrivateDetails
	if json.Unmarshal(b, &rec) != nil || rec.Pseudonym != ev.Pseudonym || rec.Seq != ev.Seq {
		return
	}
	ev.EventFields = ev.EventFields.Merge(rec.EventFields)
}

// purgeDetails purges every withheld record of a case from every member peer's private data
// store and history (PurgePrivateData, Fabric 2.5); only the hashes remain.
func (t *tx) purgeDetails(next domain.CaseState) error {
	for seq := uint64(1); seq < next.Seq; seq++ {
		var ev domain.Event
		found, err := t.getJSON(eventKey(next.Pseudonym, seq), &ev)
		if err != nil {
			return err
		}
		if !found || ev.Withheld == "" {
			continue
		}
		if err := t.ctx.GetStub().PurgePrivateData(ev.Withheld, eventKey(next.Pseudonym, seq)); err != nil {
			return domain.Errorf(domain.KindInternal, "private data not purged")
		}
	}
	return nil
}

// publicArgument refuses a withheld detail given as a proposal argument of a function that has a
// parameter for it (anchors:AnchorDocument's documentType): such details go through
// cases:RecordEvent with transient details.
func (c *core) publicArgument(ch domain.Channel, code domain.EventCode, f domain.Field, value string) error {
	if value == "" || !c.cfg.Visibility.RefusePublicDetails {
		return nil
	}
	if r, ok := c.visibility().Rule(ch.Procedure, code, f); ok && r.Private() {
		return domain.Errorf(domain.KindInvalidArgument,
			"%s: a withheld detail sent as a public argument; record %s through %s with transient details", f, code, api.FnRecordEvent)
	}
	return nil
}

// revealFacts completes a case state with the national facts withheld from the public record, as
// far as the reader's organisation is a member of their collections and its peer holds them:
// each withheld event's details are applied in sequence, as the workflow applied them.
func (t *tx) revealFacts(a domain.Actor, s *domain.CaseState) error {
	if s.National == nil {
		return nil
	}
	for seq := uint64(1); seq <= s.Seq; seq++ {
		var ev domain.Event
		found, err := t.getJSON(eventKey(s.Pseudonym, seq), &ev)
		if err != nil {
			return err
		}
		if !found || ev.Withheld == "" {
			continue
		}
		t.revealDetails(a, &ev)
		domain.ApplyNationalFacts(s, ev.Code, ev.EventFields)
	}
	return nil
}
