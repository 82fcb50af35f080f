package chaincode

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"

	"github.com/caseledger/caseledger/domain"
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
	duePrefix   = "due/"     // due/<YYYY-MM-DD>/<kind>/<pseudonym> → 0x00
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

// Bookmarks are the peer's bookmark (the next key) in base64url, opaque to
// clients. A bookmark is only accepted for the query that produced it.

func encodeBookmark(b string) string {
	if b == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b))
}

func decodeBookmark(s, prefix string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) > 1024 {
		return "", domain.Errorf(domain.KindInvalidArgument, "bookmark: too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), prefix) {
		return "", domain.Errorf(domain.KindInvalidArgument, "bookmark: not from this query")
	}
	return string(b), nil
}

// pageSize parses a page-size argument: "" or "0" means the default; larger
// than the configured maximum is capped.
func (c *core) pageSize(s string) (int32, error) {
	n := 0
	if s != "" {
		var err error
		n, err = strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, domain.Errorf(domain.KindInvalidArgument, "pageSize: must be a non-negative integer")
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
