package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
		created, err = enqueue(ctx, s.in(tx), s.now(), j)
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
	nowMS := ms(now)
	err = s.write(ctx, func(tx *sql.Tx) error {
		// Park due jobs that have no attempt left: their worker died (or lost
		// its lease) on the last attempt. Parking a serial key's oldest job
		// lets the claim below take the next one.
		var err error
		parked, err = s.parkJobs(ctx, tx, len(kinds), append([]any{nowMS, leaseExpiredOnLastAttempt}, kindArgs(kinds)...))
		if err != nil {
			return err
		}

		st, err := s.stmt(ctx, tx, claimSQL(len(kinds)))
		if err != nil {
			return fmt.Errorf("claiming jobs: %w", err)
		}
		rows, err := st.QueryContext(ctx, append([]any{owner, msUp(now.Add(lease)), nowMS, limit}, kindArgs(kinds)...)...)
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

// parkJobs runs parkSQL for nKinds kinds and returns the jobs it parked, in
// id order.
func (s *Store) parkJobs(ctx context.Context, tx *sql.Tx, nKinds int, args []any) ([]jobs.Job, error) {
	st, err := s.stmt(ctx, tx, parkSQL(nKinds))
	if err != nil {
		return nil, fmt.Errorf("parking exhausted jobs: %w", err)
	}
	rows, err := st.QueryContext(ctx, args...)
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

// parkSQL parks the due jobs of nKinds kinds that have no attempt left, and
// returns them. Arguments: ?1 now, ?2 last error, ?3... the kinds.
//
// The first two conditions repeat the WHERE clause of the partial index
// jobs_exhausted word for word, which is what lets SQLite use it: the due
// jobs that have attempts left, however many, are never looked at.
func parkSQL(nKinds int) string {
	return `
		UPDATE jobs
		SET state = 'failed', lease_owner = '', lease_until = 0, updated_at = ?1,
		    last_error = CASE WHEN state = 'running' THEN ?2 ELSE last_error END
		WHERE attempts >= max_attempts AND state IN ('pending', 'running')
		  AND kind IN (` + numbered(3, nKinds) + `)
		  AND CASE state WHEN 'pending' THEN run_at ELSE lease_until END <= ?1
		RETURNING id, kind, idem_key, serial_key, payload, attempts, max_attempts, created_at, last_error`
}

// serialHeads is a common table expression, heads, of the oldest unfinished
// (pending or running) job of each serial key: the only job of the key that
// may be due. It starts from a row that is no job (its state is empty) and
// steps from each head to the next serial key's with one search of the
// partial index jobs_serial_active, so it costs a search per serial key,
// however many jobs wait behind each head.
//
// The WHERE clause repeats the index's word for word, which is what lets
// SQLite use it; INDEXED BY keeps SQLite from preferring an index on state,
// whose rows it would have to sort, and makes the query fail to prepare if
// the index is gone.
const serialHeads = `
	heads (serial_key, id, kind, state, run_at, lease_until) AS (
		SELECT '', 0, '', '', 0, 0
		UNION ALL
		SELECT j.serial_key, j.id, j.kind, j.state, j.run_at, j.lease_until
		FROM heads JOIN jobs AS j ON j.id = (
			SELECT e.id FROM jobs AS e INDEXED BY jobs_serial_active
			WHERE e.serial_key <> '' AND e.state IN ('pending', 'running')
			  AND e.serial_key > heads.serial_key
			ORDER BY e.serial_key, e.id
			LIMIT 1))`

// claimSQL leases up to limit due jobs of nKinds kinds. Arguments: ?1 lease
// owner, ?2 lease end, ?3 now, ?4 limit, ?5... the kinds.
//
// The candidates are the due jobs without a serial key, read from jobs_due
// in run time order (only the first limit pending ones can be leased), and
// the due heads of the serial keys: the jobs waiting behind a head are never
// looked at.
func claimSQL(nKinds int) string {
	kinds := numbered(5, nKinds)
	return `
		WITH RECURSIVE` + serialHeads + `,
		due (id, run_at) AS (
			SELECT id, run_at FROM (
				SELECT id, run_at FROM jobs
				WHERE state = 'pending' AND serial_key = '' AND run_at <= ?3 AND kind IN (` + kinds + `)
				ORDER BY run_at, id
				LIMIT ?4)
			UNION ALL
			SELECT id, run_at FROM jobs
			WHERE state = 'running' AND lease_until <= ?3 AND serial_key = '' AND kind IN (` + kinds + `)
			UNION ALL
			SELECT id, run_at FROM heads
			WHERE kind IN (` + kinds + `)
			  AND ((state = 'pending' AND run_at <= ?3) OR (state = 'running' AND lease_until <= ?3)))
		UPDATE jobs
		SET state = 'running', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1, updated_at = ?3
		WHERE id IN (SELECT id FROM due ORDER BY run_at, id LIMIT ?4)
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
		res, err := s.in(tx).ExecContext(ctx,
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
// of a running job, among jobs of the given kinds. A pending job waiting
// behind an earlier job with its serial key is not due whatever its run
// time: only the serial keys' heads count.
func (s *Store) NextRunAt(ctx context.Context, kinds []string) (time.Time, bool, error) {
	if len(kinds) == 0 {
		return time.Time{}, false, nil
	}
	var next sql.NullInt64
	if err := s.read().QueryRowContext(ctx, nextRunAtSQL(len(kinds)), kindArgs(kinds)...).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("finding the next job: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(next.Int64).UTC(), true, nil
}

// nextRunAtSQL finds the earliest time among jobs of nKinds kinds (?1...)
// that NextRunAt reports, or NULL.
func nextRunAtSQL(nKinds int) string {
	kinds := numbered(1, nKinds)
	return `
		WITH RECURSIVE` + serialHeads + `
		SELECT min(t) FROM (
			SELECT t FROM (
				SELECT run_at AS t FROM jobs
				WHERE state = 'pending' AND serial_key = '' AND kind IN (` + kinds + `)
				ORDER BY run_at
				LIMIT 1)
			UNION ALL
			SELECT run_at FROM heads WHERE state = 'pending' AND kind IN (` + kinds + `)
			UNION ALL
			SELECT t FROM (
				SELECT lease_until AS t FROM jobs
				WHERE state = 'running' AND kind IN (` + kinds + `)
				ORDER BY lease_until
				LIMIT 1))`
}

// CountByState counts jobs in each state; every state of jobs.States is in
// the map.
func (s *Store) CountByState(ctx context.Context) (map[jobs.State]int, error) {
	rows, err := s.read().QueryContext(ctx, `SELECT state, count(*) FROM jobs GROUP BY state`)
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
		res, err := s.in(tx).ExecContext(ctx, `DELETE FROM jobs WHERE state = 'done' AND updated_at < ?`, ms(before))
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
	err := s.read().QueryRowContext(ctx, `
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

// numbered returns n numbered placeholders from ?first: "?5, ?6, ?7".
func numbered(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("?" + strconv.Itoa(first+i))
	}
	return b.String()
}

// kindArgs returns the kinds as query arguments.
func kindArgs(kinds []string) []any {
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	return args
}
