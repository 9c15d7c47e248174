package digest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/warroomhq/warroom/templates"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/warroomhq/warroom/incidents"
)

// Text writes the report for a terminal: plain text in aligned columns,
// without colour. Text from incidents and alerts has its control
// characters replaced, so a title cannot move the cursor or clear the
// screen, and long titles are cut.
func (r *Report) Text(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Incident review: %s to %s (%s)\n", fmtTime(r.From), fmtTime(r.To), fmtPeriod(r.To.Sub(r.From)))
	fmt.Fprintf(&b, "Compared with the %s before, from %s\n", fmtPeriod(r.To.Sub(r.From)), fmtTime(r.PreviousFrom))

	b.WriteString("\nINCIDENTS\n")
	table(&b, "  ", [][]string{
		{"Opened", fmtTrend(r.Opened)},
		{"Resolved", fmtTrend(r.Resolved)},
		{"Open at the end", strconv.Itoa(r.OpenAtEnd)},
	})
	b.WriteString("\n")
	rows := [][]string{{"Severity", "Opened", "Resolved"}}
	for _, s := range r.BySeverity {
		rows = append(rows, []string{textOf(string(s.Severity)), fmtTrend(s.Opened), fmtTrend(s.Resolved)})
	}
	table(&b, "  ", rows)
	if len(r.ByService) > 0 {
		b.WriteString("\n")
		rows = [][]string{{"Service", "Opened", "Resolved"}}
		for _, s := range r.ByService {
			rows = append(rows, []string{textOf(serviceName(s.Service)), fmtTrend(s.Opened), fmtTrend(s.Resolved)})
		}
		table(&b, "  ", rows)
	}

	b.WriteString("\nRESPONSE TIMES (from detection; median and p90 by nearest rank)\n")
	table(&b, "  ", [][]string{
		{"", "Incidents", "Median", "p90", "Median before", "p90 before"},
		append([]string{"To acknowledge"}, statCells(r.TimeToAcknowledge)...),
		append([]string{"To resolve"}, statCells(r.TimeToResolve)...),
	})
	if l := r.Longest; l != nil {
		fmt.Fprintf(&b, "\n  Longest incident: %s (%s, %s) %s: %s\n", l.ID, textOf(string(l.Severity)), textOf(serviceName(l.Service)),
			textTitle(l.Title), longestState(l))
	}

	b.WriteString("\nREPEAT OFFENDERS\n")
	fmt.Fprintf(&b, "  Services with %d+ incidents opened\n", repeatAt)
	rows = nil
	for _, s := range r.RepeatServices {
		rows = append(rows, []string{textOf(s.Service), strconv.Itoa(len(s.Incidents)), idList(s.Incidents)})
	}
	tableOrNone(&b, "    ", rows)
	fmt.Fprintf(&b, "  Alert names in %d+ incidents\n", repeatAt)
	rows = nil
	for _, n := range r.RepeatAlerts {
		rows = append(rows, []string{textOf(n.Name), plural(n.Incidents, "incident"), "fired " + plural(n.Fired, "time")})
	}
	tableOrNone(&b, "    ", rows)

	b.WriteString("\nPOSTMORTEMS (sev1 and sev2)\n")
	if !r.Postmortems.Tracked {
		b.WriteString("  Postmortems are not tracked yet: every sev1 and sev2 incident is listed.\n")
	}
	b.WriteString("  Without a postmortem\n")
	rows = nil
	for _, i := range r.Postmortems.Missing {
		rows = append(rows, refCells(i))
	}
	tableOrNone(&b, "    ", rows)
	b.WriteString("  Pull requests open\n")
	rows = nil
	for _, p := range r.Postmortems.OpenPullRequests {
		rows = append(rows, append(refCells(p.IncidentRef), textOf(p.URL)))
	}
	tableOrNone(&b, "    ", rows)

	b.WriteString("\nACTION ITEMS\n")
	if !r.ActionItems.Tracked {
		b.WriteString("  Not tracked yet.\n")
	} else {
		fmt.Fprintf(&b, "  %d open, %d done\n", len(r.ActionItems.Open), r.ActionItems.Done)
		rows = nil
		for _, it := range r.ActionItems.Open {
			rows = append(rows, []string{it.Incident.String(), fmtAge(r.To, it.Created), textTitle(it.Title), textOf(it.Owner), textOf(it.URL)})
		}
		table(&b, "    ", rows)
	}

	b.WriteString("\nALERT HYGIENE\n")
	b.WriteString("  Noisiest groups\n")
	rows = nil
	for _, g := range r.NoisiestGroups {
		rows = append(rows, []string{strconv.Itoa(g.Fired), strconv.Itoa(g.Alerts), textOf(serviceName(g.Service)),
			textTitle(groupName(g)), idList(g.Incidents)})
	}
	if len(rows) > 0 {
		rows = append([][]string{{"Fired", "Alerts", "Service", "Group", "Incidents"}}, rows...)
	}
	tableOrNone(&b, "    ", rows)
	fmt.Fprintf(&b, "  Fired %d+ times without an incident\n", noisyAt)
	rows = nil
	for _, n := range r.FiredWithoutIncident {
		rows = append(rows, []string{textOf(n.Name), plural(n.Fired, "time")})
	}
	tableOrNone(&b, "    ", rows)

	_, err := w.Write(b.Bytes())
	return err
}

