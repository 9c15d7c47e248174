package runner_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/warroomhq/warroom/internal/clock"
	"github.com/warroomhq/warroom/jobs"
	"github.com/warroomhq/warroom/jobs/runner"
	"github.com/warroomhq/warroom/store/sqlite"
)

// t0 is "now" for the tests that drive the clock by hand.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openStore opens a migrated store in a fresh directory. Inside a synctest
// bubble it must be called from the bubble, which then closes it.
func openStore(t *testing.T, opts ...sqlite.Option) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := sqlite.OpenMigrated(context.Background(), path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func enqueue(t *testing.T, s jobs.Store, j jobs.NewJob) {
	t.Helper()
	if j.Kind == "" {
		j.Kind = "k"
	}
	created, err := s.Enqueue(context.Background(), j)
	if err != nil || !created {
		t.Fatalf("enqueue %s: created=%v err=%v", j.Key, created, err)
	}
}

func getJob(t *testing.T, s jobs.Store, key string) jobs.Info {
	t.Helper()
	in, err := s.GetJob(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func runDue(t *testing.T, q *runner.Queue) int {
	t.Helper()
	n, err := q.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// startRun runs q until the returned stop is called; stop returns Run's
// error.
func startRun(t *testing.T, q *runner.Queue) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- q.Run(ctx) }()
	stopped := false
	var err error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-errc
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// logs records log records for assertions, and passes them on to the test
// output.
type logs struct {
	mu      sync.Mutex
	records []slog.Record
	out     slog.Handler
}

func newLogs(t *testing.T) (*logs, *slog.Logger) {
	l := &logs{out: slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})}
	return l, slog.New(l)
}

func (l *logs) Enabled(context.Context, slog.Level) bool { return true }
func (l *logs) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	return l.out.Handle(ctx, r)
}
func (l *logs) WithAttrs(as []slog.Attr) slog.Handler {
	return &withAttrs{l, as}
}
func (l *logs) WithGroup(string) slog.Handler { panic("no groups") }

type withAttrs struct {
	*logs
	attrs []slog.Attr
}

func (w *withAttrs) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(w.attrs...)
	return w.logs.Handle(ctx, r)
}
func (w *withAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return &withAttrs{w.logs, append(slices.Clip(w.attrs), as...)}
}

// at returns the records of a level, each as its message and attributes.
func (l *logs) at(level slog.Level) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.records {
		if r.Level != level {
			continue
		}
		m := map[string]string{"msg": r.Message}
		r.Attrs(func(a slog.Attr) bool {
			m[a.Key] = a.Value.String()
			return true
		})
		out = append(out, m)
	}
	return out
}

func TestRunDueCompletesJob(t *testing.T) {
	s, _ := openStore(t, sqlite.WithClock(t0.UTC))
	enqueue(t, s, jobs.NewJob{Key: "a", Payload: []byte("hello")})
	q := runner.New(s, runner.Options{Now: t0.UTC})
	var got []jobs.Job
	q.Handle("k", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		got = append(got, j)
		return nil
	}))
	if n := runDue(t, q); n != 1 {
		t.Fatalf("RunDue ran %d jobs, want 1", n)
	}
	if len(got) != 1 || string(got[0].Payload) != "hello" || got[0].Attempt != 1 {
		t.Fatalf("handler saw %+v", got)
	}
	if in := getJob(t, s, "a"); in.State != jobs.StateDone {
		t.Errorf("job %+v, want done", in)
	}
	if n := runDue(t, q); n != 0 {
		t.Errorf("second RunDue ran %d jobs, want 0", n)
	}
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	s, _ := openStore(t, sqlite.WithClock(t0.UTC))
	enqueue(t, s, jobs.NewJob{Key: "a"})
	reg := prometheus.NewRegistry()
	q := runner.New(s, runner.Options{Now: t0.UTC, Metrics: runner.NewMetrics(reg, s)})
	q.Handle("k", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
		return jobs.Permanent(errors.New("channel_not_found"))
	}))
	runDue(t, q)
	in := getJob(t, s, "a")
	if in.State != jobs.StateFailed || in.Attempt != 1 || in.LastError != "channel_not_found" {
		t.Errorf("job %+v, want failed on attempt 1 with the error", in)
	}
	if got := testutil.ToFloat64(counter(t, reg, "failed")); got != 1 {
		t.Errorf("failed outcomes = %v, want 1", got)
	}
}

