package test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain"
)

// Real identifiers an agency holds for the people in these tests. They must never reach the ledger:
// the tests use them only where a careless client would, and on the real network the final scan of
// every block, ledger file and log (ledger_scan_test.go, run by TestMain after every test) proves
// none arrived. Other tests add theirs with noteRealIdentifiers.
var realIdentifiers = []string{
	"BAMF-7654321-438",  // asylum office file number
	"BPOL-2026-0099123", // border police register id
	"Amina Haddad",      // name
	"1994-03-12",        // birth date
	"ABH-BE-555-2026",   // immigration authority file number
}

var identifiersMu sync.Mutex

// noteRealIdentifiers adds identifiers a test handed to a gateway or privacy service, so the final
// scan proves they never reached the ledger either.
func noteRealIdentifiers(ids ...string) {
	identifiersMu.Lock()
	defer identifiersMu.Unlock()
	realIdentifiers = append(realIdentifiers, ids...)
}

// eventually retries f until it succeeds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, f func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err, lastReal error
	for {
		if err = f(ctx); err == nil {
			return
		}
		if ctx.Err() == nil {
			lastReal = err // an error caused by our own deadline says nothing
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %s: %v (last: %v)", what, timeout, lastReal, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// today is the date of now in Germany, the occurredOn of an act recorded as it happens: the
// chaincode dates a recording in the recording member state's zone (the national agencies and the
// asylum office's Dublin unit are German; Austria's zone has the same offset), so between
// midnight there and midnight UTC a UTC date would be a day behind the recording date.
func today() string { return nowInGermany().Format(time.DateOnly) }

// daysAgo is the German date n days before today.
func daysAgo(n int) string { return nowInGermany().AddDate(0, 0, -n).Format(time.DateOnly) }

func nowInGermany() time.Time {
	loc, err := time.LoadLocation(domain.TimeZone("DE"))
	if err != nil {
		panic(err) // the zone database is part of the Go toolchain (and of every test here)
	}
	return time.Now().In(loc)
}

// caseState is what the tests read of a case on the ledger.
type caseState struct {
	Pseudonym string   `json:"pseudonym"`
	Status    string   `json:"status"`
	Seq       int      `json:"seq"`
	Holders   []string `json:"holders"`
}

// getCase reads a case as org's identity with role from org's own peer (or ledger), past the
// gateways.
func getCase(t *testing.T, org, role, ch, pseudonym string) caseState {
	t.Helper()
	b, err := cluster.Query(context.Background(), org, role, ch, "cases:GetCase", pseudonym)
	if err != nil {
		t.Fatalf("GetCase: %v", err)
	}
	var s caseState
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("GetCase result %s: %v", b, err)
	}
	return s
}
