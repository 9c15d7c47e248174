package postmortem_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin wherever the tests run

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/golden"
	"github.com/warroomhq/warroom/postmortem"
	"github.com/warroomhq/warroom/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const updateHint = "go test ./postmortem -run TestDraft -update"

var berlin = mustZone("Europe/Berlin")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is a time on the day of the realistic incident, in UTC.
func at(h, m, s int) time.Time { return time.Date(2026, 11, 3, h, m, s, 0, time.UTC) }

// realistic is a sev1 as Warroom records it: declared from an alert,
// roles taken, notes (some hostile), a pinned Slack message, status
// changes, alerts that fired and resolved (one still firing), resolved.
func realistic() (*incidents.Incident, []incidents.Event, []incidents.StoredAlert) {
	inc := &incidents.Incident{
		ID:          42,
		Title:       "Checkout failing: 5xx on /pay for *EU* users #",
		Severity:    incidents.Sev1,
		Status:      incidents.StatusResolved,
		Service:     "checkout",
		Description: "HighErrorRate <img src=x onerror=alert(1)>",
		Summary:     "Rolled back `payments-api` v2.31 | config cache fixed",
		DeclaredBy:  "alertmanager",
		Roles:       map[incidents.Role]string{incidents.RoleLead: "U01ALICE", incidents.RoleComms: "U01CAROL"},
		ChannelID:   "C042", ChannelName: "inc-42-checkout-failing",
		DetectedAt:     at(14, 0, 30),
		DeclaredAt:     at(14, 2, 0),
		AcknowledgedAt: at(14, 4, 10),
		MitigatedAt:    at(14, 21, 0),
		ResolvedAt:     at(14, 29, 0),
	}
	alice, bob, carol, dave := incidents.SlackActor("U01ALICE"), incidents.SlackActor("U01BOB"), incidents.SlackActor("U01CAROL"), incidents.SlackActor("U01DAVE")
	ev := func(t time.Time, kind incidents.EventKind, actor incidents.Actor, text string) incidents.Event {
		return incidents.Event{IncidentID: 42, At: t, Kind: kind, Actor: actor, Text: text}
	}
	deployEv := func(t time.Time, kind incidents.EventKind, actor incidents.Actor, text, url string) incidents.Event {
		e := ev(t, kind, actor, text)
		if url != "" {
			e.Data = map[string]any{"url": url}
		}
		return e
	}
	pinned := ev(at(14, 1, 50), "slack.message", alice,
		"Seeing 5xx on /pay since ~14:00.\nSee [link](javascript:alert(1)) and https://grafana.example.com/d/abc?var-env=prod&from=now-1h")
	pinned.Data = map[string]any{"permalink": "https://acme.slack.com/archives/C042/p1762178510000100", "copied_by": "U01BOB"}
	events := []incidents.Event{
		ev(at(14, 2, 0), incidents.EventDeclared, "alertmanager", "Declared INC-42 from alert HighErrorRate"),
		ev(at(14, 2, 0), incidents.EventAlertFiring, "alertmanager", "HighErrorRate firing: checkout 5xx above 5%"),
		ev(at(14, 2, 5), incidents.EventChannel, incidents.System, "Created #inc-42-checkout-failing"),
		ev(at(14, 3, 0), incidents.EventRoleAssigned, alice, "U01ALICE is now lead"),
		ev(at(14, 3, 20), incidents.EventRoleAssigned, alice, "U01CAROL is now comms"),
		ev(at(14, 2, 1), "page.triggered", incidents.System, "Paged bob (on call for payments-primary) (step 1 of 3 of payments, round 1 of 3)"),
		ev(at(14, 4, 10), "page.acknowledged", bob, "Acknowledged page 1 (payments) 2m after it started"),
		ev(at(14, 4, 10), incidents.EventAcknowledged, bob, "Acknowledged 3m after detection"),
		ev(at(14, 6, 0), incidents.EventNote, bob, "| broken | table"),
		ev(at(14, 7, 0), incidents.EventNote, dave, "<script>alert(1)</script>"),
		ev(at(14, 8, 0), incidents.EventNote, bob, "# not a heading\n- nor a list\n\n```\ncode fence```"),
		ev(at(14, 9, 0), incidents.EventAlertFiring, "alertmanager", "PaymentsLatencyHigh firing: p99 above 2s"),
		ev(at(14, 10, 0), incidents.EventStatusChanged, alice, "Status changed to identified"),
		ev(at(14, 11, 0), incidents.EventNote, carol, "Status page updated: \"Some EU payments fail\" — cost ~$5 per failed order"),
		ev(at(14, 12, 0), incidents.EventNote, bob, "TODO: add a canary stage for payments-api config pushes"),
		ev(at(14, 15, 0), incidents.EventNote, alice, "Action: alert on config_cache misses | by region"),
		ev(at(14, 16, 0), incidents.EventNote, bob, "1. roll back\n2. flush the cache"),
		deployEv(at(14, 17, 0), "rollback.proposed", alice, "Proposed rolling back checkout from v2.31 (c0ffee1) to v2.30 (9f2c4e1) through github_workflow", ""),
		deployEv(at(14, 17, 30), "rollback.confirmed", bob, "Confirmed rolling back checkout from v2.31 (c0ffee1) to v2.30 (9f2c4e1) through github_workflow", ""),
		deployEv(at(14, 17, 31), "rollback.started", incidents.System, "Started rolling back checkout to v2.30 (9f2c4e1) through github_workflow",
			"https://github.com/acme/checkout/actions/runs/1007"),
		deployEv(at(14, 19, 0), "deploy", incidents.System, "Rollback deploy of checkout v2.30 (9f2c4e1) to production: success",
			"javascript:alert(1)"),
		deployEv(at(14, 19, 5), "rollback.succeeded", incidents.System, "Rolled back checkout to v2.30 (9f2c4e1) through github_workflow in 1m34s",
			"https://github.com/acme/checkout/actions/runs/1007"),
		ev(at(14, 21, 0), incidents.EventStatusChanged, alice, "Status changed to monitoring"),
		ev(at(14, 24, 0), incidents.EventAlertResolved, "alertmanager", "HighErrorRate resolved"),
		ev(at(14, 25, 0), incidents.EventAlertResolved, "alertmanager", "PaymentsLatencyHigh resolved"),
		ev(at(14, 29, 0), incidents.EventResolved, alice, "Resolved after 28m: Rolled back `payments-api` v2.31 | config cache fixed"),
		ev(at(23, 30, 0), incidents.EventNote, carol, "Customer comms sent **late** in the evening"),
		pinned, // copied into the timeline after the fact, with the time it was written
	}
	alerts := []incidents.StoredAlert{
		{
			Source: incidents.SourceAlertmanager, Service: "checkout", Severity: incidents.Sev1,
			Alert: incidents.Alert{
				Fingerprint: "a1", Status: incidents.AlertResolved,
				Labels:   map[string]string{"alertname": "HighErrorRate", "env": "prod", "region": "eu-west-1", "severity": "critical", "service": "checkout"},
				StartsAt: at(14, 0, 30), EndsAt: at(14, 24, 0),
				RunbookURL:   "https://runbooks.example.com/checkout/5xx",
				GeneratorURL: `http://prometheus:9090/graph?g0.expr=rate(http_requests_total{code=~"5.."}[5m]) > 0.05`,
			},
			FirstSeen: at(14, 1, 0), LastSeen: at(14, 24, 0), ChangedAt: at(14, 24, 0),
		},
		{
			Source: incidents.SourceAlertmanager, Service: "checkout", Severity: incidents.Sev3,
			Alert: incidents.Alert{
				Fingerprint: "a3", Status: incidents.AlertFiring,
				Labels: map[string]string{"alertname": "CheckoutQueueBacklog", "queue": "<b>orders</b>", "env": "prod", "cluster": "eu-1",
					"namespace": "shop", "pod": "checkout-7d9f", "team": "payments", "zone": "b"},
			},
			FirstSeen: at(14, 12, 0), LastSeen: at(14, 28, 0), ChangedAt: at(14, 12, 0),
		},
		{
			Source: incidents.SourceAlertmanager, Service: "payments", Severity: incidents.Sev2,
			Alert: incidents.Alert{
				Fingerprint: "a2", Status: incidents.AlertResolved,
				Labels:   map[string]string{"alertname": "PaymentsLatencyHigh", "route": "/pay|/refund", "service": "payments"},
				StartsAt: at(14, 8, 0), EndsAt: at(14, 25, 0),
				RunbookURL: "javascript:alert(1)",
			},
			FirstSeen: at(14, 9, 0), LastSeen: at(14, 25, 0), ChangedAt: at(14, 25, 0),
		},
	}
	return inc, events, alerts
}

