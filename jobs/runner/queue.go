package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jpillora/backoff"

	"github.com/warroomhq/warroom/jobs"
)

// Defaults for the zero fields of Options.
const (
	DefaultWorkers       = 4
	DefaultLease         = 2 * time.Minute
	DefaultPollInterval  = time.Second
	DefaultMinBackoff    = time.Second
	DefaultMaxBackoff    = 10 * time.Minute
	DefaultShutdownGrace = 10 * time.Second
	DefaultRetention     = 14 * 24 * time.Hour
)

const (
	// pruneEvery is how often Run deletes old done jobs.
	pruneEvery = time.Hour
	// abandonAfter is how long Run waits, after cancelling handlers at the
	// end of the shutdown grace, for handlers that ignore cancellation.
	abandonAfter = 5 * time.Second
	// storeTimeout bounds the store calls that record an attempt's outcome;
	// they run even after Run's context is cancelled.
	storeTimeout = 30 * time.Second
)

// Options configure a Queue. The zero value of each field picks its default.
type Options struct {
	// Workers is how many jobs run at once (default 4).
	Workers int
	// Lease is how long a worker holds a job before another may take it
	// over (default 2m). The worker extends the lease every Lease/3 while
	// the handler runs, so only a dead or stuck worker loses it.
	Lease time.Duration
	// PollInterval is how often an idle queue looks for due jobs (default
	// 1s). Notify wakes it sooner, and it wakes at the next job's run time
	// when that comes first.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the delay before a retry (defaults 1s
	// and 10m). The delay after attempt n is random between c/2 and c, where
	// c = min(MinBackoff·2^n, MaxBackoff), and never below MinBackoff: the
	// retries of jobs that failed together stay spread out even once their
	// delays reach MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// ShutdownGrace is how long Run lets running handlers finish, with their
	// contexts still alive, once its own context is cancelled (default 10s).
	// Then it cancels them and returns their jobs to the queue.
	ShutdownGrace time.Duration
	// Retention is how long done jobs (and so their idempotency keys) are
	// kept (default 14 days); a negative value keeps them forever.
	Retention time.Duration
	// Now is the clock for every time decision (default time.Now).
	Now func() time.Time
	// Logger receives the queue's logs (default slog.Default()).
	Logger *slog.Logger
	// Owner names this process in leases (default hostname-pid-random).
	// Each worker leases under Owner plus a suffix of its own.
	Owner string
	// Metrics, if not nil, records attempts.
	Metrics *Metrics
	// Lane, if not nil, puts job kinds in lanes: it returns the lane of a
	// kind and how many of the lane's jobs may run at once ("" or a max of
	// 0 or less: no limit). Jobs that call one outside system share a lane
	// below Workers, so that a system that hangs cannot hold every worker
	// and hold up the others (a page to PagerDuty while Slack hangs).
	Lane func(kind string) (lane string, max int)
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = DefaultShutdownGrace
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Owner == "" {
		o.Owner = defaultOwner()
	}
	return o
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Queue runs jobs from a jobs.Store with registered handlers.
type Queue struct {
	store   jobs.Store
	opts    Options
	log     *slog.Logger
	backoff *backoff.Backoff
	wake    chan struct{}
	runs    atomic.Int64 // numbers each Run, to keep lease owners unique

	mu       sync.Mutex
	handlers map[string]jobs.Handler
}

// New returns a queue that runs jobs from store.
func New(store jobs.Store, opts Options) *Queue {
	opts = opts.withDefaults()
	return &Queue{
		store: store,
		opts:  opts,
		log:   opts.Logger,
		// ForAttempt is safe for concurrent use and keeps no state. Its
		// jitter is off: retryDelay jitters after capping at Max.
		backoff:  &backoff.Backoff{Min: opts.MinBackoff, Max: opts.MaxBackoff, Factor: 2},
		wake:     make(chan struct{}, 1),
		handlers: map[string]jobs.Handler{},
	}
}

// Handle registers h for jobs of kind. Register every handler before Run:
// Run only claims the kinds registered when it starts, and jobs of other
// kinds wait in the store. Handle panics on an empty kind, a nil handler or
// a second handler for a kind.
func (q *Queue) Handle(kind string, h jobs.Handler) {
	if kind == "" || h == nil {
		panic("jobs: Handle needs a kind and a handler")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, dup := q.handlers[kind]; dup {
		panic(fmt.Sprintf("jobs: second handler for kind %q", kind))
	}
	q.handlers[kind] = h
}

// handlerSet returns a copy of the handlers and their kinds, sorted.
func (q *Queue) handlerSet() (map[string]jobs.Handler, []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	hs := make(map[string]jobs.Handler, len(q.handlers))
	kinds := make([]string, 0, len(q.handlers))
	for k, h := range q.handlers {
		hs[k] = h
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return hs, kinds
}

// Notify wakes the workers to look for due jobs now, for example after an
// enqueue. It never blocks.
func (q *Queue) Notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run runs due jobs in Options.Workers workers until ctx is cancelled, and
// deletes done jobs older than Options.Retention every hour. On
// cancellation it stops claiming and gives running handlers
// Options.ShutdownGrace to finish; then it cancels their contexts and returns
// their jobs to the queue without counting the attempt. It returns nil after
// a clean shutdown, and an error if a handler ignored its cancelled context
// (its job is returned to the queue all the same).
func (q *Queue) Run(ctx context.Context) error {
	handlers, kinds := q.handlerSet()
	run := q.runs.Add(1)
	n := q.opts.Workers
	q.takeBackOrphans(ctx)

	// Handlers' contexts outlive ctx by the shutdown grace.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	var wg sync.WaitGroup
	free := make([]int, 0, n) // idle workers, used as a stack
	for w := n - 1; w >= 0; w-- {
		free = append(free, w)
	}
	inflight := map[int]jobs.Job{} // by worker
	finished := make(chan int, n)  // a worker that finished its job
	owner := func(w int) string { return fmt.Sprintf("%s/%d.%d", q.opts.Owner, run, w) }

	poll := time.NewTimer(0)
	defer poll.Stop()
	prune := time.NewTimer(0) // at start, then every pruneEvery
	defer prune.Stop()
	pruneC := prune.C
	if q.opts.Retention < 0 {
		pruneC = nil
	}

	for {
		for len(free) > 0 && ctx.Err() == nil {
			w := free[len(free)-1]
			open := q.openKinds(kinds, inflight)
			if len(open) == 0 {
				break
			}
			j, ok, err := q.claim(ctx, owner(w), open, q.opts.Now(), q.opts.Lease)
			if err != nil {
				if ctx.Err() == nil {
					q.log.Error("claiming jobs", "error", err)
				}
				break
			}
			if !ok {
				break
			}
			free = free[:len(free)-1]
			inflight[w] = j
			wg.Add(1)
			go func() {
				defer wg.Done()
				q.work(jobCtx, owner(w), handlers[j.Kind], j)
				finished <- w
			}()
		}
		var pollC <-chan time.Time
		if open := q.openKinds(kinds, inflight); len(free) > 0 && len(open) > 0 && ctx.Err() == nil {
			poll.Reset(q.idleWait(ctx, open))
			pollC = poll.C
		}
		select {
		case <-ctx.Done():
			return q.shutdown(inflight, finished, &wg, cancelJobs, owner)
		case w := <-finished:
			delete(inflight, w)
			free = append(free, w)
		case <-q.wake:
		case <-pollC:
		case <-pruneC:
			q.prune(ctx)
			prune.Reset(pruneEvery)
		}
	}
}

// openKinds returns the kinds whose lane has room for one more job, given
// the jobs in flight: all of kinds without Options.Lane.
func (q *Queue) openKinds(kinds []string, inflight map[int]jobs.Job) []string {
	if q.opts.Lane == nil {
		return kinds
	}
	busy := map[string]int{}
	for _, j := range inflight {
		if lane, max := q.opts.Lane(j.Kind); lane != "" && max > 0 {
			busy[lane]++
		}
	}
	if len(busy) == 0 {
		return kinds
	}
	open := make([]string, 0, len(kinds))
	for _, k := range kinds {
		if lane, max := q.opts.Lane(k); lane == "" || max <= 0 || busy[lane] < max {
			open = append(open, k)
		}
	}
	return open
}

// idleWait is how long an idle Run sleeps: until the next job's run time or
// lease expiry, at most PollInterval. A job that is due but was not claimed
// (it waits for an earlier job with its serial key) cannot wake Run; the end
// of the earlier job does, or the poll.
func (q *Queue) idleWait(ctx context.Context, kinds []string) time.Duration {
	wait := q.opts.PollInterval
	next, ok, err := q.store.NextRunAt(ctx, kinds)
	if err != nil {
		if ctx.Err() == nil {
			q.log.Error("finding the next job", "error", err)
		}
		return wait
	}
	if d := next.Sub(q.opts.Now()); ok && d > 0 && d < wait {
		wait = d
	}
	return wait
}

// prune deletes done jobs older than the retention.
func (q *Queue) prune(ctx context.Context) {
	n, err := q.store.Prune(ctx, q.opts.Now().Add(-q.opts.Retention))
	switch {
	case err != nil && ctx.Err() == nil:
		q.log.Error("pruning done jobs", "error", err)
	case n > 0:
		q.log.Info("pruned done jobs", "count", n, "retention", q.opts.Retention)
	}
}

// shutdown waits for running handlers for the grace period, then cancels
// them. A handler that still has not returned after abandonAfter is left
// behind: its job is released here, so whatever it does later fails with
// jobs.ErrLeaseLost.
func (q *Queue) shutdown(inflight map[int]jobs.Job, finished <-chan int, wg *sync.WaitGroup, cancelJobs context.CancelFunc, owner func(int) string) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	if len(inflight) > 0 {
		q.log.Info("waiting for running jobs", "count", len(inflight), "grace", q.opts.ShutdownGrace)
	}
	grace := time.NewTimer(q.opts.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
		return nil
	case <-grace.C:
	}
	cancelJobs()
	abandon := time.NewTimer(abandonAfter)
	defer abandon.Stop()
	select {
	case <-done:
		return nil
	case <-abandon.C:
	}
drain:
	for {
		select {
		case w := <-finished:
			delete(inflight, w)
		default:
			break drain
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	var stuck []string
	for w, j := range inflight {
		stuck = append(stuck, j.Key)
		now := q.opts.Now()
		err := q.store.Release(ctx, j.ID, owner(w), now, now)
		if err != nil && !errors.Is(err, jobs.ErrLeaseLost) {
			q.log.Error("releasing the job of a stuck handler", "kind", j.Kind, "key", j.Key, "error", err)
		}
	}
	if len(stuck) == 0 {
		return nil
	}
	slices.Sort(stuck)
	return fmt.Errorf("jobs: %d handlers ignored cancellation; released jobs %v", len(stuck), stuck)
}

// RunDue claims and runs, one after another, every job due now, and returns
// how many it ran (whatever their outcome). Jobs that a run makes due again
// later (retries) are left for the next call. It is meant for tests, the demo
// and the CLI; it may run beside Run, in this process or another.
func (q *Queue) RunDue(ctx context.Context) (int, error) {
	handlers, kinds := q.handlerSet()
	owner := q.opts.Owner + "/due"
	start := q.opts.Now()
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		// Due at start, leased from now: the lease grows by the time
		// spent so far.
		lease := q.opts.Lease + max(q.opts.Now().Sub(start), 0)
		j, ok, err := q.claim(ctx, owner, kinds, start, lease)
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		q.work(ctx, owner, handlers[j.Kind], j)
		n++
	}
}

// NextRunAt reports when the next job of a registered kind is due (its run
// time, or the end of a running job's lease), and false when none is pending
// or running.
func (q *Queue) NextRunAt(ctx context.Context) (time.Time, bool, error) {
	_, kinds := q.handlerSet()
	return q.store.NextRunAt(ctx, kinds)
}

// RunAll runs jobs until none is pending: it runs the due ones, then calls
// advance with the next run time (a manual clock's Set, in tests and the
// demo, which then never wait on the wall clock), and again, for at most
// rounds rounds. It returns how many attempts it ran, and an error when jobs
// are still pending after the last round.
func (q *Queue) RunAll(ctx context.Context, advance func(time.Time), rounds int) (int, error) {
	total, idle := 0, 0
	for range rounds {
		n, err := q.RunDue(ctx)
		total += n
		if err != nil {
			return total, err
		}
		next, ok, err := q.NextRunAt(ctx)
		if err != nil {
			return total, err
		}
		if !ok {
			return total, nil
		}
		switch {
		case next.After(q.opts.Now()):
			advance(next)
			idle = 0
		case n == 0:
			// Due but not runnable: a job whose lease has not run out yet
			// cannot be told from one stuck; give up rather than spin.
			if idle++; idle > 2 {
				return total, fmt.Errorf("jobs due at %s do not run", next.Format(time.RFC3339Nano))
			}
		}
	}
	return total, fmt.Errorf("jobs still pending after %d rounds", rounds)
}

// claim leases one due job to owner, and reports whether there was one. It
// logs and counts the jobs that the store parked instead because their last
// attempt never finished.
func (q *Queue) claim(ctx context.Context, owner string, kinds []string, now time.Time, lease time.Duration) (jobs.Job, bool, error) {
	claimed, parked, err := q.store.Claim(ctx, owner, kinds, now, lease, 1)
	for _, p := range parked {
		q.log.Error("job had no attempt left; parked", "kind", p.Kind, "key", p.Key, "attempt", p.Attempt,
			"error", p.LastError)
		q.opts.Metrics.count(p.Kind, OutcomeFailed)
	}
	if err != nil || len(claimed) == 0 {
		return jobs.Job{}, false, err
	}
	return claimed[0], true, nil
}

// work runs one attempt of j, which owner leases, and records its outcome.
// Cancelling ctx cancels the handler and releases the job, to run again at
// once, or when the handler asked with jobs.RetryAfter.
func (q *Queue) work(ctx context.Context, owner string, h jobs.Handler, j jobs.Job) {
	log := q.log.With("kind", j.Kind, "key", j.Key, "attempt", j.Attempt)
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopLease := q.keepLease(hctx, cancel, owner, j, log)
	start := q.opts.Now()
	err := call(hctx, h, j)
	stopLease()
	took := q.opts.Now().Sub(start)

	if errors.Is(context.Cause(hctx), jobs.ErrLeaseLost) {
		log.Warn("job lease lost while running; another worker may run it again", "error", err)
		return
	}
	sctx, cancelStore := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancelStore()
	now := q.opts.Now()
	var outcome string
	var serr error
	switch {
	case err == nil:
		outcome, serr = OutcomeDone, q.store.Complete(sctx, j.ID, owner, now)
		if serr == nil {
			log.Debug("job done", "took", took)
		}
	case ctx.Err() != nil:
		// The attempt is given back, but not a Retry-After: the job must
		// not run again before the outside system said it may.
		delay, _ := jobs.RetryAfterOf(err)
		if d, ok := jobs.DeferOf(err); ok {
			delay = d
		}
		outcome, serr = OutcomeReleased, q.store.Release(sctx, j.ID, owner, now.Add(delay), now)
		if serr == nil {
			log.Info("job cancelled by shutdown; returned to the queue", "error", err, "retry_in", delay)
		}
	case isDeferred(err):
		// A rate limit is not a failure: the attempt is given back.
		delay, _ := jobs.DeferOf(err)
		outcome, serr = OutcomeDeferred, q.store.Release(sctx, j.ID, owner, now.Add(delay), now)
		if serr == nil {
			log.Debug("job deferred", "error", err, "retry_in", delay)
		}
	case jobs.IsPermanent(err) || j.Attempt >= j.MaxAttempts:
		outcome, serr = OutcomeFailed, q.store.Fail(sctx, j.ID, owner, err.Error(), now)
		if serr == nil {
			msg := "job failed on its last attempt; parked"
			if jobs.IsPermanent(err) {
				msg = "job failed permanently; parked"
			}
			log.Error(msg, errorAttrs(err)...)
		}
	default:
		delay, asked := jobs.RetryAfterOf(err)
		if !asked {
			delay = q.retryDelay(j.Attempt)
		}
		outcome, serr = OutcomeRetry, q.store.Retry(sctx, j.ID, owner, now.Add(delay), err.Error(), now)
		if serr == nil {
			log.Warn("job failed; will retry", append(errorAttrs(err), "retry_in", delay)...)
		}
	}
	switch {
	case errors.Is(serr, jobs.ErrLeaseLost):
		log.Warn("job lease lost before its outcome was recorded; another worker may run it again",
			"outcome", outcome, "error", err)
	case serr != nil:
		log.Error("recording job outcome; the job runs again when its lease expires",
			"outcome", outcome, "error", serr)
	default:
		q.opts.Metrics.observe(j.Kind, outcome, took)
	}
}

// retryDelay is the backoff after a failed attempt (1 for the first): with
// c = min(MinBackoff·2^attempt, MaxBackoff), random between c/2 and c, and
// never below MinBackoff ("equal jitter"). The jitter comes after the cap,
// so jobs that failed together (Slack was down) do not all retry together,
// even when their delays have all reached MaxBackoff; counting from 1
// jitters the first retry too.
func (q *Queue) retryDelay(attempt int) time.Duration {
	c := q.backoff.ForAttempt(float64(attempt)) // capped, not jittered
	lo := max(c/2, min(q.opts.MinBackoff, c))
	return lo + mrand.N(c-lo+1)
}

// errorAttrs returns the log attributes of a handler's error: the error, and
// the stack of a panic.
func errorAttrs(err error) []any {
	attrs := []any{"error", err}
	var p *panicError
	if errors.As(err, &p) {
		attrs = append(attrs, "stack", string(p.stack))
	}
	return attrs
}

// keepLease extends j's lease every Lease/3 until the returned function is
// called. When the lease is lost it cancels the handler with jobs.ErrLeaseLost.
func (q *Queue) keepLease(ctx context.Context, cancel context.CancelCauseFunc, owner string, j jobs.Job, log *slog.Logger) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(q.opts.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := q.store.Extend(ctx, j.ID, owner, q.opts.Now().Add(q.opts.Lease))
			switch {
			case errors.Is(err, jobs.ErrLeaseLost):
				cancel(err)
				return
			case err != nil && ctx.Err() == nil:
				log.Warn("extending job lease", "error", err)
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// call runs h, turning a panic into a *panicError.
func call(ctx context.Context, h jobs.Handler, j jobs.Job) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return h.Handle(ctx, j)
}

// panicError is a handler's recovered panic.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// isDeferred reports whether err asks, with jobs.Defer, for a delay that
// does not count the attempt. A permanent error wins over a deferral.
func isDeferred(err error) bool {
	_, ok := jobs.DeferOf(err)
	return ok && !jobs.IsPermanent(err)
}
