//go:build integration

package test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

// TestNetworkTransactionsOnEveryChannel submits through the fabric-gateway client with a CA-enrolled
// identity on each channel and reads the result back with the peer CLI of another org.
func TestNetworkTransactionsOnEveryChannel(t *testing.T) {
	cases := []struct {
		channel, writer, writerRole, reader string
	}{
		{"national", "border-police", "caseworker", "immigration-authority"},
		{"dublin", "partner-state", "dublin-officer", "auditor"},
	}
	for _, tc := range cases {
		t.Run(tc.channel, func(t *testing.T) {
			pseudonym := uuid.NewString()
			contract := contractFor(t, tc.writer, tc.writerRole, tc.channel)
			if _, err := contract.SubmitTransaction("cases:RegisterCase", uuid.NewString(), pseudonym, today()); err != nil {
				t.Fatalf("submit on %s: %v", tc.channel, err)
			}
			// An independent client: the peer CLI of another member org, on its own peer.
			out, err := itNet.PeerCLI(context.Background(), tc.reader, "admin", "chaincode", "query",
				"-C", tc.channel, "-n", "caseledger", "-c", fmt.Sprintf(`{"Args":["cases:GetCase","%s"]}`, pseudonym))
			if err != nil {
				t.Fatal(err)
			}
			var state struct {
				Pseudonym string `json:"pseudonym"`
			}
			if err := json.Unmarshal(out, &state); err != nil || state.Pseudonym != pseudonym {
				t.Fatalf("peer CLI read %q (%v), want the case %s", out, err, pseudonym)
			}
		})
	}
}

// TestSingleOrgEndorsementIsInvalidated proves that no agency can write alone: a transaction endorsed
// by one org only is ordered but invalidated by every peer.
func TestSingleOrgEndorsementIsInvalidated(t *testing.T) {
	for _, tc := range []struct{ channel, org, role, msp string }{
		{"national", "asylum-office", "caseworker", "AsylumOfficeMSP"},
		{"dublin", "partner-state", "dublin-officer", "PartnerStateMSP"},
	} {
		t.Run(tc.channel, func(t *testing.T) {
			contract := contractFor(t, tc.org, tc.role, tc.channel)
			pseudonym := uuid.NewString()
			proposal, err := contract.NewProposal("cases:RegisterCase", client.WithArguments(uuid.NewString(), pseudonym, today()),
				client.WithEndorsingOrganizations(tc.msp))
			if err != nil {
				t.Fatal(err)
			}
			tx, err := proposal.Endorse()
			if err != nil {
				t.Fatalf("endorse: %v", err)
			}
			commit, err := tx.Submit()
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			status, err := commit.Status()
			if err != nil {
				t.Fatalf("commit status: %v", err)
			}
			if status.Successful || status.Code != peer.TxValidationCode_ENDORSEMENT_POLICY_FAILURE {
				t.Fatalf("single-org transaction: successful=%v code=%v, want ENDORSEMENT_POLICY_FAILURE", status.Successful, status.Code)
			}
			// And nothing of it is in the world state.
			if _, err := contract.EvaluateTransaction("cases:GetCase", pseudonym); err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
				t.Fatalf("invalidated write: GetCase says %v, want NOT_FOUND", err)
			}
		})
	}
}