// realisticDeploys are stored deploys as Drafter reads them for the
// realistic incident (detected at 14:00:30): the config change 12m before,
// a deploy of payments (an alert's service) that morning, an older deploy
// of checkout past the window, and a deploy of another service.
func realisticDeploys() []deploys.Deploy {
	return []deploys.Deploy{
		{ID: 7, Service: "checkout", Environment: "production", Source: deploys.SourceGitHubDeployments, ExternalID: "2031",
			Ref: "v2.31", SHA: "c0ffee1234567890abcdef1234567890abcdef12", Status: deploys.StatusSuccess, Creator: "octocat",
			Description: "payments-api config cache: new TTL per region | <b>EU first</b>",
			URL:         "https://github.com/acme/checkout/deployments/2031", StartedAt: at(13, 44, 0), FinishedAt: at(13, 48, 30)},
		{ID: 5, Service: "payments", Environment: "production", Source: deploys.SourceWebhook, ExternalID: "p-720",
			Ref: "v7.2.0", Status: deploys.StatusSuccess, Creator: "argo", URL: "javascript:alert(1)",
			StartedAt: at(11, 0, 0), FinishedAt: at(11, 5, 0)},
		{ID: 3, Service: "checkout", Environment: "production", Source: deploys.SourceGitHubDeployments, ExternalID: "2030",
			Ref: "v2.30", SHA: "9f2c4e1a7b3d5f60718293a4b5c6d7e8f9012345", Status: deploys.StatusSuccess, Creator: "octocat",
			StartedAt: at(9, 0, 0).Add(-48 * time.Hour), FinishedAt: at(9, 4, 0).Add(-48 * time.Hour)},
		{ID: 6, Service: "search", Environment: "production", Source: deploys.SourceWebhook, ExternalID: "s-1",
			Ref: "v1", Status: deploys.StatusSuccess, StartedAt: at(13, 50, 0), FinishedAt: at(13, 52, 0)},
	}
}

