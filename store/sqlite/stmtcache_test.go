package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

func (c *stmtCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.stmts)
}

func (c *stmtCache) snapshot() map[string]any {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m := map[string]any{}
	for q, st := range c.stmts {
		m[q] = st
	}
	return m
}

// TestStatementsArePreparedOnce runs a job's life twice and checks that the
// second time prepares nothing new and reuses the first time's statements.
func TestStatementsArePreparedOnce(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	life := func(key string) {
		t.Helper()
		mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: key, SerialKey: "s"})
		if _, _, err := s.NextRunAt(ctx, []string{"k"}); err != nil {
			t.Fatal(err)
		}
		js := claim(t, s, "A", t0, 1)
		if len(js) != 1 {
			t.Fatalf("claimed %d jobs, want 1", len(js))
		}
		if err := s.Complete(ctx, js[0].ID, "A", t0); err != nil {
			t.Fatal(err)
		}
		mustGet(t, s, key)
	}
	life("a")
	// Enqueue, park, claim, complete; next run and get on the reader.
	if n := s.wstmts.len(); n != 4 {
		t.Errorf("%d statements cached on the writer, want 4", n)
	}
	if n := s.rstmts.len(); n != 2 {
		t.Errorf("%d statements cached on the reader, want 2", n)
	}
	w, r := s.wstmts.snapshot(), s.rstmts.snapshot()
	life("b")
	for name, c := range map[string]struct {
		cache  *stmtCache
		before map[string]any
	}{"writer": {s.wstmts, w}, "reader": {s.rstmts, r}} {
		after := c.cache.snapshot()
		if len(after) != len(c.before) {
			t.Errorf("%s: %d statements cached after the second run, %d after the first", name, len(after), len(c.before))
		}
		for q, st := range after {
			if c.before[q] != st {
				t.Errorf("%s: statement prepared again: %s", name, q)
			}
		}
	}
}

// TestStatementCacheBeforeMigrating checks that a query that fails to
// prepare (no tables yet) is not cached and works once the schema is there,
// and that statements cached before a migration keep working after it.
func TestStatementCacheBeforeMigrating(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "w.db"), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetJob(ctx, "a"); err == nil || errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("GetJob before migrating = %v, want an error about the missing table", err)
	}
	if _, err := s.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: "a"}); err == nil {
		t.Fatal("Enqueue before migrating succeeded")
	}
	if n := s.wstmts.len() + s.rstmts.len(); n != 0 {
		t.Errorf("%d statements cached that failed to prepare", n)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a"})
	if in := mustGet(t, s, "a"); in.State != jobs.StatePending {
		t.Errorf("a = %+v, want pending", in)
	}
	// A schema change after the statements were cached.
	if err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE INDEX jobs_kind ON jobs (kind)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "b"})
	mustGet(t, s, "b")
}

// TestStatementCacheIsBounded runs more distinct queries than the cache
// holds: the extra ones run unprepared.
func TestStatementCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	for i := range maxCachedStmts + 10 {
		var got int
		if err := s.read().QueryRowContext(ctx, `SELECT `+strconv.Itoa(i)).Scan(&got); err != nil || got != i {
			t.Fatalf("SELECT %d = %d, %v", i, got, err)
		}
		if err := s.write(ctx, func(tx *sql.Tx) error {
			return s.in(tx).QueryRowContext(ctx, `SELECT `+strconv.Itoa(i)).Scan(&got)
		}); err != nil || got != i {
			t.Fatalf("SELECT %d in a transaction = %d, %v", i, got, err)
		}
	}
	if n := s.rstmts.len(); n != maxCachedStmts {
		t.Errorf("reader cache holds %d statements, want %d", n, maxCachedStmts)
	}
	if n := s.wstmts.len(); n != maxCachedStmts {
		t.Errorf("writer cache holds %d statements, want %d", n, maxCachedStmts)
	}
}

// TestConcurrentUseAndClose runs writers and readers side by side, then
// closes the store under them: calls fail after Close, and nothing races
// (run with -race).
func TestConcurrentUseAndClose(t *testing.T) {
	ctx := context.Background()
	s, err := OpenMigrated(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := incidents.NewService(s)
	inc, err := svc.Declare(ctx, incidents.DeclareInput{Title: "busy"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	worker := func(name string, op func(i int) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				err := op(i)
				select {
				case <-done:
					return // errors are expected once the store closes
				default:
				}
				if err != nil {
					t.Errorf("%s: %v", name, err)
					return
				}
				mu.Lock()
				calls++
				mu.Unlock()
			}
		}()
	}
	for w := range 3 {
		owner := "w" + strconv.Itoa(w)
		worker("queue "+owner, func(i int) error {
			key := owner + "-" + strconv.Itoa(i)
			if _, err := s.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: key, SerialKey: "s" + strconv.Itoa(i%2)}); err != nil {
				return err
			}
			js, _, err := s.Claim(ctx, owner, []string{"k"}, time.Now(), time.Minute, 2)
			if err != nil {
				return err
			}
			for _, j := range js {
				if err := s.Complete(ctx, j.ID, owner, time.Now()); err != nil {
					return err
				}
			}
			return nil
		})
	}
	worker("notes", func(int) error {
		_, err := svc.AddNote(ctx, inc.ID, "note", "cli")
		return err
	})
	for r := range 3 {
		worker("reader "+strconv.Itoa(r), func(i int) error {
			if _, err := s.Incident(ctx, inc.ID); err != nil {
				return err
			}
			if _, _, err := s.NextRunAt(ctx, []string{"k"}); err != nil {
				return err
			}
			if _, err := s.GetJob(ctx, "w0-0"); err != nil && !errors.Is(err, jobs.ErrNotFound) {
				return err
			}
			_, err := s.CountByState(ctx)
			return err
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := calls
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(done)
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
	if s.wstmts.len()+s.rstmts.len() != 0 {
		t.Error("statements left in the caches after Close")
	}
	if _, err := s.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: "late"}); err == nil {
		t.Error("Enqueue after Close succeeded")
	}
	if _, err := s.GetJob(ctx, "w0-0"); err == nil {
		t.Error("GetJob after Close succeeded")
	}
	if _, err := s.Incident(ctx, inc.ID); err == nil {
		t.Error("Incident after Close succeeded")
	}
}
