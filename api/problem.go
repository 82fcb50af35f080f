package api

// Problem is an RFC 9457 problem document with a stable Code: what the
// gateway and the privacy service answer on failure (application/problem+json).
// The code is a chaincode error kind (domain.Kind: INVALID_ARGUMENT, ...) or
// one of the gateway's own codes below; each service decides status, title and
// type from its one table (gateway/problem.go, privacy-service/errors.go).
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Code     string `json:"code"`
	Instance string `json:"instance,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header (seconds).
	RetryAfter int `json:"-"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Code + ": " + p.Detail
	}
	return p.Code + ": " + p.Title
}

// The gateway's own problem codes (the chaincode's kinds are the others).
const (
	CodeIdempotencyKeyRequired = "IDEMPOTENCY_KEY_REQUIRED"
	CodeIdempotencyKeyReused   = "IDEMPOTENCY_KEY_REUSED"
	CodeRequestInProgress      = "REQUEST_IN_PROGRESS"
	CodeOverloaded             = "OVERLOADED"
	CodeLedgerUnavailable      = "LEDGER_UNAVAILABLE"
	CodeOutcomeUnknown         = "OUTCOME_UNKNOWN"
	CodeCommitFailed           = "COMMIT_FAILED"
	CodePrivacyUnavailable     = "PRIVACY_UNAVAILABLE"
	CodeUnknownLocalRef        = "UNKNOWN_LOCAL_REF"
	CodePayloadTooLarge        = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType   = "UNSUPPORTED_MEDIA_TYPE"
	CodeRouteNotFound          = "ROUTE_NOT_FOUND"
	CodeMethodNotAllowed       = "METHOD_NOT_ALLOWED"
	CodeShuttingDown           = "SHUTTING_DOWN"
	CodePositionExpired        = "POSITION_EXPIRED"
	CodeLedgerBehind           = "LEDGER_BEHIND"
	CodeEndorserBehind         = "ENDORSER_BEHIND"
	CodeEndorsersDisagree      = "ENDORSERS_DISAGREE"
	CodeEndorserClockSkew      = "ENDORSER_CLOCK_SKEW"
	CodeStorageLow             = "STORAGE_LOW"
)