// counter reads warroom_jobs_processed_total{kind="k",outcome=outcome}, 0
// when the series does not exist.
func counter(t *testing.T, reg *prometheus.Registry, outcome string) prometheus.Collector {
	t.Helper()
	return collectorFunc(func(ch chan<- prometheus.Metric) {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var v float64
		for _, mf := range mfs {
			if mf.GetName() != "warroom_jobs_processed_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "outcome" && lp.GetValue() == outcome {
						v += m.GetCounter().GetValue()
					}
				}
			}
		}
		ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("c", "c", nil, nil), prometheus.CounterValue, v)
	})
}

type collectorFunc func(chan<- prometheus.Metric)

func (f collectorFunc) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(f, ch) }
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

func TestMaxAttemptsParksJobAsFailed(t *testing.T) {
	s, _ := openStore(t, sqlite.WithClock(t0.UTC))
	enqueue(t, s, jobs.NewJob{Key: "a", MaxAttempts: 3})
	enqueue(t, s, jobs.NewJob{Key: "ok"})
	reg := prometheus.NewRegistry()
	clk := clock.NewManual(t0)
	logs, logger := newLogs(t)
	q := runner.New(s, runner.Options{Now: clk.Now, Logger: logger, Metrics: runner.NewMetrics(reg, s)})
	var lastErrors []string
	q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		if j.Key == "ok" {
			return nil
		}
		lastErrors = append(lastErrors, j.LastError)
		return errors.New("boom " + string(rune('0'+j.Attempt)))
	}))
	for attempt := 1; attempt <= 3; attempt++ {
		if n := runDue(t, q); n < 1 {
			t.Fatalf("attempt %d: RunDue ran nothing", attempt)
		}
		in := getJob(t, s, "a")
		want := jobs.StatePending
		if attempt == 3 {
			want = jobs.StateFailed
		}
		if in.State != want || in.Attempt != attempt {
			t.Fatalf("after attempt %d: %+v, want %s", attempt, in, want)
		}
		clk.Advance(time.Hour) // past any backoff
	}
	if !slices.Equal(lastErrors, []string{"", "boom 1", "boom 2"}) {
		t.Errorf("handler saw last errors %q", lastErrors)
	}
	if n := runDue(t, q); n != 0 {
		t.Errorf("RunDue after parking ran %d jobs", n)
	}
	counts, err := s.CountByState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[jobs.StateFailed] != 1 || counts[jobs.StateDone] != 1 {
		t.Errorf("counts %v, want 1 failed, 1 done", counts)
	}
	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP warroom_jobs Jobs in the queue, by state.
# TYPE warroom_jobs gauge
warroom_jobs{state="done"} 1
warroom_jobs{state="failed"} 1
warroom_jobs{state="pending"} 0
warroom_jobs{state="running"} 0
# HELP warroom_jobs_processed_total Job attempts finished, by kind and outcome (done, retry, failed, released, deferred).
# TYPE warroom_jobs_processed_total counter
warroom_jobs_processed_total{kind="k",outcome="done"} 1
warroom_jobs_processed_total{kind="k",outcome="failed"} 1
warroom_jobs_processed_total{kind="k",outcome="retry"} 2
`), "warroom_jobs", "warroom_jobs_processed_total")
	if err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "warroom_job_duration_seconds"); n != 1 {
		t.Errorf("%d duration histograms, want 1 (kind k)", n)
	}

	warns, errs := logs.at(slog.LevelWarn), logs.at(slog.LevelError)
	if len(warns) != 2 || len(errs) != 1 {
		t.Fatalf("%d warnings and %d errors logged, want 2 and 1", len(warns), len(errs))
	}
	for i, r := range append(warns, errs...) {
		attempt := string(rune('1' + i))
		if r["kind"] != "k" || r["key"] != "a" || r["attempt"] != attempt || r["error"] != "boom "+attempt {
			t.Errorf("log %v lacks kind, key, attempt %s or error", r, attempt)
		}
	}
	if !strings.Contains(errs[0]["msg"], "last attempt") {
		t.Errorf("error log %q does not say it was the last attempt", errs[0]["msg"])
	}
}

func TestGaugeReportsAllStates(t *testing.T) {
	s, _ := openStore(t)
	reg := prometheus.NewRegistry()
	runner.NewMetrics(reg, s)
	enqueue(t, s, jobs.NewJob{Key: "a"})
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP warroom_jobs Jobs in the queue, by state.
# TYPE warroom_jobs gauge
warroom_jobs{state="done"} 0
warroom_jobs{state="failed"} 0
warroom_jobs{state="pending"} 1
warroom_jobs{state="running"} 0
`), "warroom_jobs")
	if err != nil {
		t.Error(err)
	}
	// A failing count leaves the gauge out and counts the error, rather
	// than failing the whole scrape.
	s.Close()
	if _, err := reg.Gather(); err != nil {
		t.Errorf("Gather with a closed store: %v", err)
	}
	if n := testutil.CollectAndCount(reg, "warroom_jobs"); n != 0 {
		t.Errorf("%d warroom_jobs series with a closed store, want 0", n)
	}
	if n := testutil.ToFloat64(collectorFunc(func(ch chan<- prometheus.Metric) {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "warroom_jobs_count_errors_total" {
				ch <- prometheus.MustNewConstMetric(prometheus.NewDesc("c", "c", nil, nil),
					prometheus.CounterValue, mf.GetMetric()[0].GetCounter().GetValue())
			}
		}
	})); n < 1 {
		t.Errorf("count errors = %v, want at least 1", n)
	}
}

