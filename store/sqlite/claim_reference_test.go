package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/jobs"
)

// The queries Claim and NextRunAt ran before they learned to look only at
// each serial key's head: slow on a long backlog, but plainly the rules of
// jobs.Store. TestClaimMatchesReference checks the fast ones against them.
const (
	// Arguments: updated_at, last_error, kinds..., now, now.
	referenceParkSQL = `
		UPDATE jobs
		SET state = 'failed', lease_owner = '', lease_until = 0, updated_at = ?,
		    last_error = CASE WHEN state = 'running' THEN ? ELSE last_error END
		WHERE kind IN (%[1]s)
		  AND attempts >= max_attempts
		  AND ((state = 'pending' AND run_at <= ?) OR (state = 'running' AND lease_until <= ?))
		RETURNING id`
	// Arguments: lease_owner, lease_until, updated_at, kinds..., now, now, limit.
	referenceClaimSQL = `
		UPDATE jobs
		SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
		WHERE id IN (
			SELECT j.id FROM jobs AS j
			WHERE j.kind IN (%[1]s)
			  AND ((j.state = 'pending' AND j.run_at <= ?) OR (j.state = 'running' AND j.lease_until <= ?))
			  AND (j.serial_key = '' OR NOT EXISTS (
				SELECT 1 FROM jobs AS e
				WHERE e.serial_key <> '' AND e.state IN ('pending', 'running')
				  AND e.serial_key = j.serial_key AND e.id < j.id))
			ORDER BY j.run_at, j.id
			LIMIT ?)
		RETURNING id, run_at`
	// Arguments: kinds..., kinds....
	referenceNextRunAtSQL = `
		SELECT min(t) FROM (
			SELECT run_at AS t FROM jobs j WHERE state = 'pending' AND kind IN (%[1]s)
				AND (serial_key = '' OR NOT EXISTS (
					SELECT 1 FROM jobs e WHERE e.serial_key = j.serial_key AND e.serial_key <> ''
						AND e.state IN ('pending', 'running') AND e.id < j.id))
			UNION ALL
			SELECT lease_until FROM jobs WHERE state = 'running' AND kind IN (%[1]s))`
)

// referenceClaim runs the reference queries in a transaction it rolls back,
// and returns the ids they would park (in id order) and lease (in claim
// order), and the next run time they would report before the claim.
func referenceClaim(t *testing.T, s *Store, owner string, kinds []string, now time.Time, lease time.Duration, limit int) (claimed, parked []int64, next int64) {
	t.Helper()
	ctx := context.Background()
	in := strings.TrimSuffix(strings.Repeat("?, ", len(kinds)), ", ")
	ks := kindArgs(kinds)
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n sql.NullInt64
	if err := tx.QueryRowContext(ctx, fmt.Sprintf(referenceNextRunAtSQL, in), append(ks, ks...)...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	next = n.Int64
	nowMS := ms(now)
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(referenceParkSQL, in),
		slices.Concat([]any{nowMS, leaseExpiredOnLastAttempt}, ks, []any{nowMS, nowMS})...)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		parked = append(parked, id)
	}
	rows.Close()
	slices.Sort(parked)
	rows, err = tx.QueryContext(ctx, fmt.Sprintf(referenceClaimSQL, in),
		slices.Concat([]any{owner, msUp(now.Add(lease)), nowMS}, ks, []any{nowMS, nowMS, limit})...)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ id, runAt int64 }
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.runAt); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	rows.Close()
	slices.SortFunc(got, func(a, b row) int { return cmp.Or(cmp.Compare(a.runAt, b.runAt), cmp.Compare(a.id, b.id)) })
	for _, r := range got {
		claimed = append(claimed, r.id)
	}
	return claimed, parked, next
}

// raceEnabled is set under the race detector, which slows SQLite (C
// translated to Go) down many times over.
var raceEnabled bool

