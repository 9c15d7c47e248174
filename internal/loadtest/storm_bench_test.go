package loadtest_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/incidents"
	"github.com/warroomhq/warroom/internal/loadtest"
	"github.com/warroomhq/warroom/internal/sandbox"
	"github.com/warroomhq/warroom/jobs"
)

// BenchmarkStorm20kAlerts40Groups sends an alert storm, 20,000 new alerts
// in 40 groups (200 Alertmanager bodies of 100 alerts, 4 senders, as fast
// as Warroom answers), with warroom loadtest's own code to a whole Warroom
// in this process: the example config, SQLite on disk, the job queue
// running, Slack faked over HTTP. It waits until the queue has nothing
// left to do, checks that every alert is stored and each group is one
// incident with a channel and no failed job, and reports:
//
//   - incidents: incidents created
//   - slack-calls: Web API calls Warroom made to the Slack fake, in all
//   - peak-heap-MB: the largest heap seen (sampled every 5 ms with
//     runtime/metrics), and peak-go-mem-MB the most memory the Go runtime
//     held, for the whole process: Warroom, the Slack fake and the load
//     generator
//   - alerts/s: ingest rate; s-to-quiet: from the first body until no job
//     is left
//
// Run: go test -run '^$' -bench Storm20k -benchtime 1x ./internal/loadtest/
func BenchmarkStorm20kAlerts40Groups(b *testing.B) {
	for range b.N {
		storm(b)
	}
}

func storm(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runtime.GC()
	peak := sampleHeap(ctx, 5*time.Millisecond)
	sb, err := sandbox.New(ctx, sandbox.Options{Dir: b.TempDir(), WallClock: true, NoPaging: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	queue := make(chan error, 1)
	go func() { queue <- sb.App.Queue.Run(ctx) }()
	stopQueue := sync.OnceValue(func() error { cancel(); return <-queue })
	defer stopQueue()

	start := time.Now()
	rep, err := loadtest.Run(ctx, loadtest.Options{URL: sb.Server.URL, Token: sandbox.WebhookToken,
		APIToken: sandbox.APIToken, Bodies: 200, Batch: []int{100}, Groups: 40, Concurrency: 4,
		RunID: "storm", Wait: 2 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	if rep.Fire.Status["200"] != 200 || rep.Fire.Accepted != 20000 {
		b.Fatalf("answers %v, %d alerts accepted", rep.Fire.Status, rep.Fire.Accepted)
	}
	// Wait for the queue to finish: nothing pending, or only what is due
	// far later (the hourly pruning of raw bodies).
	for {
		next, ok, err := sb.App.Queue.NextRunAt(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if !ok || next.After(time.Now().Add(time.Minute)) {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatal("the job queue is still busy after 5 minutes")
		}
		time.Sleep(50 * time.Millisecond) // the wall clock is what this measures
	}
	quiet := time.Since(start)
	if err := stopQueue(); err != nil {
		b.Fatal(err)
	}

	incs, err := sb.App.Incidents.List(context.Background(), incidents.ListFilter{Status: incidents.FilterAll})
	if err != nil {
		b.Fatal(err)
	}
	firing := 0
	for _, inc := range incs {
		if inc.ChannelID == "" {
			b.Errorf("%s has no channel", inc.ID)
		}
		var alerts struct{ Firing int }
		if code, err := sb.API(context.Background(), "/api/incidents/"+inc.ID.String()+"/alerts?limit=1", &alerts); err != nil || code != 200 {
			b.Fatalf("GET alerts of %s: %d %v", inc.ID, code, err)
		}
		firing += alerts.Firing
	}
	if len(incs) != 40 || firing != 20000 {
		b.Fatalf("%d incidents with %d firing alerts, want 40 with 20000", len(incs), firing)
	}
	states, err := sb.App.Store.CountByState(context.Background())
	if err != nil || states[jobs.StateFailed] != 0 {
		b.Fatalf("jobs %v %v", states, err)
	}
	calls := sb.Slack.Calls()
	byMethod := map[string]int{}
	for _, c := range calls {
		byMethod[c.Method]++
	}
	methods := make([]string, 0, len(byMethod))
	for m, n := range byMethod {
		methods = append(methods, fmt.Sprintf("%s %d", m, n))
	}
	sort.Strings(methods)
	b.Logf("Slack calls by method: %v; channel p50 %.2f s max %.2f s", methods,
		rep.Channels.ToChannel.P50/1000, rep.Channels.ToChannel.Max/1000)

	b.ReportMetric(float64(len(incs)), "incidents")
	b.ReportMetric(float64(len(calls)), "slack-calls")
	heap, held := peak()
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(held)/(1<<20), "peak-go-mem-MB")
	b.ReportMetric(rep.Fire.AlertsPerSec, "alerts/s")
	b.ReportMetric(rep.Fire.Latency.P99, "p99-ms")
	b.ReportMetric(rep.Channels.ToChannel.Max/1000, "s-to-last-channel")
	b.ReportMetric(quiet.Seconds(), "s-to-quiet")
}

// sampleHeap samples the memory of the process every interval until ctx
// ends, and returns a function that reports the largest samples: bytes in
// heap objects (live and not yet swept), and all memory the Go runtime
// holds from the OS less what it has returned (heap, stacks, runtime
// metadata: close to the resident size of Go's own memory).
func sampleHeap(ctx context.Context, interval time.Duration) func() (heap, held uint64) {
	var mu sync.Mutex
	var peakHeap, peakHeld uint64
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"}}
	read := func() {
		metrics.Read(sample)
		mu.Lock()
		peakHeap = max(peakHeap, sample[0].Value.Uint64())
		peakHeld = max(peakHeld, sample[1].Value.Uint64()-sample[2].Value.Uint64())
		mu.Unlock()
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() (uint64, uint64) {
		read()
		mu.Lock()
		defer mu.Unlock()
		return peakHeap, peakHeld
	}
}
