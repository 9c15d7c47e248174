// Package sqlite is Warroom's embedded default store: SQLite through the
// CGO-free modernc.org/sqlite driver.
//
// The database runs in WAL mode with a busy timeout. All writes go through a
// single writer connection that opens IMMEDIATE transactions, so writers in
// this process queue up instead of failing with SQLITE_BUSY, and writers in
// another process (the CLI while serve runs) wait for the busy timeout. Reads
// use a separate pool of read-only connections that WAL lets run beside the
// writer.
//
// The queries that run often are prepared once per connection and kept, by
// their text, in a statement cache for the writer and one for the readers
// (stmtcache.go): parsing SQL otherwise costs a good part of each call.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// BusyTimeout is how long a connection waits for another process's lock.
const BusyTimeout = 10 * time.Second

// Store is a Warroom database.
type Store struct {
	path   string
	writer *sql.DB
	reader *sql.DB
	now    func() time.Time
	// readOnly opens both connections read-only (the CLI's reports).
	readOnly bool

	// Statements prepared on the writer and on the read pool.
	wstmts, rstmts *stmtCache
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read the time from now instead of time.Now, for
// the few timestamps it sets itself (job bookkeeping).
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// ReadOnly opens an existing database for reading only: nothing is
// created, changed or switched to WAL, and writes fail. For commands that
// report while serve runs (warroom digest).
func ReadOnly() Option {
	return func(s *Store) { s.readOnly = true }
}

// Open opens (creating if needed) the database at path. It does not apply
// migrations: call Migrate, or use OpenMigrated.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("database path is empty")
	}
	s := &Store{path: path, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	var err error
	s.writer, err = sql.Open("sqlite", dsn(path, s.readOnly, s.readOnly))
	if err != nil {
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxIdleTime(0)
	s.writer.SetConnMaxLifetime(0)
	// The writer creates the file and switches it to WAL before any reader
	// opens it read-only.
	if err := s.writer.PingContext(ctx); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("opening database %s: %w", path, err)
	}
	s.reader, err = sql.Open("sqlite", dsn(path, true, s.readOnly))
	if err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("opening database %s for reading: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.reader.SetMaxOpenConns(n)
	s.reader.SetMaxIdleConns(n)
	s.wstmts, s.rstmts = newStmtCache(s.writer), newStmtCache(s.reader)
	return s, nil
}

// OpenMigrated opens the database at path and applies pending migrations.
func OpenMigrated(ctx context.Context, path string, opts ...Option) (*Store, error) {
	s, err := Open(ctx, path, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func dsn(path string, readOnly, existing bool) string {
	q := url.Values{}
	if existing {
		q.Set("mode", "ro") // the file must exist; nothing is written
	}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// NORMAL is durable across application crashes in WAL mode; only a
		// power loss can roll back the last transactions.
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// escapePath percent-encodes the characters that would otherwise end the
// file name inside a "file:" URI (?, #) or be decoded (%), so that a path
// like "a?b.db" opens that file with all its pragmas.
var escapePath = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database. Calls made after Close fail.
func (s *Store) Close() error {
	return errors.Join(s.rstmts.close(), s.wstmts.close(), s.reader.Close(), s.writer.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("database not answering: %w", err)
	}
	return nil
}

// write runs fn in an IMMEDIATE transaction on the writer connection and
// commits it when fn returns nil. Once the transaction is over, it prepares
// the statements that fn asked s.stmt for and found no cached copy of.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	// Runs last: the writer's connection is free again.
	defer s.wstmts.prepareMissed(ctx)
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

// execer is what *sql.DB and *sql.Tx share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ms converts a time to the stored form: milliseconds since the epoch, 0 for
// the zero time.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts a stored time back; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