func TestPanickingHandlerIsRetried(t *testing.T) {
	s, _ := openStore(t, sqlite.WithClock(t0.UTC))
	enqueue(t, s, jobs.NewJob{Key: "a"})
	clk := clock.NewManual(t0)
	logs, logger := newLogs(t)
	q := runner.New(s, runner.Options{Now: clk.Now, Logger: logger})
	q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		if j.Attempt == 1 {
			panic("nil map")
		}
		return nil
	}))
	runDue(t, q)
	in := getJob(t, s, "a")
	if in.State != jobs.StatePending || in.Attempt != 1 || in.LastError != "panic: nil map" {
		t.Fatalf("after a panic: %+v, want pending for a retry, last error panic: nil map", in)
	}
	warns := logs.at(slog.LevelWarn)
	if len(warns) != 1 || !strings.Contains(warns[0]["stack"], "queue_test.go") {
		t.Errorf("warnings %v, want one with the panic's stack", warns)
	}
	clk.Advance(time.Hour)
	runDue(t, q)
	if in := getJob(t, s, "a"); in.State != jobs.StateDone || in.Attempt != 2 {
		t.Errorf("after the retry: %+v, want done on attempt 2", in)
	}
}

func TestUnknownKindWaitsForItsHandler(t *testing.T) {
	s, _ := openStore(t, sqlite.WithClock(t0.UTC))
	enqueue(t, s, jobs.NewJob{Kind: "future", Key: "a"})
	q := runner.New(s, runner.Options{Now: t0.UTC})
	q.Handle("k", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil }))
	if n := runDue(t, q); n != 0 {
		t.Fatalf("RunDue ran %d jobs of an unknown kind", n)
	}
	if in := getJob(t, s, "a"); in.State != jobs.StatePending || in.Attempt != 0 {
		t.Fatalf("job %+v, want untouched", in)
	}
	q.Handle("future", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil }))
	if n := runDue(t, q); n != 1 {
		t.Fatalf("RunDue with the handler ran %d jobs, want 1", n)
	}
}

func TestHandleRefusesDuplicates(t *testing.T) {
	q := runner.New(nil, runner.Options{})
	q.Handle("k", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil }))
	defer func() {
		if recover() == nil {
			t.Error("second handler for kind k accepted")
		}
	}()
	q.Handle("k", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil }))
}

func TestLeaseExpiresAfterCrash(t *testing.T) {
	s, _ := openStore(t, sqlite.WithClock(t0.UTC))
	ctx := context.Background()
	enqueue(t, s, jobs.NewJob{Key: "a"})
	// Worker A claims the job and dies without a word.
	js, _, err := s.Claim(ctx, "A", []string{"k"}, t0, 2*time.Minute, 1)
	if err != nil || len(js) != 1 {
		t.Fatalf("A's claim = %v, %v", js, err)
	}
	clk := clock.NewManual(t0.Add(time.Minute))
	q := runner.New(s, runner.Options{Now: clk.Now, Owner: "B"})
	var attempts []int
	q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		attempts = append(attempts, j.Attempt)
		return nil
	}))
	if n := runDue(t, q); n != 0 {
		t.Fatalf("B ran %d jobs while A's lease holds", n)
	}
	clk.Advance(time.Minute) // A's lease ends
	if n := runDue(t, q); n != 1 || !slices.Equal(attempts, []int{2}) {
		t.Fatalf("B ran %d jobs, attempts %v; want the job, on attempt 2", n, attempts)
	}
	if in := getJob(t, s, "a"); in.State != jobs.StateDone {
		t.Fatalf("job %+v, want done", in)
	}
	if err := s.Complete(ctx, js[0].ID, "A", t0.Add(3*time.Minute)); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Errorf("A's late Complete = %v, want ErrLeaseLost", err)
	}
}

