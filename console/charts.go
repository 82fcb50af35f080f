package console

import (
	"fmt"
	"html/template"
	"slices"
	"strings"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain/deadline"
)

// Charts are SVG drawn on the server: no script, no inline style (the CSP
// forbids both), colours from classes in console.css. Every chart is an
// image with a title and description, and the page shows the same figures
// as a table next to it (WCAG 1.1.1, 1.4.1: colour is never the only cue).

type holiday struct {
	State string
	Date  deadline.Date
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// urgency classes by days left: passed, within a week, within a month,
// later.
func urgency(daysLeft int) string {
	switch {
	case daysLeft < 0:
		return "u-passed"
	case daysLeft <= 7:
		return "u-week"
	case daysLeft <= 30:
		return "u-month"
	}
	return "u-later"
}

// boardChart draws the deadline board as a time line: one row per
// deadline (the case by the agency's own reference, else the start of its
// pseudonym), a bar from the period's start to its last day, a dot on the
// last day, today as a line and the holidays of the acting states as
// ticks.
func boardChart(m catalog, lang string, today deadline.Date, items []api.BoardItem, hols []holiday) string {
	if len(items) == 0 {
		return ""
	}
	const left, right, top, rowH, width = 190, 60, 34, 26, 960
	lo, hi := today.AddDays(-14), today.AddDays(30)
	for _, it := range items {
		if d := it.Deadline.Due; !d.IsZero() {
			if d.Before(lo) {
				lo = d.AddDays(-3)
			}
			if d.After(hi) {
				hi = d.AddDays(3)
			}
		}
	}
	span := float64(hi.Time().Sub(lo.Time()).Hours() / 24)
	x := func(d deadline.Date) float64 {
		if d.Before(lo) {
			d = lo
		}
		if d.After(hi) {
			d = hi
		}
		return left + float64(d.Time().Sub(lo.Time()).Hours()/24)/span*float64(width-left-right)
	}
	height := top + rowH*len(items) + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="board-title board-desc">`, width, height)
	fmt.Fprintf(&b, `<title id="board-title">%s</title><desc id="board-desc">%s</desc>`,
		esc(m.t(lang, "chart.board.title")), esc(m.t(lang, "chart.board.desc", len(items), lo.String(), hi.String())))
	// Month ticks; their labels sit above the rows, where the today line
	// (which starts below them) cannot run through them.
	for d := lo; !d.After(hi); d = d.AddDays(1) {
		if d.Day() == 1 {
			fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/><text class="axis" x="%.1f" y="%d">%s</text>`,
				x(d), top-8, x(d), height-34, x(d)+2, top-12, esc(d.String()[:7]))
		}
	}
	for _, h := range hols {
		if h.Date.Before(lo) || h.Date.After(hi) {
			continue
		}
		fmt.Fprintf(&b, `<g class="holiday"><title>%s</title><line x1="%.1f" y1="%d" x2="%.1f" y2="%d"/><path d="M%.1f %d l-4 8 h8 z"/></g>`,
			esc(m.t(lang, "chart.holiday", h.State, h.Date.String())), x(h.Date), top-4, x(h.Date), height-30, x(h.Date), height-30)
	}
	fmt.Fprintf(&b, `<line class="today" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/><text class="axis today-label" x="%.1f" y="%d">%s</text>`,
		x(today), top-4, x(today), height-30, x(today)+3, height-12, esc(m.t(lang, "chart.today", today.String())))
	for i, it := range items {
		y := top + rowH*i
		label := short(it.Pseudonym)
		if len(it.LocalRefs) > 0 {
			label = it.LocalRefs[0]
		}
		cls := urgency(it.DaysLeft)
		start, due := it.Deadline.Start, it.Deadline.Due
		fmt.Fprintf(&b, `<g class="row %s"><title>%s</title>`, cls,
			esc(m.t(lang, "chart.row", label, m.code(lang, string(it.Deadline.Kind)), due.String(), it.DaysLeft)))
		fmt.Fprintf(&b, `<text class="label" x="%d" y="%d">%s</text>`, left-8, y+17, esc(label))
		if !start.IsZero() && !due.IsZero() {
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%d" width="%.1f" height="10" rx="2"/>`, x(start), y+8, max(x(due)-x(start), 2))
		}
		if !due.IsZero() {
			fmt.Fprintf(&b, `<circle class="due" cx="%.1f" cy="%d" r="6"/><text class="days" x="%.1f" y="%d">%s</text>`,
				x(due), y+13, x(due)+9, y+17, esc(m.t(lang, "chart.days", it.DaysLeft)))
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func short(p string) string {
	if len(p) > 8 {
		return p[:8] + "…"
	}
	return p
}

// weekChart: deadlines due per week, as bars.
func weekChart(m catalog, lang string, weeks []weekCount) string {
	if len(weeks) == 0 {
		return ""
	}
	most := 1
	for _, w := range weeks {
		most = max(most, w.Count)
	}
	const width, height, left, bottom = 720, 220, 40, 40
	bw := float64(width-left-10) / float64(len(weeks))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="weeks-title">`, width, height)
	fmt.Fprintf(&b, `<title id="weeks-title">%s</title>`, esc(m.t(lang, "chart.weeks.title")))
	for i, w := range weeks {
		h := float64(height-bottom-20) * float64(w.Count) / float64(most)
		xx := float64(left) + bw*float64(i)
		fmt.Fprintf(&b, `<g class="week"><title>%s</title><rect class="bar-plain" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`,
			esc(m.t(lang, "chart.week", w.Week, w.Count)), xx+3, float64(height-bottom)-h, bw-6, h)
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d">%s</text><text class="value" x="%.1f" y="%.1f">%d</text></g>`,
			xx+3, height-bottom+16, esc(w.Week[5:]), xx+bw/2-4, float64(height-bottom)-h-4, w.Count)
	}
	fmt.Fprintf(&b, `<line class="axis-line" x1="%d" y1="%d" x2="%d" y2="%d"/></svg>`, left, height-bottom, width-10, height-bottom)
	return b.String()
}

