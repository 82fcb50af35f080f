package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/domain"
)

// The one table of what /v1 answers: complete, one type per code, every
// chaincode kind in it, and the statuses clients rely on.
func TestProblemTable(t *testing.T) {
	seen := map[string]string{}
	for code, ps := range problems {
		if ps.status < 400 || ps.status > 599 || ps.title == "" || ps.typ == "" {
			t.Errorf("%s: incomplete problem %+v", code, ps)
		}
		if other, dup := seen[ps.typ]; dup {
			t.Errorf("%s and %s share problem type %s", code, other, ps.typ)
		}
		seen[ps.typ] = code
		// Type URIs are stable: the code in lower case with hyphens.
		prefix := ownType
		if domain.Kind(code).Valid() {
			prefix = kindType
		}
		if want := prefix + strings.ToLower(strings.ReplaceAll(code, "_", "-")); ps.typ != want {
			t.Errorf("%s: type %s, want %s", code, ps.typ, want)
		}
		if ps.status == http.StatusServiceUnavailable && ps.retryAfter == 0 {
			t.Errorf("%s: 503 without Retry-After", code)
		}
		if ps.status == http.StatusBadGateway && ps.retryAfter != 0 {
			t.Errorf("%s: 502 with Retry-After", code)
		}
		if p := newProblem(code, "d"); p.Code != code || p.Status != ps.status || p.Type != ps.typ || p.RetryAfter != ps.retryAfter {
			t.Errorf("%s: newProblem = %+v", code, p)
		}
	}
	for _, k := range domain.Kinds() {
		if ps, ok := problems[string(k)]; !ok || !strings.HasPrefix(ps.typ, kindType) {
			t.Errorf("kind %s: not in the table as a chaincode kind", k)
		}
	}
	if p, in := newProblem("NO_SUCH_KIND", ""), newProblem(string(domain.KindInternal), ""); *p != *in {
		t.Errorf("unknown code should map like INTERNAL: %+v", p)
	}
	for code, status := range map[domain.Kind]int{
		domain.KindNotFound: http.StatusNotFound, domain.KindForbidden: http.StatusForbidden,
		domain.KindPersonalData: http.StatusUnprocessableEntity, domain.KindInvalidArgument: http.StatusBadRequest,
	} {
		if problems[string(code)].status != status {
			t.Errorf("core status of %s changed", code)
		}
	}
}
