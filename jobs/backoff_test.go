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
			if d < time.Second || d > hi {
				t.Fatalf("attempt %d: delay %v outside [1s, %v]", attempt, d, hi)
			}
			seen[d] = true
		}
		// Jittered: 200 draws from a continuous range do not repeat.
		if len(seen) < 100 && attempt < 11 {
			t.Errorf("attempt %d: only %d distinct delays in 200, want jitter", attempt, len(seen))
		}
		if attempt >= 12 && !seen[10*time.Minute] {
			t.Errorf("attempt %d: never reached the 10m cap", attempt)
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