func renderDraft(t testing.TB, d *postmortem.Draft) string {
	t.Helper()
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := d.Render(set, &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDraftRealisticGolden(t *testing.T) {
	inc, events, alerts := realistic()
	d := postmortem.NewDraft(inc, events, alerts, postmortem.DraftOptions{Location: berlin, Now: at(15, 40, 0),
		// People named from config (dave is not: his ID shows), and the
		// issue filed for one action item.
		Names:         map[string]string{"U01ALICE": "alice", "U01BOB": "bob", "U01CAROL": "carol"},
		IssueLinks:    map[string]string{"add a canary stage for payments-api config pushes": "https://github.com/acme/checkout/issues/31"},
		DeploysBefore: realisticDeploys(),
	})
	md := renderDraft(t, d)
	golden.Check(t, filepath.Join("testdata", "realistic.md"), md, *update, updateHint)

	if got := headings(md, "## "); !slices.Equal(got, postmortem.RequiredSections) {
		t.Errorf("level-2 headings:\n%q\nwant RequiredSections:\n%q", got, postmortem.RequiredSections)
	}
	if got := headings(md, "# "); len(got) != 1 {
		t.Errorf("level-1 headings %q, want the title only", got)
	}
	// No text from people or alerts starts a line, nor brings HTML.
	for i, line := range strings.Split(md, "\n") {
		for _, bad := range []string{"<script", "<img", "<b>", "](javascript:", "```"} {
			if strings.Contains(strings.ReplaceAll(line, `\]`, ""), bad) {
				t.Errorf("line %d carries %q: %s", i+1, bad, line)
			}
		}
	}
	// Every row of the timeline table has its four cells.
	rows := tableRows(md, "## Timeline")
	if len(rows) != len(events)+2 {
		t.Fatalf("timeline table has %d lines, want a header, a separator and %d events", len(rows), len(events))
	}
	for _, row := range rows {
		if n := cells(row); n != 4 {
			t.Errorf("timeline row has %d cells: %s", n, row)
		}
	}
	// The pinned message, written before the declaration, comes first.
	if !strings.Contains(rows[2], "Seeing 5xx on /pay") || !strings.HasPrefix(rows[2], "| 2026-11-03 14:01:50 | 2026-11-03 15:01:50 CET |") {
		t.Errorf("first timeline row: %s", rows[2])
	}
	for _, row := range tableRows(md, "## Alerts") {
		if n := cells(row); n != 7 {
			t.Errorf("alert row has %d cells: %s", n, row)
		}
	}
	for _, want := range []string{
		"- [ ] add a canary stage for payments-api config pushes ([issue](https://github.com/acme/checkout/issues/31))",
		`- [ ] alert on config_cache misses \| by region`,
		"- **Acted in the timeline:** alice (8 events), bob (7 events), slack:U01DAVE (1 event), carol (2 events)",
		"- **Lead:** alice",
		"| 2026-11-03 13:48:30 | before the incident: finished 12m before detection | github_deployments:octocat | Deploy of checkout v2.31 (c0ffee1) to production: success — payments-api config cache: new TTL per region \\| &lt;b&gt;EU first&lt;/b&gt; ([link](https://github.com/acme/checkout/deployments/2031)) |",
		"| 2026-11-03 14:17:31 | during: 17m after detection | warroom | Started rolling back checkout to v2.30 (9f2c4e1) through github_workflow ([link](https://github.com/acme/checkout/actions/runs/1007)) |",
		"- **Time to acknowledge:** 3m",
		"| Resolved | 2026-11-03 14:29:00 | 2026-11-03 15:29:00 CET | 28m |",
		"- **Services:** checkout, payments",
	} {
		if !strings.Contains(md, want+"\n") {
			t.Errorf("draft lacks the line %q", want)
		}
	}
	if missing := postmortem.MissingSections([]byte(md)); len(missing) != 0 {
		t.Errorf("MissingSections = %q", missing)
	}
	items := postmortem.ActionItems([]byte(md))
	if len(items) != 2 || items[1].Text != "alert on config_cache misses | by region" {
		t.Errorf("ActionItems = %+v", items)
	}
	// The prompts are blameless, and so are this incident's notes.
	for _, f := range postmortem.Lint([]byte(md)) {
		t.Errorf("Lint: line %d: %q (%s)", f.Line, f.Phrase, f.Rule)
	}

	page, err := postmortem.HTML([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "realistic.html"), string(page), *update, updateHint)
	for _, bad := range []string{"<script", "<img", "<b>", "javascript:alert(1)\"", "<h1>not", "<li>nor"} {
		if strings.Contains(string(page), bad) {
			t.Errorf("the HTML carries %q", bad)
		}
	}
	if n := strings.Count(string(page), "<h2>"); n != len(postmortem.RequiredSections) {
		t.Errorf("the HTML has %d sections", n)
	}
}

// headings are the lines that start with prefix, without it.
func headings(md, prefix string) []string {
	var out []string
	for _, line := range strings.Split(md, "\n") {
		if h, ok := strings.CutPrefix(line, prefix); ok {
			out = append(out, h)
		}
	}
	return out
}

// tableRows are the lines of the first table after the heading.
func tableRows(md, heading string) []string {
	_, after, _ := strings.Cut(md, "\n"+heading+"\n")
	var rows []string
	for _, line := range strings.Split(after, "\n") {
		if strings.HasPrefix(line, "|") {
			rows = append(rows, line)
		} else if len(rows) > 0 {
			break
		}
	}
	return rows
}

// cells counts a table row's cells: its unescaped pipes, less one.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		if row[i] == '|' && (i == 0 || row[i-1] != '\\') {
			n++
		}
	}
	return n - 1
}

