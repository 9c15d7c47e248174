package digest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Period is the default length of a digest: the week before it is sent.
const Period = 7 * 24 * time.Hour

// MaxLateness is how late a missed run may be sent on start.
const MaxLateness = 24 * time.Hour

// Schedule is when digests are due; cron.Schedule (config.Digest.Cron)
// implements it.
type Schedule interface {
	Next(time.Time) time.Time
}

// Enqueue records the run named key, for the period [from, to), and
// reports whether it is new: a run is recorded once, so a restart or two
// timers firing never send a digest twice. The app enqueues the job that
// posts the digest, with key as its idempotency key.
type Enqueue func(ctx context.Context, key string, from, to time.Time) (bool, error)

// Scheduler runs the digest schedule with robfig/cron: a panicking run is
// recovered and logged, and a run that is still going when the next is due
// makes the next one skip.
type Scheduler struct {
	schedule Schedule
	enqueue  Enqueue
	now      func() time.Time
	log      *slog.Logger
}

// NewScheduler returns a scheduler. now is the clock (time.Now when nil).
func NewScheduler(s Schedule, enqueue Enqueue, now func() time.Time, log *slog.Logger) *Scheduler {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{schedule: s, enqueue: enqueue, now: now, log: log}
}

// Due returns the run that is due at now: the last scheduled time at or
// before now, if it is less than MaxLateness ago.
func (s *Scheduler) Due(now time.Time) (time.Time, bool) {
	last, ok := Last(s.schedule, now, Period+MaxLateness)
	if !ok || now.Sub(last) >= MaxLateness {
		return time.Time{}, false
	}
	return last, true
}

// Last is the last time at or before now that sched fires, looking back at
// most window; false when it does not fire in that window.
func Last(sched Schedule, now time.Time, window time.Duration) (time.Time, bool) {
	var last time.Time
	// Next is strictly after its argument: start just before the window.
	for t := sched.Next(now.Add(-window - time.Second)); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		last = t
	}
	return last, !last.IsZero()
}

// CatchUp records the run that is due now, if any: the one that was
// missed while Warroom was down, or the one a restart interrupted. A run
// already recorded is not recorded again.
func (s *Scheduler) CatchUp(ctx context.Context) error {
	at, ok := s.Due(s.now())
	if !ok {
		return nil
	}
	fresh, err := s.record(ctx, at)
	if err != nil {
		return fmt.Errorf("catching up on the digest due at %s: %w", at.Format(time.RFC3339), err)
	}
	if fresh {
		s.log.Info("sending a digest that was due while Warroom was not running", "scheduled", at)
	}
	return nil
}

// Run runs the schedule until ctx is done, and catches up once it has
// started (so that a run due while it starts is not missed; the key keeps
// it from being sent twice).
func (s *Scheduler) Run(ctx context.Context) error {
	logger := cronLogger{s.log}
	// Recover inside SkipIfStillRunning: cron/v3's skip wrapper gives its
	// token back only when the job returns, so a panic passing through it
	// would skip every later run.
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(logger),
		cron.WithChain(cron.SkipIfStillRunning(logger), cron.Recover(logger)))
	c.Schedule(s.schedule, cron.FuncJob(func() { s.fire(ctx) }))
	c.Start()
	if err := s.CatchUp(ctx); err != nil {
		s.log.Error("digest catch-up failed", "err", err)
	}
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

// fire records the run due now. The cron library calls it at the
// scheduled time; Due finds that time again, so a run that starts a little
// late still names the time it was due.
func (s *Scheduler) fire(ctx context.Context) {
	at, ok := s.Due(s.now())
	if !ok {
		return
	}
	if _, err := s.record(ctx, at); err != nil {
		s.log.Error("recording the digest run failed; it is sent on the next start if less than a day late",
			"scheduled", at, "err", err)
	}
}

// record records the run due at at. Its key is the wall-clock time in the
// schedule's zone, not the instant: a local time that happens twice when
// the clocks go back (02:30 in Berlin on the last Sunday of October), for
// which the cron library fires twice, is one run. Its period is the seven
// calendar days before it in that zone, so that digests meet without a gap
// or an overlap across a change of daylight saving time.
func (s *Scheduler) record(ctx context.Context, at time.Time) (bool, error) {
	loc := s.Location()
	local := at.In(loc)
	key := "digest:" + loc.String() + ":" + local.Format("2006-01-02T15:04")
	return s.enqueue(ctx, key, local.AddDate(0, 0, -7).UTC(), at.UTC())
}

// Location is the schedule's time zone (CRON_TZ=), UTC when it has none.
func (s *Scheduler) Location() *time.Location {
	if spec, ok := s.schedule.(*cron.SpecSchedule); ok && spec.Location != nil {
		return spec.Location
	}
	return time.UTC
}

// cronLogger adapts slog to cron.Logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
