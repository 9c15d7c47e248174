// Package jobs is the contract of Warroom's durable job queue: what a job is,
// how it is enqueued, how a handler reports its outcome, and what a store
// must do. It uses only the standard library, so the domain can enqueue jobs
// without depending on how they run (package jobs/runner).
//
// Every side effect on an outside system (Slack, GitHub, PagerDuty, webhooks)
// is a job. A job is enqueued in the same database transaction as the domain
// change that causes it, so a change and its side effects are committed or
// rolled back together. Each job carries an idempotency key: enqueuing a
// second job with the same key is a no-op, which makes double clicks and
// retried webhooks harmless. Jobs that share a SerialKey run one at a time in
// the order they were enqueued (messages to one Slack channel arrive in
// order). A handler asks for a later retry with RetryAfter (Slack's 429
// Retry-After) or gives up with Permanent.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// State is where a job is in its life.
type State string

// The states of a job.
const (
	StatePending State = "pending" // waiting for its run time
	StateRunning State = "running" // leased by a worker
	StateDone    State = "done"    // finished successfully
	StateFailed  State = "failed"  // parked after its last attempt or a permanent error
)

// States lists every state, in a stable order (for metrics).
var States = []State{StatePending, StateRunning, StateDone, StateFailed}

// DefaultMaxAttempts is used when a NewJob does not set MaxAttempts.
const DefaultMaxAttempts = 12

// NewJob is a job to enqueue.
type NewJob struct {
	// Kind selects the handler, for example "slack.post_message".
	Kind string
	// Key is the idempotency key. A second enqueue with the same key is a
	// no-op. An empty key is an error: every side effect must be idempotent.
	Key string
	// SerialKey, when set, makes this job wait until every earlier job with
	// the same SerialKey is done or failed (for example "slack:C123").
	SerialKey string
	// Payload is the handler's input, usually JSON.
	Payload []byte
	// RunAt delays the first attempt; zero means now.
	RunAt time.Time
	// MaxAttempts bounds the attempts; zero means DefaultMaxAttempts.
	MaxAttempts int
}

// Validate reports what is wrong with a job before it is stored.
func (j NewJob) Validate() error {
	switch {
	case j.Kind == "":
		return errors.New("job has no kind")
	case j.Key == "":
		return fmt.Errorf("job %s has no idempotency key", j.Kind)
	case j.MaxAttempts < 0:
		return fmt.Errorf("job %s: max attempts %d is negative", j.Kind, j.MaxAttempts)
	}
	return nil
}

// Job is a job leased by a worker.
type Job struct {
	ID          int64
	Kind        string
	Key         string
	SerialKey   string
	Payload     []byte
	Attempt     int // 1 on the first attempt
	MaxAttempts int
	CreatedAt   time.Time
	LastError   string // the error of the previous attempt, if any
}

// Info describes a stored job, for inspection and tests.
type Info struct {
	Job
	State      State
	RunAt      time.Time
	LeaseOwner string
	LeaseUntil time.Time
	UpdatedAt  time.Time
}

// Enqueuer adds jobs. A store's transaction implements it so that jobs are
// enqueued atomically with the change that causes them.
type Enqueuer interface {
	// Enqueue stores a job unless one with the same Key exists. It reports
	// whether a new job was created.
	Enqueue(ctx context.Context, j NewJob) (created bool, err error)
}

// Store is the durable side of the queue.
//
// Every method that changes a leased job takes the lease owner, and does
// nothing (returning ErrLeaseLost) when the job is no longer leased by that
// owner: a worker whose lease expired must not overwrite the work of the
// worker that took the job over.
type Store interface {
	Enqueuer

	// Claim leases up to limit due jobs of the given kinds to owner until
	// now+lease, incrementing their attempt counts. A job is due when it is
	// pending with RunAt <= now, or running with an expired lease. A job with
	// a SerialKey is not due while an earlier job with the same SerialKey is
	// pending or running.
	//
	// A due job of the given kinds that has already used all its attempts
	// (its worker died, or lost its lease, on the last one) is parked as
	// failed instead, whatever the limit, and returned in parked (with
	// Attempt its last attempt and LastError why it was parked) so that the
	// queue can log and count it.
	Claim(ctx context.Context, owner string, kinds []string, now time.Time, lease time.Duration, limit int) (claimed, parked []Job, err error)
	// Extend moves the lease of a running job to until.
	Extend(ctx context.Context, id int64, owner string, until time.Time) error
	// Complete marks a job done.
	Complete(ctx context.Context, id int64, owner string, now time.Time) error
	// Retry returns a job to pending, to run again at runAt.
	Retry(ctx context.Context, id int64, owner string, runAt time.Time, lastErr string, now time.Time) error
	// Fail parks a job as failed.
	Fail(ctx context.Context, id int64, owner string, lastErr string, now time.Time) error
	// Release returns a job to pending, to run again at runAt (or now, if
	// runAt is not later), without counting the attempt. It is used on
	// shutdown for jobs that did not finish; runAt is later than now when
	// the handler asked with RetryAfter not to be run again before then.
	Release(ctx context.Context, id int64, owner string, runAt, now time.Time) error
	// NextRunAt reports the earliest RunAt or lease expiry among jobs of the
	// given kinds that are pending or running, and false when there is none.
	NextRunAt(ctx context.Context, kinds []string) (time.Time, bool, error)
	// CountByState counts jobs in each state.
	CountByState(ctx context.Context) (map[State]int, error)
	// Prune deletes done jobs last updated before before, and returns how
	// many it deleted. Their idempotency keys are forgotten with them.
	Prune(ctx context.Context, before time.Time) (int, error)
	// GetJob returns a job by idempotency key, or ErrNotFound.
	GetJob(ctx context.Context, key string) (Info, error)
}

// ErrLeaseLost is returned when a worker changes a job it no longer leases.
var ErrLeaseLost = errors.New("job lease lost")

// ErrNotFound is returned when no job has the key asked for.
var ErrNotFound = errors.New("job not found")