func TestJobParkedByClaimIsLoggedAndCounted(t *testing.T) {
	s, _ := openStore(t, sqlite.WithClock(t0.UTC))
	ctx := context.Background()
	enqueue(t, s, jobs.NewJob{Key: "a", MaxAttempts: 1})
	enqueue(t, s, jobs.NewJob{Key: "ok"})
	// Worker A claims a, on its only attempt, and dies.
	if js, _, err := s.Claim(ctx, "A", []string{"k"}, t0, 2*time.Minute, 1); err != nil || len(js) != 1 || js[0].Key != "a" {
		t.Fatalf("A's claim = %v, %v", js, err)
	}
	reg := prometheus.NewRegistry()
	logs, logger := newLogs(t)
	q := runner.New(s, runner.Options{Now: t0.Add(2 * time.Minute).UTC, Logger: logger, Metrics: runner.NewMetrics(reg, s)})
	var ran []string
	q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		ran = append(ran, j.Key)
		return nil
	}))
	if n := runDue(t, q); n != 1 || !slices.Equal(ran, []string{"ok"}) {
		t.Fatalf("RunDue ran %d jobs, %v; want [ok]: a has no attempt left", n, ran)
	}
	if in := getJob(t, s, "a"); in.State != jobs.StateFailed {
		t.Fatalf("a = %+v, want failed", in)
	}
	errs := logs.at(slog.LevelError)
	if len(errs) != 1 {
		t.Fatalf("error logs %v, want one for the parked job", errs)
	}
	if r := errs[0]; r["kind"] != "k" || r["key"] != "a" || r["attempt"] != "1" || r["error"] != "lease expired on last attempt" ||
		!strings.Contains(r["msg"], "parked") {
		t.Errorf("error log %v, want the parked job's kind, key, attempt 1 and error", r)
	}
	if got := testutil.ToFloat64(counter(t, reg, "failed")); got != 1 {
		t.Errorf("failed outcomes = %v, want 1", got)
	}
	if got := testutil.ToFloat64(counter(t, reg, "done")); got != 1 {
		t.Errorf("done outcomes = %v, want 1", got)
	}
}

func TestResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := sqlite.OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, s, jobs.NewJob{Key: "a", Payload: []byte("survives")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = sqlite.OpenMigrated(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := runner.New(s, runner.Options{})
	var payload string
	q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		payload = string(j.Payload)
		return nil
	}))
	if n := runDue(t, q); n != 1 || payload != "survives" {
		t.Fatalf("after reopening ran %d jobs with payload %q", n, payload)
	}
}

// The tests below run Run inside a synctest bubble: time stands still while
// any goroutine works, and jumps to the next timer when all are blocked, so
// times are exact and the tests take no wall time.

func TestRunRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := openStore(t)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		// A poll interval of an hour shows that Run wakes at the job's run
		// time, not at the next poll.
		q := runner.New(s, runner.Options{PollInterval: time.Hour, MinBackoff: time.Second, MaxBackoff: time.Minute})
		var at []time.Time
		done := make(chan struct{})
		q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
			at = append(at, time.Now())
			if j.Attempt < 5 {
				return errors.New("503")
			}
			close(done)
			return nil
		}))
		start := time.Now()
		stop := startRun(t, q)
		<-done
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if at[0] != start {
			t.Errorf("first attempt at +%v, want at once", at[0].Sub(start))
		}
		for i := 1; i < len(at); i++ {
			gap, hi := at[i].Sub(at[i-1]), min(time.Second<<i, time.Minute)
			if gap < time.Second || gap > hi+time.Millisecond {
				t.Errorf("retry after attempt %d came after %v, want within [1s, %v]", i, gap, hi)
			}
		}
		if in := getJob(t, s, "a"); in.State != jobs.StateDone || in.Attempt != 5 {
			t.Errorf("job %+v, want done on attempt 5", in)
		}
	})
}

func TestRunHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := openStore(t)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		q := runner.New(s, runner.Options{MinBackoff: time.Hour, MaxBackoff: 2 * time.Hour})
		var at []time.Time
		done := make(chan struct{})
		q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
			at = append(at, time.Now())
			switch j.Attempt {
			case 1:
				return jobs.RetryAfter(90*time.Second+250*time.Millisecond, errors.New("ratelimited"))
			case 2:
				return jobs.RetryAfter(2*time.Second, nil) // not an error: not ready yet
			}
			close(done)
			return nil
		}))
		stop := startRun(t, q)
		<-done
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if len(at) != 3 || at[1].Sub(at[0]) != 90*time.Second+250*time.Millisecond || at[2].Sub(at[1]) != 2*time.Second {
			t.Errorf("attempts at %v, want 90.25s then 2s apart", at)
		}
		if in := getJob(t, s, "a"); in.LastError != "retry requested after 2s" {
			t.Errorf("last error %q", in.LastError)
		}
	})
}

func TestRunKeepsSerialOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := openStore(t)
		for _, k := range []string{"a1", "a2", "f1", "a3", "f2", "f3"} {
			j := jobs.NewJob{Key: k}
			if k[0] == 'a' {
				j.SerialKey = "slack:C1"
			}
			enqueue(t, s, j)
		}
		q := runner.New(s, runner.Options{Workers: 4})
		var mu sync.Mutex
		started := map[string]time.Duration{}
		var order []string
		var wg sync.WaitGroup
		wg.Add(6)
		start := time.Now()
		q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
			defer wg.Done()
			mu.Lock()
			started[j.Key] = time.Since(start)
			order = append(order, j.Key)
			mu.Unlock()
			time.Sleep(time.Second)
			return nil
		}))
		stop := startRun(t, q)
		wg.Wait()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := map[string]time.Duration{"a1": 0, "f1": 0, "f2": 0, "f3": 0, "a2": time.Second, "a3": 2 * time.Second}
		for k, d := range want {
			if started[k] != d {
				t.Errorf("%s started at +%v, want +%v (all starts: %v)", k, started[k], d, started)
			}
		}
		var serial []string
		for _, k := range order {
			if k[0] == 'a' {
				serial = append(serial, k)
			}
		}
		if !slices.Equal(serial, []string{"a1", "a2", "a3"}) {
			t.Errorf("serial jobs ran in order %v", serial)
		}
	})
}

func TestNotifyWakesIdleQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := openStore(t)
		q := runner.New(s, runner.Options{PollInterval: time.Hour})
		ran := make(chan time.Time, 1)
		q.Handle("k", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
			ran <- time.Now()
			return nil
		}))
		stop := startRun(t, q)
		time.Sleep(time.Minute) // idle, until the next poll in 59m
		enqueue(t, s, jobs.NewJob{Key: "a"})
		enqueued := time.Now()
		q.Notify()
		if at := <-ran; at != enqueued {
			t.Errorf("job ran %v after Notify, want at once", at.Sub(enqueued))
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLeaseIsExtendedWhileHandlerRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := openStore(t)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		q := runner.New(s, runner.Options{Lease: 30 * time.Second})
		done := make(chan struct{})
		q.Handle("k", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
			time.Sleep(2 * time.Minute)
			close(done)
			return nil
		}))
		stop := startRun(t, q)
		time.Sleep(100 * time.Second)
		js, _, err := s.Claim(context.Background(), "B", []string{"k"}, time.Now(), time.Minute, 10)
		if err != nil || len(js) != 0 {
			t.Errorf("B's claim 100s into a 30s lease = %v, %v; want nothing", js, err)
		}
		<-done
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if in := getJob(t, s, "a"); in.State != jobs.StateDone || in.Attempt != 1 {
			t.Errorf("job %+v, want done on attempt 1", in)
		}
	})
}

func TestShutdownWaitsForRunningHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := openStore(t)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		q := runner.New(s, runner.Options{ShutdownGrace: 10 * time.Second})
		started := make(chan struct{})
		var handlerErr error
		q.Handle("k", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			close(started)
			select {
			case <-time.After(3 * time.Second):
			case <-ctx.Done():
				handlerErr = ctx.Err()
			}
			return handlerErr
		}))
		stop := startRun(t, q)
		<-started
		begin := time.Now()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(begin); took != 3*time.Second {
			t.Errorf("Run returned after %v, want when the handler finished, 3s", took)
		}
		if handlerErr != nil {
			t.Errorf("handler's context was cancelled during the grace period: %v", handlerErr)
		}
		if in := getJob(t, s, "a"); in.State != jobs.StateDone {
			t.Errorf("job %+v, want done", in)
		}
	})
}

func TestShutdownReleasesUnfinishedJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := openStore(t)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		reg := prometheus.NewRegistry()
		q := runner.New(s, runner.Options{ShutdownGrace: 10 * time.Second, Metrics: runner.NewMetrics(reg, s)})
		started := make(chan struct{})
		var cancelled time.Time
		q.Handle("k", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			close(started)
			<-ctx.Done()
			cancelled = time.Now()
			return ctx.Err()
		}))
		stop := startRun(t, q)
		<-started
		begin := time.Now()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if d := cancelled.Sub(begin); d != 10*time.Second {
			t.Errorf("handler cancelled %v after shutdown began, want after the 10s grace", d)
		}
		in := getJob(t, s, "a")
		if in.State != jobs.StatePending || in.Attempt != 0 || in.LeaseOwner != "" || !in.RunAt.Equal(cancelled) {
			t.Errorf("job %+v, want pending, due now, with no attempt burnt", in)
		}
		if got := testutil.ToFloat64(counter(t, reg, "released")); got != 1 {
			t.Errorf("released outcomes = %v, want 1", got)
		}
	})
}

