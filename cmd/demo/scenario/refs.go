package scenario

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// Local references: every run draws fresh ones in the agencies' own
// formats, so a re-run never collides with cases already on the ledger.
// They are what the agencies' own systems hold — real identifiers that must
// never reach the ledger (the integration test scans every block for them).

// refs are the local references of one run.
type refs struct {
	// case A: the full national procedure.
	bpA, aoA, iaA string
	// case B: the Dublin case.
	bpB, aoB, aoDublinB, psB string
	// applicant names, inside the documents only.
	nameA string
}

func digits(n int) string {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, max)
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return fmt.Sprintf("%0*d", n, v)
}

// someNames are fictional applicants; they appear only in the documents the
// asylum office keeps (and anchors by keyed hash).
var someNames = []string{"Amina Haddad", "Yusuf Karimi", "Leyla Rahimi", "Tesfay Abraha", "Nour Al-Sayed", "Omid Hosseini"}

func newRefs(year int) refs {
	i, _ := rand.Int(rand.Reader, big.NewInt(int64(len(someNames))))
	return refs{
		bpA:       fmt.Sprintf("BPOL-%d-%s", year, digits(7)),
		aoA:       fmt.Sprintf("BAMF-%s-%s", digits(7), digits(3)),
		iaA:       fmt.Sprintf("ABH-M-%s/%d", digits(5), year),
		bpB:       fmt.Sprintf("BPOL-%d-%s", year, digits(7)),
		aoB:       fmt.Sprintf("BAMF-%s-%s", digits(7), digits(3)),
		aoDublinB: fmt.Sprintf("BAMF-DU-%s", digits(7)),
		psB:       fmt.Sprintf("BFA-%s", digits(10)),
		nameA:     someNames[i.Int64()],
	}
}

func (r refs) all() []string {
	return []string{r.bpA, r.aoA, r.iaA, r.bpB, r.aoB, r.aoDublinB, r.psB, r.nameA}
}

// calendar are the scenario's dates, relative to today in Germany.
type calendar struct {
	today deadline.Date
}

func newCalendar(now time.Time) calendar {
	loc, err := time.LoadLocation(domain.TimeZone("DE"))
	if err != nil {
		loc = time.UTC
	}
	// deadline.DateOf would take the UTC date; the ledger's "today" is the
	// acting state's.
	y, m, d := now.In(loc).Date()
	today, err := deadline.NewDate(y, m, d)
	if err != nil {
		today = deadline.DateOf(now)
	}
	return calendar{today: today}
}

// ago is the date n days before today.
func (c calendar) ago(n int) string { return c.today.AddDays(-n).String() }

// Days before today of the late-recorded Dublin case: the arrival and the
// Eurodac hit, the application, and the take-charge request received by the
// partner state the same day it was sent. With a Eurodac hit the AMMR reply
// limit is two weeks, so once the partner state acknowledges that receipt
// date (24 days back, within the 30-day window) its deadline has passed by
// 6 to 10 days: more than the gateways' grace period (3 days, extended by at
// most 4 by a weekend and holidays) before their watchers record the
// implicit acceptance.
const (
	arrivalDaysAgo     = 26
	applicationDaysAgo = 25
	requestDaysAgo     = 24
)

// ammrSwitch is the AMMR's application date (Regulation 2024/1351;
// DUBLIN-RULES.md): applications registered from then on fall under it.
const ammrSwitch = "2026-07-01"

// checkRegime refuses to run on a machine whose date would put the Dublin
// case under Dublin III (reply limit two months): its deadline could not
// have passed within the late-recording window.
func (c calendar) checkRegime() error {
	from, err := deadline.ParseDate(ammrSwitch)
	if err != nil {
		return err
	}
	if app := c.today.AddDays(-applicationDaysAgo); app.Before(from) {
		return fmt.Errorf("today is %s: the scenario's application (%s) would fall under Dublin III; the demo needs a date from %s on",
			c.today, app, from.AddDays(applicationDaysAgo))
	}
	return nil
}
