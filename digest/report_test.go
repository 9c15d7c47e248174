package digest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/golden"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeSource is a Source in memory. It returns every incident it holds,
// more than the contract asks for, so that the tests also show that Build
// picks incidents by their times itself.
type fakeSource struct {
	incs []*incidents.Incident
	act  AlertActivity
	err  error
	// asked records the periods each method was asked for.
	asked []string
}

func (f *fakeSource) IncidentsBetween(_ context.Context, from, to time.Time) ([]*incidents.Incident, error) {
	f.asked = append(f.asked, fmt.Sprintf("incidents %s %s", from.Format(time.DateTime), to.Format(time.DateTime)))
	return f.incs, f.err
}

func (f *fakeSource) AlertActivity(_ context.Context, from, to time.Time) (AlertActivity, error) {
	f.asked = append(f.asked, fmt.Sprintf("alerts %s %s", from.Format(time.DateTime), to.Format(time.DateTime)))
	return f.act, nil
}

// fakePostmortems is a PostmortemSource in memory.
type fakePostmortems struct {
	pms   map[incidents.ID]Postmortem
	asked []incidents.ID
}

func (f *fakePostmortems) Postmortems(_ context.Context, ids []incidents.ID) (map[incidents.ID]Postmortem, error) {
	f.asked = append(f.asked, ids...)
	out := map[incidents.ID]Postmortem{}
	for _, id := range ids {
		if pm, ok := f.pms[id]; ok {
			out[id] = pm
		}
	}
	return out, nil
}

// fakeActionItems is an ActionItemSource in memory.
type fakeActionItems struct {
	items []ActionItem
	asked []incidents.ID
}

func (f *fakeActionItems) ActionItems(_ context.Context, ids []incidents.ID) ([]ActionItem, error) {
	f.asked = append(f.asked, ids...)
	var out []ActionItem
	for _, it := range f.items {
		if slices.Contains(ids, it.Incident) {
			out = append(out, it)
		}
	}
	return out, nil
}

