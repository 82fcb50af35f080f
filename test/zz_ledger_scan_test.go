package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

var identifiersMu sync.Mutex

// noteRealIdentifiers adds identifiers a test handed to a gateway or privacy service, so the final
// block scan proves they never reached the ledger either.
func noteRealIdentifiers(ids ...string) {
	identifiersMu.Lock()
	defer identifiersMu.Unlock()
	realIdentifiers = append(realIdentifiers, ids...)
}

// TestNoPersonalDataOnLedger reads every block of both channels with the peer CLI (the auditor's
// peer, an independent client) and looks for the real identifiers the tests used, their unkeyed
// SHA-256 (hex and base64) and base64 forms. Its file name sorts last, so it runs after every test
// that writes.
func TestNoPersonalDataOnLedger(t *testing.T) {
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
		t.Logf("%s: %d blocks scanned, none holds a real identifier", ch, height)
	}
}