func TestShutdownAbandonsHandlerThatIgnoresCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := openStore(t)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		q := runner.New(s, runner.Options{ShutdownGrace: time.Second})
		started, unblock, returned := make(chan struct{}), make(chan struct{}), make(chan struct{})
		q.Handle("k", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			defer close(returned)
			close(started)
			<-unblock // ignores ctx
			return nil
		}))
		stop := startRun(t, q)
		<-started
		begin := time.Now()
		err := stop()
		if err == nil || !strings.Contains(err.Error(), "ignored cancellation") {
			t.Errorf("Run = %v, want an error about the stuck handler", err)
		}
		if took := time.Since(begin); took != 6*time.Second {
			t.Errorf("Run returned after %v, want grace 1s + 5s", took)
		}
		if in := getJob(t, s, "a"); in.State != jobs.StatePending || in.Attempt != 0 {
			t.Errorf("job %+v, want released", in)
		}
		// The stuck handler finishes late: its Complete is refused.
		close(unblock)
		<-returned
		synctest.Wait()
		if in := getJob(t, s, "a"); in.State != jobs.StatePending {
			t.Errorf("job %+v after the late finish, want still pending", in)
		}
	})
}

func TestShutdownKeepsRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _ := openStore(t)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		q := runner.New(s, runner.Options{ShutdownGrace: 10 * time.Second})
		started := make(chan struct{})
		var cancelled time.Time
		q.Handle("k", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			close(started)
			<-ctx.Done()
			// Slack answered 429 just as the shutdown cancelled the call.
			cancelled = time.Now()
			return jobs.RetryAfter(30*time.Minute, errors.New("ratelimited"))
		}))
		stop := startRun(t, q)
		<-started
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		in := getJob(t, s, "a")
		if in.State != jobs.StatePending || in.Attempt != 0 || !in.RunAt.Equal(cancelled.Add(30*time.Minute)) {
			t.Fatalf("job %+v, want pending with no attempt burnt, due 30m after the cancellation at %v", in, cancelled)
		}

		// The next start runs it when Slack said, not before.
		q = runner.New(s, runner.Options{PollInterval: time.Hour})
		ran := make(chan jobs.Job, 1)
		var at time.Time
		q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
			at = time.Now()
			ran <- j
			return nil
		}))
		startRun(t, q)
		if j := <-ran; j.Attempt != 1 || !at.Equal(cancelled.Add(30*time.Minute)) {
			t.Errorf("ran attempt %d %v after the cancellation, want attempt 1 after 30m", j.Attempt, at.Sub(cancelled))
		}
	})
}

// reopen opens the store at path, as a new process would; the test closes it
// when it ends, if it has not already.
func reopen(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.OpenMigrated(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runOnce starts a queue on s whose handler records the first job it runs
// and when, and completes it.
func runOnce(t *testing.T, s *sqlite.Store, opts runner.Options) <-chan ranJob {
	t.Helper()
	ran := make(chan ranJob, 1)
	q := runner.New(s, opts)
	q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		select {
		case ran <- ranJob{j, time.Now()}:
		default:
		}
		return nil
	}))
	startRun(t, q)
	return ran
}

type ranJob struct {
	jobs.Job
	at time.Time
}

func TestRetryResumesAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "w.db")
		s := reopen(t, path)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		q := runner.New(s, runner.Options{MinBackoff: time.Minute, MaxBackoff: time.Hour})
		failed := make(chan struct{})
		q.Handle("k", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
			close(failed)
			return errors.New("503")
		}))
		stop := startRun(t, q)
		<-failed
		synctest.Wait() // the retry is recorded
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		in := getJob(t, s, "a")
		if in.State != jobs.StatePending || in.Attempt != 1 || !in.RunAt.After(time.Now()) {
			t.Fatalf("job %+v, want pending after attempt 1, due later", in)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second) // down for a while, but less than the backoff

		// A poll interval of an hour shows that the new process wakes at
		// the job's run time.
		s = reopen(t, path)
		r := <-runOnce(t, s, runner.Options{PollInterval: time.Hour})
		if !r.at.Equal(in.RunAt) || r.Attempt != 2 || r.LastError != "503" {
			t.Errorf("ran attempt %d (last error %q) at %v, want attempt 2 (last error 503) at its run time %v",
				r.Attempt, r.LastError, r.at, in.RunAt)
		}
		synctest.Wait()
		if in := getJob(t, s, "a"); in.State != jobs.StateDone || in.Attempt != 2 {
			t.Errorf("job %+v, want done on attempt 2", in)
		}
	})
}

func TestReleasedJobResumesAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "w.db")
		s := reopen(t, path)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		q := runner.New(s, runner.Options{ShutdownGrace: time.Second})
		started := make(chan struct{})
		q.Handle("k", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}))
		stop := startRun(t, q)
		<-started
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if in := getJob(t, s, "a"); in.State != jobs.StatePending || in.Attempt != 0 {
			t.Fatalf("job %+v, want released", in)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)

		s = reopen(t, path)
		restart := time.Now()
		r := <-runOnce(t, s, runner.Options{PollInterval: time.Hour})
		if !r.at.Equal(restart) || r.Attempt != 1 || r.LastError != "" {
			t.Errorf("ran attempt %d (last error %q) %v after the restart, want attempt 1 at once",
				r.Attempt, r.LastError, r.at.Sub(restart))
		}
		synctest.Wait()
		if in := getJob(t, s, "a"); in.State != jobs.StateDone || in.Attempt != 1 {
			t.Errorf("job %+v, want done on attempt 1", in)
		}
	})
}

func TestCrashedJobIsTakenOverAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "w.db")
		s := reopen(t, path)
		enqueue(t, s, jobs.NewJob{Key: "a"})
		enqueue(t, s, jobs.NewJob{Key: "last", MaxAttempts: 1})
		// A worker of the old process leases both jobs, and the process
		// dies: nothing completes or releases them.
		crashed := time.Now()
		js, _, err := s.Claim(context.Background(), "old/1.0", []string{"k"}, crashed, runner.DefaultLease, 10)
		if err != nil || len(js) != 2 {
			t.Fatalf("old process's claim = %v, %v", js, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)

		// The new process takes a over when the lease expires, on attempt
		// 2; last, whose only attempt died, is parked, logged and counted.
		s = reopen(t, path)
		reg := prometheus.NewRegistry()
		logs, logger := newLogs(t)
		r := <-runOnce(t, s, runner.Options{PollInterval: time.Hour, Logger: logger, Metrics: runner.NewMetrics(reg, s)})
		if r.Key != "a" || !r.at.Equal(crashed.Add(runner.DefaultLease)) || r.Attempt != 2 {
			t.Errorf("ran %s attempt %d %v after the crash, want a, attempt 2, when the %v lease expired",
				r.Key, r.Attempt, r.at.Sub(crashed), runner.DefaultLease)
		}
		synctest.Wait()
		if in := getJob(t, s, "a"); in.State != jobs.StateDone || in.Attempt != 2 {
			t.Errorf("a = %+v, want done on attempt 2", in)
		}
		if in := getJob(t, s, "last"); in.State != jobs.StateFailed || in.LastError != "lease expired on last attempt" {
			t.Errorf("last = %+v, want failed, lease expired on last attempt", in)
		}
		if errs := logs.at(slog.LevelError); len(errs) != 1 || errs[0]["key"] != "last" || errs[0]["attempt"] != "1" {
			t.Errorf("error logs %v, want one for last, attempt 1", errs)
		}
		if got := testutil.ToFloat64(counter(t, reg, "failed")); got != 1 {
			t.Errorf("failed outcomes = %v, want 1", got)
		}
	})
}

func TestDeferDoesNotCountAttempts(t *testing.T) {
	s, _ := openStore(t, sqlite.WithClock(t0.UTC))
	enqueue(t, s, jobs.NewJob{Key: "a", MaxAttempts: 2})
	reg := prometheus.NewRegistry()
	clk := clock.NewManual(t0)
	q := runner.New(s, runner.Options{Now: clk.Now, Metrics: runner.NewMetrics(reg, s)})
	calls := 0
	q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		calls++
		if j.Attempt != 1 {
			t.Errorf("call %d saw attempt %d; deferrals must not count", calls, j.Attempt)
		}
		if calls <= 5 {
			return jobs.Defer(3*time.Second, errors.New("429"))
		}
		return nil
	}))
	for i := 1; i <= 5; i++ {
		if n := runDue(t, q); n != 1 {
			t.Fatalf("round %d: RunDue ran %d jobs", i, n)
		}
		in := getJob(t, s, "a")
		if in.State != jobs.StatePending || !in.RunAt.Equal(clk.Now().Add(3*time.Second)) {
			t.Fatalf("round %d: %+v, want pending 3s later", i, in)
		}
		if n := runDue(t, q); n != 0 {
			t.Fatalf("round %d: deferred job ran early", i)
		}
		clk.Advance(3 * time.Second)
	}
	if n := runDue(t, q); n != 1 {
		t.Fatalf("last RunDue ran %d", n)
	}
	if in := getJob(t, s, "a"); in.State != jobs.StateDone {
		t.Errorf("job %+v, want done after 5 deferrals with MaxAttempts 2", in)
	}
	if got := testutil.ToFloat64(counter(t, reg, runner.OutcomeDeferred)); got != 5 {
		t.Errorf("deferred count %v, want 5", got)
	}
}