// when parses "01-02 15:04" as a time in 2026, UTC; "" is the zero time.
func when(t testing.TB, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	v, err := time.Parse("2006-01-02 15:04", "2026-"+s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// incident builds an incident from its key times, each "01-02 15:04" or ""
// for "not yet"; it is resolved when resolved is set.
func incident(t testing.TB, id int, sev incidents.Severity, service, title, detected, declared, acked, resolved string) *incidents.Incident {
	t.Helper()
	inc := &incidents.Incident{
		ID: incidents.ID(id), Title: title, Severity: sev, Service: service, Status: incidents.StatusInvestigating,
		DetectedAt: when(t, detected), DeclaredAt: when(t, declared), AcknowledgedAt: when(t, acked),
		ResolvedAt: when(t, resolved), Roles: map[incidents.Role]string{},
	}
	if resolved != "" {
		inc.Status = incidents.StatusResolved
	}
	return inc
}

// The period of the tests: Monday 2 March 2026 to Monday 9 March; the
// period before it starts on Monday 23 February.
var (
	weekFrom = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	weekTo   = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
)

// handSource is the hand-computed fixture: ten incidents, two of which
// (INC-1, INC-10) fall outside both periods, and the alert activity.
func handSource(t testing.TB) *fakeSource {
	return &fakeSource{
		incs: []*incidents.Incident{
			// Resolved before the previous period began: in nothing.
			incident(t, 1, incidents.Sev1, "checkout", "Old outage", "02-01 00:00", "02-01 00:00", "02-01 00:05", "02-02 00:00"),
			// Declared long before, still open: only open at the end, and the longest.
			incident(t, 2, incidents.Sev3, "search", "Search indexing lags", "02-10 00:00", "02-10 00:00", "", ""),
			// The previous period.
			incident(t, 3, incidents.Sev2, "checkout", "Checkout errors", "02-24 09:50", "02-24 10:00", "02-24 10:00", "02-24 12:00"),
			// Opened in the previous period, resolved exactly at From: resolved in this one.
			incident(t, 4, incidents.Sev1, "checkout", "Payments down", "02-28 22:00", "02-28 22:05", "02-28 22:15", "03-02 00:00"),
			// This period.
			incident(t, 5, incidents.Sev1, "checkout", "Checkout 5xx", "03-03 10:00", "03-03 10:02", "03-03 10:06", "03-03 13:00"),
			incident(t, 6, incidents.Sev2, "search", "Search 5xx", "03-04 08:00", "03-04 08:00", "03-04 08:20", "03-04 09:30"),
			incident(t, 7, incidents.Sev3, "checkout", "Slow cart", "03-05 14:00", "03-05 14:10", "03-05 14:12", "03-05 14:45"),
			incident(t, 8, incidents.Sev4, "search", "Typo tolerance off", "03-06 09:00", "03-06 09:00", "", "03-06 10:00"),
			incident(t, 9, incidents.Sev2, "billing", "Invoices delayed", "03-08 20:00", "03-08 20:00", "03-08 20:04", ""),
			// Declared exactly at To: in the next period.
			incident(t, 10, incidents.Sev1, "billing", "Next week's", "03-09 00:00", "03-09 00:00", "", ""),
		},
		act: AlertActivity{
			Groups: []GroupActivity{
				{Key: "am:disk", Title: "Disk filling up", Service: "search", Fired: 9, Alerts: 3},
				{Key: "am:latency", Title: "Checkout p99 over 2s", Service: "checkout", Fired: 6, Alerts: 2, Incidents: []incidents.ID{5, 7}},
				{Key: "am:payments", Title: "Payment errors", Service: "billing", Fired: 1, Alerts: 1, Incidents: []incidents.ID{9}},
				{Key: "am:errors", Title: "5xx ratio", Service: "checkout", Fired: 4, Alerts: 2, Incidents: []incidents.ID{5, 9}},
				{Key: "am:b-probe", Title: "Probe B", Fired: 1, Alerts: 1},
				{Key: "am:cert", Title: "Certificate expiring", Fired: 3, Alerts: 1},
				{Key: "am:a-probe", Title: "Probe A", Fired: 1, Alerts: 1},
			},
			Names: []NameActivity{
				{Name: "DiskSpaceLow", Fired: 9, Incidents: 0},
				{Name: "HighLatency", Fired: 6, Incidents: 2},
				{Name: "ErrorRate", Fired: 4, Incidents: 2},
				{Name: "CertExpiring", Fired: 3, Incidents: 0},
				{Name: "ProbeFailed", Fired: 2, Incidents: 0},
				{Name: "PaymentErrors", Fired: 1, Incidents: 1},
			},
		},
	}
}

func ref(id int, sev incidents.Severity, service, title string, st incidents.Status) IncidentRef {
	return IncidentRef{ID: incidents.ID(id), Title: title, Severity: sev, Service: service, Status: st}
}

func TestBuildHandComputed(t *testing.T) {
	const res, inv = incidents.StatusResolved, incidents.StatusInvestigating
	src := handSource(t)
	pms := &fakePostmortems{pms: map[incidents.ID]Postmortem{
		4: {URL: "https://github.com/acme/pm/pull/4", State: PullRequestMerged},
		5: {URL: "https://github.com/acme/pm/pull/5", State: PullRequestOpen},
		6: {URL: "https://github.com/acme/pm/pull/6", State: PullRequestClosed},
	}}
	items := &fakeActionItems{items: []ActionItem{
		{Incident: 9, Title: "Page billing on-call"},
		{Incident: 5, Title: "Raise the connection pool", Done: true},
		{Incident: 5, Title: "Alert on provider latency"},
		{Incident: 3, Title: "Of the previous period"},
	}}
	got, err := Build(context.Background(), src, weekFrom, weekTo, WithPostmortems(pms), WithActionItems(items))
	if err != nil {
		t.Fatal(err)
	}
	want := &Report{
		From: weekFrom, To: weekTo,
		PreviousFrom: time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC), // 2 Mar - 7 days

		// Opened: declared in [2 Mar, 9 Mar): INC-5, 6, 7, 8, 9 = 5; in
		// [23 Feb, 2 Mar): INC-3, 4 = 2. INC-10 is declared at To.
		Opened: Trend{Current: 5, Previous: 2, Change: 3},
		// Resolved: INC-4 (at From exactly), 5, 6, 7, 8 = 5; before: INC-3 = 1.
		Resolved: Trend{Current: 5, Previous: 1, Change: 4},
		// Open at 9 Mar: INC-2 and INC-9.
		OpenAtEnd: 2,
		BySeverity: []SeverityCounts{
			// opened INC-5 / INC-4; resolved INC-4, 5 / none
			{Severity: incidents.Sev1, Opened: Trend{1, 1, 0}, Resolved: Trend{2, 0, 2}},
			// opened INC-6, 9 / INC-3; resolved INC-6 / INC-3
			{Severity: incidents.Sev2, Opened: Trend{2, 1, 1}, Resolved: Trend{1, 1, 0}},
			// INC-7 (INC-2 is older)
			{Severity: incidents.Sev3, Opened: Trend{1, 0, 1}, Resolved: Trend{1, 0, 1}},
			// INC-8
			{Severity: incidents.Sev4, Opened: Trend{1, 0, 1}, Resolved: Trend{1, 0, 1}},
		},
		ByService: []ServiceCounts{
			// opened INC-5, 7 / INC-3, 4; resolved INC-4, 5, 7 / INC-3.
			// Ties with search on opened, first on resolved (3 > 2).
			{Service: "checkout", Opened: Trend{2, 2, 0}, Resolved: Trend{3, 1, 2}},
			// opened INC-6, 8; resolved INC-6, 8
			{Service: "search", Opened: Trend{2, 0, 2}, Resolved: Trend{2, 0, 2}},
			// opened INC-9 (INC-10 is next week's)
			{Service: "billing", Opened: Trend{1, 0, 1}, Resolved: Trend{0, 0, 0}},
		},
		TimeToAcknowledge: ResponseTime{
			// Acknowledged this period: INC-5 10:00→10:06 = 6m, INC-6 08:00→08:20 = 20m,
			// INC-7 14:00→14:12 = 12m (from detection, not declaration), INC-9 20:00→20:04 = 4m.
			// Sorted 4, 6, 12, 20: median rank ⌈0.5·4⌉ = 2 → 6m; p90 rank ⌈0.9·4⌉ = ⌈3.6⌉ = 4 → 20m.
			Current: DurationStats{Count: 4, Median: Duration(6 * time.Minute), P90: Duration(20 * time.Minute)},
			// Before: INC-3 09:50→10:00 = 10m, INC-4 22:00→22:15 = 15m.
			// Median rank ⌈0.5·2⌉ = 1 → 10m; p90 rank ⌈0.9·2⌉ = ⌈1.8⌉ = 2 → 15m.
			Previous: DurationStats{Count: 2, Median: Duration(10 * time.Minute), P90: Duration(15 * time.Minute)},
		},
		TimeToResolve: ResponseTime{
			// Resolved this period: INC-4 28 Feb 22:00→2 Mar 00:00 = 26h, INC-5 10:00→13:00 = 3h,
			// INC-6 08:00→09:30 = 1h30m, INC-7 14:00→14:45 = 45m, INC-8 09:00→10:00 = 1h.
			// Sorted 45m, 1h, 1h30m, 3h, 26h: median rank ⌈2.5⌉ = 3 → 1h30m; p90 rank ⌈4.5⌉ = 5 → 26h.
			Current: DurationStats{Count: 5, Median: Duration(90 * time.Minute), P90: Duration(26 * time.Hour)},
			// Before: INC-3 09:50→12:00 = 2h10m, alone.
			Previous: DurationStats{Count: 1, Median: Duration(130 * time.Minute), P90: Duration(130 * time.Minute)},
		},
		// INC-2 is open from 10 Feb to To, 9 Mar: 18 days of February + 9 = 27 days = 648h,
		// longer than INC-4 (26h) and INC-9 (20:00→24:00 = 4h).
		Longest: &LongestIncident{IncidentRef: ref(2, incidents.Sev3, "search", "Search indexing lags", inv),
			Duration: Duration(27 * 24 * time.Hour), Open: true},
		// Opened this period: checkout INC-5, 7; search INC-6, 8; billing INC-9 alone.
		RepeatServices: []RepeatService{
			{Service: "checkout", Incidents: []incidents.ID{5, 7}},
			{Service: "search", Incidents: []incidents.ID{6, 8}},
		},
		// Two incidents each; by name.
		RepeatAlerts: []NameActivity{{Name: "ErrorRate", Fired: 4, Incidents: 2}, {Name: "HighLatency", Fired: 6, Incidents: 2}},
		// sev1/sev2 declared or resolved this period: INC-4, 5, 6, 9. INC-4 merged,
		// INC-5 open, INC-6 closed unmerged (none), INC-9 none.
		Postmortems: PostmortemStatus{
			Tracked: true,
			Missing: []IncidentRef{ref(6, incidents.Sev2, "search", "Search 5xx", res), ref(9, incidents.Sev2, "billing", "Invoices delayed", inv)},
			OpenPullRequests: []PostmortemPullRequest{{IncidentRef: ref(5, incidents.Sev1, "checkout", "Checkout 5xx", res),
				URL: "https://github.com/acme/pm/pull/5"}},
		},
		// Of INC-4..9: two open (by incident), one done; INC-3's item is not asked for.
		ActionItems: ActionItemStatus{Tracked: true, Done: 1, Open: []ActionItem{
			{Incident: 5, Title: "Alert on provider latency"}, {Incident: 9, Title: "Page billing on-call"}}},
		// By firings 9, 6, 4, 3, then of the three at 1 the first by key: am:a-probe.
		NoisiestGroups: []GroupActivity{
			{Key: "am:disk", Title: "Disk filling up", Service: "search", Fired: 9, Alerts: 3, Incidents: []incidents.ID{}},
			{Key: "am:latency", Title: "Checkout p99 over 2s", Service: "checkout", Fired: 6, Alerts: 2, Incidents: []incidents.ID{5, 7}},
			{Key: "am:errors", Title: "5xx ratio", Service: "checkout", Fired: 4, Alerts: 2, Incidents: []incidents.ID{5, 9}},
			{Key: "am:cert", Title: "Certificate expiring", Fired: 3, Alerts: 1, Incidents: []incidents.ID{}},
			{Key: "am:a-probe", Title: "Probe A", Fired: 1, Alerts: 1, Incidents: []incidents.ID{}},
		},
		// Fired 3 or more times, no incident: DiskSpaceLow (9), CertExpiring (3);
		// ProbeFailed fired only twice.
		FiredWithoutIncident: []NameActivity{{Name: "DiskSpaceLow", Fired: 9}, {Name: "CertExpiring", Fired: 3}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("report differs:\n%s", jsonDiff(t, want, got))
	}
	if w := []string{"incidents 2026-02-23 00:00:00 2026-03-09 00:00:00", "alerts 2026-03-02 00:00:00 2026-03-09 00:00:00"}; !slices.Equal(src.asked, w) {
		t.Errorf("source asked for %q, want %q", src.asked, w)
	}
	if w := []incidents.ID{4, 5, 6, 9}; !slices.Equal(pms.asked, w) {
		t.Errorf("postmortems asked for %v, want %v", pms.asked, w)
	}
	if w := []incidents.ID{4, 5, 6, 7, 8, 9}; !slices.Equal(items.asked, w) {
		t.Errorf("action items asked for %v, want %v", items.asked, w)
	}
}

// TestBuildWithoutPostmortemsOrActionItems: every sev1 and sev2 incident of
// the period counts as having no postmortem, and nothing is tracked.
func TestBuildWithoutPostmortemsOrActionItems(t *testing.T) {
	r, err := Build(context.Background(), handSource(t), weekFrom, weekTo)
	if err != nil {
		t.Fatal(err)
	}
	var ids []incidents.ID
	for _, m := range r.Postmortems.Missing {
		ids = append(ids, m.ID)
	}
	// INC-4 (sev1, resolved at From), INC-5 (sev1), INC-6 and INC-9 (sev2);
	// not INC-3 (last period) nor INC-10 (declared at To).
	if w := []incidents.ID{4, 5, 6, 9}; !slices.Equal(ids, w) || r.Postmortems.Tracked || len(r.Postmortems.OpenPullRequests) != 0 {
		t.Errorf("postmortems = %+v, want untracked, missing %v, no pull requests", r.Postmortems, w)
	}
	if r.ActionItems.Tracked || len(r.ActionItems.Open) != 0 || r.ActionItems.Done != 0 {
		t.Errorf("action items = %+v, want untracked", r.ActionItems)
	}
	var text bytes.Buffer
	if err := r.Text(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Postmortems are not tracked yet", "ACTION ITEMS\n  Not tracked yet.\n"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text does not say %q:\n%s", s, text.String())
		}
	}
}

