package api

// PrivateDataHash is what audit:GetPrivateDataHashes answers for one withheld event of a case: the
// SHA-256 of its private record as the answering peer holds it (GetPrivateDataHash), hex, or ""
// when the peer holds none (purged, or not received yet). Hashes only: a salted record's hash
// reveals nothing, and every channel member's peer keeps it (docs/visibility.md).
type PrivateDataHash struct {
	Seq        uint64 `json:"seq"`
	Collection string `json:"collection"`
	Hash       string `json:"hash"`
}