// Markdown writes the report as Markdown (GitHub's flavour, with tables)
// for pasting into a document. Text from incidents and alerts stays text:
// it cannot end a table cell, start a heading or a list, format, link or
// inject HTML.
func (r *Report) Markdown(w io.Writer) error {
	var b bytes.Buffer
	length := fmtPeriod(r.To.Sub(r.From))
	fmt.Fprintf(&b, "# Incident review: %s to %s\n\n", r.From.Format("2 Jan 2006"), r.To.Format("2 Jan 2006"))
	fmt.Fprintf(&b, "From %s to %s (%s), compared with the %s before (from %s).\n",
		fmtTime(r.From), fmtTime(r.To), length, length, fmtTime(r.PreviousFrom))

	b.WriteString("\n## Incidents\n\n")
	mdTable(&b, []string{"", "Count"}, [][]string{
		{"Opened", fmtTrend(r.Opened)},
		{"Resolved", fmtTrend(r.Resolved)},
		{"Open at the end", strconv.Itoa(r.OpenAtEnd)},
	})
	b.WriteString("\n")
	var rows [][]string
	for _, s := range r.BySeverity {
		rows = append(rows, []string{templates.MarkdownText(string(s.Severity)), fmtTrend(s.Opened), fmtTrend(s.Resolved)})
	}
	mdTable(&b, []string{"Severity", "Opened", "Resolved"}, rows)
	if len(r.ByService) > 0 {
		b.WriteString("\n")
		rows = nil
		for _, s := range r.ByService {
			rows = append(rows, []string{templates.MarkdownText(serviceName(s.Service)), fmtTrend(s.Opened), fmtTrend(s.Resolved)})
		}
		mdTable(&b, []string{"Service", "Opened", "Resolved"}, rows)
	}

	b.WriteString("\n## Response times\n\n")
	b.WriteString("From detection. Median and 90th percentile by nearest rank: each is one incident's time.\n\n")
	mdTable(&b, []string{"", "Incidents", "Median", "p90", "Median before", "p90 before"}, [][]string{
		append([]string{"To acknowledge"}, statCells(r.TimeToAcknowledge)...),
		append([]string{"To resolve"}, statCells(r.TimeToResolve)...),
	})
	if l := r.Longest; l != nil {
		fmt.Fprintf(&b, "\n**Longest incident:** %s (%s, %s) %s: %s.\n", l.ID, templates.MarkdownText(string(l.Severity)), templates.MarkdownText(serviceName(l.Service)),
			templates.MarkdownText(l.Title), longestState(l))
	}

	b.WriteString("\n## Repeat offenders\n\n")
	rows = nil
	for _, s := range r.RepeatServices {
		rows = append(rows, []string{templates.MarkdownText(s.Service), strconv.Itoa(len(s.Incidents)), idList(s.Incidents)})
	}
	mdTableOrNone(&b, []string{"Service", "Opened", "Incidents"}, rows,
		fmt.Sprintf("No service had %d or more incidents.", repeatAt))
	b.WriteString("\n")
	rows = nil
	for _, n := range r.RepeatAlerts {
		rows = append(rows, []string{templates.MarkdownText(n.Name), strconv.Itoa(n.Incidents), strconv.Itoa(n.Fired)})
	}
	mdTableOrNone(&b, []string{"Alert", "Incidents", "Fired"}, rows,
		fmt.Sprintf("No alert fired in %d or more incidents.", repeatAt))

	b.WriteString("\n## Postmortems\n\n")
	if !r.Postmortems.Tracked {
		b.WriteString("_Postmortems are not tracked yet: every sev1 and sev2 incident is listed._\n\n")
	}
	b.WriteString("### Without a postmortem\n\n")
	rows = nil
	for _, i := range r.Postmortems.Missing {
		rows = append(rows, mdRefCells(i))
	}
	mdTableOrNone(&b, []string{"Incident", "Severity", "Service", "Title"}, rows,
		"Every sev1 and sev2 incident has a postmortem.")
	b.WriteString("\n### Pull requests open\n\n")
	rows = nil
	for _, p := range r.Postmortems.OpenPullRequests {
		rows = append(rows, append(mdRefCells(p.IncidentRef), templates.MarkdownURL(p.URL)))
	}
	mdTableOrNone(&b, []string{"Incident", "Severity", "Service", "Title", "Pull request"}, rows, "None.")

	b.WriteString("\n## Action items\n\n")
	if !r.ActionItems.Tracked {
		b.WriteString("_Action items are not tracked yet._\n")
	} else {
		fmt.Fprintf(&b, "%d open, %d done.\n", len(r.ActionItems.Open), r.ActionItems.Done)
		if len(r.ActionItems.Open) > 0 {
			b.WriteString("\n")
			rows = nil
			for _, it := range r.ActionItems.Open {
				rows = append(rows, []string{it.Incident.String(), fmtAge(r.To, it.Created), templates.MarkdownText(it.Title), templates.MarkdownText(it.Owner), templates.MarkdownURL(it.URL)})
			}
			mdTable(&b, []string{"Incident", "Age", "Action item", "Owner", "Link"}, rows)
		}
	}

	b.WriteString("\n## Alert hygiene\n\n### Noisiest groups\n\n")
	rows = nil
	for _, g := range r.NoisiestGroups {
		rows = append(rows, []string{templates.MarkdownText(groupName(g)), templates.MarkdownText(serviceName(g.Service)), strconv.Itoa(g.Fired),
			strconv.Itoa(g.Alerts), idList(g.Incidents)})
	}
	mdTableOrNone(&b, []string{"Group", "Service", "Fired", "Alerts", "Incidents"}, rows, "No alert fired.")
	fmt.Fprintf(&b, "\n### Fired %d+ times without an incident\n\n", noisyAt)
	rows = nil
	for _, n := range r.FiredWithoutIncident {
		rows = append(rows, []string{templates.MarkdownText(n.Name), strconv.Itoa(n.Fired)})
	}
	mdTableOrNone(&b, []string{"Alert", "Fired"}, rows, "None.")

	_, err := w.Write(b.Bytes())
	return err
}

