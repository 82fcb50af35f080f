package client_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/domain"
)

// Connect to the agency's gateway with the URL, CA file and token of its API
// information file (<root>/connection/<org>-api.json, api.APIInfo), and ask
// who the token stands for.
func ExampleNew() {
	gw := startExampleGateway() // stands in for the agency's gateway
	defer gw.Close()

	c, err := client.New(client.Config{
		BaseURL: gw.URL,    // e.g. https://127.0.0.1:7189 (APIInfo.URL)
		CAFile:  gw.CAFile, // the CA of the gateway's certificate (APIInfo.CAFile)
		Token:   gw.Token,  // one role's API token (APIInfo.Tokens["caseworker"])
	})
	if err != nil {
		log.Fatal(err)
	}
	me, err := c.Whoami(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(me.Org, me.MSPID, me.Role)
	for _, ch := range me.Channels {
		fmt.Println("channel", ch.Name, ch.Procedure)
	}
	// Output:
	// asylum-office AsylumOfficeMSP caseworker
	// channel national national
	// channel dublin dublin
}

// Record an event on a case, named by the agency's own local reference. A
// write whose outcome was not learnt (a timeout, a lost connection) is sent
// again with the same Idempotency-Key: the gateway answers with the first
// outcome and records nothing twice. The client retries transient failures
// with the same key by itself; WithIdempotencyKey makes the key survive a
// restart of the calling program.
func ExampleClient_RecordEvent() {
	gw := startExampleGateway()
	defer gw.Close()
	c, err := client.New(client.Config{BaseURL: gw.URL, CAFile: gw.CAFile, Token: gw.Token})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	key := client.NewIdempotencyKey() // store it with the job before sending
	req := api.EventRequest{
		CaseRef: api.CaseRef{Channel: "national", LocalRef: "AO-2026-000123"},
		Event:   json.RawMessage(`{"code":"HEARING_HELD","occurredOn":"2026-12-03"}`),
	}
	res, err := c.RecordEvent(ctx, req, client.WithIdempotencyKey(key))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Code, "seq", res.Seq, "status", res.Status, "block", res.BlockNumber)

	again, err := c.RecordEvent(ctx, req, client.WithIdempotencyKey(key))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("retry answers the same write:", again.TxID == res.TxID)

	// Refusals are *client.Problem errors with a stable code.
	_, err = c.RecordEvent(ctx, api.EventRequest{
		CaseRef: api.CaseRef{Channel: "national", LocalRef: "AO-2026-999999"},
		Event:   json.RawMessage(`{"code":"HEARING_HELD","occurredOn":"2026-12-03"}`),
	})
	fmt.Println(client.CodeOf(err), errors.Is(err, client.ErrNotFound))
	// Output:
	// HEARING_HELD seq 4 status HEARING_HELD block 17
	// retry answers the same write: true
	// UNKNOWN_LOCAL_REF true
}

