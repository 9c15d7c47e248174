package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxCachedStmts bounds each statement cache. Statements are cached by their
// text, and a query built for a list (the kinds a claim asks for) has one
// text per length of the list; past the bound, queries run unprepared.
const maxCachedStmts = 128

// stmtCache holds statements prepared on one *sql.DB, by query text, so that
// SQLite parses a hot query once per connection instead of on every call.
//
// A *sql.Stmt prepared on a DB prepares itself again on each connection it
// runs on and remembers each copy. On the writer, which has one connection,
// Tx.StmtContext finds the copy already prepared on the transaction's
// connection and reuses it.
type stmtCache struct {
	db *sql.DB

	mu     sync.RWMutex
	stmts  map[string]*sql.Stmt
	missed map[string]struct{} // queries to prepare when the writer is free
	closed bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, missed: map[string]struct{}{}}
}

// get returns the statement cached for query, or nil.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.stmts[query]
}

// prepare returns the statement cached for query, preparing it on the pool
// if needed. It returns nil and no error when the cache is closed or full:
// the caller runs the query unprepared.
//
// It needs a free connection when query is not cached yet, so it must not be
// called on the writer inside a write transaction, which holds the writer's
// only connection.
func (c *stmtCache) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	st, full := c.stmts[query], c.closed || len(c.stmts) >= maxCachedStmts
	c.mu.RUnlock()
	if st != nil || full {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.stmts[query]; old != nil || c.closed || len(c.stmts) >= maxCachedStmts {
		// Another caller prepared it first, or the cache closed meanwhile.
		st.Close()
		return old, nil
	}
	c.stmts[query] = st
	return st, nil
}

// miss notes that a write transaction ran query unprepared; prepareMissed
// prepares it once the transaction is over.
func (c *stmtCache) miss(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed && len(c.stmts)+len(c.missed) < maxCachedStmts {
		c.missed[query] = struct{}{}
	}
}

// prepareMissed prepares the queries noted by miss. A query that fails to
// prepare (the schema is not migrated yet, ctx is done) is left out: the
// next transaction that runs it notes it again.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	c.mu.Lock()
	if len(c.missed) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.missed))
	for q := range c.missed {
		queries = append(queries, q)
	}
	clear(c.missed)
	c.mu.Unlock()
	for _, q := range queries {
		c.prepare(ctx, q)
	}
}

// close closes the cached statements; later calls prepare nothing. A
// statement that a transaction is using is closed when the transaction ends.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	clear(c.stmts)
	clear(c.missed)
	return errors.Join(errs...)
}

// stmt returns query as a statement of tx, the transaction of s.write: the
// cached statement when there is one, and otherwise a statement prepared for
// tx alone, with query noted so that s.write prepares it for later
// transactions once tx is over.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if st := s.wstmts.get(query); st != nil {
		return tx.StmtContext(ctx, st), nil
	}
	s.wstmts.miss(query)
	return tx.PrepareContext(ctx, query)
}

// in returns tx, a transaction of s.write, as an execer whose queries go
// through the writer's statement cache.
func (s *Store) in(tx *sql.Tx) execer { return cachedTx{s: s, tx: tx} }

// read returns the read pool as an execer whose queries go through the
// reader's statement cache.
func (s *Store) read() execer { return cachedReader{c: s.rstmts} }

// cachedTx runs queries in a write transaction through the statement cache.
type cachedTx struct {
	s  *Store
	tx *sql.Tx
}

func (t cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.s.stmt(ctx, t.tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.s.stmt(ctx, t.tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := t.s.stmt(ctx, t.tx, query)
	if err != nil {
		// Only a *sql.Row can carry the error: running the query
		// unprepared fails the same way.
		return t.tx.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// cachedReader runs queries on the read pool through the statement cache.
type cachedReader struct{ c *stmtCache }

func (r cachedReader) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := r.c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return r.c.db.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (r cachedReader) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := r.c.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return r.c.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (r cachedReader) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := r.c.prepare(ctx, query)
	if err != nil || st == nil {
		// Unprepared, the query runs (or fails as preparing it did) and
		// the *sql.Row carries the outcome.
		return r.c.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
