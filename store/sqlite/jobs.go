package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/warroomhq/warroom/jobs"
)

var _ jobs.Store = (*Store)(nil)

// leaseExpiredOnLastAttempt is the last error of a job whose worker died (or
// lost its lease) on the job's last attempt.
const leaseExpiredOnLastAttempt = "lease expired on last attempt"

// Enqueue stores a job in its own transaction unless a job with the same key
// exists, and reports whether it created one. A job without RunAt is due at
// the store's clock.
func (s *Store) Enqueue(ctx context.Context, j jobs.NewJob) (bool, error) {
	var created bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		created, err = enqueue(ctx, tx, s.now(), j)
		return err
	})
	return created, err
}

// enqueue stores j through q (usually a transaction that also holds the
// change that causes the job) unless a job with the same key exists, and
// reports whether it created one. now is the creation time, and the run time
// when j has none.
func enqueue(ctx context.Context, q execer, now time.Time, j jobs.NewJob) (bool, error) {
	if err := j.Validate(); err != nil {
		return false, err
	}
	maxAttempts := j.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = jobs.DefaultMaxAttempts
	}
	// A job due now is due to a claim in the same millisecond; one due
	// later never runs early.
	runAt := msUp(j.RunAt)
	if j.RunAt.IsZero() {
		runAt = ms(now)
	}
	res, err := q.ExecContext(ctx, `
		INSERT INTO jobs (kind, idem_key, serial_key, payload, max_attempts, run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (idem_key) DO NOTHING`,
		j.Kind, j.Key, j.SerialKey, j.Payload, maxAttempts, runAt, ms(now), ms(now))
	if err != nil {
		return false, fmt.Errorf("enqueuing job %s %s: %w", j.Kind, j.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("enqueuing job %s %s: %w", j.Kind, j.Key, err)
	}
	return n == 1, nil
}

// msUp is ms rounded up to the next millisecond. Deadlines (run_at,
// lease_until) are stored rounded up and compared with ms(now), rounded down,
// so a job never runs before its RunAt nor loses its lease early.
func msUp(t time.Time) int64 {
	v := ms(t)
	if !t.IsZero() && t.After(time.UnixMilli(v)) {
		v++
	}
	return v
}

