package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/store/sqlite"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "warroom")
	defer os.RemoveAll(dir)
	store, err := sqlite.OpenMigrated(ctx, filepath.Join(dir, "w.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	q := runner.New(store, runner.Options{})
	q.Handle("slack.post_message", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		fmt.Printf("posting %s (attempt %d)\n", j.Payload, j.Attempt)
		return nil
	}))

	// Usually enqueued in the transaction of the change that causes it;
	// the second enqueue of the same key is a no-op.
	for range 2 {
		created, err := store.Enqueue(ctx, jobs.NewJob{
			Kind:      "slack.post_message",
			Key:       "inc-42/declared",
			SerialKey: "slack:C123",
			Payload:   []byte(`"INC-42 declared"`),
		})
		fmt.Println("created:", created, err)
	}
	q.Notify() // wakes Run; here RunDue runs what is due instead
	n, err := q.RunDue(ctx)
	fmt.Println("ran:", n, err)
	// Output:
	// created: true <nil>
	// created: false <nil>
	// posting "INC-42 declared" (attempt 1)
	// ran: 1 <nil>
}
