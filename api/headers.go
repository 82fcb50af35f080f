package api

// Header names of the /v1 API (besides the standard ones: Retry-After on
// 503 and 409 REQUEST_IN_PROGRESS, Content-Type).
const (
	// HeaderIdempotencyKey is required on every write: a retry with the same
	// key and body answers the first outcome and records nothing twice.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderRequestID names the request in the gateway's log; every answer
	// carries it.
	HeaderRequestID = "X-Request-Id"
	// HeaderMinBlock is the request header that names the block a request
	// depends on (read-your-writes across gateways).
	HeaderMinBlock = "Caseledger-Min-Block"
	// HeaderLastEventID resumes an event stream after the position it names
	// (Server-Sent Events).
	HeaderLastEventID = "Last-Event-ID"
	// HeaderEventPositionReset is "true" on an event stream that could not
	// resume where asked (the position is no longer retained) and starts anew.
	HeaderEventPositionReset = "X-Event-Position-Reset"
)