func TestBuildPeriod(t *testing.T) {
	ctx := context.Background()
	src := &fakeSource{}
	r, err := Build(ctx, src, time.Time{}, weekTo)
	if err != nil {
		t.Fatal(err)
	}
	if !r.From.Equal(weekFrom) || !r.PreviousFrom.Equal(weekFrom.Add(-Period)) {
		t.Errorf("zero from: period %s to %s, previous from %s; want the 7 days before To", r.From, r.To, r.PreviousFrom)
	}
	// An empty week: no figures, and empty lists rather than null in JSON.
	if r.Opened != (Trend{}) || r.Longest != nil || r.TimeToResolve.Current != (DurationStats{}) {
		t.Errorf("empty week: %+v", r)
	}
	var js bytes.Buffer
	if err := r.JSON(&js); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(js.String(), "null"); n != 1 { // only "longest"
		t.Errorf("JSON of an empty week has %d nulls:\n%s", n, js.String())
	}
	// A day: the previous period is the day before.
	if r, err = Build(ctx, src, weekTo.Add(-24*time.Hour), weekTo); err != nil || !r.PreviousFrom.Equal(weekTo.Add(-48*time.Hour)) {
		t.Errorf("a day: %v, %v", r, err)
	}
	if _, err := Build(ctx, src, weekTo, weekTo); err == nil {
		t.Error("an empty period was accepted")
	}
	boom := errors.New("boom")
	if _, err := Build(ctx, &fakeSource{err: boom}, weekFrom, weekTo); !errors.Is(err, boom) {
		t.Errorf("source error: %v", err)
	}
}

