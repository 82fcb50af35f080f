// Package render prints the gateway API's answers for people at a terminal:
// case states, timelines, the Dublin deadline board, audit reports. The
// caseledger command line and the demo share it, so both show a case the
// same way.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// Short abbreviates a pseudonym or transaction id for tables (the full
// value is in --output json).
func Short(id string) string {
	if len(id) > 13 {
		return id[:8] + "…"
	}
	return id
}

// Refs renders an agency's own references ("—" when it holds none).
func Refs(refs []string) string {
	if len(refs) == 0 {
		return "— (holds no reference)"
	}
	return strings.Join(refs, ", ")
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// Write prints one recorded event.
func Write(w io.Writer, r api.WriteResponse) {
	fmt.Fprintf(w, "recorded %s on %s case %s: seq %d, status %s, tx %s in block %d (occurred %s, recorded %s)\n",
		r.Code, r.Channel, r.Pseudonym, r.Seq, r.Status, Short(r.TxID), r.BlockNumber, r.OccurredOn, r.RecordedOn)
}

// Case prints a case's state as one agency sees it.
func Case(w io.Writer, v api.CaseView) {
	c := v.Case
	fmt.Fprintf(w, "%s case %s\n", c.Procedure, c.Pseudonym)
	tw := table(w)
	fmt.Fprintf(tw, "  status\t%s (seq %d, last event %s)\n", c.Status, c.Seq, c.LastEvent)
	fmt.Fprintf(tw, "  your references\t%s\n", Refs(v.LocalRefs))
	fmt.Fprintf(tw, "  registered\t%s by %s; last act dated %s, updated %s\n", registered(c), c.RegisteredBy, c.LastOccurredOn, c.UpdatedOn)
	fmt.Fprintf(tw, "  holders\t%s\n", strings.Join(c.Holders, ", "))
	if f := fields(c.National); c.National != nil && f != "" { // none yet right after registration
		fmt.Fprintf(tw, "  national\t%s\n", f)
	}
	if d := c.Dublin; d != nil {
		fmt.Fprintf(tw, "  dublin\t%s → %s, %s %s, evidence %s\n", d.RequestingMemberState, orDash(d.RequestedMemberState),
			orDash(string(d.RequestKind)), acceptance(d), orDash(string(d.Evidence)))
		fmt.Fprintf(tw, "  regime\t%s\n", Regime(d.RegimeFacts()))
		if d.RequestLimit != nil {
			fmt.Fprintf(tw, "  request limit\t%s\n", requestLimit(*d.RequestLimit, d.RequestLate))
		}
		if r := receipt(d); r != "" {
			fmt.Fprintf(tw, "  receipt\t%s\n", r)
		}
		var late *deadline.Deadline
		if l, ok := d.LateRequest(); ok {
			late = &l
		}
		for _, dl := range d.Deadlines {
			fmt.Fprintf(tw, "  deadline\t%s\n", Deadline(dl))
			for _, n := range DeadlineNotes(dl, late) {
				fmt.Fprintf(tw, "  \t  ↳ %s\n", n)
			}
		}
		for _, sp := range d.Superseded {
			fmt.Fprintf(tw, "  superseded\t%s\n", Supersession(sp))
		}
	}
	if e := c.Erasure; e != nil {
		fmt.Fprintf(tw, "  erasure\t%s\n", erasure(e.RequestedBy, e.RequestedOn, e.Pending, e.Confirmed, e.CompletedOn))
	}
	_ = tw.Flush()
}

// registered is the day a case was registered, and the day that was
// recorded on the ledger only when it differs.
func registered(c domain.CaseState) string {
	switch c.RegistrationOccurredOn {
	case "": // recorded before the state kept the day of the act
		return c.RegisteredOn + " (recorded)"
	case c.RegisteredOn:
		return c.RegistrationOccurredOn
	}
	return c.RegistrationOccurredOn + " (recorded " + c.RegisteredOn + ")"
}

func acceptance(d *domain.DublinFacts) string {
	switch {
	case !d.AcceptedOn.IsZero() && d.Implicit:
		return "accepted implicitly on " + d.AcceptedOn.String()
	case !d.AcceptedOn.IsZero():
		return "accepted on " + d.AcceptedOn.String()
	case !d.RequestReceivedOn.IsZero():
		return "request received " + d.RequestReceivedOn.String()
	}
	return ""
}

// receipt says where the receipt date of the pending request comes from.
func receipt(d *domain.DublinFacts) string {
	if d.RequestReceivedOn.IsZero() || d.RequestOnLedgerOn.IsZero() {
		return ""
	}
	s := fmt.Sprintf("reply period runs from %s (claimed by %s: %s; on the ledger: %s", d.RequestReceivedOn,
		d.RequestingMemberState, d.ClaimedReceivedOn, d.RequestOnLedgerOn)
	if !d.ReceiptAcknowledgedOn.IsZero() {
		s += fmt.Sprintf("; acknowledged by %s: %s", d.RequestedMemberState, d.ReceiptAcknowledgedOn)
	} else {
		s += "; not acknowledged"
	}
	return s + ")"
}

// Supersession renders a superseded consequence.
func Supersession(sp domain.Supersession) string {
	return fmt.Sprintf("%s (seq %d, deadline %s) superseded by %s dated %s (seq %d)", sp.Code, sp.Seq, sp.Due, sp.ByCode, sp.ByOccurred, sp.BySeq)
}

func erasure(by, on string, pending, confirmed []string, completed string) string {
	s := fmt.Sprintf("requested by %s on %s; confirmed by [%s]; pending [%s]", by, on, strings.Join(confirmed, " "), strings.Join(pending, " "))
	if completed != "" {
		s += "; complete on " + completed
	}
	return s
}

// Deadline renders one running Dublin deadline (DeadlineNotes adds what a
// reader must know about its rule and calendar).
func Deadline(dl domain.Deadline) string {
	return fmt.Sprintf("%s due %s (%s %s from %s, %s, %s table, acting %s; on lapse %s)", dl.Kind, dl.Due, dl.Period, dl.Step, dl.Start,
		dl.Article, dl.Regime, dl.ActingMemberState, dl.OnLapse)
}

// Regime renders the regime as its two facts: whose responsibility criteria
// apply (by the registration date) and whose time limits, with the
// configured choice that decided them for a pending Dublin III case.
func Regime(rf domain.RegimeFacts) string {
	if rf.Criteria == "" && rf.Limits == "" {
		return "— (no application date on the ledger yet)"
	}
	s := fmt.Sprintf("criteria %s, time limits %s", orDash(string(rf.Criteria)), orDash(string(rf.Limits)))
	if rf.PendingProcedure != "" {
		s += fmt.Sprintf(" (configured for Dublin III applications: %s)", rf.PendingProcedure)
	}
	return s
}

// requestLimit renders the limit for sending the pending request.
func requestLimit(l deadline.Deadline, late bool) string {
	s := fmt.Sprintf("%s due %s (%s %s, %s)", l.Step, l.Due, l.Period, l.Article, l.Regime)
	if !late {
		return s + ": the request was sent in time"
	}
	return s + ": the request was sent after it — " + lateConsequence(l)
}

// LateRequest is a line about a request sent after its time limit, or ""
// when it was sent in time (or no limit is known): what the requesting
// officer must see right after recording it.
func LateRequest(d *domain.DublinFacts) string {
	l, ok := d.LateRequest()
	if !ok {
		return ""
	}
	return "sent after its time limit: " + requestLimit(l, true)
}

func lateConsequence(l deadline.Deadline) string {
	if l.OnLapse.BarsLateRequest() {
		return fmt.Sprintf("%s: silence is no acceptance", l.OnLapse)
	}
	return fmt.Sprintf("%s: lateness does not shift responsibility", l.OnLapse)
}

// DeadlineNotes lists what a reader of a deadline must know: a rule flagged
// M (recalled) or NOT VERIFIED, a year without the acting state's holiday
// calendar on the ledger (with the command that adds it), a reply period of
// a request sent late (late: the missed request limit, if known).
func DeadlineNotes(dl domain.Deadline, late *deadline.Deadline) []string {
	var out []string
	if dl.Verification.NeedsReview() {
		out = append(out, fmt.Sprintf("rule %s %s: period %s (%s) — configurable, see `dublinrules --unverified`", dl.Regime, dl.Step,
			dl.Verification.Short(), verificationText(dl.Verification)))
	}
	if dl.ConsequenceVerification.NeedsReview() && dl.OnLapse != deadline.ConsequenceNone {
		out = append(out, fmt.Sprintf("rule %s %s: consequence %s is %s (%s) — configurable", dl.Regime, dl.Step, dl.OnLapse,
			dl.ConsequenceVerification.Short(), verificationText(dl.ConsequenceVerification)))
	}
	for _, y := range dl.HolidaysMissing {
		out = append(out, fmt.Sprintf("no holiday calendar of %s for %d on the ledger: only weekends were skipped; %s's Dublin unit adds it: caseledger holidays set --year %d --dates YYYY-MM-DD,...",
			dl.ActingMemberState, y, dl.ActingMemberState, y))
	}
	if dl.RequestLate {
		s := "the request was sent after its time limit"
		if late != nil {
			s = fmt.Sprintf("the request was sent after its limit %s (%s %s) — %s", late.Due, late.Step, late.Article, lateConsequence(*late))
		} else {
			s += " — silence is no acceptance"
		}
		out = append(out, s)
	}
	return out
}

func verificationText(v deadline.Verification) string {
	if v == deadline.Recalled {
		return "recalled, not re-checked against the Official Journal"
	}
	return "not verified"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// fields renders the non-empty fields of a JSON object as key=value.
func fields(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// EventDetails renders an event's payload fields.
func EventDetails(e domain.Event) string {
	s := fields(e.EventFields)
	if e.Withheld != "" && !hasWithheldFields(e) {
		// Need to know (docs/visibility.md): the details exist, this agency's peer does not hold them.
		return strings.TrimSpace(s + " [details withheld: " + e.Withheld + "]")
	}
	return s
}

// hasWithheldFields reports whether the reader received the event's withheld details.
func hasWithheldFields(e domain.Event) bool {
	v, present := domain.DefaultVisibility(), e.EventFields.Present()
	for _, p := range []domain.Procedure{domain.ProcedureNational, domain.ProcedureDublin} {
		for _, f := range v.PrivateFields(p, e.Code) {
			if slices.Contains(present, f) {
				return true
			}
		}
	}
	return false
}

// Timeline prints a case's events as a table.
func Timeline(w io.Writer, tl api.TimelineResponse) {
	fmt.Fprintf(w, "%s case %s — your references: %s\n", tl.Channel, tl.Pseudonym, Refs(tl.LocalRefs))
	Events(w, tl.Items, false)
}

// Events prints events as a table (withCase adds the pseudonym column).
func Events(w io.Writer, evs []domain.Event, withCase bool) {
	tw := table(w)
	head := "  SEQ\tOCCURRED\tRECORDED\tLATE\tAGENCY\tROLE\tEVENT\tDETAILS"
	if withCase {
		head = "  CASE" + "\t" + strings.TrimPrefix(head, "  ")
	}
	fmt.Fprintln(tw, head)
	automatic := 0
	for _, e := range evs {
		late := "-"
		if e.LateDays > 0 {
			late = fmt.Sprintf("%dd", e.LateDays)
		}
		code, details := string(e.Code), EventDetails(e)
		if Automatic(e) {
			code += " [automatic]"
			automatic++
		}
		if e.SupersededBy != nil {
			code += fmt.Sprintf(" [SUPERSEDED by seq %d]", e.SupersededBy.BySeq)
		}
		if e.Supersedes != nil {
			details = strings.TrimSpace(details + fmt.Sprintf(" supersedes %s seq %d", e.Supersedes.Code, e.Supersedes.Seq))
		}
		row := fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s", e.Seq, e.OccurredOn, e.RecordedOn, late, e.MSPID, e.Role, code, details)
		if withCase {
			row = Short(e.Pseudonym) + "\t" + row
		}
		fmt.Fprintln(tw, "  "+row)
	}
	_ = tw.Flush()
	if automatic > 0 {
		fmt.Fprintln(w, "  [automatic]: the consequence of a lapsed Dublin deadline, dated the deadline's last day and recorded after it by design\n"+
			"  (dublin:ResolveDeadlines: a gateway's deadline watcher, or \"caseledger dublin resolve\") — not a step of the recording agency")
	}
}

// Automatic reports whether an event is one the ledger records by itself
// when a Dublin deadline lapses (a system event of the vocabulary), never an
// agency's own step.
func Automatic(e domain.Event) bool {
	spec, ok := domain.Spec(e.Code)
	return ok && spec.System
}

// Cases prints a list of cases with the agency's references.
func Cases(w io.Writer, items []api.CaseView) {
	tw := table(w)
	fmt.Fprintln(tw, "  CASE\tSTATUS\tSEQ\tREGISTERED\tBY\tYOUR REFERENCES")
	for _, v := range items {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\n", v.Case.Pseudonym, v.Case.Status, v.Case.Seq, registered(v.Case), v.Case.RegisteredBy, Refs(v.LocalRefs))
	}
	_ = tw.Flush()
}

// Board prints the Dublin deadline board. highlight, if set, marks the
// pseudonyms of interest with '▶'.
func Board(w io.Writer, b api.Board, highlight func(pseudonym string) bool) {
	fmt.Fprintf(w, "Dublin deadline board on %s (deadlines due before %s)\n", b.Today, b.Before)
	if len(b.Items) == 0 {
		fmt.Fprintln(w, "  (no running deadline in that window)")
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "   CASE\tYOUR REFERENCES\tSTATUS\tDEADLINE\tDUE\tDAYS LEFT\tRULE\tON LAPSE\tCRITERIA / LIMITS\tNOTES")
	// Notes go below the table (a line without cells would break its
	// columns); the row names their numbers.
	var notes []string
	for _, it := range b.Items {
		mark := " "
		if highlight != nil && highlight(it.Pseudonym) {
			mark = "▶"
		}
		left := fmt.Sprintf("%d", it.DaysLeft)
		if it.DaysLeft < 0 {
			left = fmt.Sprintf("passed %dd ago", -it.DaysLeft)
		}
		dl := it.Deadline
		lapse := string(dl.OnLapse)
		for _, sp := range it.Superseded {
			lapse += fmt.Sprintf(" (recomputed: %s seq %d superseded by %s seq %d)", sp.Code, sp.Seq, sp.ByCode, sp.BySeq)
		}
		var nums []string
		for _, n := range DeadlineNotes(dl, it.LateRequest) {
			notes = append(notes, fmt.Sprintf("[%d] %s %s: %s", len(notes)+1, Short(it.Pseudonym), dl.Kind, n))
			nums = append(nums, fmt.Sprintf("[%d]", len(notes)))
		}
		fmt.Fprintf(tw, "  %s%s\t%s\t%s\t%s\t%s\t%s\t%s %s %s\t%s\t%s\t%s\n", mark, Short(it.Pseudonym), Refs(it.LocalRefs), it.Status, dl.Kind,
			dl.Due, left, dl.Regime, dl.Period, dl.Article, lapse, boardRegime(it.Regime), strings.Join(nums, ""))
	}
	_ = tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(w, "  %s\n", n)
	}
}

// Audit prints a verification report.
func Audit(w io.Writer, rep api.AuditReport) {
	verdict := "INTACT"
	if !rep.Intact {
		verdict = "NOT INTACT"
	}
	fmt.Fprintf(w, "ledger %s\n", verdict)
	tw := table(w)
	// PRIVATE RECORDS: hashes the auditor's own peer holds as the chain committed them / records
	// purged by an erasure and gone from the peer (docs/visibility.md).
	fmt.Fprintln(tw, "  CHANNEL\tBLOCKS\tTXS\tSIGNATURES\tPRIVATE RECORDS\tVALIDATION CODES\tLAST BLOCK HASH\tRESULT")
	for _, c := range rep.Channels {
		res := "intact"
		switch {
		case c.Error != "":
			res = "error: " + c.Error
		case c.FirstInconsistency != nil:
			res = fmt.Sprintf("block %d tx %d: %s", c.FirstInconsistency.Block, c.FirstInconsistency.Tx, c.FirstInconsistency.Problem)
		case !c.Intact:
			res = "not intact"
		}
		codes := make([]string, 0, len(c.ValidationCodes))
		for k, n := range c.ValidationCodes {
			codes = append(codes, fmt.Sprintf("%s=%d", k, n))
		}
		slices.Sort(codes)
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d verified, %d purged\t%s\t%s\t%s\n", c.Channel, c.Blocks, c.Transactions, c.SignaturesVerified,
			c.PrivateRecords, c.PrivateRecordsPurged, strings.Join(codes, " "), Short(c.LastBlockHash), res)
	}
	_ = tw.Flush()
	for _, c := range rep.Channels {
		txNotes(w, c.Channel, "valid transactions that wrote nothing", c.NoWrites, c.NoWritesTotal)
		txNotes(w, c.Channel, "writes timestamped more than "+c.LateTolerance+" before an earlier block's latest write", c.LateTimestamps, c.LateTimestampsTotal)
		txNotes(w, c.Channel, "valid transactions with content the chaincode never saw", c.UnexpectedContent, c.UnexpectedContentTotal)
		txNotes(w, c.Channel, "invalid transactions (in the block, changed nothing)", c.Invalid, c.InvalidTotal)
	}
}

// txNotes prints one list of transactions for the auditor's attention (nothing when empty).
func txNotes(w io.Writer, channel, what string, notes []api.TxNote, total int) {
	if total == 0 {
		return
	}
	fmt.Fprintf(w, "%s: %d %s\n", channel, total, what)
	tw := table(w)
	fmt.Fprintln(tw, "  BLOCK\tTX\tTX ID\tCREATOR\tFUNCTION\tTIMESTAMP\tBEHIND / PROBLEM")
	for _, n := range notes {
		fn := n.Function
		if fn == "" {
			fn = "(unknown)"
		}
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t%s\t%s\t%s\n", n.Block, n.Tx, Short(n.TxID), n.Creator, fn,
			n.Timestamp.UTC().Format(time.RFC3339), n.Behind+n.Problem)
	}
	_ = tw.Flush()
	if total > len(notes) {
		fmt.Fprintf(w, "  … %d more\n", total-len(notes))
	}
}

