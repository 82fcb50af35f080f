package privacy

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
)

// TestEraseEntryKeepsOtherDomains: an erasure requested on one channel
// erases that domain's entry only (its references and anchor key become
// unreadable on disk); the linked entry of the other domain still resolves,
// and erasing the last entry erases the case. Run in process and over the
// HTTP client.
func TestEraseEntryKeepsOtherDomains(t *testing.T) {
	for _, tc := range []struct {
		name  string
		vault func(t *testing.T) Vault
	}{
		{"store", func(t *testing.T) Vault { return newTestStore(t) }},
		{"client", func(t *testing.T) Vault { return newAPIFixture(t).client(t, "gateway") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			v := tc.vault(t)
			pN, _, err := v.Pseudonymize(ctx, "national", "NAT-KEEP-1")
			if err != nil {
				t.Fatal(err)
			}
			pD, _, err := v.LinkNew(ctx, "national", pN, "dublin")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Bind(ctx, "dublin", pD, "DUB-GONE-1"); err != nil {
				t.Fatal(err)
			}
			natKey, err := v.AnchorKey(ctx, "national", pN)
			if err != nil {
				t.Fatal(err)
			}
			er, err := v.EraseEntry(ctx, "dublin", pD)
			if err != nil {
				t.Fatal(err)
			}
			if want := []DomainPseudonym{{Domain: "dublin", Pseudonym: pD}}; !slices.Equal(er.Pseudonyms, want) {
				t.Fatalf("erased %v, want %v", er.Pseudonyms, want)
			}
			if _, err := v.ResolveRef(ctx, "dublin", "DUB-GONE-1"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("dublin reference after its entry's erasure: %v, want not found", err)
			}
			if _, err := v.Linked(ctx, "national", pN, "dublin"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("link after the dublin entry's erasure: %v, want not found", err)
			}
			if got, err := v.ResolveRef(ctx, "national", "NAT-KEEP-1"); err != nil || got != pN {
				t.Fatalf("national reference: %q, %v; want %s kept", got, err, pN)
			}
			if k, err := v.AnchorKey(ctx, "national", pN); err != nil || !slices.Equal(k, natKey) {
				t.Fatalf("national anchor key changed or lost: %v", err)
			}
			exp, err := v.Export(ctx, "national", "NAT-KEEP-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(exp.Entries) != 1 || !slices.ContainsFunc(exp.History, func(h HistoryItem) bool {
				return h.Action == "entry-erased" && h.Domain == "dublin"
			}) {
				t.Fatalf("export after entry erasure: %+v", exp)
			}
			if _, err := v.EraseEntry(ctx, "dublin", pD); !errors.Is(err, ErrNotFound) {
				t.Fatalf("repeated entry erasure: %v, want not found", err)
			}
			// The last entry takes the case.
			if _, err := v.EraseEntry(ctx, "national", pN); err != nil {
				t.Fatal(err)
			}
			if _, err := v.ResolveRef(ctx, "national", "NAT-KEEP-1"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("national reference after erasing the last entry: %v", err)
			}
		})
	}
}

// TestEraseEntryLeavesNothingOnDisk: the erased entry's reference is
// unreadable with every key held, the kept one still readable.
func TestEraseEntryLeavesNothingOnDisk(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	kr := testKeyring(t)
	s := openTestStore(t, dir, kr, newFakeClock())
	const keep, gone = "ENTRY-KEEP-4e1a", "ENTRY-GONE-9c2b"
	pN, _, err := s.Pseudonymize(ctx, "national", keep)
	if err != nil {
		t.Fatal(err)
	}
	pD, _, err := s.LinkNew(ctx, "national", pN, "dublin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bind(ctx, "dublin", pD, gone); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EraseEntry(ctx, "dublin", pD); err != nil {
		t.Fatal(err)
	}
	s.Close()
	plain, _ := forensic(t, dir, kr)
	if got := containsAny(plain, keep); len(got) == 0 {
		t.Fatal("scanner is blind: the kept reference is not found")
	}
	if got := containsAny(plain, gone, pD); len(got) > 0 {
		t.Fatalf("erased entry still readable on disk: %q", got)
	}
}
