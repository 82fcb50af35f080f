//go:build integration

package test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hyperledger/fabric-gateway/pkg/client"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/network"

	"github.com/caseledger/caseledger/test/framework"
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
	salts := map[string]string{}                  // collection -> the salt of its record on this case
	records := map[string]domain.PrivateDetails{} // collection -> the record the chaincode writes
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
			t.Fatal(framework.ErrorText(err))
		}
	}
	must(submit("border-police", api.FnRegisterCase, nil, uuid.NewString(), p, today))
	must(submit("border-police", api.FnRecordEvent, withDetails("national-agencies", domain.EventFields{EurodacHit: domain.EurodacCategory1}),
		uuid.NewString(), p, payload(domain.EvIdentityChecked)))
	records["national-agencies"] = domain.PrivateDetails{Pseudonym: p, Seq: 2, Code: domain.EvIdentityChecked, Salt: salts["national-agencies"],
		EventFields: domain.EventFields{EurodacHit: domain.EurodacCategory1}}
	must(submit("asylum-office", api.FnRecordEvent, nil, uuid.NewString(), p, payload(domain.EvFileCreated)))
	must(submit("asylum-office", api.FnRecordEvent, nil, uuid.NewString(), p, payload(domain.EvApplicationLodged)))
	must(submit("asylum-office", api.FnRecordEvent, withDetails("national-decision", domain.EventFields{Outcome: domain.OutcomeRejected}),
		uuid.NewString(), p, payload(domain.EvDecisionIssued)))
	records["national-decision"] = domain.PrivateDetails{Pseudonym: p, Seq: 5, Code: domain.EvDecisionIssued, Salt: salts["national-decision"],
		EventFields: domain.EventFields{Outcome: domain.OutcomeRejected}}
	// A control case whose details are not erased: after the compaction the scan must still find
	// its record at its audience's peers, or a scan finding nothing would prove nothing.
	q := uuid.NewString()
	must(submit("border-police", api.FnRegisterCase, nil, uuid.NewString(), q, today))
	controlSalt := saltHex()
	controlDetails, _ := domain.EncodeCanonical(domain.DetailsInput{Collection: "national-agencies", Salt: controlSalt,
		EventFields: domain.EventFields{EurodacHit: domain.EurodacCategory2}})
	must(submit("border-police", api.FnRecordEvent, map[string][]byte{domain.TransientDetailsKey: controlDetails},
		uuid.NewString(), q, payload(domain.EvIdentityChecked)))

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
			if err == nil || !strings.Contains(framework.ErrorText(err), c.want) {
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
	purgeLogFrom := map[string]int64{} // org -> size of its peer's log before the erasure
	for _, o := range desc.Orgs {
		if fi, err := os.Stat(itNet.Supervisor().LogFile(network.PeerNode(o.Name))); err == nil {
			purgeLogFrom[o.Name] = fi.Size()
		}
	}
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
					t.Logf("%s confirms: %s", org, framework.ErrorText(err))
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
	})

	// Purged values leave every file (docs/operations.md, "Compaction after erasures"): each
	// member peer applies the purge to its private data store (purgeInterval 1), then the
	// operator's maintenance step compacts every peer's LevelDB stores.
	t.Run("after the compaction no file holds a purged value", func(t *testing.T) {
		national, _ := desc.Channel("national")
		for _, org := range national.Members {
			waitPurgeLogged(t, org, purgeLogFrom[org])
		}
		for coll, salt := range salts {
			for _, o := range desc.Orgs {
				if files := peerFilesContaining(t, o.Name, salt); len(files) > 0 {
					t.Logf("%s record at %s after the purge, before the compaction: %v", coll, o.Name, files)
				}
			}
		}
		for _, org := range national.Members {
			rep, err := itNet.CompactPeer(ctx, org)
			if err != nil {
				t.Fatalf("compact %s: %v", org, err)
			}
			rewritten := 0
			for _, s := range rep.Stores {
				rewritten += s.Rewritten
			}
			t.Logf("compacted %s: %d stores (%d keys rewritten), peer down %s, caught up after %s",
				org, len(rep.Stores), rewritten, rep.Down.Round(time.Millisecond), rep.CaughtUp.Round(time.Millisecond))
		}
		for coll, salt := range salts {
			for _, o := range desc.Orgs {
				files, err := network.FilesHolding(itNet.PeerDataDir(o.Name), []byte(salt))
				if err != nil {
					t.Fatal(err)
				}
				if len(files) > 0 {
					t.Errorf("%s record (salt %s…) at %s after the purge and compaction: %v", coll, salt[:8], o.Name, files)
				}
			}
		}
		// The control record is in the compacted (Snappy-compressed) tables of exactly its
		// audience's peers: the scan sees inside them.
		members := collectionMembers(t, "national-agencies")
		for _, o := range desc.Orgs {
			files, err := network.FilesHolding(itNet.PeerDataDir(o.Name), []byte(controlSalt))
			if err != nil {
				t.Fatal(err)
			}
			if want := slices.Contains(members, o.MSPID); (len(files) > 0) != want {
				t.Errorf("control record at %s: %v, want found = %v", o.Name, files, want)
			}
		}
		// The hashes stay on chain: each record's SHA-256 (what every peer's block holds in the
		// transaction's hashed write set) is in every national member's block files.
		for coll, rec := range records {
			b, err := domain.EncodeCanonical(rec)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			for _, org := range national.Members {
				files, err := network.FilesHolding(filepath.Join(itNet.PeerDataDir(org), "ledgersData", "chains", "chains", "national"), sum[:])
				if err != nil {
					t.Fatal(err)
				}
				if len(files) == 0 {
					t.Errorf("%s record's hash not in %s's blocks", coll, org)
				}
			}
		}
		// Every restarted peer answers again: no details of the erased case, the control case's
		// details to its audience.
		for _, org := range []string{"asylum-office", "immigration-authority", "border-police"} {
			evs := timelineOf(t, ctx, org, p)
			if len(evs) < 5 || evs[1].EurodacHit != "" || evs[4].Outcome != "" || evs[4].Withheld != "national-decision" {
				t.Errorf("%s after compaction: %+v", org, evs)
			}
			if evs := timelineOf(t, ctx, org, q); len(evs) != 2 || evs[1].EurodacHit != domain.EurodacCategory2 {
				t.Errorf("%s: control case after compaction: %+v", org, evs)
			}
		}
	})

	t.Run("the auditor's verification passes after the purge", func(t *testing.T) {
		upServices(t)
		var rep api.AuditReport
		gatewayOf(t, "auditor").ok(200, "auditor", "POST", "/v1/audit/verification", nil, &rep)
		if !rep.Intact || len(rep.Channels) != 2 {
			for _, cr := range rep.Channels {
				t.Logf("%s: %+v %s", cr.Channel, cr.FirstInconsistency, cr.Error)
			}
			t.Fatalf("verification: %+v", rep)
		}
		// The auditor's peer (hashes only) held the hash the chain committed for every live
		// record — the control case's among them — and none for the purged ones, this case's two.
		for _, cr := range rep.Channels {
			t.Logf("%s: %d private records verified, %d purged", cr.Channel, cr.PrivateRecords, cr.PrivateRecordsPurged)
			if cr.Channel == "national" && (cr.PrivateRecords < 1 || cr.PrivateRecordsPurged < 2) {
				t.Errorf("national: %d private records verified, %d purged; want the control case's and this case's two",
					cr.PrivateRecords, cr.PrivateRecordsPurged)
			}
		}
	})
}