// TestClaimMatchesReference drives a store through random enqueues, claims
// and lease changes, and checks before each claim that Claim and NextRunAt
// agree with the reference queries.
func TestClaimMatchesReference(t *testing.T) {
	seeds, steps := uint64(4), 1500
	if raceEnabled {
		seeds, steps = 2, 300
	}
	for seed := range seeds {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) { checkClaimsAgainstReference(t, seed, steps) })
	}
}

func checkClaimsAgainstReference(t *testing.T, seed uint64, steps int) {
	ctx := context.Background()
	s := openTestStore(t)
	r := rand.New(rand.NewPCG(seed, 42))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	now := t0
	type held struct {
		id    int64
		owner string
	}
	var leases []held
	nJobs, nClaimed := 0, 0
	for step := range steps {
		now = now.Add(time.Duration(r.IntN(20_000)) * time.Millisecond)
		switch op := r.IntN(10); {
		case op < 4:
			nJobs++
			j := jobs.NewJob{
				Kind:        pick("k", "k", "other"),
				Key:         "j" + strconv.Itoa(nJobs),
				SerialKey:   pick("", "", "a", "b", "c", "d"),
				RunAt:       now.Add(time.Duration(r.IntN(120_000)-60_000) * time.Millisecond),
				MaxAttempts: r.IntN(3), // 0 is the default
			}
			if _, err := s.Enqueue(ctx, j); err != nil {
				t.Fatal(err)
			}
		case op < 7:
			owner := pick("A", "B")
			kinds := [][]string{{"k"}, {"k", "other"}, {"other"}, {"k", "unknown"}}[r.IntN(4)]
			limit := 1 + r.IntN(4)
			lease := time.Duration(10+r.IntN(50)) * time.Second
			wantClaimed, wantParked, wantNext := referenceClaim(t, s, owner, kinds, now, lease, limit)
			next, ok, err := s.NextRunAt(ctx, kinds)
			if err != nil {
				t.Fatal(err)
			}
			if gotNext := ms(next); ok != (wantNext != 0) || gotNext != wantNext {
				t.Fatalf("step %d: NextRunAt(%v) = %d, %v; reference %d", step, kinds, gotNext, ok, wantNext)
			}
			claimed, parked, err := s.Claim(ctx, owner, kinds, now, lease, limit)
			if err != nil {
				t.Fatal(err)
			}
			ids := func(js []jobs.Job) []int64 {
				var out []int64
				for _, j := range js {
					out = append(out, j.ID)
				}
				return out
			}
			if !slices.Equal(ids(claimed), wantClaimed) || !slices.Equal(ids(parked), wantParked) {
				t.Fatalf("step %d: Claim(%s, %v, limit %d) = %v, parked %v; reference %v, parked %v",
					step, owner, kinds, limit, ids(claimed), ids(parked), wantClaimed, wantParked)
			}
			nClaimed += len(claimed)
			for _, j := range claimed {
				leases = append(leases, held{j.ID, owner})
			}
		default:
			if len(leases) == 0 {
				continue
			}
			i := r.IntN(len(leases))
			l := leases[i]
			leases = slices.Delete(leases, i, i+1)
			var err error
			switch r.IntN(5) {
			case 0:
				err = s.Complete(ctx, l.id, l.owner, now)
			case 1:
				err = s.Retry(ctx, l.id, l.owner, now.Add(time.Duration(r.IntN(30))*time.Second), "boom", now)
			case 2:
				err = s.Fail(ctx, l.id, l.owner, "gave up", now)
			case 3:
				err = s.Release(ctx, l.id, l.owner, now, now)
			default:
				// The worker dies: the lease runs out.
			}
			if err != nil && !errors.Is(err, jobs.ErrLeaseLost) {
				t.Fatal(err)
			}
		}
	}
	if nClaimed < steps/10 {
		t.Errorf("only %d jobs claimed: the test exercises too little", nClaimed)
	}
}
