package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/jobs"
)

// TestReadOnlyReadsBesideAWriterAndWritesNothing opens a database that a
// running Warroom writes to, as warroom digest does.
func TestReadOnlyReadsBesideAWriterAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "missing.db"), ReadOnly()); err == nil {
		t.Error("a read-only open of a missing file created it")
	}
	w, err := OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	id := digestIncident(t, w, "one", t0, t0.Add(1), incidents.StatusResolved)

	r, err := Open(ctx, path, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Incident(ctx, id); err != nil {
		t.Fatal(err)
	}
	// The writer goes on; the reader sees its commits.
	id2 := digestIncident(t, w, "two", t0, t0.Add(1), incidents.StatusResolved)
	if _, err := r.Incident(ctx, id2); err != nil {
		t.Fatalf("a read-only store does not see a later commit: %v", err)
	}
	if _, err := r.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: "x"}); err == nil {
		t.Error("a read-only store wrote a job")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
