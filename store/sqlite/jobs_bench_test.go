package sqlite

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/warroomhq/warroom/jobs"
)

// BenchmarkEnqueue measures one enqueue, its own transaction, on a file
// database.
func BenchmarkEnqueue(b *testing.B) {
	s := openTestStore(b)
	ctx := context.Background()
	payload := []byte(`{"channel":"C123","text":"Incident INC-42 declared: checkout latency"}`)
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: "key-" + strconv.Itoa(i), Payload: payload}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnqueueClaimComplete measures a job's whole life: three write
// transactions (enqueue, claim, complete).
func BenchmarkEnqueueClaimComplete(b *testing.B) {
	benchmarkLife(b, func(int) string { return "" })
}

// BenchmarkEnqueueClaimCompleteSerial is BenchmarkEnqueueClaimComplete with
// every job on one serial key, so done jobs pile up under that key: the
// claim must not slow down as they do.
func BenchmarkEnqueueClaimCompleteSerial(b *testing.B) {
	benchmarkLife(b, func(int) string { return "slack:C123" })
}

func benchmarkLife(b *testing.B, serial func(int) string) {
	s := openTestStore(b)
	ctx := context.Background()
	kinds := []string{"k"}
	payload := []byte(`{"channel":"C123","text":"Incident INC-42 declared: checkout latency"}`)
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: "key-" + strconv.Itoa(i), SerialKey: serial(i), Payload: payload}); err != nil {
			b.Fatal(err)
		}
		js, _, err := s.Claim(ctx, "bench", kinds, t0, time.Minute, 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(js) != 1 {
			b.Fatalf("claimed %d jobs, want 1", len(js))
		}
		if err := s.Complete(ctx, js[0].ID, "bench", t0); err != nil {
			b.Fatal(err)
		}
	}
}
