package privacy

import (
	"context"
	"time"
)

// Vault is the pseudonym vault as the gateway sees it. Store implements it in
// process and Client over HTTPS, so a gateway can be tested against either.
// Every method fails with an error wrapping one of the sentinel errors
// (ErrInvalidInput, ErrUnknownDomain, ErrNotFound, ErrConflict, ...).
type Vault interface {
	// Pseudonymize returns the pseudonym of localRef in domain, creating a
	// random one (created=true) if the reference has none.
	Pseudonymize(ctx context.Context, domain, localRef string) (pseudonym string, created bool, err error)
	// Bind attaches localRef to pseudonym in domain, creating the local
	// entry if the pseudonym came from another agency. Binding a reference
	// already bound to that pseudonym is a no-op (created=false); one bound to
	// another pseudonym is ErrConflict.
	Bind(ctx context.Context, domain, pseudonym, localRef string) (created bool, err error)
	// ResolveRef returns the pseudonym of localRef in domain.
	ResolveRef(ctx context.Context, domain, localRef string) (pseudonym string, err error)
	// ResolvePseudonym returns the local references bound to pseudonym (may
	// be empty for a linked entry without references).
	ResolvePseudonym(ctx context.Context, domain, pseudonym string) (localRefs []string, err error)
	// Link records that fromPseudonym and toPseudonym are the same case in two
	// domains. toPseudonym may be unknown locally (it then joins the case
	// without references). Linking twice is a no-op; a different pseudonym
	// already linked in toDomain is ErrConflict.
	Link(ctx context.Context, fromDomain, fromPseudonym, toDomain, toPseudonym string) error
	// LinkNew returns the pseudonym linked to fromPseudonym in toDomain,
	// creating a fresh random one if there is none (two-step pseudonymisation:
	// the agency that opens the Dublin procedure).
	LinkNew(ctx context.Context, fromDomain, fromPseudonym, toDomain string) (toPseudonym string, created bool, err error)
	// Linked returns the pseudonym linked to fromPseudonym in toDomain.
	Linked(ctx context.Context, fromDomain, fromPseudonym, toDomain string) (toPseudonym string, err error)
	// AnchorKey returns the 32-byte HMAC-SHA256 key used to anchor document
	// hashes of this case on this domain's channel. It is erased with the case.
	AnchorKey(ctx context.Context, domain, pseudonym string) ([]byte, error)
	// Rectify replaces oldRef by newRef (GDPR art. 16). The case keeps an
	// audit entry without either value, and the old value becomes
	// unreadable everywhere on disk.
	Rectify(ctx context.Context, domain, pseudonym, oldRef, newRef string) error
	// ErasePseudonym erases the whole case (all domains) beyond recovery and
	// returns only after the erasure is on disk (GDPR art. 17).
	ErasePseudonym(ctx context.Context, domain, pseudonym string) (Erasure, error)
	// EraseEntry erases only the case's entry in domain (its references and
	// anchor key) beyond recovery and keeps the entries of other domains;
	// the last entry erases the whole case. An erasure requested on one
	// channel erases that channel's mapping only.
	EraseEntry(ctx context.Context, domain, pseudonym string) (Erasure, error)
	// EraseRef is ErasePseudonym addressed by a local reference.
	EraseRef(ctx context.Context, domain, localRef string) (Erasure, error)
	// List pages through the pseudonyms of a domain in ascending order,
	// starting after `after` ("" = from the start). next is "" on the last page.
	List(ctx context.Context, domain, after string, limit int) (pseudonyms []string, next string, err error)
	// Export returns everything held about the case of localRef, for a
	// subject-access request (GDPR art. 15). Anchor keys are not included.
	Export(ctx context.Context, domain, localRef string) (SubjectExport, error)
}

// DomainPseudonym names one entry of a case.
type DomainPseudonym struct {
	Domain    string `json:"domain"`
	Pseudonym string `json:"pseudonym"`
}

// Erasure is the receipt of an erasure: the pseudonyms (one per domain) the
// case had, so the gateway can record ERASURE_CONFIRMED on each channel.
type Erasure struct {
	Pseudonyms []DomainPseudonym `json:"pseudonyms"`
	ErasedAt   time.Time         `json:"erasedAt"`
}

// SubjectExport is one person's mapping, for a subject-access request.
type SubjectExport struct {
	CreatedAt time.Time     `json:"createdAt"`
	Entries   []ExportEntry `json:"entries"`
	History   []HistoryItem `json:"history"`
}

// ExportEntry is one domain of an exported case.
type ExportEntry struct {
	Domain        string    `json:"domain"`
	Pseudonym     string    `json:"pseudonym"`
	LocalRefs     []string  `json:"localRefs"`
	CreatedAt     time.Time `json:"createdAt"`
	AnchorKeyHeld bool      `json:"anchorKeyHeld"`
}

// HistoryItem is an audit entry kept with the case. It deliberately has no
// value: a rectification says when and in which domain, not what was replaced.
type HistoryItem struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Domain string    `json:"domain"`
}

// RestoreStats reports what a restore did.
type RestoreStats struct {
	Restored       int `json:"restored"`         // records written back
	AlreadyPresent int `json:"alreadyPresent"`   // record ids still live
	Tombstoned     int `json:"tombstoned"`       // dropped: shredded after the backup
	Unreadable     int `json:"unreadable"`       // dropped: data key not recoverable (retired KEK)
	Conflicting    int `json:"conflicting"`      // dropped: a live case holds its pseudonym or reference
	Tombstones     int `json:"tombstonesMerged"` // tombstones taken over from the backup
}
