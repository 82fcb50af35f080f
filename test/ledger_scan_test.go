//go:build integration

package test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// nodeScans are the scans of TestNoPersonalDataOnLedger only the real network has material for:
// every raw file of every peer and orderer, and every log of every node and service.
func nodeScans() []testing.InternalTest {
	return []testing.InternalTest{
		{Name: "raw files of every peer and orderer", F: scanLedgerFiles},
		{Name: "logs of every node and service", F: scanLogs},
	}
}

// scanLedgerFiles: the raw files of every peer (block files, state and
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
