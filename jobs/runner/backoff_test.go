package runner

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
