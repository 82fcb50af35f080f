package client

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/gateway"
)

// The gateway's OpenAPI document is the source of truth of /v1: this test
// checks that the client calls every operation it describes, no other, with
// only the query parameters it declares and an Idempotency-Key exactly on
// the writes.

type spec struct {
	Paths      map[string]map[string]specOp `yaml:"paths"`
	Components struct {
		Parameters map[string]specParam `yaml:"parameters"`
	} `yaml:"components"`
}

type specOp struct {
	OperationID string      `yaml:"operationId"`
	Write       bool        `yaml:"x-caseledger-write"`
	Parameters  []specParam `yaml:"parameters"`
}

type specParam struct {
	Ref  string `yaml:"$ref"`
	Name string `yaml:"name"`
	In   string `yaml:"in"`
}

func loadSpec(t *testing.T) spec {
	t.Helper()
	var s spec
	if err := yaml.Unmarshal(gateway.OpenAPI(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Paths) == 0 {
		t.Fatal("no paths in gateway/openapi.yaml")
	}
	return s
}

func (s spec) params(op specOp) (query []string, idemKey bool) {
	for _, p := range op.Parameters {
		if p.Ref != "" {
			p = s.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
		}
		switch {
		case p.In == "query":
			query = append(query, p.Name)
		case p.In == "header" && p.Name == "Idempotency-Key":
			idemKey = true
		}
	}
	return query, idemKey
}

// template finds the spec path a concrete path matches.
func (s spec) template(path string) (string, bool) {
	ps := strings.Split(path, "/")
	for tmpl := range s.Paths {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(ps) {
			continue
		}
		ok := true
		for i := range ts {
			if ts[i] != ps[i] && !(strings.HasPrefix(ts[i], "{") && ps[i] != "") {
				ok = false
				break
			}
		}
		if ok {
			return tmpl, true
		}
	}
	return "", false
}

func TestClientCoversTheOpenAPIDocument(t *testing.T) {
	s := loadSpec(t)
	type seen struct {
		method, path string
		query        []string
		key          bool
	}
	var mu sync.Mutex
	var got []seen
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var q []string
		for k := range r.URL.Query() {
			q = append(q, k)
		}
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.Path, q, r.Header.Get("Idempotency-Key") != ""})
		mu.Unlock()
		if r.URL.Path == "/v1/events" {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte("data: {\"position\":\"e-1\"}\n\n"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	ctx := context.Background()
	ref := api.CaseRef{Channel: "national", LocalRef: "R"}
	dc := api.DublinCase{LocalRef: "R"}
	p := Page{Bookmark: "b", PageSize: 5}
	calls := []func() error{
		func() error { _, err := c.OpenAPI(ctx); return err },
		func() error { return c.Healthy(ctx) },
		func() error { return c.Ready(ctx) },
		func() error { _, err := c.Whoami(ctx); return err },
		func() error { _, err := c.Vocabulary(ctx, "national"); return err },
		func() error { _, err := c.Register(ctx, api.RegisterRequest{}); return err },
		func() error { _, err := c.Cases(ctx, "national", "CLOSED", p); return err },
		func() error { _, err := c.Bind(ctx, api.BindRequest{}); return err },
		func() error { _, err := c.RecordEvent(ctx, api.EventRequest{}); return err },
		func() error { _, err := c.Case(ctx, ref); return err },
		func() error { _, err := c.Timeline(ctx, ref, p); return err },
		func() error { _, err := c.DublinRequest(ctx, api.DublinRequestRequest{DublinCase: dc}); return err },
		func() error { _, err := c.DublinReply(ctx, api.DublinReplyRequest{DublinCase: dc}); return err },
		func() error {
			_, err := c.DublinTransfer(ctx, api.DublinTransferRequest{DublinCase: dc})
			return err
		},
		func() error { _, err := c.ResolveDeadlines(ctx, dc); return err },
		func() error { _, err := c.Deadlines(ctx, 30, p); return err },
		func() error { _, err := c.Anchor(ctx, api.AnchorRequest{CaseRef: ref}); return err },
		func() error { _, err := c.Verify(ctx, api.VerifyRequest{CaseRef: ref}); return err },
		func() error { _, err := c.Anchors(ctx, ref, p); return err },
		func() error { _, err := c.RequestErasure(ctx, api.ErasureRequest{CaseRef: ref}); return err },
		func() error { _, err := c.ErasureStatus(ctx, ref); return err },
		func() error { _, err := c.OpenErasures(ctx, "national", p); return err },
		func() error {
			return c.Follow(ctx, FollowOptions{Channel: "national", HeldOnly: true}, func(api.EventView) error { return ErrStop })
		},
		func() error { _, err := c.CreateWebhook(ctx, api.CreateWebhookRequest{}); return err },
		func() error { _, err := c.Webhooks(ctx); return err },
		func() error { return c.DeleteWebhook(ctx, "wh-1") },
		func() error { _, err := c.AuditHistory(ctx, api.HistoryRequest{}); return err },
		func() error { _, err := c.AuditWrites(ctx, "national", "M", "2026-01-01", "2026-01-02", p); return err },
		func() error { _, err := c.AuditLate(ctx, "national", "M", p); return err },
		func() error { _, err := c.AuditErasures(ctx, "national", 3, p); return err },
		func() error { _, err := c.AuditReport(ctx); return err },
		func() error { _, err := c.AuditVerify(ctx); return err },
		func() error { _, err := c.ReconcileErasures(ctx); return err },
		func() error { _, err := c.AutomationRefusals(ctx); return err },
		func() error {
			_, err := c.SetHolidays(ctx, api.HolidaysRequest{Year: 2026, Dates: []string{"2026-12-25"}})
			return err
		},
		func() error { _, err := c.Holidays(ctx, "AT", 2026); return err },
		func() error { _, err := c.Rectify(ctx, api.RectifyRequest{}); return err },
		func() error { _, err := c.Export(ctx, api.ExportRequest{}); return err },
	}
	for i, f := range calls {
		if err := f(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	covered := map[string]bool{}
	for _, g := range got {
		tmpl, ok := s.template(g.path)
		op, known := s.Paths[tmpl][strings.ToLower(g.method)]
		if !ok || !known {
			t.Errorf("the client calls %s %s, which openapi.yaml does not describe", g.method, g.path)
			continue
		}
		covered[g.method+" "+tmpl] = true
		declared, wantKey := s.params(op)
		for _, q := range g.query {
			if !slices.Contains(declared, q) {
				t.Errorf("%s %s (%s): query parameter %q not declared (declared %v)", g.method, tmpl, op.OperationID, q, declared)
			}
		}
		if g.key != (wantKey || op.Write) {
			t.Errorf("%s %s (%s): Idempotency-Key sent %v, write %v", g.method, tmpl, op.OperationID, g.key, op.Write)
		}
	}
	var missing []string
	for path, ops := range s.Paths {
		if path == "/metrics" {
			continue // Prometheus scrapes it; agency systems do not
		}
		for m, op := range ops {
			if k := strings.ToUpper(m) + " " + path; !covered[k] {
				missing = append(missing, k+" ("+op.OperationID+")")
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("operations of openapi.yaml the client does not call:\n  %s", strings.Join(missing, "\n  "))
	}
}
