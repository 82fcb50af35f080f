package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// hSetHolidays records the agency's member state's holiday calendar on the Dublin channel (only a
// Dublin unit's dublin-officer or admin; the chaincode decides).
func (s *Server) hSetHolidays(c *call) (int, any, error) {
	var req api.HolidaysRequest
	if err := decodeJSON(c.body, &req); err != nil {
		return 0, nil, err
	}
	ch, err := s.channelFor(domain.ProcedureDublin)
	if err != nil {
		return 0, nil, err
	}
	if s.cfg.MemberState == "" {
		return 0, nil, domain.Errorf(domain.KindForbidden, "this agency belongs to no member state")
	}
	if req.Year < deadline.MinHolidayYear || req.Year > deadline.MaxHolidayYear {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "year: must be %d..%d", deadline.MinHolidayYear, deadline.MaxHolidayYear)
	}
	dates := make([]deadline.Date, 0, len(req.Dates))
	for _, d := range req.Dates {
		day, err := deadline.ParseDate(d)
		if err != nil || day.Year() != req.Year {
			return 0, nil, domain.Errorf(domain.KindInvalidArgument, "dates: each must be a YYYY-MM-DD date in %d", req.Year)
		}
		dates = append(dates, day)
	}
	h, err := deadline.NewHolidays(dates)
	if err != nil {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "dates: no duplicates, at most %d a year", deadline.MaxHolidaysPerYear)
	}
	canonical, err := json.Marshal(h) // ascending, as the ledger stores it
	if err != nil {
		return 0, nil, err
	}
	rec, err := c.submitTx(ch, api.FnSetHolidays, s.cfg.MemberState, strconv.Itoa(req.Year), string(canonical))
	if err != nil {
		return 0, nil, err
	}
	var cal api.HolidayCalendar
	if err := json.Unmarshal(rec.Result, &cal); err != nil {
		return 0, nil, domain.Errorf(domain.KindInternal, "undecodable chaincode result")
	}
	return http.StatusOK, cal, nil
}

// hGetHolidays returns a member state's recorded holidays for a year (default: the agency's own
// state, the current year).
func (s *Server) hGetHolidays(c *call) (int, any, error) {
	ch, err := s.channelFor(domain.ProcedureDublin)
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	ms := q.Get("memberState")
	if ms == "" {
		ms = s.cfg.MemberState
	}
	if !domain.IsMemberState(ms) {
		return 0, nil, domain.Errorf(domain.KindInvalidArgument, "memberState: unknown member-state code")
	}
	year := q.Get("year")
	if year == "" {
		year = strconv.Itoa(s.today().Year())
	}
	var cal api.HolidayCalendar
	if err := c.evaluate(ch.Name, api.FnGetHolidays, &cal, ms, year); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, cal, nil
}
