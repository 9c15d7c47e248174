package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/internal/sandbox"
)

// BenchmarkSlashCommandAck measures how long Slack waits for Warroom to
// answer a slash command: a signed /incident note over HTTP, verified,
// parsed, persisted with its timeline event and Slack job, and answered,
// while the job queue runs in the background and posts to the Slack fake.
// It reports the 50th and 99th percentile latencies.
func BenchmarkSlashCommandAck(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			benchmarkAck(b, clients)
		})
	}
}

func benchmarkAck(b *testing.B, clients int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb, err := sandbox.New(ctx, sandbox.Options{Config: testConfig(b), Dir: b.TempDir(), WallClock: true, NoPaging: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	resp, err := sb.Driver.Command(ctx, "U01ALICE", "general", "declare Benchmark incident sev3")
	if err != nil || resp.Status != http.StatusOK {
		b.Fatalf("declare: %v %d", err, resp.Status)
	}
	// Set the channel up before the clock starts, then keep the queue
	// running in the background as in production.
	if _, err := sb.App.Queue.RunDue(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := sb.App.Queue.RunDue(ctx); err != nil {
		b.Fatal(err)
	}
	inc, err := sb.App.Incidents.Get(ctx, 1)
	if err != nil || inc.ChannelID == "" {
		b.Fatalf("the incident channel was not created: %v", err)
	}
	channel := inc.ChannelID
	queueDone := make(chan error, 1)
	go func() { queueDone <- sb.App.Queue.Run(ctx) }()

	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < b.N; i += clients {
				start := time.Now()
				resp, err := sb.Driver.Command(ctx, "U01ALICE", channel, fmt.Sprintf("note benchmark %d", i))
				lat[c] = append(lat[c], time.Since(start))
				if err != nil || resp.Status != http.StatusOK {
					b.Errorf("note %d: %v %d %s", i, err, resp.Status, resp.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[min(len(all)-1, len(all)*99/100)].Microseconds())/1000, "p99-ms")
	}
	cancel()
	if err := <-queueDone; err != nil {
		b.Error(err)
	}
}