func TestNearestRank(t *testing.T) {
	ds := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v)
		}
		return out
	}
	for _, c := range []struct {
		in          []time.Duration
		median, p90 time.Duration
	}{
		{nil, 0, 0},
		{ds(7), 7, 7},
		{ds(1, 2), 1, 2},    // ranks ⌈1⌉ = 1, ⌈1.8⌉ = 2
		{ds(1, 2, 3), 2, 3}, // ⌈1.5⌉ = 2, ⌈2.7⌉ = 3
		{ds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 5, 9},                                           // ⌈5⌉ = 5, ⌈9⌉ = 9: exact ranks take no rounding up
		{ds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 6, 10},                                      // ⌈5.5⌉ = 6, ⌈9.9⌉ = 10
		{ds(40, 10, 30, 20), 20, 40},                                                        // unsorted: summarize sorts
		{ds(5, 5, 5, 100), 5, 100},                                                          // ⌈2⌉ = 2, ⌈3.6⌉ = 4
		{ds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 10, 18}, // ⌈10⌉, ⌈18⌉
	} {
		s := summarize(slices.Clone(c.in))
		if s.Count != len(c.in) || time.Duration(s.Median) != c.median || time.Duration(s.P90) != c.p90 {
			t.Errorf("summarize(%v) = %+v, want median %d, p90 %d", c.in, s, c.median, c.p90)
		}
	}
	if got := nearestRank(ds(1, 2, 3), 100); got != 3 {
		t.Errorf("p100 = %d, want the largest", got)
	}
	if got := nearestRank(ds(1, 2, 3), 1); got != 1 {
		t.Errorf("p1 = %d, want the smallest", got)
	}
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                "0s",
		45 * time.Second:                 "45s",
		59*time.Minute + 59*time.Second:  "59m",
		time.Hour:                        "1h",
		time.Hour + 5*time.Minute:        "1h 5m",
		26 * time.Hour:                   "1d 2h",
		27 * 24 * time.Hour:              "27d",
		27*24*time.Hour + 59*time.Minute: "27d",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%s) = %q, want %q", d, got, want)
		}
	}
	for tr, want := range map[Trend]string{
		trend(5, 3): "5 (↑2 from 3)",
		trend(3, 3): "3 (=)",
		trend(3, 4): "3 (↓1 from 4)",
		trend(0, 2): "0 (↓2 from 2)",
	} {
		if got := fmtTrend(tr); got != want {
			t.Errorf("fmtTrend(%+v) = %q, want %q", tr, got, want)
		}
	}
	for in, want := range map[time.Duration]string{7 * 24 * time.Hour: "7 days", 24 * time.Hour: "1 day", 36 * time.Hour: "1d 12h"} {
		if got := fmtPeriod(in); got != want {
			t.Errorf("fmtPeriod(%s) = %q, want %q", in, got, want)
		}
	}
}