// Claim leases up to limit due jobs of the given kinds to owner, oldest run
// time first, and parks (and returns in parked, in id order) the due jobs
// that have no attempt left. See jobs.Store for the rules.
//
// The candidates are picked and leased by one UPDATE in one IMMEDIATE
// transaction, so two claimers never lease the same job. A PostgreSQL store
// would add FOR UPDATE SKIP LOCKED to the inner SELECT.
func (s *Store) Claim(ctx context.Context, owner string, kinds []string, now time.Time, lease time.Duration, limit int) (claimed, parked []jobs.Job, err error) {
	if len(kinds) == 0 || limit <= 0 {
		return nil, nil, nil
	}
	if owner == "" {
		return nil, nil, errors.New("claiming jobs: empty lease owner")
	}
	in, kindArgs := inList(kinds)
	nowMS := ms(now)
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Park due jobs that have no attempt left: their worker died (or lost
		// its lease) on the last attempt.
		args := append([]any{nowMS, leaseExpiredOnLastAttempt}, kindArgs...)
		args = append(args, nowMS, nowMS)
		var err error
		parked, err = parkJobs(ctx, tx, parkSQL(in), args)
		if err != nil {
			return err
		}

		// A job with a serial key is a candidate only when no earlier job
		// with that key is pending or running, so each serial key yields at
		// most its oldest unfinished job.
		args = []any{owner, msUp(now.Add(lease)), nowMS}
		args = append(args, kindArgs...)
		args = append(args, nowMS, nowMS, limit)
		rows, err := tx.QueryContext(ctx, claimSQL(in), args...)
		if err != nil {
			return fmt.Errorf("claiming jobs: %w", err)
		}
		defer rows.Close()
		type row struct {
			job   jobs.Job
			runAt int64
		}
		var got []row
		for rows.Next() {
			var r row
			var created int64
			j := &r.job
			if err := rows.Scan(&j.ID, &j.Kind, &j.Key, &j.SerialKey, &j.Payload, &j.Attempt, &j.MaxAttempts,
				&created, &j.LastError, &r.runAt); err != nil {
				return fmt.Errorf("claiming jobs: %w", err)
			}
			j.CreatedAt = fromMS(created)
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claiming jobs: %w", err)
		}
		// RETURNING does not keep the subquery's order.
		slices.SortFunc(got, func(a, b row) int {
			return cmp.Or(cmp.Compare(a.runAt, b.runAt), cmp.Compare(a.job.ID, b.job.ID))
		})
		for _, r := range got {
			claimed = append(claimed, r.job)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return claimed, parked, nil
}

// parkJobs runs the park statement q and returns the jobs it parked, in id
// order.
func parkJobs(ctx context.Context, tx *sql.Tx, q string, args []any) ([]jobs.Job, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("parking exhausted jobs: %w", err)
	}
	defer rows.Close()
	var parked []jobs.Job
	for rows.Next() {
		var j jobs.Job
		var created int64
		if err := rows.Scan(&j.ID, &j.Kind, &j.Key, &j.SerialKey, &j.Payload, &j.Attempt, &j.MaxAttempts,
			&created, &j.LastError); err != nil {
			return nil, fmt.Errorf("parking exhausted jobs: %w", err)
		}
		j.CreatedAt = fromMS(created)
		parked = append(parked, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("parking exhausted jobs: %w", err)
	}
	slices.SortFunc(parked, func(a, b jobs.Job) int { return cmp.Compare(a.ID, b.ID) })
	return parked, nil
}

// parkSQL parks due jobs of the kinds in (a list of placeholders) that have
// no attempt left, and returns them. Arguments: updated_at, last_error,
// kinds..., now, now.
func parkSQL(in string) string {
	return `
		UPDATE jobs
		SET state = 'failed', lease_owner = '', lease_until = 0, updated_at = ?,
		    last_error = CASE WHEN state = 'running' THEN ? ELSE last_error END
		WHERE kind IN (` + in + `)
		  AND attempts >= max_attempts
		  AND ((state = 'pending' AND run_at <= ?) OR (state = 'running' AND lease_until <= ?))
		RETURNING id, kind, idem_key, serial_key, payload, attempts, max_attempts, created_at, last_error`
}

// claimSQL leases due jobs of the kinds in (a list of placeholders).
// Arguments: lease_owner, lease_until, updated_at, kinds..., now, now, limit.
//
// The serial-key test repeats the WHERE clause of the partial index
// jobs_serial_active word for word, which is what lets SQLite use it.
func claimSQL(in string) string {
	return `
		UPDATE jobs
		SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
		WHERE id IN (
			SELECT j.id FROM jobs AS j
			WHERE j.kind IN (` + in + `)
			  AND ((j.state = 'pending' AND j.run_at <= ?) OR (j.state = 'running' AND j.lease_until <= ?))
			  AND (j.serial_key = '' OR NOT EXISTS (
				SELECT 1 FROM jobs AS e
				WHERE e.serial_key <> '' AND e.state IN ('pending', 'running')
				  AND e.serial_key = j.serial_key AND e.id < j.id))
			ORDER BY j.run_at, j.id
			LIMIT ?)
		RETURNING id, kind, idem_key, serial_key, payload, attempts, max_attempts, created_at, last_error, run_at`
}

// Extend moves the lease of a running job to until. It leaves updated_at
// alone: that records the job's last change of state.
func (s *Store) Extend(ctx context.Context, id int64, owner string, until time.Time) error {
	return s.changeLeased(ctx, "extending", id, owner,
		`lease_until = ?`, msUp(until))
}

// Complete marks a running job done. The last error of an earlier attempt,
// if any, is kept for inspection.
func (s *Store) Complete(ctx context.Context, id int64, owner string, now time.Time) error {
	return s.changeLeased(ctx, "completing", id, owner,
		`state = 'done', lease_owner = '', lease_until = 0, updated_at = ?`, ms(now))
}

// Retry returns a running job to pending, to run again at runAt.
func (s *Store) Retry(ctx context.Context, id int64, owner string, runAt time.Time, lastErr string, now time.Time) error {
	return s.changeLeased(ctx, "retrying", id, owner,
		`state = 'pending', run_at = ?, last_error = ?, lease_owner = '', lease_until = 0, updated_at = ?`,
		msUp(runAt), lastErr, ms(now))
}

// Fail parks a running job as failed.
func (s *Store) Fail(ctx context.Context, id int64, owner string, lastErr string, now time.Time) error {
	return s.changeLeased(ctx, "failing", id, owner,
		`state = 'failed', last_error = ?, lease_owner = '', lease_until = 0, updated_at = ?`,
		lastErr, ms(now))
}

// Release returns a running job to pending, due at runAt (never before
// now), and gives back the attempt its claim counted.
func (s *Store) Release(ctx context.Context, id int64, owner string, runAt, now time.Time) error {
	// Due now is due to a claim in the same millisecond; due later never
	// runs early.
	due := ms(now)
	if runAt.After(now) {
		due = msUp(runAt)
	}
	return s.changeLeased(ctx, "releasing", id, owner,
		`state = 'pending', attempts = attempts - 1, run_at = ?, lease_owner = '', lease_until = 0, updated_at = ?`,
		due, ms(now))
}

// changeLeased applies set to job id if owner still leases it, and returns
// jobs.ErrLeaseLost otherwise.
func (s *Store) changeLeased(ctx context.Context, doing string, id int64, owner, set string, args ...any) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE jobs SET `+set+` WHERE id = ? AND state = 'running' AND lease_owner = ?`,
			append(args, id, owner)...)
		if err != nil {
			return fmt.Errorf("%s job %d: %w", doing, id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("%s job %d: %w", doing, id, err)
		}
		if n == 0 {
			return fmt.Errorf("%s job %d for %s: %w", doing, id, owner, jobs.ErrLeaseLost)
		}
		return nil
	})
}

// NextRunAt reports the earliest run time of a pending job, or lease expiry
// of a running job, among jobs of the given kinds.
func (s *Store) NextRunAt(ctx context.Context, kinds []string) (time.Time, bool, error) {
	if len(kinds) == 0 {
		return time.Time{}, false, nil
	}
	in, kindArgs := inList(kinds)
	var next int64
	found := false
	for _, q := range []string{
		// A pending job waiting behind an earlier job with its serial key
		// is not due whatever its run_at: the earlier one's time counts.
		`SELECT run_at FROM jobs j WHERE state = 'pending' AND kind IN (` + in + `)
			AND (serial_key = '' OR NOT EXISTS (
				SELECT 1 FROM jobs e WHERE e.serial_key = j.serial_key AND e.serial_key <> ''
					AND e.state IN ('pending', 'running') AND e.id < j.id))
			ORDER BY run_at LIMIT 1`,
		`SELECT lease_until FROM jobs WHERE state = 'running' AND kind IN (` + in + `) ORDER BY lease_until LIMIT 1`,
	} {
		var v int64
		err := s.reader.QueryRowContext(ctx, q, kindArgs...).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return time.Time{}, false, fmt.Errorf("finding the next job: %w", err)
		}
		if !found || v < next {
			next, found = v, true
		}
	}
	if !found {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(next).UTC(), true, nil
}

// CountByState counts jobs in each state; every state of jobs.States is in
// the map.
func (s *Store) CountByState(ctx context.Context) (map[jobs.State]int, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT state, count(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting jobs: %w", err)
	}
	defer rows.Close()
	counts := make(map[jobs.State]int, len(jobs.States))
	for _, st := range jobs.States {
		counts[st] = 0
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("counting jobs: %w", err)
		}
		counts[jobs.State(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("counting jobs: %w", err)
	}
	return counts, nil
}

// Prune deletes done jobs last updated before before. Failed jobs stay until
// someone looks at them.
func (s *Store) Prune(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE state = 'done' AND updated_at < ?`, ms(before))
		if err != nil {
			return fmt.Errorf("pruning jobs: %w", err)
		}
		n, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("pruning jobs: %w", err)
		}
		return nil
	})
	return int(n), err
}

