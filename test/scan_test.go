package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"regexp"
	"strings"
	"testing"
)

// afterAllTests runs TestNoPersonalDataOnLedger once every other test has written: TestMain calls
// it after m.Run, so the scan does not depend on the order of files or tests. It runs as a test of
// its own (its name is matched by -run like any other; `make fault` names it), so it reports,
// logs and fails as one.
func afterAllTests() bool {
	const name = "TestNoPersonalDataOnLedger"
	// Not named by -run (or named by -skip): say nothing, as for any other test left out.
	if run := flag.Lookup("test.run").Value.String(); run != "" {
		if ok, _ := regexp.MatchString(strings.Split(run, "/")[0], name); !ok {
			return true
		}
	}
	if skip := flag.Lookup("test.skip").Value.String(); skip != "" {
		if ok, _ := regexp.MatchString(strings.Split(skip, "/")[0], name); ok {
			return true
		}
	}
	return testing.RunTests(func(pat, str string) (bool, error) { return regexp.MatchString(pat, str) },
		[]testing.InternalTest{{Name: name, F: scanForPersonalData}})
}

// scanForPersonalData reads every block of both channels as the auditor's peer (or in-process
// ledger) delivers them and looks for every identifier the tests noted (noteRealIdentifiers) in
// every form the scans know: plain, hex, base64 at any alignment, unkeyed SHA-256. On the real
// network it then reads every raw file of every node and every log (nodeScans).
func scanForPersonalData(t *testing.T) {
	ctx := context.Background()
	ns := identifierNeedles()
	for _, ch := range []string{"national", "dublin"} {
		height, err := cluster.Height(ctx, "auditor", ch)
		if err != nil {
			t.Fatal(err)
		}
		if height < 5 {
			t.Fatalf("%s has only %d blocks: the scan would prove nothing", ch, height)
		}
		// A control: the blocks must show a transaction's function name in plain text, or the
		// scan could not see an argument either.
		control, size := 0, 0
		for n := uint64(0); n < height; n++ {
			b, err := cluster.Block(ctx, "auditor", ch, n)
			if err != nil {
				t.Fatal(err)
			}
			size += len(b)
			if bytes.Contains(b, []byte("cases:RegisterCase")) {
				control++
			}
			for _, h := range ns.find(b) {
				t.Errorf("block %d of %s holds %q (a form of %q)", n, ch, h.form, h.id)
			}
		}
		if control == 0 {
			t.Errorf("%s: no block shows cases:RegisterCase: the scan cannot see transaction arguments", ch)
		}
		t.Logf("%s: %d blocks, %d bytes scanned for %d needles", ch, height, size, ns.count)
	}
	for _, s := range nodeScans() {
		t.Run(s.Name, s.F)
	}
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

// markerForms lists a marker as it may appear in a file: plain, hex (both cases), and base64 in
// both alphabets at each of the three alignments it can have inside a longer encoded text.
func markerForms(m string) []string {
	b := []byte(m)
	forms := []string{m, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b))}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for pad := 0; pad < 3; pad++ {
			s := enc.EncodeToString(append(make([]byte, pad), b...))
			// Drop the characters that depend on the padding bytes before and on what follows.
			start := (pad*8 + 5) / 6
			if pad == 0 {
				start = 0
			}
			end := ((pad + len(b)) * 8) / 6
			if start < end && end <= len(s) {
				forms = append(forms, s[start:end])
			}
		}
	}
	return forms
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
