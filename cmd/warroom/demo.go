package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/warroomhq/warroom/app"
	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/examples"
	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/clock"
	"github.com/warroomhq/warroom/templates"
)

func cmdDemo(e *env, args []string) error {
	fs := e.newFlags("demo")
	db := fs.String("db", "", "database file to use (default: a temporary one, removed afterwards)")
	if err := parse(fs, args); err != nil {
		return err
	}
	dbPath := *db
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "warroom-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "warroom.db")
	}
	// The demo runs on the shipped example config, with no secrets set.
	cfg, err := config.Load(examples.Config, func(string) string { return "" })
	if err != nil {
		return fmt.Errorf("example config: %w", err)
	}
	// The demo's own clock starts at a fixed moment and moves only when the
	// story says so, so the output is the same on every run.
	clk := clock.NewManual(time.Date(2026, 11, 3, 14, 2, 0, 0, time.UTC))
	a, err := app.New(e.ctx, cfg, app.Options{
		DBPath: dbPath,
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now:    clk.Now,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	tmpl, err := templates.New("")
	if err != nil {
		return err
	}
	return runDemo(e.ctx, e.stdout, a, clk, tmpl)
}

func runDemo(ctx context.Context, w io.Writer, a *app.App, clk *clock.Manual, tmpl *templates.Set) error {
	svc := a.Incidents
	say := func(format string, args ...any) {
		fmt.Fprintf(w, "%s  "+format+"\n", append([]any{clk.Now().Format("15:04")}, args...)...)
	}
	fmt.Fprintf(w, "Warroom demo: an incident from declaration to resolution, offline, on %s\n\n", a.Store.Path())

	alice, bob := incidents.SlackActor("U01ALICE"), incidents.SlackActor("U01BOB")
	detected := clk.Now().Add(-4 * time.Minute)
	inc, err := svc.Declare(ctx, incidents.DeclareInput{
		Title:       "Checkout API returns 502 for 12% of requests",
		Severity:    incidents.Sev2,
		Service:     "checkout",
		Description: "Error rate on /api/checkout rose from 0.1% to 12% at 13:58 UTC.",
		Lead:        "U01ALICE",
		Actor:       alice,
		DetectedAt:  detected,
	})
	if err != nil {
		return err
	}
	say("alice declares %s (%s, %s): %s; alice leads", inc.ID, inc.Severity, inc.Service, inc.Title)

	steps := []struct {
		after time.Duration
		what  string
		do    func() error
	}{
		{2 * time.Minute, "bob acknowledges", func() error { _, err := svc.Acknowledge(ctx, inc.ID, bob); return err }},
		{time.Minute, "bob takes comms", func() error {
			_, err := svc.AssignRole(ctx, inc.ID, incidents.RoleComms, "U01BOB", alice)
			return err
		}},
		{4 * time.Minute, "alice: cause identified", func() error {
			_, err := svc.SetStatus(ctx, inc.ID, incidents.StatusIdentified, alice)
			return err
		}},
		{0, "bob notes the cause", func() error {
			_, err := svc.AddNote(ctx, inc.ID, "Connection pool exhausted after the 13:55 deploy of checkout v2.14.0", bob)
			return err
		}},
		{time.Minute, "alice raises the severity: card payments fail too", func() error {
			_, err := svc.SetSeverity(ctx, inc.ID, incidents.Sev1, alice)
			return err
		}},
		{6 * time.Minute, "alice: rolled back, monitoring", func() error {
			_, err := svc.SetStatus(ctx, inc.ID, incidents.StatusMonitoring, alice)
			return err
		}},
		{15 * time.Minute, "alice resolves", func() error {
			_, err := svc.Resolve(ctx, inc.ID, "Rolled back checkout to v2.13.2; error rate back to 0.1%.", alice)
			return err
		}},
	}
	for _, s := range steps {
		clk.Advance(s.after)
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		say("%s", s.what)
	}

	// The lifecycle rules answer a refused move with what to do instead.
	clk.Advance(time.Minute)
	if _, err := svc.SetStatus(ctx, inc.ID, incidents.StatusIdentified, bob); err != nil {
		say("bob tries to set the status; Warroom answers: %v", err)
	} else {
		return fmt.Errorf("a resolved incident accepted a status change")
	}

	final, err := svc.Get(ctx, inc.ID)
	if err != nil {
		return err
	}
	evs, err := svc.Timeline(ctx, inc.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nTimeline:")
	if err := tmpl.Execute(w, "timeline.txt.tmpl", map[string]any{"Incident": final, "Events": evs}); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nKey times (from detection at %s):\n", final.DetectedAt.Format("15:04"))
	for _, kt := range []struct {
		name string
		at   time.Time
	}{
		{"acknowledged", final.AcknowledgedAt},
		{"mitigated", final.MitigatedAt},
		{"resolved", final.ResolvedAt},
	} {
		fmt.Fprintf(w, "  time to %-13s %s\n", kt.name, incidents.FormatDuration(kt.at.Sub(final.DetectedAt)))
	}
	return nil
}
