package network

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	mspproto "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
)

// Joining a channel from a ledger snapshot (docs/operations.md, "Fabric v2.5.0 cannot join every
// organisation by snapshot"). For each chaincode namespace that has private data hashes in the
// snapshot, Fabric v2.5.0's private data importer asks, for every collection of every collection
// configuration of that chaincode in the snapshot's history, whether the peer's organisation is a
// member — before the channel's identity deserializer exists: only a collection whose member
// policy names the peer's own MSP id is decided without it, any other one dereferences nil and the
// peer panics (hyperledger/fabric#4229 on another path). Namespaces without hashes are never
// asked about (the lifecycle's implicit collections, which every channel has, are decided by name
// and have no configuration history). netctl refuses such a join before the peer sees the
// snapshot: the peer must join from the orderers.

// ErrSnapshotJoinUnsafe: Fabric v2.5.0 would crash importing the snapshot; join from the orderers.
var ErrSnapshotJoinUnsafe = errors.New("joining from this ledger snapshot would crash the peer (Fabric v2.5.0)")

// Snapshot files (Fabric core/ledger: privacyenabledstate, confighistory). The private state
// hashes file exists only when the state held private data hashes at the snapshot's height.
const (
	snapshotPvtHashesFile     = "private_state_hashes.data"
	snapshotPvtHashesMetaFile = "private_state_hashes.metadata"
	snapshotStateFmt          = byte(1)
	hashedNamespaceJoiner     = "$$h" // namespace + "$$h" + collection (privacyenabledstate)
	snapshotConfigHistoryFile = "confighistory.data"
	snapshotConfigHistoryFmt  = byte(1)
	maxSnapshotRecord         = 64 << 20 // one collection configuration package, generous
)

// historicCollection is one collection of one collection configuration in a snapshot's history.
type historicCollection struct {
	Chaincode string
	Block     uint64 // the block that committed the definition
	Name      string
	// Members are the MSP ids the collection's member policy names (role and OU principals:
	// what Fabric decides without the deserializer). Opaque: it also has principals Fabric must
	// deserialize, or no signature policy at all.
	Members []string
	Opaque  bool
}

// snapshotFacts is what a joining peer's safety depends on, read from the snapshot.
type snapshotFacts struct {
	PrivateData bool
	// HashedNamespaces are the chaincode namespaces with private data hashes in the snapshot
	// (from private_state_hashes.metadata); HashesErr says why they could not be read (then any
	// namespace may have some).
	HashedNamespaces []string
	HashesErr        error
	// History is every collection of every collection configuration the channel's chaincodes
	// had up to the snapshot; HistoryErr says why it could not be read (then it is unknown).
	History    []historicCollection
	HistoryErr error
}