func TestDraftOpenIncidentInUTC(t *testing.T) {
	inc := &incidents.Incident{
		ID: 7, Title: "Search is slow", Severity: incidents.Sev3, Status: incidents.StatusInvestigating,
		DeclaredBy: "cli:ops", Roles: map[incidents.Role]string{"scribe": "dave"}, DeclaredAt: at(9, 0, 0),
	}
	d := postmortem.NewDraft(inc, nil, nil, postmortem.DraftOptions{Now: at(10, 30, 0)})
	if d.Detected != inc.DeclaredAt || d.Duration != 90*time.Minute || !d.Open || d.HasLocal() {
		t.Fatalf("draft of an open incident: %+v", d)
	}
	md := renderDraft(t, d)
	if got := headings(md, "## "); !slices.Equal(got, postmortem.RequiredSections) {
		t.Errorf("level-2 headings %q", got)
	}
	for _, want := range []string{
		"- **Duration:** 1h30m so far (still open)",
		"| Moment | UTC | Since detection |",
		"| Acknowledged | not yet | |",
		"- **Time to resolve:** not yet",
		"- **Lead:** _not assigned_",
		"- **scribe:** dave",
		"_No events were recorded.",
		"_No alerts were attached to this incident.",
		"_No deploys or rollbacks were recorded.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("draft lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "- [ ]") {
		t.Errorf("an action item without notes to come from:\n%s", md)
	}
}

