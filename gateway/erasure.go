package gateway

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/caseledger/caseledger/chaincode"
	"github.com/caseledger/caseledger/domain"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// ErasureRequest asks for a case to be erased everywhere: ERASURE_REQUESTED
// is recorded on the named channel and on every other channel where the
// agency's privacy service links the case. Each holder's gateway then erases
// its mappings and confirms (the erasure executor).
type ErasureRequest struct {
	CaseRef
	OccurredOn string `json:"occurredOn"`
}

// ErasureOutcome is the result on one channel.
type ErasureOutcome struct {
	Channel   string         `json:"channel"`
	Pseudonym string         `json:"pseudonym"`
	Requested bool           `json:"requested"`
	Result    *WriteResponse `json:"result,omitempty"`
	Problem   *Problem       `json:"problem,omitempty"`
}

// ErasureResponse lists the outcome per channel. Keep the pseudonyms: once
// the erasure has run, the local reference no longer resolves.
type ErasureResponse struct {
	Items []ErasureOutcome `json:"items"`
}

type erasureTarget struct {
	Channel   string `json:"channel"`
	Pseudonym string `json:"pseudonym"`
}

func (s *Server) hRequestErasure(c *call) (int, any, error) {
	var req ErasureRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	if err := checkDate("occurredOn", req.OccurredOn); err != nil {
		return 0, nil, err
	}
	ch, p, err := c.resolve(req.CaseRef)
	if err != nil {
		return 0, nil, err
	}
	// The plan is persisted before the first transaction: the executor may
	// erase the mapping before a retry of this request runs.
	planJSON, err := c.memo("erasure-plan", func() (string, error) {
		plan := []erasureTarget{{Channel: ch.Name, Pseudonym: p}}
		for _, other := range s.ledger.Channels() {
			if other.Name == ch.Name {
				continue
			}
			lp, err := s.vault.Linked(c.wctx(), ch.Name, p, other.Name)
			if errors.Is(err, privacy.ErrNotFound) {
				continue
			}
			if err != nil {
				return "", err
			}
			plan = append(plan, erasureTarget{Channel: other.Name, Pseudonym: lp})
		}
		b, err := json.Marshal(plan)
		return string(b), err
	})
	if err != nil {
		return 0, nil, err
	}
	if err := c.idem.durable(); err != nil {
		return 0, nil, err
	}
	var plan []erasureTarget
	if err := json.Unmarshal([]byte(planJSON), &plan); err != nil {
		return 0, nil, domain.Errorf(domain.KindInternal, "corrupt erasure plan")
	}
	out := ErasureResponse{Items: []ErasureOutcome{}}
	var first error
	requested := false
	for _, t := range plan {
		tch, err := s.channel(t.Channel)
		if err != nil {
			return 0, nil, err
		}
		res, err := c.submit(tch, "erasure:RequestErasure", t.Pseudonym, req.OccurredOn)
		o := ErasureOutcome{Channel: t.Channel, Pseudonym: t.Pseudonym}
		if err != nil {
			if p := problemOf(err); p.Status >= 500 {
				return 0, nil, err // not final: the retry runs the plan again
			}
			o.Problem = problemOf(err)
			if first == nil {
				first = err
			}
		} else {
			o.Requested, o.Result = true, &res
			requested = true
		}
		out.Items = append(out.Items, o)
	}
	if !requested {
		return 0, nil, first
	}
	return http.StatusOK, out, nil
}

func (s *Server) hErasureStatus(c *call) (int, any, error) {
	ch, p, err := c.caseBody()
	if err != nil {
		return 0, nil, err
	}
	var st chaincode.ErasureStatus
	if err := c.evaluate(ch.Name, "erasure:GetErasureStatus", &st, p); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, st, nil
}

// ErasureList is one page of erasure statuses.
type ErasureList struct {
	Items    []chaincode.ErasureStatus `json:"items"`
	Bookmark string                    `json:"bookmark"`
}

func (s *Server) hOpenErasures(c *call) (int, any, error) {
	q := c.r.URL.Query()
	ch, bm, ps, err := s.listQuery(q)
	if err != nil {
		return 0, nil, err
	}
	var page chaincode.Page[chaincode.ErasureStatus]
	if err := c.evaluate(ch.Name, "erasure:ListOpenErasures", &page, bm, ps); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ErasureList{Items: nonNilSlice(page.Items), Bookmark: page.Bookmark}, nil
}
