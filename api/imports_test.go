package api

import (
	"go/build"
	"strings"
	"testing"
)

// The wire vocabulary imports only the standard library and domain, so that
// every client of it links none of the server (make check holds client/ to
// the same).
func TestImportsOnlyStandardLibraryAndDomain(t *testing.T) {
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		std := !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
		if !std && imp != "github.com/caseledger/caseledger/domain" && !strings.HasPrefix(imp, "github.com/caseledger/caseledger/domain/") {
			t.Errorf("api imports %s", imp)
		}
	}
}