// JSON writes the report as indented JSON. Durations are whole seconds;
// <, > and & are written as they are.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// fmtTime formats a period's bound.
func fmtTime(t time.Time) string { return t.Format("Mon 2 Jan 2006 15:04 MST") }

// fmtPeriod formats a period's length: "7 days", or a duration.
func fmtPeriod(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return fmtDuration(d)
}

// fmtDuration formats a duration for people in its two largest units,
// rounded down: 45s, 12m, 1h 5m, 3h, 1d 4h, 27d.
func fmtDuration(d time.Duration) string {
	const day = 24 * time.Hour
	two := func(big, small int64, bu, su string) string {
		if small == 0 {
			return fmt.Sprintf("%d%s", big, bu)
		}
		return fmt.Sprintf("%d%s %d%s", big, bu, small, su)
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int64(d/time.Minute))
	case d < day:
		return two(int64(d/time.Hour), int64(d%time.Hour/time.Minute), "h", "m")
	}
	return two(int64(d/day), int64(d%day/time.Hour), "d", "h")
}

// fmtTrend formats a count with its change: "5 (↑2 from 3)", "3 (=)",
// "3 (↓1 from 4)".
func fmtTrend(t Trend) string {
	switch {
	case t.Change > 0:
		return fmt.Sprintf("%d (↑%d from %d)", t.Current, t.Change, t.Previous)
	case t.Change < 0:
		return fmt.Sprintf("%d (↓%d from %d)", t.Current, -t.Change, t.Previous)
	}
	return fmt.Sprintf("%d (=)", t.Current)
}

