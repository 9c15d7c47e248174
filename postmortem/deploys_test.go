package postmortem_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/deploys"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/postmortem"
	"github.com/warroomhq/warroom/store/sqlite"
	"github.com/warroomhq/warroom/templates"
)

// deploysIncident is a checkout incident detected at 14:00 and resolved
// at 15:00.
func deploysIncident() *incidents.Incident {
	return &incidents.Incident{ID: 5, Title: "Checkout slow", Severity: incidents.Sev2, Status: incidents.StatusResolved,
		Service: "checkout", DetectedAt: at(14, 0, 0), DeclaredAt: at(14, 5, 0), ResolvedAt: at(15, 0, 0)}
}

func finishedDeploy(id int64, service, ref string, finished time.Time) deploys.Deploy {
	return deploys.Deploy{ID: id, Service: service, Environment: "production", Source: deploys.SourceWebhook,
		ExternalID: ref, Ref: ref, Status: deploys.StatusSuccess, Creator: "deploy-bot",
		StartedAt: finished.Add(-3 * time.Minute), FinishedAt: finished}
}

func deployRows(d *postmortem.Draft) []string {
	var rows []string
	for _, e := range d.Deploys {
		rows = append(rows, e.Phase+" "+incidents.FormatDuration(e.FromDetection)+" "+e.Text)
	}
	return rows
}

