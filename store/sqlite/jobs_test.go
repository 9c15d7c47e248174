package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/jobs"
)

// t0 is the tests' "now"; every other time is t0 plus a duration.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openTestStore opens a migrated store in a temporary directory whose clock
// reads t0, closed when the test ends.
func openTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := OpenMigrated(context.Background(), filepath.Join(t.TempDir(), "w.db"),
		WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustEnqueue(t testing.TB, s *Store, j jobs.NewJob) {
	t.Helper()
	created, err := s.Enqueue(context.Background(), j)
	if err != nil {
		t.Fatalf("enqueue %s: %v", j.Key, err)
	}
	if !created {
		t.Fatalf("enqueue %s: not created", j.Key)
	}
}

func mustGet(t testing.TB, s *Store, key string) jobs.Info {
	t.Helper()
	in, err := s.GetJob(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// claim claims with a lease of a minute, and fails the test if the claim
// parks a job.
func claim(t testing.TB, s *Store, owner string, now time.Time, limit int, kinds ...string) []jobs.Job {
	t.Helper()
	js, parked := claimParking(t, s, owner, now, limit, kinds...)
	if len(parked) != 0 {
		t.Fatalf("claim parked %v", keys(parked))
	}
	return js
}

// claimParking is claim that returns the parked jobs too.
func claimParking(t testing.TB, s *Store, owner string, now time.Time, limit int, kinds ...string) (claimed, parked []jobs.Job) {
	t.Helper()
	if len(kinds) == 0 {
		kinds = []string{"k"}
	}
	claimed, parked, err := s.Claim(context.Background(), owner, kinds, now, time.Minute, limit)
	if err != nil {
		t.Fatal(err)
	}
	return claimed, parked
}

func completeAll(t testing.TB, s *Store, owner string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := s.Complete(context.Background(), mustGet(t, s, k).ID, owner, t0); err != nil {
			t.Fatalf("completing %s: %v", k, err)
		}
	}
}

func keys(js []jobs.Job) []string {
	var ks []string
	for _, j := range js {
		ks = append(ks, j.Key)
	}
	return ks
}

func TestEnqueueIsIdempotent(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	created, err := s.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: "a", Payload: []byte("first")})
	if err != nil || !created {
		t.Fatalf("first enqueue: created=%v err=%v", created, err)
	}
	created, err = s.Enqueue(ctx, jobs.NewJob{Kind: "k2", Key: "a", Payload: []byte("second"), MaxAttempts: 3})
	if err != nil || created {
		t.Fatalf("second enqueue: created=%v err=%v, want false, nil", created, err)
	}
	in := mustGet(t, s, "a")
	if in.Kind != "k" || string(in.Payload) != "first" || in.MaxAttempts != jobs.DefaultMaxAttempts {
		t.Errorf("job = %+v, want the first enqueue's kind, payload and default max attempts", in)
	}
	if in.State != jobs.StatePending || !in.RunAt.Equal(t0) || !in.CreatedAt.Equal(t0) || in.Attempt != 0 {
		t.Errorf("job = %+v, want pending, due and created at the store clock, no attempts", in)
	}
	counts, err := s.CountByState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[jobs.StatePending] != 1 {
		t.Errorf("pending = %d, want 1", counts[jobs.StatePending])
	}
}

func TestEnqueueValidates(t *testing.T) {
	s := openTestStore(t)
	for _, j := range []jobs.NewJob{
		{Key: "no-kind"},
		{Kind: "k"},
		{Kind: "k", Key: "neg", MaxAttempts: -1},
	} {
		if created, err := s.Enqueue(context.Background(), j); err == nil || created {
			t.Errorf("Enqueue(%+v) = %v, %v; want an error", j, created, err)
		}
	}
}

func TestEnqueueRollsBackWithItsTransaction(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	boom := errors.New("domain change failed")
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := enqueue(ctx, tx, t0, jobs.NewJob{Kind: "k", Key: "a"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("write = %v, want %v", err, boom)
	}
	if _, err := s.GetJob(ctx, "a"); !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("GetJob after rollback = %v, want ErrNotFound", err)
	}
}