// TestRestartedNodesCatchUp stops one orderer and one peer, commits blocks without them, restarts
// them and waits until every orderer and member peer reports the same height, and until the
// restarted peer serves its agency's writes again (its discovery sees the other endorsers: gossip
// membership is rebuilt after the ledger has caught up, so equal heights alone do not say it).
func TestRestartedNodesCatchUp(t *testing.T) {
	ctx := context.Background()
	const ch, org = "national", "border-police"
	sup := itNet.Supervisor()
	if err := sup.Stop(itNet.OrdererNode(1), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := sup.Stop("peer0."+org, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Border police is down, so the other two national agencies endorse.
	contract := contractFor(t, "asylum-office", "caseworker", ch)
	for i := 0; i < 3; i++ {
		// If the stopped orderer led the Raft cluster, ordering pauses until a new leader is elected
		// (~5-12 s measured): retry until the write goes through.
		eventually(t, 60*time.Second, "submit while nodes are down", func(context.Context) error {
			_, err := contract.Submit("cases:RegisterCase", client.WithArguments(uuid.NewString(), uuid.NewString(), today()),
				client.WithEndorsingOrganizations("AsylumOfficeMSP", "ImmigrationAuthorityMSP"))
			return err
		})
	}
	if err := itNet.StartOrderer(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := itNet.StartPeer(ctx, org); err != nil {
		t.Fatal(err)
	}
	desc := itNet.Description()
	chDesc, _ := desc.Channel(ch)
	eventually(t, 90*time.Second, "restarted nodes reach the same height", func(ctx context.Context) error {
		want, err := itNet.OrdererHeight(ctx, 0, ch)
		if err != nil {
			return err
		}
		for i := 1; i < desc.OrdererOrg.Orderers; i++ {
			h, err := itNet.OrdererHeight(ctx, i, ch)
			if err != nil {
				return err
			}
			if h != want {
				return fmt.Errorf("orderer%d at %d, orderer0 at %d", i, h, want)
			}
		}
		for _, m := range chDesc.Members {
			h, err := itNet.PeerHeight(ctx, m, ch)
			if err != nil {
				return err
			}
			if h != want {
				return fmt.Errorf("peer of %s at %d, orderers at %d", m, h, want)
			}
		}
		return nil
	})
	own := contractFor(t, org, "caseworker", ch)
	eventually(t, 60*time.Second, "the restarted peer's agency writes again", func(context.Context) error {
		_, err := own.SubmitTransaction("cases:RegisterCase", uuid.NewString(), uuid.NewString(), today())
		return err
	})
}

// TestWholeNetworkRestartKeepsLedger stops every node and brings the network up again from the same
// root: nothing is regenerated, the ledger is kept, and writing works again.
func TestWholeNetworkRestartKeepsLedger(t *testing.T) {
	ctx := context.Background()
	p := uuid.NewString()
	if _, err := contractFor(t, "border-police", "caseworker", "national").SubmitTransaction("cases:RegisterCase", uuid.NewString(), p, today()); err != nil {
		t.Fatal(err)
	}
	before, err := itNet.PeerHeight(ctx, "auditor", "national")
	if err != nil {
		t.Fatal(err)
	}
	if err := itNet.Down(false); err != nil {
		t.Fatal(err)
	}
	if running := itNet.Status(); len(running) != 0 {
		t.Fatalf("after down: %d nodes still listed", len(running))
	}
	start := time.Now()
	if err := itNet.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if fabric.ServicesUp() {
		// Down stopped the privacy services and gateways too; later tests use them.
		if err := itNet.UpServices(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("restart of the whole network took %s", time.Since(start).Round(time.Millisecond))
	after, err := itNet.PeerHeight(ctx, "auditor", "national")
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("height %d after restart, %d before", after, before)
	}
	out, err := itNet.PeerCLI(ctx, "auditor", "auditor1", "chaincode", "query", "-C", "national", "-n", "caseledger",
		"-c", fmt.Sprintf(`{"Args":["cases:GetCase","%s"]}`, p))
	if err != nil || !strings.Contains(string(out), p) {
		t.Fatalf("case registered before the restart: %s %v", out, err)
	}
	// The ordering service may still be electing a leader: a write goes through once it has one.
	eventually(t, 60*time.Second, "write after restart", func(context.Context) error {
		_, err := contractFor(t, "asylum-office", "caseworker", "national").SubmitTransaction("cases:RegisterCase", uuid.NewString(), uuid.NewString(), today())
		return err
	})
}
