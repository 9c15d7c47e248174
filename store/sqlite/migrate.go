package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// ErrDatabaseTooNew is wrapped by the error returned when the database was
// migrated by a newer Warroom than this binary.
var ErrDatabaseTooNew = fmt.Errorf("database schema is newer than this binary")

// Migrations lists the embedded migrations in order. Files are named
// NNNN_name.sql; numbers start at 1 and have no gaps.
func Migrations() ([]Migration, error) {
	return loadMigrations(migrationFiles, "migrations")
}

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", name, err)
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %d (%s): expected version %d; versions must start at 1 with no gaps or repeats", m.Version, m.Name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion reports the highest migration applied to the database, 0 for
// an empty database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.reader)
}

func schemaVersion(ctx context.Context, q execer) (int, error) {
	var n int
	err := q.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Migrate applies the pending migrations, each in its own transaction
// together with its version row, and returns the versions it applied. A
// database whose schema is newer than this binary is refused.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	return s.migrate(ctx, ms)
}

func (s *Store) migrate(ctx context.Context, migrations []Migration) ([]int, error) {
	latest := 0
	if len(migrations) > 0 {
		latest = migrations[len(migrations)-1].Version
	}
	var applied []int
	for _, m := range migrations {
		done := false
		err := s.write(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    BIGINT PRIMARY KEY,
				name       TEXT   NOT NULL,
				applied_at BIGINT NOT NULL)`); err != nil {
				return fmt.Errorf("creating schema_migrations: %w", err)
			}
			cur, err := schemaVersion(ctx, tx)
			if err != nil {
				return err
			}
			if cur > latest {
				return fmt.Errorf("%w: %s is at version %d, this binary knows up to %d; upgrade Warroom or use another database",
					ErrDatabaseTooNew, s.path, cur, latest)
			}
			if cur >= m.Version {
				done = true
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("applying migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, ms(s.now())); err != nil {
				return fmt.Errorf("recording migration %d: %w", m.Version, err)
			}
			return nil
		})
		if err != nil {
			return applied, err
		}
		if !done {
			applied = append(applied, m.Version)
		}
	}
	if len(migrations) == 0 {
		// Still refuse a database from a newer binary.
		if cur, err := s.SchemaVersion(ctx); err != nil {
			return nil, err
		} else if cur > 0 {
			return nil, fmt.Errorf("%w: %s is at version %d, this binary knows none", ErrDatabaseTooNew, s.path, cur)
		}
	}
	return applied, nil
}

// CheckSchema reports an error unless every migration this binary knows has
// been applied (for readiness checks).
func (s *Store) CheckSchema(ctx context.Context) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	cur, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].Version
	switch {
	case cur < latest:
		return fmt.Errorf("database schema is at version %d, this binary needs %d: run warroom migrate", cur, latest)
	case cur > latest:
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d", ErrDatabaseTooNew, cur, latest)
	}
	return nil
}