func TestClaimRespectsRunAtKindsAndLimit(t *testing.T) {
	s := openTestStore(t)
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "later", RunAt: t0.Add(time.Minute)})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "second", RunAt: t0.Add(-time.Second)})
	mustEnqueue(t, s, jobs.NewJob{Kind: "other", Key: "other"})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "first", RunAt: t0.Add(-time.Minute)})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "third"})
	// RunAt is kept to the millisecond rounded up: never early.
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "sub-ms", RunAt: t0.Add(time.Second + time.Microsecond)})

	// A job due now is due within the same millisecond.
	ctx := context.Background()
	sub := t0.Add(-time.Hour + 500*time.Microsecond)
	if err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := enqueue(ctx, tx, sub, jobs.NewJob{Kind: "now", Key: "now"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := keys(claim(t, s, "A", sub, 10, "now")); !slices.Equal(got, []string{"now"}) {
		t.Errorf("claim in the millisecond of the enqueue = %v, want [now]", got)
	}

	if got := keys(claim(t, s, "A", t0, 2)); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("first claim = %v, want [first second]", got)
	}
	if got := keys(claim(t, s, "A", t0, 10)); !slices.Equal(got, []string{"third"}) {
		t.Errorf("second claim = %v, want [third]", got)
	}
	if got := claim(t, s, "A", t0.Add(time.Second), 10); len(got) != 0 {
		t.Errorf("claim at t0+1s = %v, want nothing: sub-ms is due 1ms later", keys(got))
	}
	if got := keys(claim(t, s, "A", t0.Add(time.Second+time.Millisecond), 10)); !slices.Equal(got, []string{"sub-ms"}) {
		t.Errorf("claim at t0+1.001s = %v, want [sub-ms]", got)
	}
	completeAll(t, s, "A", "first", "second", "third", "sub-ms")
	if got := keys(claim(t, s, "A", t0.Add(time.Hour), 10)); !slices.Equal(got, []string{"later"}) {
		t.Errorf("claim an hour later = %v, want [later] (never kind other)", got)
	}
	if got := keys(claim(t, s, "A", t0, 10, "other", "unknown")); !slices.Equal(got, []string{"other"}) {
		t.Errorf("claim of kind other = %v, want [other]", got)
	}
	if got, parked, err := s.Claim(context.Background(), "A", nil, t0, time.Minute, 10); err != nil || len(got) != 0 || len(parked) != 0 {
		t.Errorf("claim of no kinds = %v, %v, %v; want nothing", got, parked, err)
	}
}

func TestClaimSetsLease(t *testing.T) {
	s := openTestStore(t)
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a", SerialKey: "s", Payload: []byte(`{"x":1}`), MaxAttempts: 5})
	js := claim(t, s, "A", t0.Add(time.Second), 1)
	if len(js) != 1 {
		t.Fatalf("claimed %d jobs, want 1", len(js))
	}
	j := js[0]
	if j.Kind != "k" || j.Key != "a" || j.SerialKey != "s" || string(j.Payload) != `{"x":1}` ||
		j.Attempt != 1 || j.MaxAttempts != 5 || !j.CreatedAt.Equal(t0) || j.LastError != "" {
		t.Errorf("claimed %+v", j)
	}
	in := mustGet(t, s, "a")
	if in.State != jobs.StateRunning || in.LeaseOwner != "A" || !in.LeaseUntil.Equal(t0.Add(time.Second+time.Minute)) ||
		!in.UpdatedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("after claim: %+v", in)
	}
}

