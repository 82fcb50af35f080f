//go:build integration

package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// scanForPersonalData (TestNoPersonalDataOnLedger) reads every block of both channels with the
// peer CLI (the auditor's peer, an independent client) and looks for the real identifiers the tests
// used, their unkeyed SHA-256 (hex and base64) and base64 forms, then every raw ledger file of every
// node (scanLedgerFiles) and every log (scanLogs). TestMain runs it after every other test
// (afterAllTests).
func scanForPersonalData(t *testing.T) {
	ctx := context.Background()
	var needles [][]byte
	identifiersMu.Lock()
	ids := append([]string(nil), realIdentifiers...)
	identifiersMu.Unlock()
	for _, id := range ids {
		sum := sha256.Sum256([]byte(id))
		needles = append(needles, []byte(id), []byte(hex.EncodeToString(sum[:])),
			[]byte(base64.StdEncoding.EncodeToString(sum[:])), []byte(base64.StdEncoding.EncodeToString([]byte(id))))
	}
	dir := t.TempDir()
	for _, ch := range []string{"national", "dublin"} {
		height, err := itNet.PeerHeight(ctx, "auditor", ch)
		if err != nil {
			t.Fatal(err)
		}
		if height < 5 {
			t.Fatalf("%s has only %d blocks: the scan would prove nothing", ch, height)
		}
		for n := uint64(0); n < height; n++ {
			f := filepath.Join(dir, fmt.Sprintf("%s-%d.block", ch, n))
			if _, err := itNet.PeerCLI(ctx, "auditor", "admin", "channel", "fetch", strconv.FormatUint(n, 10), f, "-c", ch); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, needle := range needles {
				if bytes.Contains(b, needle) {
					t.Errorf("block %d of %s contains %q", n, ch, needle)
				}
			}
		}
		t.Logf("%s: %d blocks scanned", ch, height)
	}
	t.Run("raw files of every peer and orderer", scanLedgerFiles)
	t.Run("logs of every node and service", scanLogs)
}

// scanLedgerFiles is TestNoPersonalDataOnLedger's second half: the raw files of every peer (block files, state and
// history databases, private data and transient stores) and every orderer (block files, Raft WAL
// and snapshots) hold none of the identifiers and markers the tests sent — in plain text, hex, or
// base64 at any alignment — nor their unkeyed SHA-256. This also covers transactions that were
// ordered but invalidated (they stay in the blocks) and the orderers' own copies.
func scanLedgerFiles(t *testing.T) {
	ns := identifierNeedles()
	root := itNet.Root()
	peers, err := filepath.Glob(filepath.Join(root, "orgs", "*", "peer0", "data"))
	if err != nil {
		t.Fatal(err)
	}
	orderers, err := filepath.Glob(filepath.Join(root, "orgs", itNet.Description().OrdererOrg.Name, "orderer*", "data"))
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != len(itNet.Description().Orgs) || len(orderers) != itNet.Description().OrdererOrg.Orderers {
		t.Fatalf("found %d peer and %d orderer data folders under %s", len(peers), len(orderers), root)
	}
	// A control: every node's files must show a transaction argument in plain text, or the scan
	// could not see one either.
	control := []byte("cases:RegisterCase")
	for _, dir := range append(peers, orderers...) {
		var files, size int
		seenControl := false
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) { // a file the node removed meanwhile
					return nil
				}
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			// Raft WAL files are preallocated with zeros: scan what was written.
			b = bytes.TrimRight(b, "\x00")
			files++
			size += len(b)
			if bytes.Contains(b, control) {
				seenControl = true
			}
			for _, h := range ns.find(b) {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s holds %q (a form of %q)", rel, h.form, h.id)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, dir)
		if !seenControl {
			t.Errorf("%s: no file shows %q: the scan cannot see transaction arguments there", rel, control)
		}
		t.Logf("%s: %d files, %d bytes scanned for %d needles", rel, files, size, ns.count)
	}
}

// scanLogs: the logs of every process of the network (CAs, orderers, peers, chaincode servers,
// privacy services, gateways) hold none of the identifiers either, although the tests sent many of
// them to gateways and peers that refused them.
func scanLogs(t *testing.T) {
	ns := identifierNeedles()
	logs, err := filepath.Glob(filepath.Join(itNet.Root(), "logs", "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) == 0 {
		t.Fatal("no logs found")
	}
	size := 0
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		size += len(b)
		for _, h := range ns.find(b) {
			t.Errorf("%s holds %q (a form of %q)", filepath.Base(f), h.form, h.id)
		}
	}
	t.Logf("%d logs, %d bytes scanned for %d needles", len(logs), size, ns.count)
}

// identifierNeedles: every identifier the tests noted, in every form the scans look for.
func identifierNeedles() *needleSet {
	identifiersMu.Lock()
	ids := append([]string(nil), realIdentifiers...)
	identifiersMu.Unlock()
	ns := newNeedleSet()
	for _, id := range ids {
		for _, f := range markerForms(id) {
			ns.add(f, id)
		}
		sum := sha256.Sum256([]byte(id))
		ns.add(hex.EncodeToString(sum[:]), id)
		ns.add(base64.StdEncoding.EncodeToString(sum[:]), id)
	}
	return ns
}

// needleSet finds many byte strings in one pass: candidates by their first 8 bytes.
type needleSet struct {
	first2 [1 << 16]bool
	by8    map[uint64][]needle
	count  int
}

type needle struct{ form, id string }

func newNeedleSet() *needleSet { return &needleSet{by8: map[uint64][]needle{}} }

func (s *needleSet) add(form, id string) {
	if len(form) < 8 {
		return // too short to be told from noise; every identifier has a longer form
	}
	k := binary.LittleEndian.Uint64([]byte(form[:8]))
	for _, n := range s.by8[k] {
		if n.form == form {
			return
		}
	}
	s.first2[binary.LittleEndian.Uint16([]byte(form[:2]))] = true
	s.by8[k] = append(s.by8[k], needle{form, id})
	s.count++
}

func (s *needleSet) find(b []byte) []needle {
	var out []needle
	seen := map[string]bool{}
	for i := 0; i+8 <= len(b); i++ {
		if !s.first2[binary.LittleEndian.Uint16(b[i:])] {
			continue
		}
		for _, n := range s.by8[binary.LittleEndian.Uint64(b[i:])] {
			if !seen[n.form] && bytes.HasPrefix(b[i:], []byte(n.form)) {
				seen[n.form] = true
				out = append(out, n)
			}
		}
	}
	return out
}
