package privacy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

const (
	crashDirEnv = "PRIVACY_CRASH_CHILD_DIR"
	crashKEKEnv = "PRIVACY_CRASH_CHILD_KEK"
	crashGenEnv = "PRIVACY_CRASH_CHILD_GEN"
)

// TestCrashChild is the child process of TestCrashLosesNothingAcknowledged:
// it writes as fast as it can and prints one line per acknowledged
// operation, until it is killed (or a bound of 60 s).
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("child process of TestCrashLosesNothingAcknowledged")
	}
	ctx := context.Background()
	kek, err := LoadKeyringFile(os.Getenv(crashKEKEnv))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Options{Dir: dir, Domains: testDomains, KEK: kek})
	if err != nil {
		t.Fatal(err)
	}
	gen := os.Getenv(crashGenEnv)
	var outMu sync.Mutex
	ack := func(format string, a ...any) {
		line := fmt.Sprintf("ACK "+format+"\n", a...)
		outMu.Lock()
		os.Stdout.WriteString(line) // one write(2) per line: a kill never splits an ack
		outMu.Unlock()
	}
	deadline := time.Now().Add(60 * time.Second)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				ref := fmt.Sprintf("G%s-%d-%d", gen, g, i)
				p, _, err := s.Pseudonymize(ctx, "national", ref)
				if err != nil {
					t.Error(err)
					return
				}
				ack("P %s %s", ref, p)
				switch i % 10 {
				case 3: // a second reference
					if _, err := s.Bind(ctx, "national", p, ref+"-reg"); err == nil {
						ack("P %s %s", ref+"-reg", p)
					}
				case 7: // erase an earlier case
					old := fmt.Sprintf("G%s-%d-%d", gen, g, i-4) // the one with two references
					// Announced first: an erasure in flight at the kill may
					// or may not have happened, and either is correct.
					ack("e %s", old)
					if _, err := s.EraseRef(ctx, "national", old); err == nil {
						ack("E %s", old)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestCrashLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	kekFile := filepath.Join(root, "kek.json")
	kek, err := CreateKeyringFile(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // ref -> pseudonym, "" = erased
	maybeErased := map[string]bool{}
	for gen := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashKEKEnv+"="+kekFile, fmt.Sprintf("%s=%d", crashGenEnv, gen))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acks := 0
		sc := bufio.NewScanner(stdout)
		killAt := 1500 + 700*gen
		timeout := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "ACK ") {
				continue
			}
			f := strings.Fields(line)
			switch {
			case f[1] == "P" && len(f) == 4:
				want[f[2]] = f[3]
			case f[1] == "e" && len(f) == 3:
				maybeErased[f[2]] = true
				maybeErased[f[2]+"-reg"] = true
			case f[1] == "E" && len(f) == 3:
				want[f[2]] = ""
				// The erased case's second reference went with it.
				if _, ok := want[f[2]+"-reg"]; ok {
					want[f[2]+"-reg"] = ""
				}
			default:
				continue
			}
			acks++
			if acks == killAt {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
			}
		}
		timeout.Stop()
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child did not die by SIGKILL: %v (acks %d)", err, acks)
		}
		if acks < killAt {
			t.Fatalf("child acknowledged only %d operations", acks)
		}

		// Restart and check every acknowledged outcome.
		s, err := Open(context.Background(), Options{Dir: dir, Domains: testDomains, KEK: kek})
		if err != nil {
			t.Fatalf("reopen after kill %d: %v", gen, err)
		}
		for ref, p := range want {
			got, err := s.ResolveRef(context.Background(), "national", ref)
			switch {
			case p != "" && maybeErased[ref] && errors.Is(err, ErrNotFound):
				want[ref] = "" // the unacknowledged erasure did complete
			case p == "" && !errors.Is(err, ErrNotFound):
				t.Fatalf("gen %d: acknowledged erasure of %s lost: %q %v", gen, ref, got, err)
			case p != "" && (err != nil || got != p):
				t.Fatalf("gen %d: acknowledged mapping %s -> %s lost: %q %v", gen, ref, p, got, err)
			}
		}
		// Every used key slot belongs to a live record (no orphan survived
		// reconciliation), so nothing shredded is still readable.
		inUse, err := s.KEKVersionsInUse(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if int64(inUse[1]) != s.Stats().Cases {
			t.Fatalf("gen %d: %d used key slots for %d cases", gen, inUse[1], s.Stats().Cases)
		}
		s.Close()
		t.Logf("gen %d: killed after %d acknowledged operations; %d outcomes verified", gen, acks, len(want))
	}
}

// TestOpenFinishesInterruptedShredding builds by hand what a crash between
// the commit steps leaves behind and checks that Open cleans it up.
func TestOpenFinishesInterruptedShredding(t *testing.T) {
	ctx := context.Background()
	dir, kr := t.TempDir(), testKeyring(t)
	s := openTestStore(t, dir, kr, nil)
	p, _, err := s.Pseudonymize(ctx, "national", "LIVE-1")
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	sf, _, err := openSlotFile(filepath.Join(dir, "keys.slots"))
	if err != nil {
		t.Fatal(err)
	}
	orphan := slotEntry{version: 1, id: recordID{1, 2, 3}}                     // replaced record, slot not yet zeroed
	restoring := slotEntry{version: 1, id: recordID{4, 5, 6}, restoring: true} // restore cut short
	if err := errors.Join(sf.write(5, &orphan), sf.write(6, &restoring), sf.sync(), sf.close()); err != nil {
		t.Fatal(err)
	}
	keyless := recordID{7, 8, 9} // record whose key was already shredded
	db, err := badger.Open(badger.DefaultOptions(filepath.Join(dir, "badger")).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set(recKey(keyless), []byte{1, 2, 3}) }); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s = openTestStore(t, dir, kr, nil)
	if got, err := s.ResolveRef(ctx, "national", "LIVE-1"); err != nil || got != p {
		t.Fatalf("live mapping: %q %v", got, err)
	}
	inUse, err := s.KEKVersionsInUse(ctx)
	if err != nil || inUse[1] != 1 {
		t.Fatalf("key slots in use: %v %v", inUse, err)
	}
	tombs, err := s.tombs.readAll()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tombs[orphan.id]; !ok {
		t.Fatal("orphaned key slot not tombstoned")
	}
	if _, ok := tombs[keyless]; !ok {
		t.Fatal("keyless record not tombstoned")
	}
	if _, ok := tombs[restoring.id]; ok {
		t.Fatal("an unfinished restore was tombstoned: a retried restore could not bring it back")
	}
	err = s.db.View(func(txn *badger.Txn) error { _, err := txn.Get(recKey(keyless)); return err })
	if !errors.Is(err, badger.ErrKeyNotFound) {
		t.Fatalf("keyless record still in Badger: %v", err)
	}
	// The freed slots are reused.
	if _, _, err := s.Pseudonymize(ctx, "national", "LIVE-2"); err != nil {
		t.Fatal(err)
	}
	if s.slots.n != 7 {
		t.Fatalf("slot file grew to %d slots instead of reusing freed ones", s.slots.n)
	}
	s.Close()
}