func TestClaimRunsSerialKeysInOrder(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a1", SerialKey: "a"})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a2", SerialKey: "a", RunAt: t0.Add(-time.Hour)}) // earlier run time, later id
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "b1", SerialKey: "b"})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "free1"})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a3", SerialKey: "a"})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "free2"})

	// One job per serial key, the oldest; jobs without one all at once.
	first := claim(t, s, "A", t0, 10)
	if got := keys(first); !slices.Equal(got, []string{"a1", "b1", "free1", "free2"}) {
		t.Fatalf("first claim = %v, want [a1 b1 free1 free2]", got)
	}
	if got := claim(t, s, "A", t0, 10); len(got) != 0 {
		t.Fatalf("second claim = %v, want nothing while a1 runs", keys(got))
	}
	// a1 goes back to pending with a later run time: a2 still waits.
	if err := s.Retry(ctx, first[0].ID, "A", t0.Add(time.Minute), "boom", t0); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, "A", t0.Add(time.Second), 10); len(got) != 0 {
		t.Fatalf("claim while a1 waits to retry = %v, want nothing", keys(got))
	}
	completeAll(t, s, "A", "b1", "free1", "free2")
	retried := claim(t, s, "A", t0.Add(time.Minute), 10)
	if got := keys(retried); !slices.Equal(got, []string{"a1"}) {
		t.Fatalf("claim after a1's retry time = %v, want [a1]", got)
	}
	if retried[0].LastError != "boom" || retried[0].Attempt != 2 {
		t.Errorf("retried job = %+v, want attempt 2 with last error boom", retried[0])
	}
	// A failed job unblocks its successor as well as a done one does.
	if err := s.Fail(ctx, retried[0].ID, "A", "gave up", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	next := claim(t, s, "A", t0.Add(time.Minute), 10)
	if got := keys(next); !slices.Equal(got, []string{"a2"}) {
		t.Fatalf("claim after a1 failed = %v, want [a2]", got)
	}
	if err := s.Complete(ctx, next[0].ID, "A", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := keys(claim(t, s, "A", t0.Add(time.Minute), 10)); !slices.Equal(got, []string{"a3"}) {
		t.Fatalf("claim after a2 done = %v, want [a3]", got)
	}
}

func TestClaimAfterLeaseExpiry(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a", SerialKey: "s"})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "b", SerialKey: "s"})
	a := claim(t, s, "A", t0, 1)[0]
	// A crashes. Until the lease expires nobody else gets the job.
	if got := claim(t, s, "B", t0.Add(time.Minute-time.Millisecond), 10); len(got) != 0 {
		t.Fatalf("claim before lease expiry = %v, want nothing", keys(got))
	}
	got := claim(t, s, "B", t0.Add(time.Minute), 10)
	if len(got) != 1 || got[0].ID != a.ID || got[0].Attempt != 2 {
		t.Fatalf("claim after lease expiry = %+v, want job a on attempt 2 only", got)
	}
	for name, err := range map[string]error{
		"Complete": s.Complete(ctx, a.ID, "A", t0.Add(time.Minute)),
		"Extend":   s.Extend(ctx, a.ID, "A", t0.Add(time.Hour)),
		"Retry":    s.Retry(ctx, a.ID, "A", t0, "late", t0),
		"Fail":     s.Fail(ctx, a.ID, "A", "late", t0),
		"Release":  s.Release(ctx, a.ID, "A", t0, t0),
	} {
		if !errors.Is(err, jobs.ErrLeaseLost) {
			t.Errorf("A's late %s = %v, want ErrLeaseLost", name, err)
		}
	}
	if err := s.Complete(ctx, a.ID, "B", t0.Add(time.Minute)); err != nil {
		t.Fatalf("B's Complete: %v", err)
	}
	if err := s.Complete(ctx, a.ID, "B", t0.Add(time.Minute)); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Errorf("second Complete = %v, want ErrLeaseLost", err)
	}
	if in := mustGet(t, s, "a"); in.State != jobs.StateDone || in.Attempt != 2 || in.LeaseOwner != "" {
		t.Errorf("a = %+v, want done after 2 attempts, no lease owner", in)
	}
}

func TestClaimParksJobWhoseLastAttemptDied(t *testing.T) {
	s := openTestStore(t)
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a", SerialKey: "s", MaxAttempts: 1, Payload: []byte("p")})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "b", SerialKey: "s"})
	mustEnqueue(t, s, jobs.NewJob{Kind: "other", Key: "c", MaxAttempts: 1})
	claim(t, s, "A", t0, 1)
	claim(t, s, "A", t0, 1, "other")
	// A dies on a's only attempt. B's claim parks a, reports it, and, in
	// the same claim, takes b, which a no longer blocks. c is not of the
	// kinds claimed: it is left alone.
	got, parked := claimParking(t, s, "B", t0.Add(2*time.Minute), 10)
	if !slices.Equal(keys(got), []string{"b"}) {
		t.Fatalf("claim after expiry = %v, want [b]", keys(got))
	}
	if len(parked) != 1 {
		t.Fatalf("claim after expiry parked %v, want [a]", keys(parked))
	}
	if p := parked[0]; p.Key != "a" || p.Kind != "k" || p.SerialKey != "s" || string(p.Payload) != "p" ||
		p.Attempt != 1 || p.MaxAttempts != 1 || p.LastError != "lease expired on last attempt" || !p.CreatedAt.Equal(t0) {
		t.Errorf("parked %+v, want a on attempt 1, lease expired on last attempt", p)
	}
	if in := mustGet(t, s, "c"); in.State != jobs.StateRunning {
		t.Errorf("c = %+v, want still running: not of the kinds claimed", in)
	}
	// A parked job is reported once.
	if _, parked := claimParking(t, s, "B", t0.Add(3*time.Minute), 10); len(parked) != 0 {
		t.Errorf("second claim parked %v, want nothing", keys(parked))
	}
	in := mustGet(t, s, "a")
	if in.State != jobs.StateFailed || in.LastError != "lease expired on last attempt" || in.Attempt != 1 ||
		!in.UpdatedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("a = %+v, want failed, lease expired on last attempt", in)
	}
}

