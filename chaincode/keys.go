package chaincode

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// Key layout (docs/chaincode.md lists it). Composite keys are built with the
// shim's encoding: 0x00 objectType 0x00 attr 0x00 … attr 0x00. The deadline
// board uses simple keys because Fabric range queries (needed for "due
// before X") do not take composite keys.
const (
	objCase     = "case"     // [pseudonym] → CaseState
	objEvent    = "event"    // [pseudonym, seq(10 digits)] → Event
	objStatus   = "status"   // [status, pseudonym] → 0x00
	objAgency   = "agency"   // [mspId, pseudonym] → 0x00
	objLate     = "late"     // [mspId, pseudonym, seq] → 0x00
	objAnchor   = "anchor"   // [pseudonym, documentHash] → Anchor
	objErasure  = "erasure"  // [pseudonym] → 0x00 while confirmations are pending
	objHolidays = "holidays" // [memberState, year(4 digits)] → deadline.Holidays
	objRequest  = "request"  // [mspId, requestId] → requestRecord
	// Membership governance (governance.go).
	objMembership = "membership"          // [] → membershipRecord, the membership in force
	objApproval   = "membership-approval" // [sequence(10 digits), mspId] → api.MembershipApproval
	duePrefix     = "due/"                // due/<YYYY-MM-DD>/<kind>/<pseudonym> → 0x00
)

// indexValue is stored under index keys: an empty value would be a delete.
var indexValue = []byte{0}

func ck(obj string, attrs ...string) string {
	k, err := shim.CreateCompositeKey(obj, attrs)
	if err != nil {
		// Attributes are validated (UUIDs, codes, MSP ids) before they reach
		// here, so this is a programming error.
		panic(fmt.Sprintf("composite key %s: %v", obj, err))
	}
	return k
}

func caseKey(p string) string              { return ck(objCase, p) }
func eventKey(p string, seq uint64) string { return ck(objEvent, p, seqText(seq)) }
func statusKey(s domain.Status, p string) string {
	return ck(objStatus, string(s), p)
}
func agencyKey(msp, p string) string { return ck(objAgency, msp, p) }
func lateKey(msp, p string, seq uint64) string {
	return ck(objLate, msp, p, seqText(seq))
}
func anchorKey(p, hash string) string { return ck(objAnchor, p, hash) }
func erasureKey(p string) string      { return ck(objErasure, p) }
func holidaysKey(ms string, year int) string {
	return ck(objHolidays, ms, fmt.Sprintf("%04d", year))
}
func requestKey(msp, id string) string { return ck(objRequest, msp, id) }
func membershipKey() string            { return ck(objMembership) }
func approvalKey(seq uint64, msp string) string {
	return ck(objApproval, seqText(seq), msp)
}
func dueKey(due string, kind domain.DeadlineKind, p string) string {
	return duePrefix + due + "/" + string(kind) + "/" + p
}

func seqText(seq uint64) string { return fmt.Sprintf("%010d", seq) }

// splitKey splits a composite key into its attributes.
func splitKey(stub shim.ChaincodeStubInterface, key string) ([]string, error) {
	_, attrs, err := stub.SplitCompositeKey(key)
	if err != nil {
		return nil, domain.Errorf(domain.KindInternal, "malformed index key")
	}
	return attrs, nil
}

// Bookmarks are the peer's bookmark (the next key) in base64url without
// padding, opaque to clients. A bookmark is accepted only if the chaincode
// could have issued it for the same query: canonical base64 of a key of the
// index being paged, inside the query's range, every attribute valid by the
// checker of its kind, in the exact key encoding. So a bookmark cannot carry
// caller-chosen bytes into a block.

func encodeBookmark(b string) string {
	if b == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b))
}

const maxBookmarkLen = 1024

func errBookmark() error {
	return domain.Errorf(domain.KindInvalidArgument, "bookmark: not from this query")
}

// decodeBookmark undoes encodeBookmark and refuses any other spelling
// (padding, line breaks, non-zero trailing bits, the empty key).
func decodeBookmark(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > maxBookmarkLen {
		return "", domain.Errorf(domain.KindInvalidArgument, "bookmark: too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 || encodeBookmark(string(b)) != s {
		return "", errBookmark()
	}
	return string(b), nil
}

// checkIndexBookmark accepts "" or a bookmark naming a key of index obj whose
// first attributes are fixed (the query's) and whose remaining attributes
// pass rest, one checker each.
func checkIndexBookmark(bookmark, obj string, fixed []string, rest ...func(string) bool) error {
	key, err := decodeBookmark(bookmark)
	if err != nil || key == "" {
		return err
	}
	if len(key) < 2 || key[0] != 0 || key[len(key)-1] != 0 {
		return errBookmark()
	}
	parts := strings.Split(key[1:len(key)-1], "\x00")
	if len(parts) != 1+len(fixed)+len(rest) || parts[0] != obj {
		return errBookmark()
	}
	attrs := parts[1:]
	for i, f := range fixed {
		if attrs[i] != f {
			return errBookmark()
		}
	}
	for i, ok := range rest {
		if !ok(attrs[len(fixed)+i]) {
			return errBookmark()
		}
	}
	if again, err := shim.CreateCompositeKey(obj, attrs); err != nil || again != key {
		return errBookmark()
	}
	return nil
}

// isSeqText: an event sequence number as keys hold it (seqText).
func isSeqText(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// historyBookmark accepts "" or the bookmark GetHistory issues: the
// transaction id (64 lower-case hex) of the last entry of the previous page.
func historyBookmark(bookmark string) (string, error) {
	txID, err := decodeBookmark(bookmark)
	if err != nil {
		return "", err
	}
	if txID != "" && !domain.IsHash64(txID) {
		return "", errBookmark()
	}
	return txID, nil
}

// dueBookmark accepts "" or a deadline-board key before beforeDate, as
// dueKey builds it.
func dueBookmark(bookmark, beforeDate string) (string, error) {
	key, err := decodeBookmark(bookmark)
	if err != nil || key == "" {
		return key, err
	}
	parts := strings.Split(strings.TrimPrefix(key, duePrefix), "/")
	if !strings.HasPrefix(key, duePrefix) || len(parts) != 3 {
		return "", errBookmark()
	}
	if _, err := deadline.ParseDate(parts[0]); err != nil {
		return "", errBookmark()
	}
	kind := domain.DeadlineKind(parts[1])
	if !slices.Contains(domain.DeadlineKinds(), kind) || !domain.IsUUIDv4(parts[2]) {
		return "", errBookmark()
	}
	if dueKey(parts[0], kind, parts[2]) != key || key >= duePrefix+beforeDate {
		return "", errBookmark()
	}
	return key, nil
}

// maxPageSizeArg is the largest page size an argument may name (the cap of
// the maxPageSize setting); larger configured caps are impossible.
const maxPageSizeArg = 1000

// pageSize parses a page-size argument: "" or "0" means the default; a
// canonical decimal up to 1000 otherwise, capped at the configured maximum.
func (c *core) pageSize(s string) (int32, error) {
	n := 0
	if s != "" {
		var err error
		if n, err = domain.ParseDecimal("pageSize", s, maxPageSizeArg); err != nil {
			return 0, err
		}
	}
	if n == 0 {
		n = defaultPageSize
	}
	if n > c.cfg.MaxPageSize {
		n = c.cfg.MaxPageSize
	}
	return int32(n), nil
}
