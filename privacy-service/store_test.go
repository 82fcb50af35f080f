package privacy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

var testDomains = []string{"national", "dublin"}

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testKeyring(t testing.TB) *Keyring {
	t.Helper()
	k, err := NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openTestStore(t testing.TB, dir string, kek KeyWrapper, clock *fakeClock) *Store {
	t.Helper()
	opts := Options{Dir: dir, Domains: testDomains, KEK: kek}
	if clock != nil {
		opts.Now = clock.Now
	}
	s, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func newTestStore(t testing.TB) *Store {
	t.Helper()
	s := openTestStore(t, t.TempDir(), testKeyring(t), newFakeClock())
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPseudonymizeIsRandomAndIdempotent(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	p1, created, err := s.Pseudonymize(ctx, "national", "BAMF-2026-0001")
	if err != nil || !created {
		t.Fatalf("first Pseudonymize: %q %v %v", p1, created, err)
	}
	if _, err := ParsePseudonym(p1); err != nil {
		t.Fatalf("pseudonym %q is not a canonical v4 UUID: %v", p1, err)
	}
	p2, created, err := s.Pseudonymize(ctx, "national", "BAMF-2026-0001")
	if err != nil || created || p2 != p1 {
		t.Fatalf("second Pseudonymize = %q created=%v err=%v, want %q false nil", p2, created, err, p1)
	}
	// Same reference in another domain: a different, unrelated pseudonym.
	p3, created, err := s.Pseudonymize(ctx, "dublin", "BAMF-2026-0001")
	if err != nil || !created || p3 == p1 {
		t.Fatalf("dublin Pseudonymize = %q %v %v (national %q)", p3, created, err, p1)
	}
	// A fresh store gives a different pseudonym for the same reference: not derived.
	other := newTestStore(t)
	p4, _, err := other.Pseudonymize(ctx, "national", "BAMF-2026-0001")
	if err != nil || p4 == p1 {
		t.Fatalf("pseudonym looks derived from the reference: %q vs %q (%v)", p4, p1, err)
	}
}

func TestConcurrentPseudonymizeSameRef(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	const n = 32
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, _, err := s.Pseudonymize(ctx, "national", fmt.Sprintf("REF-%d", i%4))
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		}()
	}
	wg.Wait()
	for i := range n {
		if got[i] != got[i%4] {
			t.Fatalf("ref %d got two pseudonyms %q and %q", i%4, got[i], got[i%4])
		}
	}
	if c := s.Stats().Cases; c != 4 {
		t.Fatalf("cases = %d, want 4", c)
	}
}

func TestOperations(t *testing.T) { runVaultOperations(t, newTestStore(t)) }

// runVaultOperations is the behaviour every Vault (Store, Client) must show.
func runVaultOperations(t *testing.T, s Vault) {
	ctx := context.Background()
	pN, _, err := s.Pseudonymize(ctx, "national", "F-1")
	if err != nil {
		t.Fatal(err)
	}
	external := uuid.NewString()

	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"resolve ref", func() error {
			p, err := s.ResolveRef(ctx, "national", "F-1")
			if err == nil && p != pN {
				return fmt.Errorf("got %q want %q", p, pN)
			}
			return err
		}, nil},
		{"resolve unknown ref", func() error { _, err := s.ResolveRef(ctx, "national", "F-404"); return err }, ErrNotFound},
		{"unknown domain", func() error { _, err := s.ResolveRef(ctx, "mars", "F-1"); return err }, ErrUnknownDomain},
		{"empty ref", func() error { _, _, err := s.Pseudonymize(ctx, "national", ""); return err }, ErrInvalidInput},
		{"oversized ref", func() error {
			_, _, err := s.Pseudonymize(ctx, "national", string(make([]byte, MaxLocalRefLen+1)))
			return err
		}, ErrTooLarge},
		{"control char", func() error { _, _, err := s.Pseudonymize(ctx, "national", "F\n1"); return err }, ErrInvalidInput},
		{"bad pseudonym", func() error { _, err := s.ResolvePseudonym(ctx, "national", "not-a-uuid"); return err }, ErrInvalidInput},
		{"upper-case pseudonym", func() error {
			_, err := s.ResolvePseudonym(ctx, "national", "A"+pN[1:])
			return err
		}, ErrInvalidInput},
		{"unknown pseudonym", func() error { _, err := s.ResolvePseudonym(ctx, "national", uuid.NewString()); return err }, ErrNotFound},
		{"bind second ref", func() error {
			created, err := s.Bind(ctx, "national", pN, "REG-77")
			if err == nil && !created {
				return errors.New("not created")
			}
			return err
		}, nil},
		{"bind again is a no-op", func() error {
			created, err := s.Bind(ctx, "national", pN, "REG-77")
			if err == nil && created {
				return errors.New("created twice")
			}
			return err
		}, nil},
		{"bind ref held elsewhere", func() error { _, err := s.Bind(ctx, "national", external, "F-1"); return err }, ErrConflict},
		{"resolve pseudonym", func() error {
			refs, err := s.ResolvePseudonym(ctx, "national", pN)
			if err == nil && !slices.Equal(refs, []string{"F-1", "REG-77"}) {
				return fmt.Errorf("refs %q", refs)
			}
			return err
		}, nil},
		{"link external", func() error { return s.Link(ctx, "national", pN, "dublin", external) }, nil},
		{"link again", func() error { return s.Link(ctx, "national", pN, "dublin", external) }, nil},
		{"link other", func() error { return s.Link(ctx, "national", pN, "dublin", uuid.NewString()) }, ErrConflict},
		{"link same domain", func() error { return s.Link(ctx, "national", pN, "national", uuid.NewString()) }, ErrInvalidInput},
		{"linked", func() error {
			p, err := s.Linked(ctx, "national", pN, "dublin")
			if err == nil && p != external {
				return fmt.Errorf("linked %q", p)
			}
			return err
		}, nil},
		{"linked back", func() error {
			p, err := s.Linked(ctx, "dublin", external, "national")
			if err == nil && p != pN {
				return fmt.Errorf("linked %q", p)
			}
			return err
		}, nil},
		{"linknew returns existing", func() error {
			p, created, err := s.LinkNew(ctx, "national", pN, "dublin")
			if err == nil && (p != external || created) {
				return fmt.Errorf("linknew %q %v", p, created)
			}
			return err
		}, nil},
		{"rectify", func() error { return s.Rectify(ctx, "national", pN, "REG-77", "REG-78") }, nil},
		{"rectified resolves", func() error {
			p, err := s.ResolveRef(ctx, "national", "REG-78")
			if err == nil && p != pN {
				return fmt.Errorf("got %q", p)
			}
			return err
		}, nil},
		{"old ref gone", func() error { _, err := s.ResolveRef(ctx, "national", "REG-77"); return err }, ErrNotFound},
		{"rectify missing old", func() error { return s.Rectify(ctx, "national", pN, "REG-77", "REG-79") }, ErrNotFound},
		{"rectify onto bound ref", func() error { return s.Rectify(ctx, "national", pN, "REG-78", "F-1") }, ErrConflict},
		{"anchor key stable", func() error {
			k1, err := s.AnchorKey(ctx, "national", pN)
			if err != nil {
				return err
			}
			k2, err := s.AnchorKey(ctx, "national", pN)
			if err != nil {
				return err
			}
			kd, err := s.AnchorKey(ctx, "dublin", external)
			if err != nil {
				return err
			}
			if len(k1) != 32 || !slices.Equal(k1, k2) || slices.Equal(k1, kd) {
				return errors.New("anchor keys not stable per entry or shared across domains")
			}
			return nil
		}, nil},
		{"export", func() error {
			ex, err := s.Export(ctx, "national", "F-1")
			if err != nil {
				return err
			}
			if len(ex.Entries) != 2 || len(ex.History) < 3 {
				return fmt.Errorf("export %+v", ex)
			}
			for _, h := range ex.History {
				if h.Action == "rectified" {
					return nil
				}
			}
			return errors.New("no rectification audit entry")
		}, nil},
		{"erase by dublin pseudonym erases all domains", func() error {
			er, err := s.ErasePseudonym(ctx, "dublin", external)
			if err == nil && len(er.Pseudonyms) != 2 {
				return fmt.Errorf("erasure %+v", er)
			}
			return err
		}, nil},
		{"erased national ref", func() error { _, err := s.ResolveRef(ctx, "national", "F-1"); return err }, ErrNotFound},
		{"erased national pseudonym", func() error { _, err := s.AnchorKey(ctx, "national", pN); return err }, ErrNotFound},
		{"erase twice", func() error { _, err := s.ErasePseudonym(ctx, "national", pN); return err }, ErrNotFound},
		{"linknew unknown", func() error { _, _, err := s.LinkNew(ctx, "national", pN, "dublin"); return err }, ErrNotFound},
	}
	for _, tc := range tests {
		err := tc.run()
		if tc.want == nil && err != nil {
			t.Fatalf("%s: unexpected error %v", tc.name, err)
		}
		if tc.want != nil && !errors.Is(err, tc.want) {
			t.Fatalf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestLinkMergesCasesAndLinkNew(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	pN, _, _ := s.Pseudonymize(ctx, "national", "F-1")
	pD, _, _ := s.Pseudonymize(ctx, "dublin", "DUB-1")
	if err := s.Link(ctx, "national", pN, "dublin", pD); err != nil {
		t.Fatal(err)
	}
	if c := s.Stats().Cases; c != 1 {
		t.Fatalf("cases after merge = %d, want 1", c)
	}
	er, err := s.EraseRef(ctx, "dublin", "DUB-1")
	if err != nil || len(er.Pseudonyms) != 2 {
		t.Fatalf("erase: %+v %v", er, err)
	}
	if _, err := s.ResolveRef(ctx, "national", "F-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("national ref survived erasure of the linked case: %v", err)
	}

	p2, _, _ := s.Pseudonymize(ctx, "national", "F-2")
	d2, created, err := s.LinkNew(ctx, "national", p2, "dublin")
	if err != nil || !created || d2 == p2 {
		t.Fatalf("LinkNew: %q %v %v", d2, created, err)
	}
	refs, err := s.ResolvePseudonym(ctx, "dublin", d2)
	if err != nil || len(refs) != 0 {
		t.Fatalf("linked entry refs %q %v", refs, err)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir, kr, clock := t.TempDir(), testKeyring(t), newFakeClock()
	s := openTestStore(t, dir, kr, clock)
	want := map[string]string{}
	for i := range 50 {
		ref := fmt.Sprintf("F-%03d", i)
		p, _, err := s.Pseudonymize(ctx, "national", ref)
		if err != nil {
			t.Fatal(err)
		}
		want[ref] = p
	}
	if err := s.Rectify(ctx, "national", want["F-007"], "F-007", "F-007b"); err != nil {
		t.Fatal(err)
	}
	want["F-007b"] = want["F-007"]
	delete(want, "F-007")
	if _, err := s.EraseRef(ctx, "national", "F-010"); err != nil {
		t.Fatal(err)
	}
	delete(want, "F-010")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir, kr, clock)
	defer s.Close()
	for ref, p := range want {
		got, err := s.ResolveRef(ctx, "national", ref)
		if err != nil || got != p {
			t.Fatalf("after reopen %s -> %q %v, want %q", ref, got, err, p)
		}
	}
	for _, gone := range []string{"F-007", "F-010"} {
		if _, err := s.ResolveRef(ctx, "national", gone); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s after reopen: %v, want not found", gone, err)
		}
	}
	// Another KEK cannot open the store's keys.
	s.Close()
	if _, err := Open(ctx, Options{Dir: dir, Domains: testDomains, KEK: testKeyring(t)}); err == nil {
		t.Fatal("opened with a foreign KEK")
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s := newTestStore(t)
	var all []string
	for i := range 25 {
		p, _, err := s.Pseudonymize(ctx, "national", fmt.Sprintf("L-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p)
	}
	if _, _, err := s.Pseudonymize(ctx, "dublin", "L-x"); err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	var got []string
	after := ""
	for {
		page, next, err := s.List(ctx, "national", after, 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if next == "" {
			break
		}
		after = next
	}
	if !slices.Equal(got, all) {
		t.Fatalf("list mismatch:\n got %q\nwant %q", got, all)
	}
	if _, _, err := s.List(ctx, "national", "", 0); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("limit 0: %v", err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	s := openTestStore(t, t.TempDir(), testKeyring(t), nil)
	s.Close()
	if _, _, err := s.Pseudonymize(context.Background(), "national", "X-1"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after close: %v", err)
	}
	if err := s.Ready(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready after close: %v", err)
	}
}
