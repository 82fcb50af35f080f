package chaincode

import (
	"strings"

	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// DublinContract holds what the Dublin channel needs beyond RecordEvent:
// resolving lapsed deadlines, the deadline board and holiday calendars.
type DublinContract struct {
	contractapi.Contract
	c *core
}

// GetEvaluateTransactions marks the queries.
func (dc *DublinContract) GetEvaluateTransactions() []string {
	return []string{"DeadlinesDue", "GetHolidays"}
}

// ResolveDeadlines records IMPLICITLY_ACCEPTED or RESPONSIBILITY_SHIFTED on
// a Dublin case whose reply or transfer deadline has passed. Any writing
// member may submit it; before the deadline it is refused with
// DEADLINE_NOT_REACHED.
func (dc *DublinContract) ResolveDeadlines(ctx contractapi.TransactionContextInterface, requestID, pseudonym string) (string, error) {
	t, a, err := dc.c.writer(ctx)
	if err != nil {
		return "", wire(err)
	}
	if t.channel.Procedure != domain.ProcedureDublin {
		return "", wire(domain.Errorf(domain.KindInvalidArgument, "deadlines run on the Dublin channel only"))
	}
	return dc.c.recordEvent(t, a, api.FnResolveDeadlines, requestID, pseudonym, []string{pseudonym},
		func(prev *domain.CaseState, env domain.Env) (domain.CaseState, domain.Event, error) {
			return domain.ResolveDeadlines(prev, a, env)
		})
}

// DeadlinesDue lists running deadlines whose last day lies before
// beforeDate (exclusive), earliest first, paginated.
func (dc *DublinContract) DeadlinesDue(ctx contractapi.TransactionContextInterface, beforeDate, bookmark, pageSize string) (string, error) {
	t, _, err := dc.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if _, err := deadline.ParseDate(beforeDate); err != nil {
		return "", wire(domain.Errorf(domain.KindInvalidArgument, "beforeDate: must be a date YYYY-MM-DD"))
	}
	size, err := dc.c.pageSize(pageSize)
	if err != nil {
		return "", wire(err)
	}
	bm, err := dueBookmark(bookmark, beforeDate)
	if err != nil {
		return "", wire(err)
	}
	end := duePrefix + beforeDate
	it, meta, err := t.ctx.GetStub().GetStateByRangeWithPagination(duePrefix, end, size, bm)
	if err != nil {
		return "", wire(domain.Errorf(domain.KindInternal, "query failed"))
	}
	defer it.Close()
	page := api.Page[api.DueItem]{Items: []api.DueItem{}}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", wire(domain.Errorf(domain.KindInternal, "query failed"))
		}
		parts := strings.Split(strings.TrimPrefix(kv.Key, duePrefix), "/")
		if len(parts) != 3 {
			return "", wire(domain.Errorf(domain.KindInternal, "malformed board key"))
		}
		s, err := t.loadCase(parts[2])
		if err != nil {
			return "", wire(err)
		}
		if s == nil || s.Dublin == nil {
			return "", wire(domain.Errorf(domain.KindInternal, "board names a missing case"))
		}
		for _, dl := range s.Dublin.Deadlines {
			if string(dl.Kind) == parts[1] && dl.Due.String() == parts[0] {
				item := api.DueItem{Pseudonym: s.Pseudonym, Status: s.Status, Deadline: dl, Superseded: s.Dublin.Superseded, Regime: s.Dublin.RegimeFacts()}
				if lr, late := s.Dublin.LateRequest(); late {
					item.LateRequest = &lr
				}
				page.Items = append(page.Items, item)
			}
		}
	}
	if meta != nil {
		page.Bookmark = encodeBookmark(meta.Bookmark)
	}
	return marshalResult(page)
}

// SetHolidays records a member state's public holidays for one year (a JSON
// array of ascending "YYYY-MM-DD" dates, all in that year; [] for none).
// Only that state's Dublin unit, role dublin-officer or admin, may set it,
// on the Dublin channel. Deadlines already computed are not recomputed.
func (dc *DublinContract) SetHolidays(ctx contractapi.TransactionContextInterface, requestID, memberState, year, dates string) (string, error) {
	t, a, err := dc.c.writer(ctx)
	if err != nil {
		return "", wire(err)
	}
	res, err := t.idempotent(a, requestID, api.FnSetHolidays, []string{memberState, year, dates}, func() (any, error) {
		if t.channel.Procedure != domain.ProcedureDublin {
			return nil, domain.Errorf(domain.KindInvalidArgument, "holiday calendars are kept on the Dublin channel")
		}
		if !domain.IsMemberState(memberState) {
			return nil, domain.Errorf(domain.KindInvalidArgument, "memberState: unknown member-state code")
		}
		if !a.Member.DublinUnit || a.Member.MemberState != memberState {
			return nil, domain.Errorf(domain.KindForbidden, "only the Dublin unit of %s sets its holidays", memberState)
		}
		if a.Role != domain.RoleDublinOfficer && a.Role != domain.RoleAdmin {
			return nil, domain.Errorf(domain.KindForbidden, "role %s may not set holidays", a.Role)
		}
		y, err := parseYear(year)
		if err != nil {
			return nil, err
		}
		var h deadline.Holidays
		if err := domain.DecodeCanonical([]byte(dates), &h); err != nil {
			return nil, domain.Errorf(domain.KindInvalidArgument, "dates: must be the canonical JSON array of ascending YYYY-MM-DD dates without duplicates")
		}
		for _, d := range h.Dates() {
			if d.Year() != y {
				return nil, domain.Errorf(domain.KindInvalidArgument, "dates: every date must lie in %d", y)
			}
		}
		if err := t.putJSON(holidaysKey(memberState, y), h); err != nil {
			return nil, err
		}
		if err := t.emit(api.EventHolidays, api.HolidaysEvent{MemberState: memberState, Year: y}); err != nil {
			return nil, err
		}
		return api.HolidayCalendar{MemberState: memberState, Year: y, Holidays: h, SetBy: a.Member.MSPID, TxID: t.ctx.GetStub().GetTxID()}, nil
	})
	return res, wire(err)
}

// GetHolidays returns a member state's recorded holidays for a year
// (NOT_FOUND when none were recorded).
func (dc *DublinContract) GetHolidays(ctx contractapi.TransactionContextInterface, memberState, year string) (string, error) {
	t, _, err := dc.c.reader(ctx)
	if err != nil {
		return "", wire(err)
	}
	if !domain.IsMemberState(memberState) {
		return "", wire(domain.Errorf(domain.KindInvalidArgument, "memberState: unknown member-state code"))
	}
	y, err := parseYear(year)
	if err != nil {
		return "", wire(err)
	}
	var h deadline.Holidays
	found, err := t.getJSON(holidaysKey(memberState, y), &h)
	if err != nil {
		return "", wire(err)
	}
	if !found {
		return "", wire(domain.Errorf(domain.KindNotFound, "no holidays recorded for %s %d", memberState, y))
	}
	return marshalResult(api.HolidayCalendar{MemberState: memberState, Year: y, Holidays: h})
}