// readSnapshotFacts reads the facts from a completed snapshot folder.
func readSnapshotFacts(dir string) (snapshotFacts, error) {
	var f snapshotFacts
	switch _, err := os.Stat(filepath.Join(dir, snapshotPvtHashesFile)); {
	case err == nil:
		f.PrivateData = true
		f.HashedNamespaces, f.HashesErr = readHashedNamespaces(filepath.Join(dir, snapshotPvtHashesMetaFile))
	case !errors.Is(err, os.ErrNotExist):
		return f, err
	}
	file, err := os.Open(filepath.Join(dir, snapshotConfigHistoryFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		// No collection was ever defined (Fabric writes the file for any): nothing to ask about;
		// the hashes are the lifecycle's implicit collections', decided by name.
		return f, nil
	case err != nil:
		f.HistoryErr = err
		return f, nil
	}
	defer file.Close()
	f.History, f.HistoryErr = decodeConfigHistory(bufio.NewReader(file))
	return f, nil
}

// decodeConfigHistory decodes Fabric's confighistory snapshot file: a format byte, then pairs of
// uvarint-length-prefixed key and value; the key is "s" + "lscc" + 0x00 + chaincode +
// "~collection" + the block number as MaxUint64-n (8 bytes, big-endian), the value a
// CollectionConfigPackage.
func decodeConfigHistory(r *bufio.Reader) ([]historicCollection, error) {
	format, err := r.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("confighistory: %w", err)
	}
	if format != snapshotConfigHistoryFmt {
		return nil, fmt.Errorf("confighistory: unknown format %d", format)
	}
	next := func() ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if n > maxSnapshotRecord {
			return nil, fmt.Errorf("record of %d bytes", n)
		}
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return b, err
	}
	var out []historicCollection
	for {
		key, err := next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("confighistory: %w", err)
		}
		val, err := next()
		if err != nil {
			return nil, fmt.Errorf("confighistory: %w", err)
		}
		cc, block, ok := decodeHistoryKey(key)
		if !ok {
			return nil, errors.New("confighistory: unexpected key")
		}
		var pkg peer.CollectionConfigPackage
		if err := proto.Unmarshal(val, &pkg); err != nil {
			return nil, fmt.Errorf("confighistory: %w", err)
		}
		for _, c := range pkg.Config {
			s := c.GetStaticCollectionConfig()
			if s == nil {
				return nil, errors.New("confighistory: a collection that is not static")
			}
			hc := historicCollection{Chaincode: cc, Block: block, Name: s.Name}
			hc.Members, hc.Opaque = policyMembers(s.GetMemberOrgsPolicy())
			out = append(out, hc)
		}
	}
}

// readHashedNamespaces reads private_state_hashes.metadata: a format byte, the number of rows,
// then per row the hashed namespace (uvarint length and bytes) and its number of entries.
func readHashedNamespaces(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 || b[0] != snapshotStateFmt {
		return nil, errors.New("private_state_hashes.metadata: unknown format")
	}
	b = b[1:]
	uvarint := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errors.New("private_state_hashes.metadata: truncated")
		}
		b = b[n:]
		return v, nil
	}
	rows, err := uvarint()
	if err != nil {
		return nil, err
	}
	var out []string
	for range rows {
		l, err := uvarint()
		if err != nil {
			return nil, err
		}
		if l > uint64(len(b)) {
			return nil, errors.New("private_state_hashes.metadata: truncated")
		}
		hashedNs := string(b[:l])
		b = b[l:]
		if _, err := uvarint(); err != nil {
			return nil, err
		}
		ns, _, ok := strings.Cut(hashedNs, hashedNamespaceJoiner)
		if !ok {
			return nil, errors.New("private_state_hashes.metadata: a namespace that is not hashed data")
		}
		if !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	if len(b) != 0 {
		return nil, errors.New("private_state_hashes.metadata: trailing bytes")
	}
	return out, nil
}

func decodeHistoryKey(k []byte) (chaincode string, block uint64, ok bool) {
	if len(k) < 1+8 || k[0] != 's' {
		return "", 0, false
	}
	nsKey, blk := k[1:len(k)-8], k[len(k)-8:]
	i := bytes.IndexByte(nsKey, 0)
	if i < 0 {
		return "", 0, false
	}
	return strings.TrimSuffix(string(nsKey[i+1:]), "~collection"), ^binary.BigEndian.Uint64(blk), true
}

// policyMembers lists the MSP ids a member policy names as Fabric's membership check reads them
// without a deserializer (role and OU principals); opaque when anything else is in it.
func policyMembers(p *peer.CollectionPolicyConfig) (members []string, opaque bool) {
	sp := p.GetSignaturePolicy()
	if sp == nil {
		return nil, true
	}
	for _, id := range sp.GetIdentities() {
		switch id.GetPrincipalClassification() {
		case mspproto.MSPPrincipal_ROLE:
			var r mspproto.MSPRole
			if proto.Unmarshal(id.GetPrincipal(), &r) != nil {
				opaque = true
				continue
			}
			members = append(members, r.GetMspIdentifier())
		case mspproto.MSPPrincipal_ORGANIZATION_UNIT:
			var ou mspproto.OrganizationUnit
			if proto.Unmarshal(id.GetPrincipal(), &ou) != nil {
				opaque = true
				continue
			}
			members = append(members, ou.GetMspIdentifier())
		default:
			opaque = true
		}
	}
	return members, opaque
}

