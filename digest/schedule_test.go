package digest_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/warroomhq/warroom/digest"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/store/sqlite"
)

func mustCron(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	s, err := cron.ParseStandard(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func utcTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestScheduleAcrossDST checks the example config's schedule, Mondays at
// 09:00 in Berlin, and the same in New York, across both daylight-saving
// changes of 2026: the local time stays 09:00, so the UTC time moves.
func TestScheduleAcrossDST(t *testing.T) {
	cases := []struct {
		spec string
		from string
		want []string
	}{
		{"CRON_TZ=Europe/Berlin 0 9 * * MON", "2026-03-20T00:00:00Z", []string{
			"2026-03-23T08:00:00Z", // CET, UTC+1
			"2026-03-30T07:00:00Z", // CEST from Sunday 29 March, UTC+2
			"2026-04-06T07:00:00Z",
		}},
		{"CRON_TZ=Europe/Berlin 0 9 * * MON", "2026-10-15T00:00:00Z", []string{
			"2026-10-19T07:00:00Z", // CEST
			"2026-10-26T08:00:00Z", // CET from Sunday 25 October
		}},
		{"CRON_TZ=America/New_York 0 9 * * MON", "2026-03-01T00:00:00Z", []string{
			"2026-03-02T14:00:00Z", // EST, UTC-5
			"2026-03-09T13:00:00Z", // EDT from Sunday 8 March, UTC-4
		}},
		{"CRON_TZ=America/New_York 0 9 * * MON", "2026-10-25T00:00:00Z", []string{
			"2026-10-26T13:00:00Z", // EDT
			"2026-11-02T14:00:00Z", // EST from Sunday 1 November
		}},
	}
	for _, c := range cases {
		s := mustCron(t, c.spec)
		at := utcTime(c.from)
		for i, want := range c.want {
			at = s.Next(at)
			if !at.Equal(utcTime(want)) {
				t.Errorf("%s: run %d after %s is %s, want %s", c.spec, i+1, c.from, at.UTC().Format(time.RFC3339), want)
			}
		}
	}
}

func TestDueOnlyWhenLessThanADayLate(t *testing.T) {
	s := digest.NewScheduler(mustCron(t, "CRON_TZ=Europe/Berlin 0 9 * * MON"), nil, nil, nil)
	monday := utcTime("2026-11-23T08:00:00Z") // 09:00 in Berlin
	for _, c := range []struct {
		now string
		ok  bool
	}{
		{"2026-11-23T07:59:59Z", false}, // the week before's run is 7 days late
		{"2026-11-23T08:00:00Z", true},
		{"2026-11-23T20:00:00Z", true},
		{"2026-11-24T07:59:59Z", true},
		{"2026-11-24T08:00:00Z", false}, // a day late: skipped
	} {
		at, ok := s.Due(utcTime(c.now))
		if ok != c.ok || (ok && !at.Equal(monday)) {
			t.Errorf("Due(%s) = %s, %v; want %v", c.now, at, ok, c.ok)
		}
	}
}

// storeEnqueue records runs as digest jobs in a real database, as the app
// does: the job's idempotency key is the run.
func storeEnqueue(st *sqlite.Store) digest.Enqueue {
	return func(ctx context.Context, key string, from, to time.Time) (bool, error) {
		return st.Enqueue(ctx, jobs.NewJob{Kind: "digest.post", Key: key, Payload: []byte(`{}`)})
	}
}

// TestCatchUpSendsAMissedRunOnceAcrossRestarts stops Warroom before Monday's
// run and starts it again on Monday evening: the run is recorded once,
// however often Warroom restarts that day, and not at all the next day.
func TestCatchUpSendsAMissedRunOnceAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	sched := mustCron(t, "CRON_TZ=Europe/Berlin 0 9 * * MON")
	start := func(now string) (*sqlite.Store, *digest.Scheduler) {
		st, err := sqlite.OpenMigrated(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		clock := utcTime(now)
		return st, digest.NewScheduler(sched, storeEnqueue(st), func() time.Time { return clock }, nil)
	}
	runs := func(st *sqlite.Store) int {
		t.Helper()
		info, err := st.GetJob(ctx, "digest:Europe/Berlin:2026-11-23T09:00")
		if err != nil {
			return 0
		}
		if info.Kind != "digest.post" {
			t.Fatalf("job %+v", info)
		}
		return 1
	}
	for _, now := range []string{"2026-11-23T18:00:00Z", "2026-11-23T18:05:00Z", "2026-11-24T07:00:00Z"} {
		st, s := start(now)
		if err := s.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		counts, err := st.CountByState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if runs(st) != 1 || counts[jobs.StatePending] != 1 {
			t.Fatalf("after a start at %s: run recorded %d times, %d pending jobs", now, runs(st), counts[jobs.StatePending])
		}
		st.Close()
	}
	// A start more than a day late records nothing.
	path = filepath.Join(t.TempDir(), "late.db")
	st, s := start("2026-11-24T08:00:01Z")
	defer st.Close()
	if err := s.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if counts, _ := st.CountByState(ctx); counts[jobs.StatePending] != 0 {
		t.Fatalf("a run more than a day late was sent: %v", counts)
	}
}

// TestRunFiresOnScheduleOnVirtualTime runs the cron loop in a synctest
// bubble for three weeks of virtual time: one run per Monday, each named by
// its scheduled time, and a panicking run does not stop the next.
func TestRunFiresOnScheduleOnVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts at 2000-01-01 00:00 UTC, a Saturday.
		var mu sync.Mutex
		var got []time.Time
		enqueue := func(ctx context.Context, key string, from, to time.Time) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, to)
			if len(got) == 1 {
				panic("a bug in the first run")
			}
			if to.Sub(from) != digest.Period {
				t.Errorf("period [%s, %s) of %s", from, to, key)
			}
			return true, nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		s := digest.NewScheduler(mustCron(t, "CRON_TZ=Europe/Berlin 0 9 * * MON"), enqueue, nil, nil)
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(21 * 24 * time.Hour)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := []string{"2000-01-03T08:00:00Z", "2000-01-10T08:00:00Z", "2000-01-17T08:00:00Z"}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != len(want) {
			t.Fatalf("runs at %v, want %v", got, want)
		}
		for i := range want {
			if !got[i].Equal(utcTime(want[i])) {
				t.Errorf("run %d at %s, want %s", i, got[i].UTC().Format(time.RFC3339), want[i])
			}
		}
	})
}

