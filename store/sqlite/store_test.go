package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/warroomhq/warroom/incidents"
)

func TestMigrateFromEmptyAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != 0 {
		t.Fatalf("empty database at version %d, %v", v, err)
	}
	if err := s.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "run warroom migrate") {
		t.Errorf("unmigrated database passes CheckSchema: %v", err)
	}
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(all) || applied[0] != 1 {
		t.Fatalf("applied %v, want all %d migrations", applied, len(all))
	}
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	svc := incidents.NewService(s)
	if _, err := svc.Declare(ctx, incidents.DeclareInput{Title: "kept across reopen"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if again, err := s.Migrate(ctx); err != nil || len(again) != 0 {
		t.Fatalf("re-running migrations applied %v, %v", again, err)
	}
	inc, err := s.Incident(ctx, 1)
	if err != nil || inc.Title != "kept across reopen" {
		t.Fatalf("data lost across reopen: %v, %v", inc, err)
	}
	var rows int
	s.reader.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&rows)
	if rows != len(all) {
		t.Errorf("%d version rows, want %d", rows, len(all))
	}
	var mode string
	s.writer.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal mode %q, want wal", mode)
	}
}

func TestDatabaseNewerThanBinaryIsRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = OpenMigrated(ctx, path)
	if !errors.Is(err, ErrDatabaseTooNew) {
		t.Fatalf("opening a newer database: %v, want ErrDatabaseTooNew", err)
	}
	for _, want := range []string{"version 999", "upgrade Warroom"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fsys := fstest.MapFS{
		"m/0001_one.sql": {Data: []byte(`CREATE TABLE one (x INTEGER);`)},
		"m/0002_bad.sql": {Data: []byte(`CREATE TABLE two (x INTEGER); INSERT INTO nowhere VALUES (1);`)},
	}
	ms, err := loadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	applied, err := s.migrate(ctx, ms)
	if err == nil || !strings.Contains(err.Error(), "0002_bad") {
		t.Fatalf("bad migration: %v", err)
	}
	if len(applied) != 1 || applied[0] != 1 {
		t.Errorf("applied %v, want [1]", applied)
	}
	if v, _ := s.SchemaVersion(ctx); v != 1 {
		t.Errorf("version %d after a failed migration, want 1", v)
	}
	var n int
	s.reader.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'two'`).Scan(&n)
	if n != 0 {
		t.Error("table of the failed migration survived its rollback")
	}
}

func TestMigrationFileNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"gap":     {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"no name": {"m/abc.sql": {}},
		"repeat":  {"m/0001_a.sql": {}, "m/001_b.sql": {}},
	} {
		if _, err := loadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestConcurrentWritersNeverSeeBusy runs writers in goroutines on one store
// and, like the CLI beside serve, on a second store over the same file.
func TestConcurrentWritersNeverSeeBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	a, err := OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	const writers, perWriter = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		store := a
		if w%2 == 1 {
			store = b
		}
		svc := incidents.NewService(store)
		wg.Go(func() {
			for i := range perWriter {
				inc, err := svc.Declare(ctx, incidents.DeclareInput{Title: fmt.Sprintf("w%d-%d", w, i)})
				if err != nil {
					errs <- err
					continue
				}
				if _, err := svc.AddNote(ctx, inc.ID, "note", "cli"); err != nil {
					errs <- err
				}
				// Readers run beside the writers.
				if _, err := svc.List(ctx, incidents.ListFilter{Limit: 5}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("writer failed: %v", err)
	}
	list, err := a.Incidents(ctx, incidents.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != writers*perWriter {
		t.Fatalf("%d incidents, want %d", len(list), writers*perWriter)
	}
	seen := map[incidents.ID]bool{}
	for _, inc := range list {
		if seen[inc.ID] {
			t.Fatalf("ID %s given twice", inc.ID)
		}
		seen[inc.ID] = true
	}
	if !seen[1] || !seen[writers*perWriter] {
		t.Error("IDs are not sequential from 1")
	}
}

func TestUpdateRefusesStaleVersion(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	svc := incidents.NewService(s)
	inc, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "x"})
	if _, err := svc.SetStatus(ctx, inc.ID, incidents.StatusIdentified, "cli"); err != nil {
		t.Fatal(err)
	}
	stale := *inc // version 1; the stored one is 2 now
	err := s.WithTx(ctx, func(tx incidents.Tx) error { return tx.UpdateIncident(ctx, &stale) })
	if !errors.Is(err, incidents.ErrConflict) {
		t.Fatalf("stale update: %v, want ErrConflict", err)
	}
}

func TestTimesRoundTrip(t *testing.T) {
	if !fromMS(0).IsZero() || ms(time.Time{}) != 0 {
		t.Fatal("zero time not kept as 0")
	}
	now := time.Date(2026, 3, 29, 1, 30, 0, 123_000_000, time.FixedZone("CET", 3600))
	if got := fromMS(ms(now)); !got.Equal(now) || got.Location() != time.UTC {
		t.Fatalf("round trip %v -> %v", now, got)
	}
}

// BenchmarkAppendTimelineEvent measures adding a note: one write
// transaction that reads the incident and appends an event.
func BenchmarkAppendTimelineEvent(b *testing.B) {
	ctx := context.Background()
	s := openTestStore(b)
	svc := incidents.NewService(s)
	inc, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "bench"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.AddNote(ctx, inc.ID, "still looking at the connection pool", "cli"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendTimelineEventParallel measures the same with writers
// competing for the single writer connection.
func BenchmarkAppendTimelineEventParallel(b *testing.B) {
	ctx := context.Background()
	s := openTestStore(b)
	svc := incidents.NewService(s)
	inc, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "bench"})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.AddNote(ctx, inc.ID, "parallel note", "cli"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestPathsWithURICharacters opens files whose names hold characters that
// mean something in a file: URI, and checks the pragmas still apply.
func TestPathsWithURICharacters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, name := range []string{"a?b.db", "a#b.db", "a%41b.db", "with space.db"} {
		path := filepath.Join(dir, name)
		s, err := OpenMigrated(ctx, path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var busy int
		s.writer.QueryRow(`PRAGMA busy_timeout`).Scan(&busy)
		s.Close()
		if busy != int(BusyTimeout.Milliseconds()) {
			t.Errorf("%s: busy_timeout %d", name, busy)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: the file was not created under its own name: %v", name, err)
		}
	}
}

func TestRoleKeepsTheTimeItWasGiven(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	now := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	svc := incidents.NewService(s, incidents.WithClock(func() time.Time { return now }))
	inc, _ := svc.Declare(ctx, incidents.DeclareInput{Title: "x", Lead: "U1"})
	now = now.Add(time.Hour)
	svc.AssignRole(ctx, inc.ID, incidents.RoleComms, "U2", "cli")
	now = now.Add(time.Hour)
	svc.SetStatus(ctx, inc.ID, incidents.StatusIdentified, "cli")
	assigned := func(role string) time.Time {
		var v int64
		if err := s.reader.QueryRow(`SELECT assigned_at FROM incident_roles WHERE incident_id = ? AND role = ?`, int64(inc.ID), role).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return fromMS(v)
	}
	if got := assigned("lead"); !got.Equal(now.Add(-2 * time.Hour)) {
		t.Errorf("lead assigned at %v, want the declaration", got)
	}
	if got := assigned("comms"); !got.Equal(now.Add(-time.Hour)) {
		t.Errorf("comms assigned at %v, want when it was given", got)
	}
}