// describedCollection is a collection of the chaincode definition the description generates now.
type describedCollection struct {
	Name    string
	Members []string // MSP ids
}

// snapshotJoinProblem is the decision: "" when org (MSP id mspID) may join a channel from a
// snapshot with these facts, else why not. For the project's chaincode the collections the
// description generates count as well as the snapshot's history (conservative: a definition from
// it may not be committed yet, and a collection without the org there means the org will never be
// in every one). Whatever cannot be read counts against the join.
func snapshotJoinProblem(mspID string, facts snapshotFacts, chaincode string, described []describedCollection) string {
	if !facts.PrivateData {
		return "" // the importer asks about membership only while importing private data hashes
	}
	// Unreadable hashes metadata is not a reason by itself: it makes every namespace count.
	hashed := func(ns string) bool { return facts.HashesErr != nil || slices.Contains(facts.HashedNamespaces, ns) }
	if hashed(chaincode) {
		for _, c := range described {
			if !slices.Contains(c.Members, mspID) {
				return fmt.Sprintf("the snapshot holds private data of chaincode %s and %s is not a member of its collection %s in the definition the description generates", chaincode, mspID, c.Name)
			}
		}
	}
	if facts.HistoryErr != nil {
		return fmt.Sprintf("the snapshot holds private data and its collection history could not be read (%v), so netctl cannot tell that %s is in every collection the chaincodes ever had", facts.HistoryErr, mspID)
	}
	for _, c := range facts.History {
		if hashed(c.Chaincode) && (c.Opaque || !slices.Contains(c.Members, mspID)) {
			return fmt.Sprintf("the snapshot holds private data of chaincode %s and %s is not a member (named in the member policy) of its collection %s as defined at block %d", c.Chaincode, mspID, c.Name, c.Block)
		}
	}
	return ""
}

// CheckSnapshotJoin reports (ErrSnapshotJoinUnsafe) whether org's peer would crash joining ch
// from the snapshot in dir, saying why and how to join from the orderers instead.
func (n *Network) CheckSnapshotJoin(org, ch, dir string) error {
	o, ok := n.desc.Org(org)
	if !ok {
		return fmt.Errorf("%s is not in the description", org)
	}
	facts, err := readSnapshotFacts(dir)
	if err != nil {
		return fmt.Errorf("snapshot of %s in %s: %w", ch, dir, err)
	}
	described, err := describedCollections(n.desc.ChaincodeConfig(), ch)
	if err != nil {
		return err
	}
	if why := snapshotJoinProblem(o.MSPID, facts, n.desc.Chaincode.Name, described); why != "" {
		return fmt.Errorf("%w: %s to %s from %s refused: %s. Fabric v2.5.0 panics importing such a snapshot "+
			"(docs/operations.md, \"Fabric v2.5.0 cannot join every organisation by snapshot\"). Join from the orderers: "+
			"remove %s (or make the bundle without --snapshot) and run netctl up again; the peer then joins with the "+
			"channel's genesis block and pulls every block from the orderers",
			ErrSnapshotJoinUnsafe, org, ch, dir, why, dir)
	}
	return nil
}

// describedCollections are the channel's collections as the description generates them
// (collectionsOf: the same audiences, from the same chaincode configuration).
func describedCollections(cfg api.ChaincodeConfig, channel string) ([]describedCollection, error) {
	v, err := cfg.Visibility.Policy()
	if err != nil {
		return nil, err
	}
	dch, ok := cfg.Membership.Channel(channel)
	if !ok {
		return nil, fmt.Errorf("collections: channel %s not in the membership", channel)
	}
	var out []describedCollection
	for _, c := range v.Collections(cfg.Membership, dch) {
		out = append(out, describedCollection{Name: c.Name, Members: slices.Clone(c.Members)})
	}
	return out, nil
}