// ErasureStatus prints who has confirmed an erasure.
func ErasureStatus(w io.Writer, st api.ErasureStatus) {
	if !st.Requested {
		fmt.Fprintf(w, "case %s: no erasure requested (status %s)\n", st.Pseudonym, st.Status)
		return
	}
	state := "OPEN"
	if st.Complete {
		state = "COMPLETE"
	}
	fmt.Fprintf(w, "case %s: erasure %s — %s\n", st.Pseudonym, state, erasure(st.RequestedBy, st.RequestedOn, st.Pending, st.Confirmed, st.CompletedOn))
}

// Erasures prints a list of erasure statuses (daysOpen < 0: unknown).
func Erasures(w io.Writer, items []api.ErasureStatus, daysOpen func(i int) int) {
	if len(items) == 0 {
		fmt.Fprintln(w, "  (none)")
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "  CASE\tREQUESTED\tBY\tDAYS OPEN\tCONFIRMED\tPENDING")
	for i, st := range items {
		d := "-"
		if daysOpen != nil && daysOpen(i) >= 0 {
			d = fmt.Sprint(daysOpen(i))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", st.Pseudonym, st.RequestedOn, st.RequestedBy, d,
			strings.Join(st.Confirmed, " "), strings.Join(st.Pending, " "))
	}
	_ = tw.Flush()
}

