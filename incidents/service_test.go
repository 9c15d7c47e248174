package incidents_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/clock"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/store/sqlite"
)

func newService(t *testing.T, opts ...incidents.ServiceOption) (*incidents.Service, *sqlite.Store, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC))
	st, err := sqlite.OpenMigrated(context.Background(), filepath.Join(t.TempDir(), "w.db"), sqlite.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return incidents.NewService(st, append([]incidents.ServiceOption{incidents.WithClock(clk.Now)}, opts...)...), st, clk
}

func kinds(evs []incidents.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Kind))
	}
	return out
}

func TestLifecycleRecordsKeyTimesAndTimeline(t *testing.T) {
	ctx := context.Background()
	svc, _, clk := newService(t)
	detected := clk.Now().Add(-7 * time.Minute)

	inc, err := svc.Declare(ctx, incidents.DeclareInput{
		Title: "  Checkout returns 502  ", Severity: incidents.Sev2, Service: "checkout",
		Lead: "U01ALICE", Actor: incidents.SlackActor("U01ALICE"), DetectedAt: detected,
	})
	if err != nil {
		t.Fatal(err)
	}
	if inc.ID != 1 || inc.ID.String() != "INC-1" || inc.Title != "Checkout returns 502" || inc.Status != incidents.StatusInvestigating {
		t.Fatalf("declared %+v", inc)
	}
	if !inc.DetectedAt.Equal(detected) || !inc.DeclaredAt.Equal(clk.Now()) || inc.Lead() != "U01ALICE" {
		t.Fatalf("key times or lead wrong: %+v", inc)
	}

	clk.Advance(3 * time.Minute)
	if _, err := svc.Acknowledge(ctx, inc.ID, "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	ackAt := clk.Now()
	clk.Advance(time.Minute)
	if _, err := svc.Acknowledge(ctx, inc.ID, "slack:U01DAVE"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Minute)
	if _, err := svc.SetStatus(ctx, inc.ID, incidents.StatusIdentified, "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetSeverity(ctx, inc.ID, incidents.Sev1, "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssignRole(ctx, inc.ID, incidents.RoleComms, "U01BOB", "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddNote(ctx, inc.ID, "Rolled back the canary", "slack:U01BOB"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Minute)
	if _, err := svc.SetStatus(ctx, inc.ID, incidents.StatusMonitoring, "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	mitigatedAt := clk.Now()
	clk.Advance(time.Minute)
	if _, err := svc.SetStatus(ctx, inc.ID, incidents.StatusInvestigating, "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if _, err := svc.SetStatus(ctx, inc.ID, incidents.StatusMonitoring, "slack:U01ALICE"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(20 * time.Minute)
	got, err := svc.Resolve(ctx, inc.ID, "Rolled back deploy 1234", "slack:U01ALICE")
	if err != nil {
		t.Fatal(err)
	}
	if !got.AcknowledgedAt.Equal(ackAt) {
		t.Errorf("acknowledged at %v, want the first acknowledgement %v", got.AcknowledgedAt, ackAt)
	}
	if !got.MitigatedAt.Equal(mitigatedAt) {
		t.Errorf("mitigated at %v, want the first move to monitoring %v", got.MitigatedAt, mitigatedAt)
	}
	if !got.ResolvedAt.Equal(clk.Now()) || got.Summary != "Rolled back deploy 1234" || got.Severity != incidents.Sev1 {
		t.Errorf("resolved incident wrong: %+v", got)
	}
	if want := 7*time.Minute + 41*time.Minute; got.Duration(clk.Now().Add(time.Hour)) != want {
		t.Errorf("duration %v, want %v (detection to resolution)", got.Duration(clk.Now()), want)
	}

	// Stored state matches what the service returned.
	stored, err := svc.Get(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Roles[incidents.RoleComms] != "U01BOB" || stored.Lead() != "U01ALICE" || stored.Status != incidents.StatusResolved {
		t.Errorf("stored incident %+v", stored)
	}

	evs, err := svc.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := "declared acknowledged status_changed severity_changed role_assigned note status_changed status_changed status_changed resolved"
	if got := strings.Join(kinds(evs), " "); got != want {
		t.Fatalf("timeline kinds\n got %s\nwant %s", got, want)
	}
	for i, e := range evs {
		if e.IncidentID != inc.ID || e.Actor == "" || e.Text == "" || e.At.IsZero() {
			t.Errorf("event %d incomplete: %+v", i, e)
		}
		if i > 0 && e.At.Before(evs[i-1].At) {
			t.Errorf("event %d out of order", i)
		}
	}
	if evs[2].Data["from"] != "investigating" || evs[2].Data["to"] != "identified" {
		t.Errorf("status event data %v", evs[2].Data)
	}
	if evs[5].Text != "Rolled back the canary" || evs[5].Actor != "slack:U01BOB" {
		t.Errorf("note event %+v", evs[5])
	}
	if evs[1].Data["tta_seconds"] != float64(600) {
		t.Errorf("time to acknowledge %v, want 600s from detection", evs[1].Data["tta_seconds"])
	}

	// Reopen, then the lifecycle goes on.
	clk.Advance(5 * time.Minute)
	re, err := svc.Reopen(ctx, inc.ID, "errors are back", "slack:U01BOB")
	if err != nil {
		t.Fatal(err)
	}
	if re.Status != incidents.StatusInvestigating || !re.ResolvedAt.IsZero() || !re.MitigatedAt.Equal(mitigatedAt) {
		t.Errorf("reopened incident %+v", re)
	}
	if _, err := svc.Reopen(ctx, inc.ID, "", "slack:U01BOB"); err == nil {
		t.Error("reopening an open incident was allowed")
	}
}

func TestRefusedChangesWriteNothing(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	inc, err := svc.Declare(ctx, incidents.DeclareInput{Title: "Queue backlog", Actor: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Severity != incidents.Sev3 {
		t.Errorf("default severity %s, want sev3", inc.Severity)
	}
	if _, err := svc.Resolve(ctx, inc.ID, "", "cli"); err != nil {
		t.Fatal(err)
	}
	attempts := []struct {
		name string
		do   func() error
		want string
	}{
		{"status on resolved", func() error {
			_, err := svc.SetStatus(ctx, inc.ID, incidents.StatusIdentified, "cli")
			return err
		}, "reopen it first"},
		{"resolve twice", func() error { _, err := svc.Resolve(ctx, inc.ID, "", "cli"); return err }, "already resolved"},
		{"same severity", func() error {
			_, err := svc.SetSeverity(ctx, inc.ID, incidents.Sev3, "cli")
			return err
		}, "already sev3"},
		{"bad severity", func() error { _, err := svc.SetSeverity(ctx, inc.ID, "sev9", "cli"); return err }, "sev1 (worst) to sev4"},
		{"empty note", func() error { _, err := svc.AddNote(ctx, inc.ID, "   ", "cli"); return err }, "needs some text"},
		{"role without person", func() error {
			_, err := svc.AssignRole(ctx, inc.ID, incidents.RoleLead, "", "cli")
			return err
		}, "Say who should be lead"},
		{"unknown incident", func() error { _, err := svc.AddNote(ctx, 99, "x", "cli"); return err }, "INC-99 does not exist"},
	}
	for _, a := range attempts {
		err := a.do()
		if err == nil || !strings.Contains(err.Error(), a.want) {
			t.Errorf("%s: error %v, want %q", a.name, err, a.want)
		}
		if !incidents.IsUserError(err) {
			t.Errorf("%s: %v should be the user's to fix", a.name, err)
		}
	}
	evs, err := svc.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(kinds(evs), " "); got != "declared resolved" {
		t.Errorf("refused changes reached the timeline: %s", got)
	}
	if _, err := svc.Timeline(ctx, 42); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("timeline of a missing incident: %v", err)
	}
}

func TestDeclareValidation(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	cases := map[string]incidents.DeclareInput{
		"needs a title":      {Title: "  "},
		"title is too long":  {Title: strings.Repeat("x", incidents.MaxTitleLen+1)},
		"is not a severity":  {Title: "ok", Severity: "critical"},
		"description is too": {Title: "ok", Description: strings.Repeat("d", incidents.MaxTextLen+1)},
	}
	for want, in := range cases {
		_, err := svc.Declare(ctx, in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("declare %q: %v, want %q", in.Title, err, want)
		}
	}
	list, err := svc.List(ctx, incidents.ListFilter{Status: incidents.FilterAll})
	if err != nil || len(list) != 0 {
		t.Fatalf("invalid declarations stored: %d, %v", len(list), err)
	}
}

func TestDeclareKeyIsIdempotent(t *testing.T) {
	ctx := context.Background()
	var declared int
	svc, _, _ := newService(t, incidents.WithListener(incidents.ListenerFunc(
		func(ctx context.Context, tx incidents.Tx, c incidents.Change) error {
			if c.Has(incidents.EventDeclared) {
				declared++
			}
			return nil
		})))
	a, err := svc.Declare(ctx, incidents.DeclareInput{Title: "DB down", Key: "slack-view-V123"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Declare(ctx, incidents.DeclareInput{Title: "DB down (double click)", Key: "slack-view-V123"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || b.Title != "DB down" || declared != 1 {
		t.Fatalf("second declaration with the same key: %s %q, listeners saw %d declarations", b.ID, b.Title, declared)
	}
	c, err := svc.Declare(ctx, incidents.DeclareInput{Title: "Other"})
	if err != nil || c.ID != a.ID+1 {
		t.Fatalf("next incident %v, %v; want sequential ID %d", c, err, a.ID+1)
	}
}

func TestListenerJobsCommitWithTheChange(t *testing.T) {
	ctx := context.Background()
	fail := false
	svc, st, _ := newService(t, incidents.WithListener(incidents.ListenerFunc(
		func(ctx context.Context, tx incidents.Tx, c incidents.Change) error {
			for _, e := range c.Events {
				if _, err := tx.Enqueue(ctx, jobs.NewJob{Kind: "test.notify", Key: "ev-" + string(e.Kind) + "-" + c.After.ID.String()}); err != nil {
					return err
				}
			}
			if fail {
				return errors.New("listener refused")
			}
			return nil
		})))
	inc, err := svc.Declare(ctx, incidents.DeclareInput{Title: "Latency"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetJob(ctx, "ev-declared-INC-1"); err != nil {
		t.Fatalf("job enqueued by the listener is missing: %v", err)
	}

	fail = true
	if _, err := svc.SetStatus(ctx, inc.ID, incidents.StatusIdentified, "cli"); err == nil {
		t.Fatal("a listener error did not fail the change")
	}
	got, _ := svc.Get(ctx, inc.ID)
	if got.Status != incidents.StatusInvestigating {
		t.Errorf("status %s committed although its listener failed", got.Status)
	}
	if _, err := st.GetJob(ctx, "ev-status_changed-INC-1"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("job of a rolled-back change exists: %v", err)
	}
	evs, _ := svc.Timeline(ctx, inc.ID)
	if len(evs) != 1 {
		t.Errorf("timeline has %d events, want only the declaration", len(evs))
	}
}

func TestRecordAndListFilters(t *testing.T) {
	ctx := context.Background()
	svc, _, clk := newService(t)
	a, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "A", Service: "checkout"})
	clk.Advance(time.Hour)
	b, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "B", Service: "search"})
	if _, err := svc.Resolve(ctx, a.ID, "", "cli"); err != nil {
		t.Fatal(err)
	}
	ev, err := svc.Record(ctx, b.ID, "slack:U1", incidents.Event{Kind: "slack.message", Text: "pinned: restarting pods",
		Data: map[string]any{"permalink": "https://example.slack.com/archives/C1/p1"}})
	if err != nil || ev.ID == 0 {
		t.Fatalf("record: %+v, %v", ev, err)
	}
	count := func(f incidents.ListFilter) []incidents.ID {
		list, err := svc.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []incidents.ID
		for _, i := range list {
			ids = append(ids, i.ID)
		}
		return ids
	}
	check := func(name string, got []incidents.ID, want ...incidents.ID) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", name, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", name, got, want)
			}
		}
	}
	check("open", count(incidents.ListFilter{Status: incidents.FilterOpen}), b.ID)
	check("resolved", count(incidents.ListFilter{Status: incidents.FilterResolved}), a.ID)
	check("all newest first", count(incidents.ListFilter{Status: incidents.FilterAll}), b.ID, a.ID)
	check("service", count(incidents.ListFilter{Service: "checkout"}), a.ID)
	check("since", count(incidents.ListFilter{DeclaredSince: clk.Now().Add(-time.Minute)}), b.ID)
	check("limit", count(incidents.ListFilter{Limit: 1}), b.ID)

	evs, _ := svc.Timeline(ctx, b.ID)
	last := evs[len(evs)-1]
	if last.Kind != "slack.message" || last.Data["permalink"] != "https://example.slack.com/archives/C1/p1" {
		t.Errorf("recorded event read back as %+v", last)
	}
}

func TestRoleAliasesNameTheSameRole(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	inc, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "x", Lead: "U1"})
	for _, alias := range []incidents.Role{"commander", "IC", "LEAD"} {
		if _, err := svc.AssignRole(ctx, inc.ID, alias, "U2", "cli"); err != nil && !strings.Contains(err.Error(), "already lead") {
			t.Fatalf("assign %s: %v", alias, err)
		}
	}
	got, _ := svc.Get(ctx, inc.ID)
	if got.Lead() != "U2" || len(got.Roles) != 1 {
		t.Fatalf("roles after assigning through aliases: %v", got.Roles)
	}
	if _, err := svc.AssignRole(ctx, inc.ID, "scribe", "U3", "cli"); err == nil || !strings.Contains(err.Error(), "use lead or comms") {
		t.Errorf("unknown role: %v", err)
	}
}

func TestReopenForgetsAMitigationThatResolveStoodInFor(t *testing.T) {
	ctx := context.Background()
	svc, _, clk := newService(t)
	inc, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "x"})
	clk.Advance(10 * time.Minute)
	resolved, _ := svc.Resolve(ctx, inc.ID, "", "cli")
	if !resolved.MitigatedAt.Equal(resolved.ResolvedAt) {
		t.Fatalf("resolving without monitoring: mitigated %v, resolved %v", resolved.MitigatedAt, resolved.ResolvedAt)
	}
	clk.Advance(5 * time.Minute)
	re, _ := svc.Reopen(ctx, inc.ID, "back", "cli")
	if !re.MitigatedAt.IsZero() {
		t.Errorf("reopened incident still mitigated at %v", re.MitigatedAt)
	}
	clk.Advance(5 * time.Minute)
	mon, _ := svc.SetStatus(ctx, inc.ID, incidents.StatusMonitoring, "cli")
	if !mon.MitigatedAt.Equal(clk.Now()) {
		t.Errorf("mitigated at %v, want the real move to monitoring %v", mon.MitigatedAt, clk.Now())
	}
}

func TestSetTitle(t *testing.T) {
	ctx := context.Background()
	svc, _, _ := newService(t)
	inc, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "Slow"})
	got, err := svc.SetTitle(ctx, inc.ID, "  Search p99 above 2s  ", "cli")
	if err != nil || got.Title != "Search p99 above 2s" {
		t.Fatalf("rename: %q, %v", got.Title, err)
	}
	if _, err := svc.SetTitle(ctx, inc.ID, "Search p99 above 2s", "cli"); err != nil {
		t.Fatalf("renaming to the same title: %v", err)
	}
	for _, bad := range []string{" ", strings.Repeat("t", incidents.MaxTitleLen+1)} {
		if _, err := svc.SetTitle(ctx, inc.ID, bad, "cli"); !incidents.IsUserError(err) {
			t.Errorf("title %.10q accepted: %v", bad, err)
		}
	}
	evs, _ := svc.Timeline(ctx, inc.ID)
	if got := strings.Join(kinds(evs), " "); got != "declared title_changed" {
		t.Errorf("timeline %s, want one rename recorded", got)
	}
	if evs[1].Data["from"] != "Slow" || evs[1].Data["to"] != "Search p99 above 2s" {
		t.Errorf("rename data %v", evs[1].Data)
	}
}
