//go:build integration

package test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/caseledger/caseledger/network"
)

// TestGatewayErasurePlanResumedAfterKill (issue 12 finding 3) on the real network: the asylum
// office requests the erasure of a case linked national ↔ Dublin; the Dublin request cannot be
// endorsed (the partner state's peer is frozen), and the asylum office's gateway is SIGKILLed after
// the national request committed — between the two submissions. After the peer thaws and the
// gateway is restarted, the gateway finishes the plan by itself (no client call): the Dublin
// erasure is requested and confirmed. A new request with a new Idempotency-Key, by the national or
// the Dublin reference, reports the plan instead of UNKNOWN_LOCAL_REF.
func TestGatewayErasurePlanResumedAfterKill(t *testing.T) {
	ctx := context.Background()
	aoGw, audGw := gatewayOf(t, "asylum-office"), gatewayOf(t, "auditor")
	natRef, dubRef := gwRef("BAMF"), gwRef("BAMF-D")
	var nat, dub gwWrite
	aoGw.ok(http.StatusCreated, "caseworker", "POST", "/v1/cases", map[string]any{"channel": "national", "localRef": natRef, "occurredOn": today()}, &nat)
	aoGw.ok(http.StatusCreated, "dublin-officer", "POST", "/v1/cases", map[string]any{"channel": "dublin", "localRef": dubRef, "occurredOn": today(),
		"linkFrom": map[string]any{"channel": "national", "localRef": natRef}}, &dub)
	events := audGw.stream("auditor", "", "")

	// Freeze the partner state's peer: a Dublin transaction cannot collect its endorsement.
	sup := itNet.Supervisor()
	peer := network.PeerNode("partner-state")
	pid, ok := sup.Running(peer)
	if !ok {
		t.Fatalf("%s is not running", peer)
	}
	thaw := func() { _ = syscall.Kill(-pid, syscall.SIGCONT) }
	t.Cleanup(thaw)
	if err := syscall.Kill(-pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// The client's request, sent raw: its connection dies with the gateway.
	done := make(chan int, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"channel": "national", "localRef": natRef, "occurredOn": today()})
		req, _ := http.NewRequest(http.MethodPost, aoGw.info.URL+"/v1/erasures", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+aoGw.info.Tokens["caseworker"])
		req.Header.Set("Idempotency-Key", "plan-kill-"+natRef)
		res, err := aoGw.hc.Do(req)
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	events.until(t, 60*time.Second, "the national erasure request", func(v gwEvent) bool {
		return v.Pseudonym == nat.Pseudonym && v.Code == "ERASURE_REQUESTED"
	})
	// The Dublin request is in flight against the frozen peer: kill the gateway now.
	if err := sup.Kill(network.GatewayNode("asylum-office")); err != nil {
		t.Fatal(err)
	}
	if status := <-done; status == http.StatusOK {
		t.Fatal("the erasure request was answered 200 although the Dublin peer was frozen")
	}
	var st struct {
		Requested bool     `json:"requested"`
		Complete  bool     `json:"complete"`
		Pending   []string `json:"pending"`
	}
	audGw.ok(http.StatusOK, "auditor", "POST", "/v1/erasures/status", map[string]any{"channel": "dublin", "pseudonym": dub.Pseudonym}, &st)
	if st.Requested {
		t.Fatal("the Dublin erasure was requested although its peer was frozen")
	}
	thaw()
	if err := itNet.StartGateway(ctx, "asylum-office"); err != nil {
		t.Fatal(err)
	}
	// No client call: the gateway resumes the plan by itself.
	events.until(t, 3*time.Minute, "the Dublin erasure, requested and confirmed by the restarted gateway", func(v gwEvent) bool {
		return v.Pseudonym == dub.Pseudonym && v.Code == "ERASURE_CONFIRMED"
	})
	for _, c := range []struct{ ch, p string }{{"national", nat.Pseudonym}, {"dublin", dub.Pseudonym}} {
		eventually(t, 60*time.Second, c.ch+" erasure complete", func(context.Context) error {
			audGw.ok(http.StatusOK, "auditor", "POST", "/v1/erasures/status", map[string]any{"channel": c.ch, "pseudonym": c.p}, &st)
			if !st.Requested || !st.Complete {
				return errors.New("not complete yet")
			}
			return nil
		})
	}
	// Asked again, with new keys and either reference: the plan, not UNKNOWN_LOCAL_REF.
	var plans []string
	for _, x := range []struct{ role, ch, ref string }{{"caseworker", "national", natRef}, {"dublin-officer", "dublin", dubRef}} {
		var er struct {
			Plan  string `json:"plan"`
			Items []struct {
				Channel   string `json:"channel"`
				Pseudonym string `json:"pseudonym"`
				Requested bool   `json:"requested"`
			} `json:"items"`
		}
		aoGw.ok(http.StatusOK, x.role, "POST", "/v1/erasures", map[string]any{"channel": x.ch, "localRef": x.ref, "occurredOn": today()}, &er)
		if er.Plan == "" || len(er.Items) != 2 || !er.Items[0].Requested || !er.Items[1].Requested ||
			er.Items[0].Pseudonym != nat.Pseudonym || er.Items[1].Pseudonym != dub.Pseudonym {
			t.Fatalf("erasure asked again by %s: %+v", x.ref, er)
		}
		plans = append(plans, er.Plan)
	}
	if plans[0] != plans[1] {
		t.Fatalf("two plans for one case: %v", plans)
	}
}