func TestLeaseChanges(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a"})
	j := claim(t, s, "A", t0, 1)[0]

	if err := s.Extend(ctx, j.ID, "B", t0.Add(time.Hour)); !errors.Is(err, jobs.ErrLeaseLost) {
		t.Errorf("Extend by B = %v, want ErrLeaseLost", err)
	}
	if err := s.Extend(ctx, j.ID, "A", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, s, "B", t0.Add(30*time.Minute), 1); len(got) != 0 {
		t.Errorf("claim within the extended lease = %v, want nothing", keys(got))
	}
	if in := mustGet(t, s, "a"); !in.LeaseUntil.Equal(t0.Add(time.Hour)) {
		t.Errorf("lease until %v, want %v", in.LeaseUntil, t0.Add(time.Hour))
	}

	// Release gives the attempt back and makes the job due at once.
	rel := t0.Add(5 * time.Minute)
	if err := s.Release(ctx, j.ID, "A", rel.Add(-time.Second), rel); err != nil {
		t.Fatal(err)
	}
	if in := mustGet(t, s, "a"); in.State != jobs.StatePending || in.Attempt != 0 || !in.RunAt.Equal(rel) ||
		in.LeaseOwner != "" || !in.LeaseUntil.IsZero() {
		t.Errorf("after Release: %+v", in)
	}
	j = claim(t, s, "B", rel, 1)[0]
	if j.Attempt != 1 {
		t.Errorf("attempt after Release = %d, want 1", j.Attempt)
	}

	if err := s.Retry(ctx, j.ID, "B", rel.Add(time.Hour), "rate limited", rel); err != nil {
		t.Fatal(err)
	}
	if in := mustGet(t, s, "a"); in.State != jobs.StatePending || in.Attempt != 1 || !in.RunAt.Equal(rel.Add(time.Hour)) ||
		in.LastError != "rate limited" || !in.UpdatedAt.Equal(rel) {
		t.Errorf("after Retry: %+v", in)
	}
	j = claim(t, s, "B", rel.Add(time.Hour), 1)[0]
	if err := s.Fail(ctx, j.ID, "B", "bad request", rel.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if in := mustGet(t, s, "a"); in.State != jobs.StateFailed || in.Attempt != 2 || in.LastError != "bad request" {
		t.Errorf("after Fail: %+v", in)
	}
	if got := claim(t, s, "B", rel.Add(48*time.Hour), 1); len(got) != 0 {
		t.Errorf("claimed a failed job: %v", keys(got))
	}
}

func TestNextRunAt(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	if _, ok, err := s.NextRunAt(ctx, []string{"k"}); err != nil || ok {
		t.Fatalf("NextRunAt on an empty queue = %v, %v; want false", ok, err)
	}
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a", RunAt: t0.Add(time.Hour)})
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "b", RunAt: t0.Add(10 * time.Minute)})
	mustEnqueue(t, s, jobs.NewJob{Kind: "other", Key: "c", RunAt: t0})
	next, ok, err := s.NextRunAt(ctx, []string{"k"})
	if err != nil || !ok || !next.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("NextRunAt = %v, %v, %v; want t0+10m", next, ok, err)
	}
	// A running job counts by its lease expiry (Claim's lease is a minute).
	claim(t, s, "A", t0.Add(10*time.Minute), 1)
	next, ok, err = s.NextRunAt(ctx, []string{"k"})
	if err != nil || !ok || !next.Equal(t0.Add(11*time.Minute)) {
		t.Fatalf("NextRunAt = %v, %v, %v; want the lease expiry t0+11m", next, ok, err)
	}
}

func TestCountByStateAndPrune(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	for _, k := range []string{"old", "new", "failed", "running", "pending"} {
		mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: k})
	}
	js := claim(t, s, "A", t0, 4)
	ids := map[string]int64{}
	for _, j := range js {
		ids[j.Key] = j.ID
	}
	for _, err := range []error{
		s.Complete(ctx, ids["old"], "A", t0),
		s.Complete(ctx, ids["new"], "A", t0.Add(time.Hour)),
		s.Fail(ctx, ids["failed"], "A", "boom", t0),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	counts, err := s.CountByState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[jobs.State]int{jobs.StatePending: 1, jobs.StateRunning: 1, jobs.StateDone: 2, jobs.StateFailed: 1}
	if !mapsEqual(counts, want) {
		t.Errorf("CountByState = %v, want %v", counts, want)
	}

	n, err := s.Prune(ctx, t0.Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1", n, err)
	}
	if _, err := s.GetJob(ctx, "old"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("old done job after Prune: %v, want ErrNotFound", err)
	}
	for _, k := range []string{"new", "failed", "running", "pending"} {
		mustGet(t, s, k)
	}
	// The pruned key is forgotten: it can be enqueued again.
	if created, err := s.Enqueue(ctx, jobs.NewJob{Kind: "k", Key: "old"}); err != nil || !created {
		t.Errorf("re-enqueue after Prune = %v, %v; want created", created, err)
	}
}

