package client

import (
	"context"

	"github.com/caseledger/caseledger/api"
)

// Data-subject rights (GDPR art. 15, 16) through the agency's own gateway;
// admin tokens only. References travel in request bodies.

// Rectify replaces one of the agency's local references of a case
// (art. 16): UNKNOWN_LOCAL_REF when req.LocalRef is unknown on the channel,
// CONFLICT when req.NewLocalRef already names a case of the agency there.
func (c *Client) Rectify(ctx context.Context, req api.RectifyRequest, opts ...WriteOption) (api.RectifyResponse, error) {
	var out api.RectifyResponse
	return out, write(ctx, c, "/v1/rights/rectify", req, &out, opts)
}

// Export returns what the agency holds about the person its local reference
// names (art. 15): references and pseudonyms per channel, each case's state
// and timeline on the ledger as the agency sees them, the mapping's history.
func (c *Client) Export(ctx context.Context, req api.ExportRequest) (api.SubjectExport, error) {
	var out api.SubjectExport
	return out, read(ctx, c, "/v1/rights/export", req, &out)
}
