package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/test/framework"
)

// Connect to the agency's gateway with the URL, CA file and token of its API
// information file (<root>/connection/<org>-api.json, api.APIInfo), and ask
// who the token stands for.
func ExampleNew() {
	gw := startExampleGateway() // the asylum office's gateway
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
		Event:   json.RawMessage(`{"code":"IDENTITY_CHECKED","occurredOn":"` + today() + `","eurodacHit":"NONE"}`),
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
		Event:   json.RawMessage(`{"code":"IDENTITY_CHECKED","occurredOn":"` + today() + `","eurodacHit":"NONE"}`),
	})
	fmt.Println(client.CodeOf(err), errors.Is(err, client.ErrNotFound))
	// Output:
	// IDENTITY_CHECKED seq 2 status IDENTITY_CHECKED block 2
	// retry answers the same write: true
	// UNKNOWN_LOCAL_REF true
}

// Follow the agency's event stream. Keep the position of the last event
// handled and pass it as After when the program starts again: the stream
// resumes after it, so every event is seen once, in order, also across
// restarts of the gateway (the client reconnects by itself).
func ExampleClient_Follow() {
	gw := startExampleGateway().withIdentityChecked()
	defer gw.Close()
	c, err := client.New(client.Config{BaseURL: gw.URL, CAFile: gw.CAFile, Token: gw.Token})
	if err != nil {
		log.Fatal(err)
	}

	var last string // load from where the program kept it ("" = from the beginning)
	seen := 0
	err = c.Follow(context.Background(), client.FollowOptions{Channel: "national", After: last}, func(ev api.EventView) error {
		fmt.Println(ev.Name, ev.Code, "seq", ev.Seq, "held", ev.Held, ev.LocalRefs)
		last = ev.Position // keep it durably once the event is handled
		if seen++; seen == 2 {
			return client.ErrStop // a clean stop: Follow returns nil
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("position kept:", last != "")
	// Output:
	// caseledger.case CASE_REGISTERED seq 1 held true [AO-2026-000123]
	// caseledger.case IDENTITY_CHECKED seq 2 held true [AO-2026-000123]
	// position kept: true
}

// exampleGateway is the asylum office's gateway for the examples: the real one, with the other
// agencies of the demo topology, in this process (test/framework: gateway.Server, its privacy
// store, the real chaincode over an in-process ledger; no Fabric). Its case AO-2026-000123 is
// registered; with a recorded identity check when the example follows events.
type exampleGateway struct {
	*framework.InProcess
	URL, CAFile, Token string
	c                  *client.Client
}

func startExampleGateway() *exampleGateway {
	ctx := context.Background()
	in, err := framework.StartInProcess(ctx, framework.InProcessOptions{})
	if err != nil {
		log.Fatal(err)
	}
	info, err := in.API("asylum-office")
	if err != nil {
		log.Fatal(err)
	}
	g := &exampleGateway{InProcess: in, URL: info.URL, CAFile: info.CAFile, Token: info.Tokens["caseworker"]}
	if g.c, err = client.New(client.Config{BaseURL: g.URL, CAFile: g.CAFile, Token: g.Token}); err != nil {
		log.Fatal(err)
	}
	if _, err := g.c.Register(ctx, api.RegisterRequest{Channel: "national", LocalRef: "AO-2026-000123", OccurredOn: today()}); err != nil {
		log.Fatal(err)
	}
	return g
}

// withIdentityChecked records the case's next step before the example runs.
func (g *exampleGateway) withIdentityChecked() *exampleGateway {
	_, err := g.c.RecordEvent(context.Background(), api.EventRequest{
		CaseRef: api.CaseRef{Channel: "national", LocalRef: "AO-2026-000123"},
		Event:   json.RawMessage(`{"code":"IDENTITY_CHECKED","occurredOn":"` + today() + `","eurodacHit":"NONE"}`),
	})
	if err != nil {
		log.Fatal(err)
	}
	return g
}

func (g *exampleGateway) Close() {
	g.c.CloseIdleConnections()
	_ = g.InProcess.Close()
}

// today is a day every member state's ledger clock accepts as the day of an act (UTC is never
// ahead of the demo's states).
func today() string { return time.Now().UTC().Format(time.DateOnly) }
