package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/caseledger/caseledger/api"
	clclient "github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/cmd/demo/scenario"
	"github.com/caseledger/caseledger/domain"
)

// TestE2EDemoScenario runs the scenario of `make demo` (the same code) on
// the test network through the gateways, then checks each step's outcome
// independently through the API, and runs it a second time on the running
// system (fresh references, nothing fails because things exist). The final
// block scan (ledger_scan_test.go, integration runs) covers every reference and document
// the scenario sent.
func TestE2EDemoScenario(t *testing.T) {
	ag, err := scenario.AgenciesFrom(cluster.API)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	play := func(run int) scenario.Report {
		t.Helper()
		var out bytes.Buffer
		start := time.Now()
		rep, err := scenario.Run(ctx, scenario.Env{Agencies: ag, Out: &out, WaitTimeout: 2 * time.Minute})
		// Whatever reached a gateway is scanned for, also after a failure.
		noteRealIdentifiers(rep.RealIdentifiers...)
		for _, d := range rep.Documents {
			noteRealIdentifiers(string(d), base64.StdEncoding.EncodeToString(d))
		}
		if err != nil {
			t.Fatalf("run %d failed: %v\n%s", run, err, out.String())
		}
		t.Logf("run %d: scenario in %s", run, time.Since(start).Round(time.Millisecond))
		if testing.Verbose() {
			t.Log("\n" + out.String())
		}
		return rep
	}
	rep := play(1)
	checkDemoOutcome(t, ctx, ag, rep)

	again := play(2)
	if again.CaseA.National == rep.CaseA.National || again.CaseB.Dublin == rep.CaseB.Dublin ||
		again.CaseA.Refs["asylum-office"] == rep.CaseA.Refs["asylum-office"] {
		t.Fatal("the second run reused the first run's cases or references")
	}
	checkDemoOutcome(t, ctx, ag, again)
}

