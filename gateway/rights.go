package gateway

import (
	"errors"
	"net/http"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// Data-subject rights (GDPR art. 15 access, art. 16 rectification) through
// the agency's own gateway, so nobody needs the gateway's key to the
// privacy service. Only the admin role may use them (docs/gateway.md,
// "Data-subject rights"): they act on every one of the agency's systems'
// view of a person, not on one case step. Local references travel only in
// bodies; the audit line names the action, channel, token, role, request id
// and outcome, never a reference or pseudonym.

// rightsRoles may rectify and export.
func rightsRoles() []domain.Role { return []domain.Role{domain.RoleAdmin} }

// maxExportPages bounds the timeline pages read per case (at the
// chaincode's page size, far beyond any real case).
const maxExportPages = 200

// refArg validates a local reference field, naming the field and never the value.
func refArg(field, v string) error {
	if err := privacy.ValidateLocalRef(v); err != nil {
		return domain.Errorf(domain.KindInvalidArgument, "%s: %s", field, problemOf(err).Detail)
	}
	return nil
}

func (s *Server) hRectify(c *call) (status int, body any, err error) {
	channel := ""
	defer func() { s.auditRights(c, "rectify", channel, err) }()
	var req api.RectifyRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	ch, err := s.channel(req.Channel)
	if err != nil {
		return 0, nil, err
	}
	channel = ch.Name
	if err := refArg("localRef", req.LocalRef); err != nil {
		return 0, nil, err
	}
	if err := refArg("newLocalRef", req.NewLocalRef); err != nil {
		return 0, nil, err
	}
	if req.LocalRef == req.NewLocalRef {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "newLocalRef: equals localRef")
	}
	ctx := c.wctx()
	// The pseudonym is memoised and stored before the privacy service
	// changes anything: a retry after a rectification whose answer was
	// lost no longer finds the old reference, and needs it to tell "done"
	// from "unknown".
	p, err := c.memo("pseudonym", func() (string, error) { return s.vault.ResolveRef(ctx, ch.Name, req.LocalRef) })
	if err != nil {
		return 0, nil, err
	}
	if c.idem != nil {
		if err := c.idem.persist(); err != nil {
			return 0, nil, err
		}
	}
	err = s.vault.Rectify(ctx, ch.Name, p, req.LocalRef, req.NewLocalRef)
	switch {
	case errors.Is(err, privacy.ErrNotFound):
		// Done by an earlier attempt of this write if the new reference
		// names the case now.
		if q, rerr := s.vault.ResolveRef(ctx, ch.Name, req.NewLocalRef); rerr != nil || q != p {
			return 0, nil, newProblem(api.CodeUnknownLocalRef, "localRef: not a reference of this agency on the channel")
		}
	case errors.Is(err, privacy.ErrConflict):
		return 0, nil, domain.Errorf(domain.KindConflict, "newLocalRef: already names a case of this agency on the channel")
	case err != nil:
		return 0, nil, err
	}
	return http.StatusOK, api.RectifyResponse{Channel: ch.Name, Pseudonym: p, RectifiedAt: s.now().UTC().Truncate(time.Second)}, nil
}

func (s *Server) hExport(c *call) (status int, body any, err error) {
	channel := ""
	defer func() { s.auditRights(c, "export", channel, err) }()
	var req api.ExportRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	ch, err := s.channel(req.Channel)
	if err != nil {
		return 0, nil, err
	}
	channel = ch.Name
	if err := refArg("localRef", req.LocalRef); err != nil {
		return 0, nil, err
	}
	ex, err := s.vault.Export(c.ctx, ch.Name, req.LocalRef)
	if err != nil {
		return 0, nil, err
	}
	out := api.SubjectExport{MSPID: s.cfg.MSPID, ExportedAt: s.now().UTC(), MappedAt: ex.CreatedAt,
		Cases: []api.ExportedCase{}, History: []api.ExportHistory{}}
	for _, e := range ex.Entries {
		ec := api.ExportedCase{Channel: e.Domain, Pseudonym: e.Pseudonym, LocalRefs: nonNilSlice(e.LocalRefs),
			MappedAt: e.CreatedAt, Timeline: []domain.Event{}}
		if err := c.exportLedger(&ec); err != nil {
			return 0, nil, err
		}
		out.Cases = append(out.Cases, ec)
	}
	for _, h := range ex.History {
		out.History = append(out.History, api.ExportHistory{At: h.At, Action: h.Action, Channel: h.Domain})
	}
	return http.StatusOK, out, nil
}

// exportLedger reads a case's state and whole timeline with the caller's
// identity, as the timeline route does: what this agency's peer shows it.
func (c *call) exportLedger(ec *api.ExportedCase) error {
	ch, err := c.s.channel(ec.Channel)
	if err != nil {
		return nil // a privacy domain without a channel here: nothing on this agency's ledger
	}
	var st domain.CaseState
	err = c.evaluate(ch.Name, api.FnGetCase, &st, ec.Pseudonym)
	if domain.KindOf(err) == domain.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	ec.OnLedger, ec.Case = true, &st
	bm := ""
	for range maxExportPages {
		var page api.Page[domain.Event]
		if err := c.evaluate(ch.Name, api.FnGetTimeline, &page, ec.Pseudonym, bm, "0"); err != nil {
			return err
		}
		ec.Timeline = append(ec.Timeline, page.Items...)
		if page.Bookmark == "" || len(page.Items) == 0 {
			return nil
		}
		bm = page.Bookmark
	}
	return domain.Errorf(domain.KindInternal, "timeline longer than %d pages", maxExportPages)
}

// auditRights writes the audit line of a data-subject-rights call: what was
// done, by which token and role, when, the request id and the outcome —
// never a local reference or pseudonym.
func (s *Server) auditRights(c *call, action, channel string, err error) {
	outcome := "OK"
	if err != nil {
		outcome = problemOf(err).Code
	}
	s.log.Info("data-subject right", "log", "audit", "action", action, "channel", channel,
		"token", c.caller.TokenID, "role", string(c.caller.Role), "mspId", c.caller.MSPID,
		"at", s.now().UTC().Format(time.RFC3339), "request", c.id, "outcome", outcome)
}