func TestDraftDeploysAndDateChanges(t *testing.T) {
	inc := &incidents.Incident{ID: 3, Title: "Night deploy", Severity: incidents.Sev2, Status: incidents.StatusResolved,
		DetectedAt: at(23, 50, 0), DeclaredAt: at(23, 55, 0), ResolvedAt: at(23, 59, 0).Add(2 * time.Hour)}
	events := []incidents.Event{
		{At: at(23, 40, 0), Kind: "deploy.finished", Actor: "argo", Text: "api v3 deployed", Data: map[string]any{"permalink": "https://argo.example/app/api"}},
		{At: at(23, 55, 0), Kind: incidents.EventDeclared, Actor: "slack:U1", Text: "Declared"},
		{At: at(23, 58, 0).Add(time.Hour), Kind: "rollback.started", Actor: "slack:U1", Text: "rolling back"},
	}
	d := postmortem.NewDraft(inc, events, nil, postmortem.DraftOptions{Location: berlin, Now: at(23, 59, 0).Add(3 * time.Hour)})
	if len(d.Deploys) != 2 {
		t.Fatalf("deploys %+v", d.Deploys)
	}
	// 23:40 UTC is 00:40 the next day in Berlin; each column shows the
	// date when its own day changes.
	want := [][2]string{
		{"2026-11-03 23:40:00", "2026-11-04 00:40:00 CET"},
		{"23:55:00", "00:55:00 CET"},
		{"2026-11-04 00:58:00", "01:58:00 CET"},
	}
	for i, e := range d.Timeline {
		if e.UTC != want[i][0] || e.Local != want[i][1] {
			t.Errorf("entry %d: %q %q, want %q %q", i, e.UTC, e.Local, want[i][0], want[i][1])
		}
	}
	md := renderDraft(t, d)
	if !strings.Contains(md, "| 2026-11-03 23:40:00 | before the incident: 10m before detection | argo | api v3 deployed ([link](https://argo.example/app/api)) |\n") {
		t.Errorf("deploys table:\n%s", md)
	}
	if d.Responders[0].Actor != "argo" || d.Responders[1].Events != 2 {
		t.Errorf("responders %+v", d.Responders)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ title, want string }{
		{"Checkout failing: 5xx on /pay for *EU* users #", "checkout-failing-5xx-on-pay-for-eu-users"},
		{"Zahlungsausfall bei Überweisungen (Straße)", "zahlungsausfall-bei-uberweisungen-strasse"},
		{"  --  ", "incident"},
		{"日本語", "incident"},
		{strings.Repeat("word ", 20), "word-word-word-word-word-word-word-word-word"},
		{"../../etc/passwd", "etc-passwd"},
	} {
		if got := postmortem.Slug(tc.title); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.title, got, tc.want)
		}
	}
	inc := &incidents.Incident{ID: 42, Title: "Checkout is down!"}
	if got := postmortem.FileName(inc, time.Date(2026, 11, 4, 0, 30, 0, 0, berlin)); got != "2026-11-04-inc-42-checkout-is-down.md" {
		t.Errorf("FileName = %q", got)
	}
	if got := postmortem.BranchName(inc); got != "postmortem/inc-42-checkout-is-down" {
		t.Errorf("BranchName = %q", got)
	}
}