// GetJob returns the job with idempotency key key, or jobs.ErrNotFound.
func (s *Store) GetJob(ctx context.Context, key string) (jobs.Info, error) {
	var (
		in                                  jobs.Info
		state                               string
		created, runAt, leaseUntil, updated int64
	)
	err := s.reader.QueryRowContext(ctx, `
		SELECT id, kind, idem_key, serial_key, payload, attempts, max_attempts, created_at, last_error,
		       state, run_at, lease_owner, lease_until, updated_at
		FROM jobs WHERE idem_key = ?`, key).Scan(
		&in.ID, &in.Kind, &in.Key, &in.SerialKey, &in.Payload, &in.Attempt, &in.MaxAttempts, &created, &in.LastError,
		&state, &runAt, &in.LeaseOwner, &leaseUntil, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Info{}, fmt.Errorf("job %q: %w", key, jobs.ErrNotFound)
	}
	if err != nil {
		return jobs.Info{}, fmt.Errorf("reading job %q: %w", key, err)
	}
	in.CreatedAt = fromMS(created)
	in.State = jobs.State(state)
	in.RunAt = fromMS(runAt)
	in.LeaseUntil = fromMS(leaseUntil)
	in.UpdatedAt = fromMS(updated)
	return in, nil
}

// inList returns "?, ?, ?" for the kinds and the kinds as arguments.
func inList(kinds []string) (string, []any) {
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(kinds)), ", "), args
}
