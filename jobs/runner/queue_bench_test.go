package runner_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/store/sqlite"
)

// BenchmarkEnqueueRunDue measures a job's life through the queue: enqueue,
// then RunDue claims, runs and completes it (and finds nothing more).
func BenchmarkEnqueueRunDue(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.OpenMigrated(ctx, filepath.Join(b.TempDir(), "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	q := runner.New(s, runner.Options{})
	q.Handle("k", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil }))
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: strconv.Itoa(i), SerialKey: "slack:C123"}); err != nil {
			b.Fatal(err)
		}
		if n, err := q.RunDue(ctx); err != nil || n != 1 {
			b.Fatalf("RunDue = %d, %v", n, err)
		}
	}
}
