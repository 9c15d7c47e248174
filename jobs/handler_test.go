package jobs

import (
	"testing"
	"time"
)

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