func TestReplacedTemplate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ours.md")
	if err := os.WriteFile(path, []byte("# {{.Incident.ID}}: {{md .Incident.Title}} ({{len .Timeline}} events)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	if err := set.ReplaceFile(postmortem.TemplateName, path); err != nil {
		t.Fatal(err)
	}
	inc, events, alerts := realistic()
	var b bytes.Buffer
	if err := postmortem.NewDraft(inc, events, alerts, postmortem.DraftOptions{}).Render(set, &b); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("# INC-42: Checkout failing: 5xx on /pay for \\*EU\\* users \\# (%d events)\n", len(events))
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// bigIncident has n timeline events and m alerts.
func bigIncident(n, m int) (*incidents.Incident, []incidents.Event, []incidents.StoredAlert) {
	inc, _, _ := realistic()
	events := make([]incidents.Event, n)
	start := at(14, 0, 0)
	for i := range events {
		events[i] = incidents.Event{
			At: start.Add(time.Duration(i) * time.Second), Kind: incidents.EventNote,
			Actor: incidents.SlackActor(fmt.Sprintf("U%03d", i%40)),
			Text:  fmt.Sprintf("note %d: p99 at %dms on eu-west-1 | retrying <job> *now*", i, i%900),
		}
	}
	alerts := make([]incidents.StoredAlert, m)
	for i := range alerts {
		alerts[i] = incidents.StoredAlert{
			Source: incidents.SourceAlertmanager, Service: fmt.Sprintf("svc-%d", i%7), Severity: incidents.Sev2,
			Alert: incidents.Alert{
				Fingerprint: fmt.Sprint(i), Status: incidents.AlertResolved,
				Labels:   map[string]string{"alertname": fmt.Sprintf("Alert%d", i), "pod": fmt.Sprintf("api-%d", i), "env": "prod", "region": "eu"},
				StartsAt: start.Add(time.Duration(i) * time.Minute), EndsAt: start.Add(time.Duration(i+5) * time.Minute),
				RunbookURL: "https://runbooks.example.com/alerts/" + fmt.Sprint(i),
			},
		}
	}
	return inc, events, alerts
}

// BenchmarkDraft5000Events writes the draft of an incident with 5,000
// timeline events and 200 alerts: NewDraft and Render. The goal is under
// 100 ms.
func BenchmarkDraft5000Events(b *testing.B) {
	inc, events, alerts := bigIncident(5000, 200)
	set, err := templates.New("")
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		d := postmortem.NewDraft(inc, events, alerts, postmortem.DraftOptions{Location: berlin, Now: at(18, 0, 0)})
		if err := d.Render(set, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/draft")
}
