package console

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// fakeGateway is the one fake of the gateway's /v1 API in these tests: it
// authenticates the session tokens it minted (TokenMinter), answers the
// reads the console makes for one national case, and records or refuses
// events; it logs which token id called what, as the gateway's request log.
type fakeGateway struct {
	mu     sync.Mutex
	tokens map[string]string // token -> "user:<name>/<role>"
	calls  []string
	state  domain.CaseState
	events []domain.Event
	keys   map[string]bool
}

func newFakeGateway() *fakeGateway {
	return &fakeGateway{tokens: map[string]string{}, keys: map[string]bool{},
		state: domain.CaseState{Pseudonym: "6f1c0b7e-1111-4222-8333-944455556666", Procedure: domain.ProcedureNational,
			Status: domain.StRegistered, Seq: 1, RegisteredBy: "BorderPoliceMSP", UpdatedOn: "2026-12-04",
			Holders: []string{"AsylumOfficeMSP", "BorderPoliceMSP"}}}
}

func (g *fakeGateway) MintSessionToken(user string, role domain.Role) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	tok := "clg_" + randomToken()
	g.tokens[tok] = "user:" + user + "/" + string(role)
	return tok, nil
}

func (g *fakeGateway) RevokeSessionToken(tok string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.tokens, tok)
}

func (g *fakeGateway) status() domain.Status { g.mu.Lock(); defer g.mu.Unlock(); return g.state.Status }
func (g *fakeGateway) pseudonym() string     { g.mu.Lock(); defer g.mu.Unlock(); return g.state.Pseudonym }
func (g *fakeGateway) eventCount() int       { g.mu.Lock(); defer g.mu.Unlock(); return len(g.events) }
func (g *fakeGateway) callList() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.calls...)
}

func (g *fakeGateway) live() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.tokens)
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.Problem{Status: status, Code: code, Title: code, Detail: detail})
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func vocabulary(p domain.Procedure) api.Vocabulary {
	v := api.Vocabulary{Version: domain.VocabularyVersion, Procedure: p, Transitions: domain.Transitions(p), Statuses: domain.Statuses(p),
		Values: map[string][]string{"eurodacHit": {"NONE", "CATEGORY_1", "CATEGORY_2"}}}
	for _, s := range domain.Vocabulary() {
		if s.OnProcedure(p) {
			v.Events = append(v.Events, api.EventSpec{Code: s.Code, Required: s.Required, Optional: s.Optional, System: s.System})
		}
	}
	return v
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g.mu.Lock()
	who, ok := g.tokens[tok]
	g.calls = append(g.calls, who+" "+r.Method+" "+r.URL.Path)
	g.mu.Unlock()
	if !ok {
		problem(w, 401, "UNAUTHENTICATED", "a valid bearer token is required")
		return
	}
	role := domain.Role(who[strings.Index(who, "/")+1:])
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	defer g.mu.Unlock()
	switch r.Method + " " + r.URL.Path {
	case "GET /v1/whoami":
		reply(w, api.Whoami{Org: "asylum-office", MSPID: "AsylumOfficeMSP", Role: role,
			Channels: []api.ChannelInfo{{Name: "national", Procedure: domain.ProcedureNational}}})
	case "GET /v1/vocabulary":
		reply(w, vocabulary(domain.ProcedureNational))
	case "GET /v1/cases":
		if r.URL.Query().Get("status") == string(g.state.Status) {
			reply(w, api.CaseList{Items: []api.CaseView{{Case: g.state, LocalRefs: []string{"BAMF-7"}}}})
			return
		}
		reply(w, api.CaseList{Items: []api.CaseView{}})
	case "POST /v1/cases/state":
		reply(w, api.CaseView{Case: g.state, LocalRefs: []string{"BAMF-7"}})
	case "POST /v1/cases/timeline":
		reply(w, api.TimelineResponse{Channel: "national", Pseudonym: g.state.Pseudonym, Items: g.events})
	case "POST /v1/documents/list":
		reply(w, api.AnchorList{Items: []api.Anchor{}})
	case "POST /v1/cases/events":
		key := r.Header.Get("Idempotency-Key")
		var req api.EventRequest
		_ = json.Unmarshal(body, &req)
		var in domain.EventInput
		_ = json.Unmarshal(req.Event, &in)
		switch {
		case key == "":
			problem(w, 428, "IDEMPOTENCY_KEY_REQUIRED", "")
		case g.keys[key]:
			reply(w, api.WriteResponse{Pseudonym: g.state.Pseudonym, Code: in.Code, Status: g.state.Status})
		case in.Code != domain.EvIdentityChecked || g.state.Status != domain.StRegistered:
			problem(w, 409, "INVALID_TRANSITION", string(in.Code)+" may not follow status "+string(g.state.Status))
		case in.EurodacHit == "":
			problem(w, 400, "INVALID_ARGUMENT", "eurodacHit: required")
		default:
			g.keys[key] = true
			g.state.Status, g.state.Seq = domain.StIdentityChecked, g.state.Seq+1
			g.events = append(g.events, domain.Event{Seq: g.state.Seq, Code: in.Code, OccurredOn: in.OccurredOn, MSPID: "AsylumOfficeMSP",
				Role: role, EventFields: domain.EventFields{EurodacHit: in.EurodacHit}})
			reply(w, api.WriteResponse{Pseudonym: g.state.Pseudonym, Code: in.Code, Status: g.state.Status, TxID: "tx1"})
		}
	case "GET /v1/audit/verification", "GET /v1/audit/late":
		if role != domain.RoleAuditor && role != domain.RoleAdmin {
			problem(w, 403, "FORBIDDEN", "role "+string(role)+" may not call this operation")
			return
		}
		reply(w, api.AuditReport{Intact: true})
	default:
		problem(w, 404, "ROUTE_NOT_FOUND", "")
	}
}