// checkDemoOutcome verifies through the API, with the agencies' own clients,
// what the scenario claims to have done.
func checkDemoOutcome(t *testing.T, ctx context.Context, ag scenario.Agencies, rep scenario.Report) {
	t.Helper()
	a, b := rep.CaseA, rep.CaseB
	nat := func(p string) api.CaseRef { return api.CaseRef{Channel: "national", Pseudonym: p} }
	dub := func(p string) api.CaseRef { return api.CaseRef{Channel: "dublin", Pseudonym: p} }

	// Case A: decided, every agency reaches it by its own reference.
	for _, x := range []struct {
		c   *clclient.Client
		org string
	}{{ag.BorderPolice, "border-police"}, {ag.AsylumOffice, "asylum-office"}, {ag.Immigration, "immigration-authority"}} {
		v, err := x.c.Case(ctx, api.CaseRef{Channel: "national", LocalRef: a.Refs[x.org]})
		if err != nil {
			t.Fatalf("%s resolves case A: %v", x.org, err)
		}
		// Need to know (docs/visibility.md): the decision and the region only for the asylum
		// office and the immigration authority; the border police sees that a decision exists.
		outcome, region := domain.Outcome("SUBSIDIARY_PROTECTION"), "DE-BY"
		if x.org == "border-police" {
			outcome, region = "", ""
		}
		if v.Case.Pseudonym != a.National || v.Case.Status != domain.StDecisionIssued || v.Case.National == nil ||
			v.Case.National.Outcome != outcome || v.Case.National.RegionCode != region {
			t.Fatalf("%s sees case A as %+v (%+v)", x.org, v.Case, v.Case.National)
		}
		if !slices.Equal(v.LocalRefs, []string{a.Refs[x.org]}) {
			t.Fatalf("%s's references of case A: %v", x.org, v.LocalRefs)
		}
	}
	tl, err := ag.Auditor.FullTimeline(ctx, nat(a.National))
	if err != nil {
		t.Fatal(err)
	}
	var codes []domain.EventCode
	for _, e := range tl.Items {
		codes = append(codes, e.Code)
	}
	// The asylum office and the immigration authority bind themselves in (CASE_BOUND).
	wantA := []domain.EventCode{domain.EvCaseRegistered, domain.EvCaseBound, domain.EvIdentityChecked, domain.EvFileCreated, domain.EvAllocated,
		domain.EvApplicationLodged, domain.EvHearingScheduled, domain.EvHearingHeld, domain.EvDecisionIssued, domain.EvCaseBound, domain.EvDocumentAnchored}
	if !slices.Equal(codes, wantA) || len(tl.LocalRefs) != 0 {
		t.Fatalf("case A timeline %v (auditor references %v)", codes, tl.LocalRefs)
	}
	// The auditor keeps hashes only: the hit category is withheld from it.
	if tl.Items[0].MSPID != "BorderPoliceMSP" || tl.Items[1].MSPID != "AsylumOfficeMSP" || tl.Items[2].EurodacHit != "" || tl.Items[2].Withheld != "national-agencies" ||
		tl.Items[9].MSPID != "ImmigrationAuthorityMSP" {
		t.Fatalf("case A steps by %s/%s/%s", tl.Items[0].MSPID, tl.Items[1].MSPID, tl.Items[9].MSPID)
	}

	// The anchor: a keyed hash, verifiable by the asylum office only with the original.
	if len(rep.Documents) != 2 {
		t.Fatalf("%d documents", len(rep.Documents))
	}
	orig, altered := rep.Documents[0], rep.Documents[1]
	sum := sha256.Sum256(orig)
	// The document type is a withheld detail: the auditor (hashes only) sees the marker.
	if last := tl.Items[len(tl.Items)-1]; last.DocumentHash != a.DocumentHash || a.DocumentHash == hex.EncodeToString(sum[:]) || last.DocumentType != "" || last.Withheld != "national-agencies" {
		t.Fatalf("anchor on chain %q (%s), reported %q", last.DocumentHash, last.DocumentType, a.DocumentHash)
	}
	for _, x := range []struct {
		doc  []byte
		want bool
	}{{orig, true}, {altered, false}} {
		v, err := ag.AsylumOffice.Verify(ctx, api.VerifyRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: a.Refs["asylum-office"]}, Document: x.doc})
		if err != nil || v.Anchored != x.want {
			t.Fatalf("verify (want anchored %v): %+v %v", x.want, v, err)
		}
	}

	// Case B: two pseudonyms, late request, implicit acceptance by a watcher, transfer, erasure.
	if b.National == b.Dublin || b.National == "" || b.Dublin == "" {
		t.Fatalf("case B pseudonyms %q / %q", b.National, b.Dublin)
	}
	nv, err := ag.Auditor.Case(ctx, nat(b.National))
	if err != nil {
		t.Fatal(err)
	}
	// The auditor keeps hashes only (and the erasure purged the details): what stays public is
	// that the decision was negative, which the workflow needs on every endorser.
	if nv.Case.Status != domain.StClosed || nv.Case.National == nil || nv.Case.National.EurodacHit != "" || nv.Case.National.Outcome != "" || !nv.Case.National.NegativeDecision {
		t.Fatalf("national case B %+v", nv.Case)
	}
	dv, err := ag.Auditor.Case(ctx, dub(b.Dublin))
	if err != nil {
		t.Fatal(err)
	}
	d := dv.Case.Dublin
	if dv.Case.Status != domain.StTransferCompleted || d == nil || !d.Implicit || d.Regime != "AMMR" || d.Evidence != domain.EvidenceEurodacHit ||
		d.RequestedMemberState != "AT" || d.RequestingMemberState != "DE" {
		t.Fatalf("dublin case B %+v %+v", dv.Case, d)
	}
	dtl, err := ag.Auditor.FullTimeline(ctx, dub(b.Dublin))
	if err != nil {
		t.Fatal(err)
	}
	implicit, requestOn, ackEarlier := 0, "", false
	for _, e := range dtl.Items {
		switch e.Code {
		case domain.EvTakeChargeRequested:
			if e.LateDays != 24 || e.ReceivedOn != e.OccurredOn {
				t.Fatalf("request recorded %d days late (received %s, occurred %s), want 24", e.LateDays, e.ReceivedOn, e.OccurredOn)
			}
			requestOn = e.OccurredOn
		case domain.EvReceiptAcknowledged:
			// The partner state's gateway (today) and its officer (the
			// receipt date DubliNet proved) acknowledge; only the partner
			// state can.
			if e.MSPID != "PartnerStateMSP" {
				t.Fatalf("receipt acknowledged by %s", e.MSPID)
			}
			if e.OccurredOn == requestOn {
				ackEarlier = true
			}
		case domain.EvImplicitlyAccepted:
			implicit++
			// Recorded by a gateway's deadline watcher (the scenario never asks),
			// dated the reply deadline's last day, which lies before today.
			if (e.MSPID != "AsylumOfficeMSP" && e.MSPID != "PartnerStateMSP") || e.Role != domain.RoleDublinOfficer ||
				e.OccurredOn != b.ReplyDeadline || e.OccurredOn >= rep.Today || e.MSPID != b.ImplicitlyAcceptedBy {
				t.Fatalf("implicit acceptance %+v (reported by %s on %s)", e, b.ImplicitlyAcceptedBy, b.ReplyDeadline)
			}
		case domain.EvRequestRejected, domain.EvRequestAccepted:
			t.Fatalf("a reply was recorded: %+v", e)
		}
	}
	if implicit != 1 || !ackEarlier {
		t.Fatalf("%d implicit acceptances; receipt on the request's day acknowledged: %v", implicit, ackEarlier)
	}
	// The partner state's gateway knows nothing of the national channel.
	if _, err := ag.Partner.Case(ctx, nat(b.National)); err == nil {
		t.Fatal("the partner state reads the national case")
	}
	// Erasure: requested on both channels, confirmed by every holder, every reference gone.
	for _, st := range []struct {
		ref     api.CaseRef
		holders []string
	}{{nat(b.National), nv.Case.Holders}, {dub(b.Dublin), dv.Case.Holders}} {
		es, err := ag.Auditor.ErasureStatus(ctx, st.ref)
		if err != nil {
			t.Fatal(err)
		}
		if !es.Requested || !es.Complete || len(es.Pending) != 0 || !slices.Equal(es.Confirmed, st.holders) || es.RequestedBy != "AsylumOfficeMSP" {
			t.Fatalf("%s erasure %+v, holders %v", st.ref.Channel, es, st.holders)
		}
	}
	for _, x := range []struct {
		c       *clclient.Client
		ch, ref string
	}{
		{ag.BorderPolice, "national", b.Refs["border-police"]}, {ag.AsylumOffice, "national", b.Refs["asylum-office"]},
		{ag.AsylumDublin, "dublin", b.Refs["asylum-office/dublin"]}, {ag.Partner, "dublin", b.Refs["partner-state"]},
	} {
		_, err := x.c.Case(ctx, api.CaseRef{Channel: x.ch, LocalRef: x.ref})
		if clclient.CodeOf(err) != api.CodeUnknownLocalRef || !errors.Is(err, clclient.ErrNotFound) {
			t.Fatalf("%s on %s after the erasure: %v", x.ref, x.ch, err)
		}
	}

	// Audit: both channels intact; this run's late entries listed; no open erasure of ours.
	if !rep.Audit.Intact || len(rep.Audit.Channels) != 2 {
		t.Fatalf("audit %+v", rep.Audit)
	}
	stored, err := ag.Auditor.AuditReport(ctx)
	if err != nil || !stored.Intact || len(stored.Channels) != 2 {
		t.Fatalf("stored audit report %+v %v", stored, err)
	}
	late := map[string]bool{}
	for _, e := range rep.LateEvents {
		late[e.Pseudonym+"/"+string(e.Code)] = true
	}
	for _, k := range []string{b.National + "/CASE_REGISTERED", b.National + "/IDENTITY_CHECKED", b.Dublin + "/TAKE_CHARGE_REQUESTED"} {
		if !late[k] {
			t.Fatalf("late recording %s not listed (%d listed)", k, len(rep.LateEvents))
		}
	}
	for _, ch := range []string{"national", "dublin"} {
		open, err := ag.Auditor.AuditErasures(ctx, ch, 0, clclient.Page{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range open.Items {
			if it.Pseudonym == b.National || it.Pseudonym == b.Dublin {
				t.Fatalf("completed erasure listed as open on %s", ch)
			}
		}
	}
}