// The digest's Markdown escapes text with templates.MarkdownText and
// MarkdownURL, tested (and fuzzed through a GFM parser) in templates.
func TestTextOfDropsControlCharacters(t *testing.T) {
	if got := textOf("a\x1b]0;pwned\x07b\nc"); got != "a ]0;pwned b c" {
		t.Errorf("textOf kept control characters: %q", got)
	}
}

// cells counts the cells of a Markdown table row the way GitHub splits
// them: at each | that no backslash escapes.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

// TestMarkdownKeepsHostileTitlesInTheirCells renders incidents whose titles
// try to break the table, and checks that every row has as many cells as
// its header.
func TestMarkdownKeepsHostileTitlesInTheirCells(t *testing.T) {
	titles := []string{"a | b | c", `\| escaped?`, "<img src=x onerror=alert(1)>", "line\nbreak | x", "# heading", "- item", "`code | x`"}
	src := &fakeSource{}
	for i, title := range titles {
		d := fmt.Sprintf("03-0%d 10:00", 2+i)
		src.incs = append(src.incs, incident(t, i+1, incidents.Sev1, "svc|x", title, d, d, "", ""))
	}
	src.act.Groups = []GroupActivity{{Key: "k", Title: "<b>bold</b> | x", Service: "s|v", Fired: 3}}
	src.act.Names = []NameActivity{{Name: "Name|x", Fired: 3}}
	r, err := Build(context.Background(), src, weekFrom, weekTo)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := r.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "<img") || strings.Contains(md.String(), "<b>") {
		t.Errorf("HTML got through:\n%s", md.String())
	}
	want, rows := 0, 0
	for _, line := range strings.Split(md.String(), "\n") {
		if !strings.HasPrefix(line, "|") {
			want = 0
			continue
		}
		if want == 0 {
			want = cells(line)
			continue
		}
		rows++
		if n := cells(line); n != want {
			t.Errorf("row has %d cells, its header %d: %s", n, want, line)
		}
	}
	if rows < len(titles) {
		t.Errorf("only %d table rows:\n%s", rows, md.String())
	}
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "# Incident review") && !strings.HasPrefix(line, "## ") && !strings.HasPrefix(line, "### ") {
			t.Errorf("a title made a heading: %s", line)
		}
	}
}