// dayChart: events per day and agency, as stacked bars with a legend
// (patterns differ by agency as well as colours).
func dayChart(m catalog, lang string, counts []dayCount) string {
	if len(counts) == 0 {
		return ""
	}
	var days, msps []string
	tot := map[string]int{}
	for _, c := range counts {
		if !slices.Contains(days, c.Day) {
			days = append(days, c.Day)
		}
		if !slices.Contains(msps, c.MSPID) {
			msps = append(msps, c.MSPID)
		}
		tot[c.Day] += c.Count
	}
	slices.Sort(days)
	most := 1
	for _, n := range tot {
		most = max(most, n)
	}
	const width, left, bottom = 720, 40, 40
	height := 240 + 18*len(msps)
	plot := 200
	bw := float64(width-left-10) / float64(max(len(days), 7))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="days-title">`, width, height)
	fmt.Fprintf(&b, `<title id="days-title">%s</title>`, esc(m.t(lang, "chart.days.title")))
	for i, d := range days {
		xx := float64(left) + bw*float64(i)
		yy := float64(plot)
		for j, msp := range msps {
			n := 0
			for _, c := range counts {
				if c.Day == d && c.MSPID == msp {
					n = c.Count
				}
			}
			if n == 0 {
				continue
			}
			h := float64(plot-20) * float64(n) / float64(most)
			yy -= h
			fmt.Fprintf(&b, `<rect class="s%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
				j%6, xx+3, yy, bw-6, h, esc(m.t(lang, "chart.day", d, msp, n)))
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d">%s</text>`, xx+3, plot+16, esc(d[5:]))
	}
	fmt.Fprintf(&b, `<line class="axis-line" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, plot, width-10, plot)
	for j, msp := range msps {
		y := plot + bottom + 18*j
		fmt.Fprintf(&b, `<rect class="s%d" x="%d" y="%d" width="12" height="12"/><text class="axis" x="%d" y="%d">%s</text>`,
			j%6, left, y, left+18, y+11, esc(msp))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
