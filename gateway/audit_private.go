package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/rwset/kvrwset"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// Private data hashes (issue 15, docs/visibility.md). Every block holds, for each private
// record a transaction wrote, the SHA-256 of its key and of its value (the collection's hashed
// write set); every channel member's peer keeps the value hashes, members of the collection the
// records too. While walking the chain the verifier notes the last hashed write of each record
// and the public event that names it (a withheld event is written under the same key as its
// record). Afterwards it asks its own peer (audit:GetPrivateDataHashes, hashes only) what it
// holds for each case's withheld events: a live record's hash must equal the one the chain
// committed last, a purged record must be gone. Anything else — a differing or missing hash, a
// hash the chain never committed, a private write no public event names — fails the verification.

// privateRef is the public event a private record belongs to.
type privateRef struct {
	pseudonym  string
	seq        uint64
	collection string
}

// privateWrite is the last hashed write of one record on the chain.
type privateWrite struct {
	collection string
	keyHash    string // hex
	valueHash  string // hex; "" when deleted
	deleted    bool   // deleted or purged (PurgePrivateData)
	block      uint64
	tx         int
}

// privateLedger collects what the chain says about private records.
type privateLedger struct {
	events map[string]privateRef    // hex SHA-256 of the public event's key -> the event
	writes map[string]*privateWrite // collection + "\x00" + key hash -> last write
}

func newPrivateLedger() *privateLedger {
	return &privateLedger{events: map[string]privateRef{}, writes: map[string]*privateWrite{}}
}

// collect notes the withheld public events and the hashed private writes of one VALID
// transaction (its read-write set, endorserTx; nil: nothing).
func (pl *privateLedger) collect(rws *rwset.TxReadWriteSet, block uint64, txNum int) {
	if rws == nil {
		return
	}
	for _, ns := range rws.NsRwset {
		if strings.HasPrefix(ns.Namespace, "_") || ns.Namespace == "lscc" {
			// Fabric's own namespaces: the lifecycle writes approvals to each organisation's
			// implicit collection; those are not the chaincode's records.
			continue
		}
		var kv kvrwset.KVRWSet
		if proto.Unmarshal(ns.Rwset, &kv) == nil {
			for _, w := range kv.Writes {
				if w.IsDelete || len(w.Value) == 0 {
					continue
				}
				var ev struct {
					Pseudonym string `json:"pseudonym"`
					Seq       uint64 `json:"seq"`
					Withheld  string `json:"withheld"`
				}
				if json.Unmarshal(w.Value, &ev) != nil || ev.Withheld == "" || ev.Pseudonym == "" || ev.Seq == 0 {
					continue
				}
				kh := sha256.Sum256([]byte(w.Key))
				pl.events[hex.EncodeToString(kh[:])] = privateRef{pseudonym: ev.Pseudonym, seq: ev.Seq, collection: ev.Withheld}
			}
		}
		for _, coll := range ns.CollectionHashedRwset {
			var h kvrwset.HashedRWSet
			if proto.Unmarshal(coll.HashedRwset, &h) != nil {
				continue
			}
			for _, w := range h.HashedWrites {
				pw := &privateWrite{collection: coll.CollectionName, keyHash: hex.EncodeToString(w.KeyHash),
					deleted: w.IsDelete || w.IsPurge, block: block, tx: txNum}
				if !pw.deleted {
					pw.valueHash = hex.EncodeToString(w.ValueHash)
				}
				pl.writes[coll.CollectionName+"\x00"+pw.keyHash] = pw
			}
		}
	}
}

// verifyPrivate compares the chain's last hashed write of every private record with what the
// verifier's own peer holds; it counts into cr and returns the first inconsistency.
func verifyPrivate(ctx context.Context, l Ledger, channel string, pl *privateLedger, cr *api.ChainReport) (*api.Inconsistency, error) {
	type expect struct {
		w   *privateWrite
		ref privateRef
	}
	byCase := map[string]map[uint64]expect{}
	var order []*privateWrite
	for _, w := range pl.writes {
		order = append(order, w)
	}
	// Report the earliest problem first, as the chain walk does.
	slices.SortFunc(order, func(a, b *privateWrite) int {
		if a.block != b.block {
			return int(a.block) - int(b.block)
		}
		return a.tx - b.tx
	})
	for _, w := range order {
		ref, ok := pl.events[w.keyHash]
		if !ok || ref.collection != w.collection {
			return &api.Inconsistency{Block: w.block, Tx: w.tx,
				Problem: fmt.Sprintf("a private record in %s that no withheld public event names", w.collection)}, nil
		}
		if byCase[ref.pseudonym] == nil {
			byCase[ref.pseudonym] = map[uint64]expect{}
		}
		byCase[ref.pseudonym][ref.seq] = expect{w, ref}
	}
	role := verifierRole(l.Roles())
	var pseudonyms []string
	for p := range byCase {
		pseudonyms = append(pseudonyms, p)
	}
	slices.Sort(pseudonyms)
	var first *api.Inconsistency
	note := func(w *privateWrite, f string, a ...any) {
		if first == nil || w.block < first.Block || w.block == first.Block && w.tx < first.Tx {
			first = &api.Inconsistency{Block: w.block, Tx: w.tx, Problem: fmt.Sprintf(f, a...)}
		}
	}
	for _, p := range pseudonyms {
		b, err := l.Evaluate(ctx, role, channel, api.FnGetPrivateDataHashes, p)
		if err != nil {
			return nil, fmt.Errorf("private data hashes of case %s: %w", p, err)
		}
		var held []api.PrivateDataHash
		if err := json.Unmarshal(b, &held); err != nil {
			return nil, fmt.Errorf("private data hashes of case %s: %w", p, err)
		}
		peerHas := map[uint64]api.PrivateDataHash{}
		for _, h := range held {
			peerHas[h.Seq] = h
		}
		want := byCase[p]
		for seq, e := range want {
			h, ok := peerHas[seq]
			switch {
			case !ok || h.Collection != e.w.collection:
				note(e.w, "case %s event %d: the peer names no withheld record in %s", p, seq, e.w.collection)
			case e.w.deleted && h.Hash != "":
				note(e.w, "case %s event %d: the chain purged the record in %s, the peer still holds a hash of it", p, seq, e.w.collection)
			case !e.w.deleted && h.Hash == "":
				note(e.w, "case %s event %d: the peer holds no hash of the record in %s the chain committed", p, seq, e.w.collection)
			case !e.w.deleted && h.Hash != e.w.valueHash:
				note(e.w, "case %s event %d: the peer's hash of the record in %s differs from the one the chain committed", p, seq, e.w.collection)
			case e.w.deleted:
				cr.PrivateRecordsPurged++
			default:
				cr.PrivateRecords++
			}
		}
		for _, h := range held {
			if _, ok := want[h.Seq]; !ok {
				return &api.Inconsistency{Problem: fmt.Sprintf("case %s event %d: the peer holds a record in %s the chain never committed", p, h.Seq, h.Collection)}, nil
			}
		}
	}
	return first, nil
}

// verifierRole is the role the verification reads hashes as: the chaincode admits auditors and
// admins (and any role of the auditor organisation).
func verifierRole(roles []domain.Role) domain.Role {
	for _, want := range []domain.Role{domain.RoleAuditor, domain.RoleAdmin} {
		if slices.Contains(roles, want) {
			return want
		}
	}
	if len(roles) > 0 {
		return roles[0]
	}
	return domain.RoleAuditor
}