// weekSource is a realistic week for the golden files: twelve incidents
// across three services, eight the week before, one older one still open,
// and the week's alerts.
func weekSource(t testing.TB) *fakeSource {
	c, s, b := "checkout", "search", "billing"
	const s1, s2, s3, s4 = incidents.Sev1, incidents.Sev2, incidents.Sev3, incidents.Sev4
	return &fakeSource{
		incs: []*incidents.Incident{
			incident(t, 31, s4, s, "Autocomplete suggestions stale for some locales", "02-17 11:00", "02-17 11:30", "02-17 13:00", ""),
			// The week before.
			incident(t, 32, s2, c, "Checkout p99 latency over 2s", "02-23 09:12", "02-23 09:15", "02-23 09:18", "02-23 10:40"),
			incident(t, 33, s3, s, "Search indexer falling behind", "02-23 16:00", "02-23 16:20", "02-23 16:45", "02-24 09:10"),
			incident(t, 34, s1, b, "Invoices generated twice for annual plans", "02-24 07:55", "02-24 08:00", "02-24 08:03", "02-24 12:30"),
			incident(t, 35, s3, c, "Apple Pay button missing on Safari", "02-25 13:00", "02-25 13:10", "02-25 13:30", "02-25 15:00"),
			incident(t, 36, s2, s, "Search 5xx after index migration", "02-26 10:00", "02-26 10:04", "02-26 10:06", "02-26 11:15"),
			incident(t, 37, s4, b, "Tax preview rounding off by a cent", "02-26 15:00", "02-26 15:00", "", "02-27 10:00"),
			incident(t, 38, s2, c, "Cart service memory leak", "02-27 21:30", "02-27 21:41", "02-27 21:50", "02-28 01:20"),
			incident(t, 39, s3, c, "Promo codes rejected at checkout", "03-01 18:00", "03-01 18:05", "03-01 18:20", "03-02 09:30"),
			// The week.
			incident(t, 40, s1, c, "Checkout 5xx in eu-west | card payments failing", "03-02 08:58", "03-02 09:02", "03-02 09:04", "03-02 11:32"),
			incident(t, 41, s3, s, "Search results missing new products", "03-02 14:00", "03-02 14:30", "03-02 14:41", "03-03 10:05"),
			incident(t, 42, s2, c, "Checkout p99 latency over 2s", "03-03 09:10", "03-03 09:12", "03-03 09:15", "03-03 10:02"),
			incident(t, 43, s2, b, "#payments queue backlog", "03-03 22:40", "03-03 22:45", "03-03 23:05", "03-04 03:15"),
			incident(t, 44, s4, s, "Typo tolerance disabled by a config push", "03-04 11:00", "03-04 11:00", "", "03-04 11:45"),
			incident(t, 45, s2, c, "Address lookup failing for <5% of requests>", "03-04 15:20", "03-04 15:30", "03-04 15:52", "03-04 17:10"),
			incident(t, 46, s1, b, "Card authorisations declined by the provider", "03-05 06:12", "03-05 06:15", "03-05 06:19", "03-05 09:40"),
			incident(t, 47, s2, s, "`reindex` job saturating the primary", "03-05 13:00", "03-05 13:05", "03-05 13:09", "03-05 14:20"),
			incident(t, 48, s3, c, "Checkout p99 latency over 2s", "03-06 10:30", "03-06 10:31", "03-06 10:40", "03-06 11:05"),
			incident(t, 49, s4, b, "Receipt emails delayed", "03-06 16:00", "03-06 16:20", "", "03-07 09:00"),
			incident(t, 50, s2, c, "Inventory reservations timing out", "03-07 23:50", "03-07 23:55", "03-08 00:10", "03-08 02:45"),
			incident(t, 51, s3, s, "Search latency spikes during reindex", "03-08 19:00", "03-08 19:10", "03-08 19:20", ""),
		},
		act: AlertActivity{
			Groups: []GroupActivity{
				{Key: `alertmanager:{}:{alertname="HighLatency"}`, Title: "Checkout p99 over 2s", Service: c, Fired: 14, Alerts: 3, Incidents: []incidents.ID{42, 48}},
				{Key: `alertmanager:{}:{alertname="DiskSpaceLow"}`, Title: "Disk space below 10% on search-data", Service: s, Fired: 11, Alerts: 4},
				{Key: "grafana:card-declines", Title: "Card decline rate above 8%", Service: b, Fired: 6, Alerts: 2, Incidents: []incidents.ID{46}},
				{Key: `alertmanager:{}:{alertname="HTTP5xxRatio"}`, Title: "5xx ratio over 2%", Service: c, Fired: 5, Alerts: 2, Incidents: []incidents.ID{40}},
				{Key: "generic:cron:nightly-export", Title: "Nightly export failed", Service: b, Fired: 4, Alerts: 1},
				{Key: `alertmanager:{}:{alertname="IndexLag"}`, Title: "Search index lag over 15m", Service: s, Fired: 3, Alerts: 1, Incidents: []incidents.ID{41, 51}},
				{Key: "grafana:queue-depth", Title: "Payments queue depth", Service: b, Fired: 2, Alerts: 1, Incidents: []incidents.ID{43}},
				{Key: `alertmanager:{}:{alertname="CertificateExpiry"}`, Title: "TLS certificate expires in 14 days", Fired: 1, Alerts: 1},
			},
			Names: []NameActivity{
				{Name: "HighLatency", Fired: 14, Incidents: 2},
				{Name: "DiskSpaceLow", Fired: 11},
				{Name: "CardDeclineRate", Fired: 6, Incidents: 1},
				{Name: "HTTP5xxRatio", Fired: 5, Incidents: 1},
				{Name: "NightlyExportFailed", Fired: 4},
				{Name: "IndexLag", Fired: 3, Incidents: 2},
				{Name: "QueueDepth", Fired: 2, Incidents: 1},
				{Name: "CertificateExpiry", Fired: 1},
			},
		},
	}
}