// Follow the agency's event stream. Keep the position of the last event
// handled and pass it as After when the program starts again: the stream
// resumes after it, so every event is seen once, in order, also across
// restarts of the gateway (the client reconnects by itself).
func ExampleClient_Follow() {
	gw := startExampleGateway()
	defer gw.Close()
	c, err := client.New(client.Config{BaseURL: gw.URL, CAFile: gw.CAFile, Token: gw.Token})
	if err != nil {
		log.Fatal(err)
	}

	var last string // load from where the program kept it ("" = from the beginning)
	seen := 0
	err = c.Follow(context.Background(), client.FollowOptions{Channel: "national", After: last}, func(ev api.EventView) error {
		fmt.Println(ev.Position, ev.Name, ev.Code, "seq", ev.Seq, "held", ev.Held, ev.LocalRefs)
		last = ev.Position // keep it durably once the event is handled
		if seen++; seen == 2 {
			return client.ErrStop // a clean stop: Follow returns nil
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("resume after", last)
	// Output:
	// e1-1 caseledger.case CASE_REGISTERED seq 1 held true [AO-2026-000123]
	// e1-2 caseledger.case HEARING_HELD seq 4 held true [AO-2026-000123]
	// resume after e1-2
}

// exampleGateway stands in for an agency's gateway in the examples: it
// answers the calls they make as the gateway does (HTTPS, bearer token,
// Idempotency-Key, problem+json, server-sent events), with the api types.
type exampleGateway struct {
	*httptest.Server
	CAFile, Token string
	dir           string

	mu      sync.Mutex
	answers map[string]api.WriteResponse // by Idempotency-Key
}

func startExampleGateway() *exampleGateway {
	g := &exampleGateway{Token: "clg_example-caseworker", answers: map[string]api.WriteResponse{}}
	g.Server = httptest.NewTLSServer(http.HandlerFunc(g.serve))
	dir, err := os.MkdirTemp("", "caseledger-example-")
	if err != nil {
		log.Fatal(err)
	}
	g.dir, g.CAFile = dir, filepath.Join(dir, "gateway-ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: g.Certificate().Raw})
	if err := os.WriteFile(g.CAFile, ca, 0o600); err != nil {
		log.Fatal(err)
	}
	return g
}

func (g *exampleGateway) Close() {
	g.Server.Close()
	os.RemoveAll(g.dir)
}

func (g *exampleGateway) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+g.Token {
		g.problem(w, http.StatusUnauthorized, string(domain.KindUnauthenticated), "")
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /v1/whoami":
		g.json(w, http.StatusOK, api.Whoami{Org: "asylum-office", MSPID: "AsylumOfficeMSP", Role: domain.RoleCaseworker,
			TokenID: "t1", Roles: []domain.Role{domain.RoleCaseworker},
			Channels: []api.ChannelInfo{{Name: "national", Procedure: domain.ProcedureNational}, {Name: "dublin", Procedure: domain.ProcedureDublin}}})
	case "POST /v1/cases/events":
		key := r.Header.Get(api.HeaderIdempotencyKey)
		var req api.EventRequest
		var ev domain.EventInput
		if key == "" {
			g.problem(w, http.StatusPreconditionRequired, api.CodeIdempotencyKeyRequired, "")
			return
		}
		if json.NewDecoder(r.Body).Decode(&req) != nil || json.Unmarshal(req.Event, &ev) != nil {
			g.problem(w, http.StatusBadRequest, string(domain.KindInvalidArgument), "body: must be an EventRequest")
			return
		}
		if req.LocalRef != "AO-2026-000123" {
			g.problem(w, http.StatusNotFound, api.CodeUnknownLocalRef, "")
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		res, ok := g.answers[key]
		if !ok {
			res = api.WriteResponse{Channel: req.Channel, Pseudonym: "3f0c9a52-7b1e-4c4e-9d55-2a7f3f0e8b61", Seq: 4,
				Code: ev.Code, Status: domain.Status(ev.Code), TxID: fmt.Sprintf("%064x", len(g.answers)+1),
				BlockNumber: 17, RecordedOn: "2026-12-04", OccurredOn: ev.OccurredOn}
			g.answers[key] = res
		}
		g.json(w, http.StatusOK, res)
	case "GET /v1/events":
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for i, code := range []domain.EventCode{domain.EvCaseRegistered, domain.EvHearingHeld} {
			v := api.EventView{Position: fmt.Sprintf("e1-%d", i+1), Channel: "national", Block: uint64(9 + 8*i),
				Name: api.EventCase, Pseudonym: "3f0c9a52-7b1e-4c4e-9d55-2a7f3f0e8b61", Code: string(code),
				Seq: uint64(1 + 3*i), Procedure: "national", Held: true, LocalRefs: []string{"AO-2026-000123"}}
			b, _ := json.Marshal(v)
			fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", v.Position, v.Name, b)
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a live stream stays open
	default:
		g.problem(w, http.StatusNotFound, api.CodeRouteNotFound, "")
	}
}

func (g *exampleGateway) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (g *exampleGateway) problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.Problem{Type: "urn:example", Title: http.StatusText(status), Status: status, Code: code, Detail: detail})
}
