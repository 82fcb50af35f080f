package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
)

// Holidays: the member states' public holidays that Dublin periods skip.

func holidayCommands() []command {
	return []command{
		{name: "holidays set", role: "dublin-officer", args: "--year Y [--dates D1,D2,...]",
			summary: "record your member state's public holidays for a year (Dublin units)",
			help: `Dublin periods that end on a Saturday, Sunday or one of these days end on the next working day
(Reg. 1182/71 Art 3(4)). Only your state's Dublin unit (dublin-officer or admin) may set them. Example:
  caseledger holidays set --org partner-state --role dublin-officer --year 2027 --dates 2027-01-01,2027-12-25`,
			setup: setupHolidaysSet},
		{name: "holidays show", args: "[--member-state MS] [--year Y]",
			summary: "show a member state's recorded public holidays (default: yours, this year)", setup: setupHolidaysShow},
	}
}

func setupHolidaysSet(fs *flag.FlagSet) runner {
	year := fs.Int("year", 0, "the year (required)")
	dates := fs.String("dates", "", "comma-separated YYYY-MM-DD dates in that year (none: no holidays)")
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		if *year == 0 {
			return usagef("--year is required")
		}
		list := []string{}
		for _, d := range strings.Split(*dates, ",") {
			if d = strings.TrimSpace(d); d != "" {
				list = append(list, d)
			}
		}
		c, err := a.connect()
		if err != nil {
			return err
		}
		cal, err := c.SetHolidays(ctx, api.HolidaysRequest{Year: *year, Dates: list}, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return a.print(cal, func(w io.Writer) { printHolidays(w, cal) })
	}
}

func setupHolidaysShow(fs *flag.FlagSet) runner {
	ms := fs.String("member-state", "", "ISO 3166-1 alpha-2 code (default: your agency's)")
	year := fs.Int("year", 0, "the year (default: this year)")
	return func(ctx context.Context, a *app, _ []string) error {
		c, err := a.connect()
		if err != nil {
			return err
		}
		cal, err := c.Holidays(ctx, *ms, *year)
		if err != nil && *ms == "" && errors.Is(err, client.ErrRefused) {
			// An agency without a member state of its own (the auditor) has
			// no default calendar: ask for the flag rather than relay the
			// gateway's "unknown member-state code".
			if who, werr := c.Whoami(ctx); werr == nil && who.MemberState == "" {
				return usagef("--member-state is required: %s has no member state of its own (e.g. --member-state DE)", who.Org)
			}
		}
		if errors.Is(err, client.ErrNotFound) {
			// No calendar for that year is an answer, not a failure: the
			// ledger answers NOT_FOUND, the reader is told none is recorded.
			cal, err = noCalendar(ctx, c, *ms, *year)
		}
		if err != nil {
			return err
		}
		return a.print(cal, func(w io.Writer) { printHolidays(w, cal) })
	}
}

// noCalendar is the empty calendar of the state and year a holidays query
// asked about, with the gateway's defaults filled in (the agency's own
// member state, this year there).
func noCalendar(ctx context.Context, c *client.Client, ms string, year int) (api.HolidayCalendar, error) {
	if ms == "" || year == 0 {
		who, err := c.Whoami(ctx)
		if err != nil {
			return api.HolidayCalendar{}, err
		}
		if ms == "" {
			ms = who.MemberState
		}
		if year == 0 {
			year, _ = strconv.Atoi(Today(time.Now(), ms)[:4])
		}
	}
	return api.HolidayCalendar{MemberState: ms, Year: year}, nil
}

func printHolidays(w io.Writer, cal api.HolidayCalendar) {
	if cal.Holidays.Len() == 0 {
		fmt.Fprintf(w, "public holidays of %s in %d: none recorded (its Dublin periods skip weekends only until its Dublin unit records them)\n",
			cal.MemberState, cal.Year)
		return
	}
	// Only the state's own Dublin unit may record its calendar; the ledger
	// names the recorder only in the answer to the write.
	by := ""
	if cal.SetBy != "" {
		by = " (recorded by " + cal.SetBy + ")"
	}
	fmt.Fprintf(w, "public holidays of %s in %d%s: %d\n", cal.MemberState, cal.Year, by, cal.Holidays.Len())
	for _, d := range cal.Holidays.Dates() {
		fmt.Fprintf(w, "  %s  %s\n", d, d.Weekday())
	}
}