func TestGoldenWeek(t *testing.T) {
	pms := &fakePostmortems{pms: map[incidents.ID]Postmortem{
		50: {URL: "https://github.com/acme/postmortems/pull/108", State: PullRequestMerged},
		42: {URL: "https://github.com/acme/postmortems/pull/115", State: PullRequestOpen},
		46: {URL: "https://github.com/acme/postmortems/pull/112", State: PullRequestOpen},
		47: {URL: "https://github.com/acme/postmortems/pull/113", State: PullRequestClosed},
	}}
	r, err := Build(context.Background(), weekSource(t), weekFrom, weekTo, WithPostmortems(pms))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name   string
		render func(io.Writer) error
	}{
		{"week.txt", r.Text},
		{"week.md", r.Markdown},
		{"week.json", r.JSON},
	} {
		var got bytes.Buffer
		if err := f.render(&got); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, f.name, got.String())
	}

	// The JSON is the whole report: it reads back into the same one.
	var js bytes.Buffer
	if err := r.JSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("JSON does not read back into the report:\n%s", jsonDiff(t, r, &back))
	}
}

// checkGolden compares got with testdata/name, or rewrites the file with
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got, *updateGolden, "run go test ./digest -run Golden -update")
}

// jsonDiff shows where two reports differ, as JSON lines.
func jsonDiff(t *testing.T, want, got *Report) string {
	t.Helper()
	var w, g bytes.Buffer
	if err := want.JSON(&w); err != nil {
		t.Fatal(err)
	}
	if err := got.JSON(&g); err != nil {
		t.Fatal(err)
	}
	if d := golden.Diff(w.String(), g.String()); d != "" {
		return d
	}
	return fmt.Sprintf("(same JSON)\nwant %#v\ngot  %#v", want, got)
}
