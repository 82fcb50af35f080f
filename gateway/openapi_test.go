package gateway

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type openAPIOp struct {
	OperationID string                    `yaml:"operationId"`
	Write       bool                      `yaml:"x-caseledger-write"`
	Roles       []string                  `yaml:"x-caseledger-roles"`
	Security    *[]map[string][]string    `yaml:"security"`
	Parameters  []map[string]any          `yaml:"parameters"`
	Responses   map[string]map[string]any `yaml:"responses"`
}

type openAPIDoc struct {
	OpenAPI string                           `yaml:"openapi"`
	Paths   map[string]map[string]*openAPIOp `yaml:"paths"`
}

// TestOpenAPIMatchesRoutes: the embedded OpenAPI document is the source of
// truth. Every registered route is documented and every documented operation
// is registered, with the same write flag, roles and authentication.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc openAPIDoc
	if err := yaml.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	clock := newTestClock()
	a := newAgency(t, newTestNet(t, clock.Now), clock, bp, nil)
	documented := map[string]*openAPIOp{}
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			documented[key] = op
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: missing or duplicate operationId", key)
			}
			ids[op.OperationID] = true
			if len(op.Responses) == 0 {
				t.Errorf("%s: no responses", key)
			}
		}
	}
	registered := a.srv.Routes()
	for _, r := range registered {
		if documented[r] == nil {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for k := range documented {
		if !slices.Contains(registered, k) {
			t.Errorf("openapi.yaml documents %s, which is not registered", k)
		}
	}
	for _, rt := range a.srv.routes {
		op := documented[rt.method+" "+rt.path]
		if op == nil {
			continue
		}
		key := rt.method + " " + rt.path
		if op.Write != rt.write {
			t.Errorf("%s: x-caseledger-write %v, route write %v", key, op.Write, rt.write)
		}
		var roles []string
		for _, r := range rt.roles {
			roles = append(roles, string(r))
		}
		slices.Sort(roles)
		docRoles := slices.Clone(op.Roles)
		slices.Sort(docRoles)
		if !slices.Equal(roles, docRoles) {
			t.Errorf("%s: documented roles %v, route roles %v", key, docRoles, roles)
		}
		public := op.Security != nil && len(*op.Security) == 0
		if public != rt.public {
			t.Errorf("%s: documented public=%v, route public=%v", key, public, rt.public)
		}
		hasKey := false
		for _, p := range op.Parameters {
			if p["$ref"] == "#/components/parameters/IdempotencyKey" {
				hasKey = true
			}
		}
		if hasKey != rt.write {
			t.Errorf("%s: Idempotency-Key parameter documented=%v, write=%v", key, hasKey, rt.write)
		}
	}
	// Every problem code the gateway can answer is listed in the description.
	for _, c := range ProblemCodes() {
		if !strings.Contains(string(OpenAPI()), c) {
			t.Errorf("problem code %s not documented", c)
		}
	}
	// The document is served.
	r := a.call("", "GET", "/v1/openapi.yaml", nil, "")
	if r.status != 200 || string(r.body) != string(OpenAPI()) {
		t.Fatalf("GET /v1/openapi.yaml: %d", r.status)
	}
}
