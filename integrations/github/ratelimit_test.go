package github

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// After GitHub's 429 with Retry-After, the client's next calls are answered
// by the gate, not GitHub, until Retry-After has passed.
func TestRateGateHoldsCallsUntilRetryAfter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	hc := gated(nil)
	g := hc.Transport.(*rateGate)
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return now }

	get := func() *http.Response {
		t.Helper()
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("first call: %d", resp.StatusCode)
	}
	now = now.Add(10 * time.Second)
	resp := get()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "20" {
		t.Fatalf("held-back call: %d Retry-After %q, want 429 and 20", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("GitHub got %d calls while the gate was shut", n)
	}
	now = now.Add(20 * time.Second)
	if resp := get(); resp.StatusCode != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("after Retry-After: %d, %d calls", resp.StatusCode, calls.Load())
	}
}

// The gate's own 429 tells the time left in Retry-After, which jobError
// reads like GitHub's.
func TestRateGateAnswerDefersTheJob(t *testing.T) {
	g := &rateGate{next: http.DefaultTransport, now: time.Now, until: time.Now().Add(5 * time.Second)}
	req := httptest.NewRequest(http.MethodGet, "http://github.invalid/repos/a/b", nil)
	resp, err := g.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := retryAfterHeader(resp.Header); !ok || d < 4*time.Second || d > 5*time.Second {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
}
