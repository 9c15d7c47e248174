package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Handler runs jobs of one kind. A nil error completes the job. Any other
// error retries it with backoff, unless it is wrapped by Permanent (park the
// job as failed now) or RetryAfter (retry after the given delay). Handle must
// return soon after ctx is cancelled; the job then goes back to the queue.
//
// A job may run more than once (a worker can die after the side effect and
// before recording it), so handlers pass the job's Key to the outside system
// as an idempotency key where it takes one, or check before acting.
type Handler interface {
	Handle(ctx context.Context, j Job) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, j Job) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, j Job) error { return f(ctx, j) }

// MaxRetryAfter caps the delay a handler may ask for with RetryAfter.
const MaxRetryAfter = time.Hour

// RetryAfter asks for the job to run again after d (for example Slack's 429
// Retry-After), instead of after the usual backoff. d is capped at
// MaxRetryAfter (1h): a longer delay is cut to MaxRetryAfter, and a negative
// one counts as 0. Up to that cap the delay is honoured exactly, with no
// jitter. The attempt still counts: on the job's last attempt it is parked
// as failed. If the handler's context was cancelled by shutdown, the job is
// returned to the queue without counting the attempt, but still does not
// run again before the delay is over. err may be nil when there is nothing
// wrong but the job cannot finish yet.
func RetryAfter(d time.Duration, err error) error {
	return &retryAfterError{after: min(max(d, 0), MaxRetryAfter), err: err}
}

type retryAfterError struct {
	after time.Duration
	err   error
}

func (e *retryAfterError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("retry requested after %s", e.after)
	}
	return fmt.Sprintf("%v (retry after %s)", e.err, e.after)
}

func (e *retryAfterError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: the job is parked as failed at
// once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err, or an error it wraps, was made by
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// RetryAfterOf reports the delay asked for with RetryAfter in err or an error
// it wraps.
func RetryAfterOf(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.after, true
	}
	return 0, false
}

// Defer asks for the job to run again after d without counting the attempt:
// nothing failed, the job was just not allowed to run yet. It is for rate
// limits (Slack's 429 with Retry-After, or Warroom's own pacing of calls to
// one channel), which must delay work but never use up its attempts and park
// it. d is capped at MaxRetryAfter like RetryAfter's. err may be nil.
func Defer(d time.Duration, err error) error {
	return &deferError{after: min(max(d, 0), MaxRetryAfter), err: err}
}

type deferError struct {
	after time.Duration
	err   error
}

func (e *deferError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("deferred for %s", e.after)
	}
	return fmt.Sprintf("%v (deferred for %s)", e.err, e.after)
}
func (e *deferError) Unwrap() error { return e.err }

// DeferOf reports the delay asked for with Defer in err or an error it wraps.
func DeferOf(err error) (time.Duration, bool) {
	var d *deferError
	if errors.As(err, &d) {
		return d.after, true
	}
	return 0, false
}