// Event prints one streamed event as a line.
func Event(w io.Writer, ev api.EventView) {
	switch {
	case ev.Code != "":
		held := "not held by you"
		if ev.Held {
			held = "yours: " + strings.Join(ev.LocalRefs, ", ")
		}
		sup := ""
		if sp := ev.Supersedes; sp != nil {
			sup = fmt.Sprintf(" supersedes %s seq %d", sp.Code, sp.Seq)
		}
		fmt.Fprintf(w, "%s  block %-4d %-8s case %s seq %d %s%s (%s)\n", ev.Position, ev.Block, ev.Channel, ev.Pseudonym, ev.Seq, ev.Code, sup, held)
	case ev.MemberState != "":
		fmt.Fprintf(w, "%s  block %-4d %-8s holiday calendar %s %d set\n", ev.Position, ev.Block, ev.Channel, ev.MemberState, ev.Year)
	default:
		fmt.Fprintf(w, "%s  block %-4d %-8s %s\n", ev.Position, ev.Block, ev.Channel, ev.Name)
	}
}

// boardRegime: the two regime facts in a board cell.
func boardRegime(rf domain.RegimeFacts) string {
	if rf.Criteria == "" && rf.Limits == "" {
		return "—"
	}
	s := orDash(string(rf.Criteria)) + " / " + orDash(string(rf.Limits))
	if rf.PendingProcedure != "" {
		s += " (" + string(rf.PendingProcedure) + ")"
	}
	return s
}