func TestRunAllAdvancesTheClockToEachRetry(t *testing.T) {
	s, _ := openStore(t, sqlite.WithClock(t0.UTC))
	enqueue(t, s, jobs.NewJob{Key: "a"})
	enqueue(t, s, jobs.NewJob{Key: "b", RunAt: t0.Add(time.Hour)})
	clk := clock.NewManual(t0)
	q := runner.New(s, runner.Options{Now: clk.Now})
	var ran []string
	q.Handle("k", jobs.HandlerFunc(func(_ context.Context, j jobs.Job) error {
		ran = append(ran, fmt.Sprintf("%s@%s", j.Key, clk.Now().Sub(t0)))
		if j.Key == "a" && len(ran) == 1 {
			return jobs.Defer(10*time.Second, nil)
		}
		return nil
	}))
	n, err := q.RunAll(context.Background(), clk.Set, 10)
	if err != nil || n != 3 {
		t.Fatalf("RunAll = %d, %v; want 3 attempts; ran %v", n, err, ran)
	}
	if want := []string{"a@0s", "a@10s", "b@1h0m0s"}; !slices.Equal(ran, want) {
		t.Errorf("ran %v, want %v", ran, want)
	}
	if _, ok, _ := q.NextRunAt(context.Background()); ok {
		t.Error("a job is still pending")
	}

	enqueue(t, s, jobs.NewJob{Key: "forever"})
	q2 := runner.New(s, runner.Options{Now: clk.Now})
	q2.Handle("k", jobs.HandlerFunc(func(context.Context, jobs.Job) error { return jobs.Defer(time.Second, nil) }))
	if _, err := q2.RunAll(context.Background(), clk.Set, 5); err == nil {
		t.Error("RunAll with a job that never finishes returned no error")
	}
}

// TestLaneLeavesWorkersForOtherKinds: jobs of a lane (calls to one outside
// system) run at most the lane's max at once, so that when that system
// hangs, the other kinds still get a worker (a page to PagerDuty while
// Slack hangs). Without the lane, the slow jobs would take both workers
// and the fast one would wait 10 s.
func TestLaneLeavesWorkersForOtherKinds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lane      func(string) (string, int)
		wantFast  time.Duration
		wantSlows []time.Duration
	}{
		{"lane", func(k string) (string, int) {
			if k == "slow" {
				return "slack", 1
			}
			return "", 0
		}, 0, []time.Duration{0, 10 * time.Second, 20 * time.Second}},
		{"no lane", nil, 10 * time.Second, []time.Duration{0, 0, 10 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, _ := openStore(t)
				for _, k := range []string{"s1", "s2", "s3"} {
					enqueue(t, s, jobs.NewJob{Kind: "slow", Key: k})
				}
				enqueue(t, s, jobs.NewJob{Kind: "fast", Key: "f1"})
				q := runner.New(s, runner.Options{Workers: 2, Lane: tc.lane})
				var mu sync.Mutex
				var slows []time.Duration
				var fast time.Duration
				var wg sync.WaitGroup
				wg.Add(4)
				start := time.Now()
				q.Handle("slow", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
					defer wg.Done()
					mu.Lock()
					slows = append(slows, time.Since(start))
					mu.Unlock()
					time.Sleep(10 * time.Second) // a call to a system that hangs
					return nil
				}))
				q.Handle("fast", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
					defer wg.Done()
					mu.Lock()
					fast = time.Since(start)
					mu.Unlock()
					return nil
				}))
				stop := startRun(t, q)
				wg.Wait()
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				if fast != tc.wantFast || !slices.Equal(slows, tc.wantSlows) {
					t.Errorf("fast job started at +%v, slow ones at %v; want +%v and %v", fast, slows, tc.wantFast, tc.wantSlows)
				}
			})
		})
	}
}
