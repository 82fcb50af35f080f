package chaincode

import (
	"slices"
	"testing"

	"github.com/caseledger/caseledger/api"
)

// The function names clients use (api) are exactly those the argument gate
// admits.
func TestFunctionNamesMatchAPI(t *testing.T) {
	if got, want := Functions(), api.Functions(); !slices.Equal(got, want) {
		t.Fatalf("chaincode admits %v\napi names %v", got, want)
	}
}