func mapsEqual(a, b map[jobs.State]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestClaimUsesIndexes(t *testing.T) {
	s := openTestStore(t)
	// Searches only: by primary key, for pending jobs without a serial key
	// (never the serial backlog, which jobs_due by state and run time alone
	// would step over), for expired or running leases, for the next serial
	// key, and for exhausted jobs. Scans only of the query's own tables.
	search := regexp.MustCompile(`^SEARCH \w+ USING (INTEGER PRIMARY KEY \(rowid=\?\)|` +
		`(COVERING )?INDEX (jobs_due \(state=\? AND serial_key=\?( AND run_at<\?)?\)|` +
		`jobs_lease \(state=\?( AND lease_until<\?)?\)|` +
		`jobs_serial_active \(serial_key>\?\)|` +
		`jobs_exhausted \(state=\? AND kind=\?\)))$`)
	other := regexp.MustCompile(`^((SCAN|SEARCH) \(subquery-\d+\)|SCAN (heads|due|CONSTANT ROW)|CO-ROUTINE |MATERIALIZE |SETUP|RECURSIVE STEP|` +
		`COMPOUND QUERY|LEFT-MOST SUBQUERY|UNION ALL|LIST SUBQUERY|CORRELATED SCALAR SUBQUERY|USE TEMP B-TREE FOR ORDER BY$)`)
	for name, q := range map[string]string{"park": parkSQL(2), "claim": claimSQL(2), "next run": nextRunAtSQL(2)} {
		plan := queryPlan(t, s.writer, q, "o", 1, 2, 3, "k1", "k2")
		for _, detail := range plan {
			if !search.MatchString(detail) && !other.MatchString(detail) {
				t.Errorf("%s plan step %q", name, detail)
			}
		}
		want := map[string]string{"park": "jobs_exhausted", "claim": "jobs_serial_active", "next run": "jobs_serial_active"}[name]
		if !slices.ContainsFunc(plan, func(d string) bool { return strings.Contains(d, want) }) {
			t.Errorf("%s plan %q does not use %s", name, plan, want)
		}
	}
}

func TestReleaseKeepsALaterRunTime(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	mustEnqueue(t, s, jobs.NewJob{Kind: "k", Key: "a"})
	j := claim(t, s, "A", t0, 1)[0]
	// The handler was cancelled, but had been told to come back in 30s
	// (rounded up to the millisecond: never early).
	later := t0.Add(30*time.Second + time.Microsecond)
	if err := s.Release(ctx, j.ID, "A", later, t0); err != nil {
		t.Fatal(err)
	}
	in := mustGet(t, s, "a")
	if in.State != jobs.StatePending || in.Attempt != 0 || !in.RunAt.Equal(t0.Add(30*time.Second+time.Millisecond)) ||
		in.LeaseOwner != "" || !in.UpdatedAt.Equal(t0) {
		t.Errorf("after Release: %+v, want pending at t0+30.001s with no attempt counted", in)
	}
	if got := claim(t, s, "B", t0.Add(30*time.Second), 1); len(got) != 0 {
		t.Errorf("claim before the run time = %v, want nothing", keys(got))
	}
	if got := claim(t, s, "B", t0.Add(30*time.Second+time.Millisecond), 1); len(got) != 1 || got[0].Attempt != 1 {
		t.Errorf("claim at the run time = %+v, want a on attempt 1", got)
	}
}

// TestClaimAfterUpgradingFromVersion2 enqueues jobs on the schema before the
// claim's indexes changed, then migrates and claims them.
func TestClaimAfterUpgradingFromVersion2(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "w.db"), WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.migrate(ctx, all[:2]); err != nil {
		t.Fatal(err)
	}
	for _, j := range []jobs.NewJob{
		{Kind: "k", Key: "a1", SerialKey: "a"},
		{Kind: "k", Key: "a2", SerialKey: "a"},
		{Kind: "k", Key: "free"},
	} {
		mustEnqueue(t, s, j)
	}
	if got, err := s.Migrate(ctx); err != nil || len(got) == 0 || got[0] != 3 {
		t.Fatalf("Migrate = %v, %v; want [3 ...]", got, err)
	}
	if got := keys(claim(t, s, "A", t0, 10)); !slices.Equal(got, []string{"a1", "free"}) {
		t.Errorf("claim after the upgrade = %v, want [a1 free]", got)
	}
}
