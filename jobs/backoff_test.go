package jobs

import (
	"testing"
	"time"
)

func TestRetryDelayBoundsAndJitter(t *testing.T) {
	q := New(nil, Options{MinBackoff: time.Second, MaxBackoff: 10 * time.Minute})
	for attempt := 1; attempt <= 14; attempt++ {
		hi := min(time.Second<<attempt, 10*time.Minute)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := q.retryDelay(attempt)
			if d < hi/2 || d > hi {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, hi/2, hi)
			}
			seen[d] = true
		}
		// Jittered: 200 draws from a continuous range do not repeat.
		if len(seen) < 100 {
			t.Errorf("attempt %d: only %d distinct delays in 200, want jitter", attempt, len(seen))
		}
	}
}

// TestRetryDelayJittersAtTheCap checks that late retries, whose delays have
// all reached MaxBackoff, are still spread out rather than all landing on
// MaxBackoff together (a thundering herd after an outage).
func TestRetryDelayJittersAtTheCap(t *testing.T) {
	const maxBackoff = 10 * time.Minute
	q := New(nil, Options{MinBackoff: time.Second, MaxBackoff: maxBackoff})
	for _, attempt := range []int{11, 20, 100, 5000} {
		seen := map[time.Duration]int{}
		for range 1000 {
			d := q.retryDelay(attempt)
			if d < maxBackoff/2 || d > maxBackoff {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, maxBackoff/2, maxBackoff)
			}
			seen[d]++
		}
		if len(seen) < 900 || seen[maxBackoff] > 10 {
			t.Errorf("attempt %d: %d distinct delays in 1000, %d exactly at the cap; want them spread out",
				attempt, len(seen), seen[maxBackoff])
		}
	}
	// MinBackoff is a floor even when the cap is below 2·MinBackoff.
	q = New(nil, Options{MinBackoff: time.Minute, MaxBackoff: 90 * time.Second})
	for range 100 {
		if d := q.retryDelay(3); d < time.Minute || d > 90*time.Second {
			t.Fatalf("delay %v outside [1m, 1m30s]", d)
		}
	}
}

func TestRetryAfterAndPermanentWrap(t *testing.T) {
	if d, ok := RetryAfterOf(RetryAfter(5*time.Hour, nil)); !ok || d != MaxRetryAfter {
		t.Errorf("RetryAfter(5h) = %v, %v; want capped to %v", d, ok, MaxRetryAfter)
	}
	if d, ok := RetryAfterOf(RetryAfter(-time.Second, nil)); !ok || d != 0 {
		t.Errorf("RetryAfter(-1s) = %v, %v; want 0", d, ok)
	}
	base := errTest("slack said 429")
	wrapped := wrap{RetryAfter(30*time.Second, base)}
	if d, ok := RetryAfterOf(wrapped); !ok || d != 30*time.Second {
		t.Errorf("RetryAfterOf(wrapped) = %v, %v; want 30s", d, ok)
	}
	if got := RetryAfter(30*time.Second, base).Error(); got != "slack said 429 (retry after 30s)" {
		t.Errorf("message %q", got)
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	if !IsPermanent(wrap{Permanent(base)}) || IsPermanent(base) {
		t.Error("IsPermanent does not see through wrapping, or sees what is not there")
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

type wrap struct{ err error }

func (w wrap) Error() string { return "wrapped: " + w.err.Error() }
func (w wrap) Unwrap() error { return w.err }
