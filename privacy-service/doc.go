// Package privacy is an agency's pseudonym vault: the only place where the
// agency's local references (file numbers, register ids) meet the random
// pseudonyms used on chain, one pseudonymisation domain per channel.
//
// Storage layout (see docs/privacy-service.md for the threat model):
//
//   - Badger holds one record per case, keyed by a random record id and
//     sealed with AES-256-GCM under the record's own data key (DEK).
//   - DEKs live in a fixed-slot key file next to Badger, each wrapped by a
//     key-encryption key (KEK) that lives outside the data directory. Erasing
//     a case overwrites its slot in place and syncs: every copy of the record
//     left in Badger's old versions, WAL, value log or a backup is then
//     ciphertext without a key.
//   - A record is never rewritten under the same DEK: every change seals the
//     case under a fresh DEK and shreds the old one, so rectification leaves
//     no readable old value either.
//   - The lookup index (blind index: HMAC of domain and local reference) is
//     kept in memory only, under a key drawn at start-up, and rebuilt from the
//     sealed records on open; nothing on disk is a deterministic function of a
//     local reference.
//   - Shredded record ids are appended to a tombstone log so that restoring a
//     backup taken earlier never resurrects them.
//
// Store (in process) and Client (HTTPS + mTLS) both implement Vault.
package privacy