func TestDraftListsTheDeploysJustBeforeTheIncident(t *testing.T) {
	inc := deploysIncident()
	recent := finishedDeploy(1, "checkout", "v2.31", at(13, 50, 0)) // 10m before detection
	recent.Creator = "octo_cat"
	recent.Description = "Config cache TTL | *faster*\n# <b>EU</b> [x](javascript:alert(1))"
	recent.URL = "https://github.com/acme/checkout/deployments/31"
	old := finishedDeploy(2, "checkout", "v2.29", at(14, 0, 0).Add(-72*time.Hour)) // 3 days before
	during := finishedDeploy(3, "checkout", "v2.32", at(14, 20, 0))                // on the timeline
	other := finishedDeploy(4, "search", "v9", at(13, 55, 0))                      // not the incident's
	events := []incidents.Event{
		{At: at(14, 5, 0), Kind: incidents.EventDeclared, Actor: "slack:U1", Text: "Declared"},
		// As read back from the store: the deploy's ID is a JSON number.
		{At: at(14, 20, 0), Kind: deploys.EventDeploy, Actor: "webhook:deploy-bot", Text: deploys.DeployText(during),
			Data: map[string]any{"deploy_id": float64(3), "url": "https://ci.example/3"}},
		{At: at(14, 30, 0), Kind: deploys.EventRollbackSucceeded, Actor: incidents.System, Text: "Rolled back checkout to v2.31"},
	}
	d := postmortem.NewDraft(inc, events, nil, postmortem.DraftOptions{
		DeploysBefore: []deploys.Deploy{during, other, old, recent},
	})
	want := []string{
		"before 10m Deploy of checkout v2.31 to production: success — " + recent.Description,
		"during 20m Deploy of checkout v2.32 to production: success",
		"during 30m Rolled back checkout to v2.31",
	}
	if got := deployRows(d); !equalLines(got, want) {
		t.Fatalf("deploys:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e := d.Deploys[0]; !e.Finished || e.Actor != "webhook:octo_cat" || e.Link != recent.URL || !e.At.Equal(recent.FinishedAt) {
		t.Errorf("the deploy before: %+v", e)
	}

	md := renderDraft(t, d)
	for _, row := range []string{
		`| 2026-11-03 13:50:00 | before the incident: finished 10m before detection | webhook:octo_cat | Deploy of checkout v2.31 to production: success — Config cache TTL \| \*faster\* # &lt;b&gt;EU&lt;/b&gt; \[x\](javascript:alert(1)) ([link](https://github.com/acme/checkout/deployments/31)) |`,
		"| 2026-11-03 14:20:00 | during: 20m after detection | webhook:deploy-bot | Deploy of checkout v2.32 to production: success ([link](https://ci.example/3)) |",
		"| 2026-11-03 14:30:00 | during: 30m after detection | warroom | Rolled back checkout to v2.31 |",
	} {
		if !strings.Contains(md, "\n"+row+"\n") {
			t.Errorf("the draft lacks the row\n%s\nin\n%s", row, section(md, "## Deploys and rollbacks"))
		}
	}
	for _, row := range tableRows(md, "## Deploys and rollbacks") {
		if n := cells(row); n != 4 {
			t.Errorf("deploy row has %d cells: %s", n, row)
		}
	}
	if s := section(md, "## Deploys and rollbacks"); strings.Contains(s, "v2.29") || strings.Contains(s, "search") {
		t.Errorf("the section lists an old deploy or another service's:\n%s", s)
	}
	for _, f := range postmortem.Lint([]byte(md)) {
		t.Errorf("Lint: line %d: %q (%s)", f.Line, f.Phrase, f.Rule)
	}
}

func TestDraftDeploysBeforeTheWindow(t *testing.T) {
	inc := deploysIncident()
	// Nothing in the last 24 hours: the last deploy before, however old.
	older := finishedDeploy(1, "checkout", "v2.28", at(14, 0, 0).Add(-96*time.Hour))
	old := finishedDeploy(2, "checkout", "v2.29", at(14, 0, 0).Add(-72*time.Hour))
	d := postmortem.NewDraft(inc, nil, nil, postmortem.DraftOptions{DeploysBefore: []deploys.Deploy{older, old}})
	if got, want := deployRows(d), []string{"before 3d0h Deploy of checkout v2.29 to production: success"}; !equalLines(got, want) {
		t.Errorf("deploys %q, want %q", got, want)
	}
	if md := renderDraft(t, d); !strings.Contains(md, "| 2026-10-31 14:00:00 | before the incident: finished 3d0h before detection | webhook:deploy-bot |") {
		t.Errorf("deploys section:\n%s", section(md, "## Deploys and rollbacks"))
	}

	// Five in the window: the last three, oldest first; a failed one
	// counts (it may have left something behind).
	var five []deploys.Deploy
	for i := range 5 {
		five = append(five, finishedDeploy(int64(10+i), "checkout", "v3."+string(rune('0'+i)), at(9+i, 0, 0)))
	}
	five[4].Status = deploys.StatusFailed
	d = postmortem.NewDraft(inc, nil, nil, postmortem.DraftOptions{DeploysBefore: append(five, old)})
	want := []string{
		"before 3h00m Deploy of checkout v3.2 to production: success",
		"before 2h00m Deploy of checkout v3.3 to production: success",
		"before 1h00m Deploy of checkout v3.4 to production: failed",
	}
	if got := deployRows(d); !equalLines(got, want) {
		t.Errorf("deploys %q, want %q", got, want)
	}

	// The alerts' other services count; deploys not finished by detection
	// do not, nor one the timeline shows already.
	pay := finishedDeploy(20, "payments", "p7", at(12, 0, 0))
	unfinished := finishedDeploy(21, "checkout", "v4", time.Time{})
	unfinished.Status = deploys.StatusRunning
	shown := finishedDeploy(22, "checkout", "v5", at(13, 59, 0))
	events := []incidents.Event{{At: at(14, 1, 0), Kind: deploys.EventDeploy, Actor: "webhook", Text: "Deploy of checkout v5: success",
		Data: map[string]any{"deploy_id": int64(22)}}}
	alerts := []incidents.StoredAlert{{Service: "payments", Alert: incidents.Alert{Fingerprint: "p", Status: incidents.AlertFiring}}}
	d = postmortem.NewDraft(inc, events, alerts, postmortem.DraftOptions{DeploysBefore: []deploys.Deploy{pay, unfinished, shown}})
	want = []string{"before 2h00m Deploy of payments p7 to production: success", "during 1m Deploy of checkout v5: success"}
	if got := deployRows(d); !equalLines(got, want) {
		t.Errorf("deploys %q, want %q", got, want)
	}
}

// TestDrafterReadsTheStoredDeploys drafts from the SQLite store, as the
// API, the CLI and the publish job do: deploys reported to the deploys
// service before and during the incident.
func TestDrafterReadsTheStoredDeploys(t *testing.T) {
	ctx := context.Background()
	now := at(13, 0, 0)
	clock := func() time.Time { return now }
	st, err := sqlite.OpenMigrated(ctx, filepath.Join(t.TempDir(), "w.db"), sqlite.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	incs := incidents.NewService(st, incidents.WithClock(clock))
	deps, err := deploys.NewService(deploys.Options{Incidents: incs, Store: st, Now: clock,
		Services: map[string]deploys.ServiceConfig{"checkout": {HasDeploySources: true}, "search": {HasDeploySources: true}}})
	if err != nil {
		t.Fatal(err)
	}
	report := func(service, id string, started, finished time.Time) {
		t.Helper()
		if _, err := deps.RecordDeploy(ctx, deploys.Deploy{Service: service, Source: deploys.SourceWebhook, ExternalID: id, Ref: id,
			Status: deploys.StatusSuccess, Creator: "argo", StartedAt: started, FinishedAt: finished}); err != nil {
			t.Fatal(err)
		}
	}
	report("checkout", "v1", at(10, 0, 0).Add(-72*time.Hour), at(10, 5, 0).Add(-72*time.Hour))
	report("checkout", "v2", at(13, 40, 0), at(13, 50, 0))
	report("search", "s1", at(13, 45, 0), at(13, 55, 0))
	now = at(14, 5, 0)
	inc, err := incs.Declare(ctx, incidents.DeclareInput{Title: "Checkout slow", Service: "checkout", Actor: "cli:ops",
		DetectedAt: at(14, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	// Declaring read GitHub: g7 was live (also reported by webhook, as
	// v2 was) and g6 before it; the snapshot keeps them as they were.
	g7 := deploys.Deploy{Service: "checkout", Source: deploys.SourceGitHubDeployments, ExternalID: "7", Ref: "g7",
		Status: deploys.StatusSuccess, Creator: "octocat", StartedAt: at(13, 52, 0), FinishedAt: at(13, 57, 0)}
	g6 := deploys.Deploy{Service: "checkout", Source: deploys.SourceGitHubDeployments, ExternalID: "6", Ref: "g6",
		Status: deploys.StatusInactive, Creator: "octocat", StartedAt: at(12, 0, 0), FinishedAt: at(12, 5, 0)}
	rec := deploys.Recent{Service: "checkout", Deploys: []deploys.Deploy{g7, g6}, ReadAt: now}
	if err := deps.Snapshot(ctx, inc.ID, rec); err != nil {
		t.Fatal(err)
	}
	// A retried job's later read changes nothing: the first snapshot is kept.
	if err := deps.Snapshot(ctx, inc.ID, deploys.Recent{Service: "checkout", Deploys: []deploys.Deploy{g6}}); err != nil {
		t.Fatal(err)
	}
	now = at(14, 20, 0)
	report("checkout", "v3", at(14, 15, 0), at(14, 20, 0))
	// GitHub's webhook then tells that g7 was replaced.
	g7.Status = deploys.StatusInactive
	if _, err := deps.RecordDeploy(ctx, g7); err != nil {
		t.Fatal(err)
	}

	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	drafter := &postmortem.Drafter{Source: st, Templates: set, Now: clock}
	d, err := drafter.Build(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"before 1h55m Deploy of checkout g6: inactive",
		"before 10m Deploy of checkout v2: success",
		"before 3m Deploy of checkout g7: success",
		"during 20m Deploy of checkout v3: success",
	}
	if got := deployRows(d); !equalLines(got, want) {
		t.Errorf("deploys %q, want %q", got, want)
	}

	// A Source that cannot list deploys fails the draft rather than
	// leaving them out unsaid.
	drafter.Source = failingDeploys{st}
	if _, err := drafter.Draft(ctx, inc.ID); err == nil || !strings.Contains(err.Error(), "deploys of checkout") {
		t.Errorf("Draft with failing deploys: %v", err)
	}
}

type failingDeploys struct{ *sqlite.Store }

func (failingDeploys) DeploySnapshots(context.Context, incidents.ID) ([]deploys.Deploy, error) {
	return nil, nil
}

func (failingDeploys) DeploysBefore(context.Context, string, time.Time, int) ([]deploys.Deploy, error) {
	return nil, errors.New("disk on fire")
}

func equalLines(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// section is the Markdown from heading to the next level-2 heading.
func section(md, heading string) string {
	_, after, _ := strings.Cut(md, "\n"+heading+"\n")
	if i := strings.Index(after, "\n## "); i >= 0 {
		after = after[:i]
	}
	return after
}