// TestRunDoesNotOverlap makes the first run take eight days of virtual
// time: the run due meanwhile is skipped, not started beside it.
func TestRunDoesNotOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []time.Time
		enqueue := func(ctx context.Context, key string, from, to time.Time) (bool, error) {
			mu.Lock()
			got = append(got, to)
			first := len(got) == 1
			mu.Unlock()
			if first {
				time.Sleep(8 * 24 * time.Hour)
			}
			return true, nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		s := digest.NewScheduler(mustCron(t, "CRON_TZ=Europe/Berlin 0 9 * * MON"), enqueue, nil, nil)
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(17 * 24 * time.Hour)
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 2 || !got[0].Equal(utcTime("2000-01-03T08:00:00Z")) || !got[1].Equal(utcTime("2000-01-17T08:00:00Z")) {
			t.Fatalf("runs at %v; want 3 and 17 January (10 January skipped: the first run was still going)", got)
		}
	})
}

// TestRunsAcrossDSTAreKeyedByWallClock: a local time that happens twice
// when the clocks go back is one run, and the week before a change of
// daylight saving is seven calendar days, not 168 hours.
func TestRunsAcrossDSTAreKeyedByWallClock(t *testing.T) {
	type run struct {
		key      string
		from, to time.Time
	}
	var runs []run
	enqueue := func(ctx context.Context, key string, from, to time.Time) (bool, error) {
		for _, r := range runs {
			if r.key == key {
				return false, nil
			}
		}
		runs = append(runs, run{key, from, to})
		return true, nil
	}
	// 02:30 on Sunday 25 October 2026 happens twice in Berlin: at 00:30 and
	// at 01:30 UTC. The cron library fires at both.
	sched := mustCron(t, "CRON_TZ=Europe/Berlin 30 2 * * SUN")
	for _, now := range []string{"2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"} {
		clock := utcTime(now)
		if err := digest.NewScheduler(sched, enqueue, func() time.Time { return clock }, nil).CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(runs) != 1 || runs[0].key != "digest:Europe/Berlin:2026-10-25T02:30" {
		t.Fatalf("runs %+v, want one", runs)
	}
	// The Monday digest after the spring change covers Monday 09:00 CET to
	// Monday 09:00 CEST: 167 hours, meeting the week before exactly.
	runs = nil
	clock := utcTime("2026-03-30T07:00:00Z")
	s := digest.NewScheduler(mustCron(t, "CRON_TZ=Europe/Berlin 0 9 * * MON"), enqueue, func() time.Time { return clock }, nil)
	if err := s.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || !runs[0].from.Equal(utcTime("2026-03-23T08:00:00Z")) || !runs[0].to.Equal(clock) {
		t.Fatalf("run %+v; want [23 March 08:00 UTC, 30 March 07:00 UTC)", runs)
	}
}
