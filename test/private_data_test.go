//go:build integration

package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"google.golang.org/grpc/status"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/network"
)

// Need to know on the real network (issue 15): the collections are in the committed chaincode
// definition of every peer; details sent in the transient map reach the peers of their audience
// only (raw scan of every peer's files for each record's unique salt); each agency's peer answers
// its timeline with the details it is entitled to; an erasure confirmed by every holder purges
// them from every peer, the hashes stay.
func TestPrivateDetailsOnThePeers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	desc := itNet.Description()
	orgOf := map[string]string{} // MSP id -> org name
	for _, o := range desc.Orgs {
		orgOf[o.MSPID] = o.Name
	}

	t.Run("collections committed on every peer", func(t *testing.T) {
		for _, ch := range desc.Channels {
			want, err := desc.Collections(ch)
			if err != nil || len(want) == 0 {
				t.Fatalf("%s: %v %v", ch.Name, want, err)
			}
			for _, org := range ch.Members {
				out, err := itNet.PeerCLI(ctx, org, "admin", "lifecycle", "chaincode", "querycommitted",
					"--channelID", ch.Name, "--name", desc.Chaincode.Name, "--output", "json")
				if err != nil {
					t.Fatalf("%s on %s: %v", org, ch.Name, err)
				}
				var def struct {
					Collections struct {
						Config []struct {
							Payload struct {
								StaticCollectionConfig struct {
									Name            string `json:"name"`
									MemberOnlyRead  bool   `json:"member_only_read"`
									MemberOnlyWrite bool   `json:"member_only_write"`
									BlockToLive     uint64 `json:"block_to_live"`
								}
							}
						} `json:"config"`
					} `json:"collections"`
				}
				if err := json.Unmarshal(out, &def); err != nil {
					t.Fatalf("%s: %v: %s", org, err, out)
				}
				var names []string
				for _, c := range def.Collections.Config {
					s := c.Payload.StaticCollectionConfig
					if !s.MemberOnlyRead || s.MemberOnlyWrite || s.BlockToLive != 0 {
						t.Errorf("%s on %s: collection %+v", org, ch.Name, s)
					}
					names = append(names, s.Name)
				}
				var wantNames []string
				for _, c := range want {
					wantNames = append(wantNames, c.Name)
				}
				if !slices.Equal(names, wantNames) {
					t.Errorf("%s on %s: committed collections %v, want %v (%s)", org, ch.Name, names, wantNames, out)
				}
			}
		}
	})

	today := time.Now().In(mustZone(t, "Europe/Berlin")).Format(time.DateOnly)
	p := uuid.NewString()
	salts := map[string]string{} // collection -> the salt of its record on this case
	submit := func(org, fn string, transient map[string][]byte, args ...string) error {
		t.Helper()
		c := contractFor(t, org, "caseworker", "national")
		opts := []client.ProposalOption{client.WithArguments(args...)}
		if transient != nil {
			opts = append(opts, client.WithTransient(transient))
		}
		_, err := c.SubmitWithContext(ctx, fn, opts...)
		return err
	}
	payload := func(code domain.EventCode) string {
		b, _ := domain.EncodeCanonical(domain.EventInput{VocabularyVersion: 1, Code: code, OccurredOn: today})
		return string(b)
	}
	withDetails := func(coll string, f domain.EventFields) map[string][]byte {
		s := make([]byte, 32)
		_, _ = rand.Read(s)
		salts[coll] = hex.EncodeToString(s)
		b, _ := domain.EncodeCanonical(domain.DetailsInput{Collection: coll, Salt: salts[coll], EventFields: f})
		return map[string][]byte{domain.TransientDetailsKey: b}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(errorTextOf(err))
		}
	}
	must(submit("border-police", api.FnRegisterCase, nil, uuid.NewString(), p, today))
	must(submit("border-police", api.FnRecordEvent, withDetails("national-agencies", domain.EventFields{EurodacHit: domain.EurodacCategory1}),
		uuid.NewString(), p, payload(domain.EvIdentityChecked)))
	must(submit("asylum-office", api.FnRecordEvent, nil, uuid.NewString(), p, payload(domain.EvFileCreated)))
	must(submit("asylum-office", api.FnRecordEvent, nil, uuid.NewString(), p, payload(domain.EvApplicationLodged)))
	must(submit("asylum-office", api.FnRecordEvent, withDetails("national-decision", domain.EventFields{Outcome: domain.OutcomeRejected}),
		uuid.NewString(), p, payload(domain.EvDecisionIssued)))

	// Bad input, straight to the peers: refused, nothing written.
	t.Run("refusals", func(t *testing.T) {
		// The network generates the chaincode configuration with withheld details refused as
		// arguments (arguments are stored in the block for every member).
		cfg, err := api.LoadChaincodeConfig(itNet.ChaincodeConfigPath())
		if err != nil || !cfg.Visibility.RefusePublicDetails {
			t.Fatalf("generated chaincode config: refusePublicDetails %v (%v)", cfg.Visibility.RefusePublicDetails, err)
		}
		publicOutcome, _ := domain.EncodeCanonical(domain.EventInput{VocabularyVersion: 1, Code: domain.EvDecisionIssued, OccurredOn: today,
			EventFields: domain.EventFields{Outcome: domain.OutcomeInadmissible}})
		before, _ := fabric.Height(ctx, "auditor", "national")
		for _, c := range []struct {
			name, org, want string
			tr              map[string][]byte
			payload         string
		}{
			{"details for an audience the caller is not part of", "border-police", "FORBIDDEN", withDetailsNoSave("national-decision", domain.EventFields{Outcome: domain.OutcomeRejected}), payload(domain.EvDecisionIssued)},
			{"a collection that does not exist", "asylum-office", "no such collection", withDetailsNoSave("national-secrets", domain.EventFields{Outcome: domain.OutcomeRejected}), payload(domain.EvDecisionIssued)},
			{"a withheld detail sent as a public argument", "asylum-office", "INVALID_ARGUMENT: outcome: a withheld detail sent as a public argument", nil, string(publicOutcome)},
		} {
			err := submit(c.org, api.FnRecordEvent, c.tr, uuid.NewString(), p, c.payload)
			if err == nil || !strings.Contains(errorTextOf(err), c.want) {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
		after, _ := fabric.Height(ctx, "auditor", "national")
		if after != before {
			t.Errorf("refused proposals changed the height %d -> %d", before, after)
		}
	})

	// What each agency's own peer answers.
	t.Run("timelines per agency", func(t *testing.T) {
		for _, c := range []struct {
			org, role    string
			hit, outcome string
		}{
			{"asylum-office", "caseworker", "CATEGORY_1", "REJECTED"},
			{"immigration-authority", "caseworker", "CATEGORY_1", "REJECTED"},
			{"border-police", "caseworker", "CATEGORY_1", ""},
			{"auditor", "auditor", "", ""},
		} {
			var evs []domain.Event
			deadline := time.Now().Add(30 * time.Second)
			for {
				b, err := fabric.Query(ctx, c.org, c.role, "national", api.FnGetTimeline, p, "", "")
				if err != nil {
					t.Fatal(err)
				}
				var page api.Page[domain.Event]
				_ = json.Unmarshal(b, &page)
				evs = page.Items
				// Dissemination to a member that did not endorse may lag the block by a moment.
				if len(evs) == 5 && string(evs[1].EurodacHit) == c.hit && string(evs[4].Outcome) == c.outcome || time.Now().After(deadline) {
					break
				}
				time.Sleep(time.Second)
			}
			if len(evs) != 5 || evs[1].Withheld != "national-agencies" || evs[4].Withheld != "national-decision" ||
				string(evs[1].EurodacHit) != c.hit || string(evs[4].Outcome) != c.outcome {
				b, _ := json.Marshal(evs)
				t.Errorf("%s sees %s", c.org, b)
			}
		}
	})

	t.Run("raw files hold each record only at its audience's peers", func(t *testing.T) {
		for coll, salt := range salts {
			members := collectionMembers(t, coll)
			for _, o := range desc.Orgs {
				found := len(peerFilesContaining(t, o.Name, salt)) > 0
				if want := slices.Contains(members, o.MSPID); found != want {
					t.Errorf("%s record (salt %s…): found at %s = %v, want %v", coll, salt[:8], o.Name, found, want)
				}
			}
		}
	})

	// Erasure: the holders are the border police and the asylum office. Their gateways' erasure
	// executors confirm by themselves when they run; otherwise each holder confirms here (the
	// border police last: a holder outside the decision's audience completes the erasure).
	must(submit("border-police", api.FnRequestErasure, nil, uuid.NewString(), p, today))
	complete := time.Now().Add(90 * time.Second)
	for {
		b, err := fabric.Query(ctx, "auditor", "auditor", "national", api.FnGetErasureStatus, p)
		if err != nil {
			t.Fatal(err)
		}
		var st api.ErasureStatus
		_ = json.Unmarshal(b, &st)
		if st.Complete {
			break
		}
		if time.Now().After(complete) {
			t.Fatalf("erasure not complete: %+v", st)
		}
		for _, org := range []string{"asylum-office", "border-police"} {
			if slices.Contains(st.Pending, itNet.Description().Orgs[slices.IndexFunc(desc.Orgs, func(o network.Org) bool { return o.Name == org })].MSPID) {
				if err := submit(org, api.FnConfirmErasure, nil, uuid.NewString(), p, today); err != nil {
					t.Logf("%s confirms: %s", org, errorTextOf(err))
				}
			}
		}
		time.Sleep(time.Second)
	}

	t.Run("after the erasure", func(t *testing.T) {
		for _, o := range []string{"asylum-office", "immigration-authority", "border-police"} {
			b, err := fabric.Query(ctx, o, "caseworker", "national", api.FnGetTimeline, p, "", "")
			if err != nil {
				t.Fatal(err)
			}
			var page api.Page[domain.Event]
			_ = json.Unmarshal(b, &page)
			if len(page.Items) < 5 || page.Items[1].EurodacHit != "" || page.Items[4].Outcome != "" || page.Items[4].Withheld != "national-decision" {
				t.Errorf("%s after erasure: %+v", o, page.Items)
			}
		}
		// Measured limit (docs/visibility.md, "Purge and the peers' files"): PurgePrivateData
		// deletes the records from the private data store, the private state and the transient
		// store, but the LevelDB journals of those stores keep the old bytes until LevelDB
		// compacts them, which Fabric gives no means to force. What must hold: they are in no
		// other file (blocks, history, snapshots) and at no peer outside the audience.
		allowed := []string{"ledgersData/pvtdataStore/", "ledgersData/stateLeveldb/", "transientstore/"}
		for coll, salt := range salts {
			members := collectionMembers(t, coll)
			for _, o := range desc.Orgs {
				files := peerFilesContaining(t, o.Name, salt)
				for _, f := range files {
					leveldb := strings.HasSuffix(f, ".log") || strings.HasSuffix(f, ".ldb")
					if !slices.ContainsFunc(allowed, func(a string) bool { return strings.HasPrefix(f, a) }) || !leveldb || !slices.Contains(members, o.MSPID) {
						t.Errorf("%s record at %s in %s after the purge", coll, o.Name, f)
					}
				}
				if len(files) > 0 {
					t.Logf("%s record at %s after the purge, until LevelDB compacts: %v", coll, o.Name, files)
				}
			}
		}
	})

	t.Run("the auditor's verification passes after the purge", func(t *testing.T) {
		upServices(t)
		var rep struct {
			Intact   bool `json:"intact"`
			Channels []struct {
				Channel string `json:"channel"`
				Intact  bool   `json:"intact"`
			} `json:"channels"`
		}
		gatewayOf(t, "auditor").ok(200, "auditor", "POST", "/v1/audit/verification", nil, &rep)
		if !rep.Intact || len(rep.Channels) != 2 {
			t.Fatalf("verification: %+v", rep)
		}
	})
}

func withDetailsNoSave(coll string, f domain.EventFields) map[string][]byte {
	s := make([]byte, 32)
	_, _ = rand.Read(s)
	b, _ := domain.EncodeCanonical(domain.DetailsInput{Collection: coll, Salt: hex.EncodeToString(s), EventFields: f})
	return map[string][]byte{domain.TransientDetailsKey: b}
}

func collectionMembers(t *testing.T, coll string) []string {
	desc := itNet.Description()
	for _, ch := range desc.Channels {
		cs, err := desc.PrivateDataMembers(ch)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := cs[coll]; ok {
			return m
		}
	}
	t.Fatalf("no collection %s", coll)
	return nil
}

// peerFilesContaining lists the files under org's peer data folder that hold s.
func peerFilesContaining(t *testing.T, org, s string) []string {
	t.Helper()
	dir := filepath.Join(itNet.Root(), "orgs", org, "peer0", "data")
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // removed meanwhile
		}
		if bytes.Contains(b, []byte(s)) {
			rel, _ := filepath.Rel(dir, path)
			found = append(found, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// errorTextOf is the error with every detail the peers attached (the chaincode's "KIND: message").
func errorTextOf(err error) string {
	parts := []string{err.Error()}
	if st, ok := status.FromError(err); ok {
		for _, d := range st.Details() {
			parts = append(parts, fmt.Sprint(d))
		}
	}
	return strings.Join(parts, "; ")
}
