package githubfake

import (
	"net/http"
	"testing"
	"time"
)

// Received stamps each call by the wall clock, whatever the fake's clock,
// so that a test can check that a client waited as a 429 told it.
func TestReceivedIsWallClock(t *testing.T) {
	f := New() // its clock stays at Epoch
	defer f.Close()
	f.AddRepo("acme/api", "main", nil)
	f.FailNext(RouteListPulls, Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"2"}}})
	before := time.Now()
	code, h, _ := do(t, f, "GET", "/repos/acme/api/pulls", "")
	if code != http.StatusTooManyRequests || h.Get("Retry-After") != "2" {
		t.Fatalf("first call: %d Retry-After %q; want 429 and 2", code, h.Get("Retry-After"))
	}
	if code, _, _ := do(t, f, "GET", "/repos/acme/api/pulls", ""); code != http.StatusOK {
		t.Fatalf("second call: %d", code)
	}
	calls := f.Calls(RouteListPulls)
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	for i, c := range calls {
		if c.Received.Before(before) || c.Received.After(time.Now()) {
			t.Errorf("call %d: Received %v; want the wall clock", i, c.Received)
		}
	}
	if calls[1].Received.Before(calls[0].Received) {
		t.Errorf("calls out of order: %v then %v", calls[0].Received, calls[1].Received)
	}
}
