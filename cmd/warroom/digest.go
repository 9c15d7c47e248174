package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/store/sqlite"
)

// openReadOnly opens an existing database for a report that may run beside
// serve: read-only, and only at the schema version this binary knows.
func openReadOnly(ctx context.Context, path string) (*sqlite.Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("reading the database: %w", err)
	}
	st, err := sqlite.Open(ctx, path, sqlite.ReadOnly())
	if err != nil {
		return nil, err
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// cmdDigest prints the incident review digest from the database that
// serve uses. It only reads, so it may run while serve does.
func cmdDigest(e *env, args []string) error {
	fs := e.newFlags("digest")
	cfgPath := fs.String("config", "", "config file to read database.path from (optional with --db)")
	db := fs.String("db", "", "SQLite database file (default $WARROOM_DB or database.path)")
	since := fs.String("since", "7d", "the period: this long before now (30m, 12h, 7d, 2w)")
	format := fs.String("format", "text", "text, markdown or json")
	at := fs.String("at", "", "end of the period, RFC 3339 (default now), e.g. the start of the review meeting")
	if err := parse(fs, args); err != nil {
		return err
	}
	period, err := config.ParseDuration(*since)
	if err != nil || period <= 0 {
		return fmt.Errorf("--since %q: want a positive duration such as 7d or 12h", *since)
	}
	switch *format {
	case "text", "markdown", "json":
	default:
		return fmt.Errorf("--format %q: use text, markdown or json", *format)
	}
	dbPath := firstNonEmpty(*db, e.getenv("WARROOM_DB"))
	if dbPath == "" {
		cfg, err := e.loadConfig(e.configPath(*cfgPath))
		if err != nil {
			return err
		}
		dbPath = cfg.Database.Path
	}
	ctx := e.ctx
	st, err := openReadOnly(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	to := time.Now().UTC()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fmt.Errorf("--at %q: want an RFC 3339 time such as 2026-11-23T09:00:00+01:00", *at)
		}
		to = t.UTC()
	}
	r, err := digest.Build(ctx, st, to.Add(-period.D()), to, digest.Tracking(st)...)
	if err != nil {
		return err
	}
	switch *format {
	case "markdown":
		return r.Markdown(e.stdout)
	case "json":
		return r.JSON(e.stdout)
	}
	return r.Text(e.stdout)
}