// statCells are a response time's cells: the count with its trend, the
// median and p90, and the previous period's.
func statCells(rt ResponseTime) []string {
	stat := func(s DurationStats, d Duration) string {
		if s.Count == 0 {
			return "–"
		}
		return fmtDuration(time.Duration(d))
	}
	c, p := rt.Current, rt.Previous
	return []string{fmtTrend(trend(c.Count, p.Count)), stat(c, c.Median), stat(c, c.P90), stat(p, p.Median), stat(p, p.P90)}
}

func longestState(l *LongestIncident) string {
	if l.Open {
		return fmtDuration(time.Duration(l.Duration)) + " so far, still open"
	}
	return fmtDuration(time.Duration(l.Duration)) + ", resolved"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// idList formats incident IDs: "INC-4, INC-6", or "none".
func idList(ids []incidents.ID) string {
	if len(ids) == 0 {
		return "none"
	}
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return strings.Join(s, ", ")
}

func serviceName(s string) string {
	if s == "" {
		return "(no service)"
	}
	return s
}

func groupName(g GroupActivity) string {
	if g.Title != "" {
		return g.Title
	}
	return g.Key
}

// textOf makes text from outside safe for a terminal: control characters
// (escape sequences, line breaks, tabs) become spaces.
func textOf(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
}

// maxTitle is how many characters of a title the text shows.
const maxTitle = 60

// textTitle is textOf with the title cut to maxTitle characters.
func textTitle(s string) string {
	s = textOf(s)
	if utf8.RuneCountInString(s) <= maxTitle {
		return s
	}
	return string([]rune(s)[:maxTitle-1]) + "…"
}

func refCells(i IncidentRef) []string {
	return []string{i.ID.String(), textOf(string(i.Severity)), textOf(serviceName(i.Service)), textTitle(i.Title)}
}

// table writes rows in columns two spaces apart, each line after indent,
// with no trailing spaces.
func table(b *bytes.Buffer, indent string, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		line := indent
		for i, cell := range row {
			if i < len(row)-1 {
				cell += strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2)
			}
			line += cell
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
}

// tableOrNone is table, or "none" when there are no rows.
func tableOrNone(b *bytes.Buffer, indent string, rows [][]string) {
	if len(rows) == 0 {
		b.WriteString(indent + "none\n")
		return
	}
	table(b, indent, rows)
}

// mdTable writes a GitHub Markdown table. Cells must be escaped already.
func mdTable(b *bytes.Buffer, header []string, rows [][]string) {
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			if c == "" {
				b.WriteString(" |")
			} else {
				b.WriteString(" " + c + " |")
			}
		}
		b.WriteString("\n")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, row := range rows {
		line(row)
	}
}

// mdTableOrNone is mdTable, or none in italics when there are no rows.
func mdTableOrNone(b *bytes.Buffer, header []string, rows [][]string, none string) {
	if len(rows) == 0 {
		b.WriteString("_" + none + "_\n")
		return
	}
	mdTable(b, header, rows)
}

func mdRefCells(i IncidentRef) []string {
	return []string{i.ID.String(), templates.MarkdownText(string(i.Severity)), templates.MarkdownText(serviceName(i.Service)), templates.MarkdownText(i.Title)}
}

// fmtAge is how long ago created was at to ("12d 3h old"), or "" when
// unknown.
func fmtAge(to, created time.Time) string {
	if created.IsZero() || created.After(to) {
		return ""
	}
	return fmtDuration(to.Sub(created)) + " old"
}

// String formats a count with its change: "5 (↑2 from 3)", "3 (=)".
func (t Trend) String() string { return fmtTrend(t) }

// String formats a duration in its two largest units: "1h 5m", "2d 3h".
func (d Duration) String() string { return fmtDuration(time.Duration(d)) }
