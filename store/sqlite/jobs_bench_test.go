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

// BenchmarkClaimWithSerialBacklog measures claiming and completing the head
// of a long serial chain (a Slack channel that fell behind) beside a few
// independent jobs that are not due or not of the kind claimed. Each cycle
// leaves the backlog as it found it: a job is added at the tail, off the
// clock. A claim that looks at every blocked job slows down with the
// backlog; one that looks only at each serial key's head does not.
func BenchmarkClaimWithSerialBacklog(b *testing.B) {
	for _, backlog := range []int{200, 2000} {
		b.Run(strconv.Itoa(backlog), func(b *testing.B) { benchmarkSerialBacklog(b, backlog) })
	}
}

func benchmarkSerialBacklog(b *testing.B, backlog int) {
	s := openTestStore(b)
	ctx := context.Background()
	payload := []byte(`{"channel":"C123","text":"Incident INC-42 declared: checkout latency"}`)
	next := 0
	tail := func() {
		next++
		if _, err := s.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: "chain-" + strconv.Itoa(next), SerialKey: "slack:C123", Payload: payload}); err != nil {
			b.Fatal(err)
		}
	}
	for range backlog {
		tail()
	}
	for i := range 5 {
		for _, j := range []jobs.NewJob{
			{Kind: "k", Key: "later-" + strconv.Itoa(i), RunAt: t0.Add(time.Hour)},
			{Kind: "other", Key: "other-" + strconv.Itoa(i)},
			{Kind: "k", Key: "serial-later-" + strconv.Itoa(i), SerialKey: "slack:C" + strconv.Itoa(i), RunAt: t0.Add(time.Hour)},
		} {
			if _, err := s.Enqueue(ctx, j); err != nil {
				b.Fatal(err)
			}
		}
	}
	kinds := []string{"k"}
	b.ReportAllocs()
	for b.Loop() {
		js, _, err := s.Claim(ctx, "bench", kinds, t0, time.Minute, 10)
		if err != nil {
			b.Fatal(err)
		}
		if len(js) != 1 || js[0].SerialKey != "slack:C123" {
			b.Fatalf("claimed %+v, want the chain's head", js)
		}
		if err := s.Complete(ctx, js[0].ID, "bench", t0); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		tail()
		b.StartTimer()
	}
}