func withDetailsNoSave(coll string, f domain.EventFields) map[string][]byte {
	b, _ := domain.EncodeCanonical(domain.DetailsInput{Collection: coll, Salt: saltHex(), EventFields: f})
	return map[string][]byte{domain.TransientDetailsKey: b}
}

// saltHex is a fresh record salt (32 random bytes, lower-case hex): a value unique to its record.
func saltHex() string {
	s := make([]byte, 32)
	_, _ = rand.Read(s)
	return hex.EncodeToString(s)
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

// peerFilesContaining lists the files under org's peer filesystem path that hold s, raw or in
// a decoded LevelDB table or journal (network.FilesHolding).
func peerFilesContaining(t *testing.T, org, s string) []string {
	t.Helper()
	found, err := network.FilesHolding(itNet.PeerDataDir(org), []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// waitPurgeLogged waits until org's peer logs, after offset from in its log, that it removed
// purged private data from its private data store (ledger.pvtdataStore.purgedKeyAuditLogging).
func waitPurgeLogged(t *testing.T, org string, from int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := os.ReadFile(itNet.Supervisor().LogFile(network.PeerNode(org)))
		if err == nil && int64(len(b)) >= from && bytes.Contains(b[from:], []byte("Purged private data from private data storage")) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's peer logged no purge from its private data store", org)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// timelineOf is a case's timeline as org's caseworker reads it on its own peer.
func timelineOf(t *testing.T, ctx context.Context, org, p string) []domain.Event {
	t.Helper()
	b, err := fabric.Query(ctx, org, "caseworker", "national", api.FnGetTimeline, p, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var page api.Page[domain.Event]
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
