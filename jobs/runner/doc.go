// Package runner runs the jobs of package jobs: a worker pool that leases due
// jobs from a jobs.Store and calls the handler registered for each kind.
//
// A worker leases a job and extends the lease while the handler runs; a
// worker that dies mid-job loses its lease and the job is picked up again. A
// failing job is retried with exponential backoff and jitter, or after the
// delay its handler asked for with jobs.RetryAfter. After MaxAttempts
// attempts the job is parked as failed, logged and counted in metrics. On
// shutdown, running handlers get a grace period; unfinished jobs return to
// the queue without using up an attempt.
package runner
