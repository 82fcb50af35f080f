package chaincode

import (
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain"
)

// FuzzBookmarks: a bookmark the gate accepts is the canonical encoding of a key of the paged
// index, inside the query's range, whose every attribute is of an allowed kind (a code of the
// query, a pseudonym, a sequence number, a hash, a date): nothing else can ride in it.
func FuzzBookmarks(f *testing.F) {
	p := "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6"
	f.Add(encodeBookmark(ck(objStatus, "REGISTERED", p)))
	f.Add(encodeBookmark(ck(objEvent, p, seqText(3))))
	f.Add(encodeBookmark(ck(objLate, "BorderPoliceMSP", p, seqText(1))))
	f.Add(encodeBookmark(dueKey("2026-05-04", domain.DeadlineReply, p)))
	f.Add(encodeBookmark(strings.Repeat("ab", 32)))
	f.Add(encodeBookmark("Max Mustermann"))
	f.Fuzz(func(t *testing.T, bm string) {
		allowed := func(key string) {
			for _, part := range strings.FieldsFunc(key, func(r rune) bool { return r == 0 || r == '/' }) {
				fixed := map[string]bool{objStatus: true, objEvent: true, objLate: true, "due": true, "REGISTERED": true,
					"BorderPoliceMSP": true, string(domain.DeadlineReply): true, string(domain.DeadlineTransfer): true,
					string(domain.DeadlineReexamination): true, string(domain.DeadlineTransferDecision): true}
				if !fixed[part] && !domain.IsUUIDv4(part) && !domain.IsHash64(part) && !isSeqText(part) && domain.CheckDate("d", part) != nil {
					t.Fatalf("accepted bookmark %q holds %q", bm, part)
				}
			}
		}
		check := func(err error) {
			if err == nil && bm != "" {
				key, derr := decodeBookmark(bm)
				if derr != nil || encodeBookmark(key) != bm {
					t.Fatalf("accepted non-canonical bookmark %q", bm)
				}
				allowed(key)
			} else if err != nil && domain.KindOf(err) != domain.KindInvalidArgument {
				t.Fatalf("kind %s", domain.KindOf(err))
			}
		}
		check(checkIndexBookmark(bm, objStatus, []string{"REGISTERED"}, domain.IsUUIDv4))
		check(checkIndexBookmark(bm, objEvent, []string{p}, isSeqText))
		check(checkIndexBookmark(bm, objLate, nil, func(s string) bool { return s == "BorderPoliceMSP" }, domain.IsUUIDv4, isSeqText))
		_, err := dueBookmark(bm, "2027-01-01")
		check(err)
		_, err = historyBookmark(bm)
		check(err)
	})
}
