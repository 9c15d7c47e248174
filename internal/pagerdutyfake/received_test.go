package pagerdutyfake

import (
	"net/http"
	"testing"
	"time"
)

// Received stamps each event by the wall clock, whatever the fake's clock,
// so that a test can check that a client waited as a 429 told it.
func TestReceivedIsWallClock(t *testing.T) {
	f := New() // its clock stays at Epoch
	defer f.Close()
	f.FailNext(1, Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})
	before := time.Now()
	code, h, _ := post(t, f, trigger)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") != "2" {
		t.Fatalf("first call: %d Retry-After %q; want 429 and 2", code, h.Get("Retry-After"))
	}
	if code, _, _ := post(t, f, trigger); code != http.StatusAccepted {
		t.Fatalf("second call: %d", code)
	}
	evs := f.Events()
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	for i, e := range evs {
		if e.Received.Before(before) || e.Received.After(time.Now()) || !e.At.Equal(Epoch) {
			t.Errorf("event %d: Received %v At %v; want the wall clock and Epoch", i, e.Received, e.At)
		}
	}
	if evs[1].Received.Before(evs[0].Received) {
		t.Errorf("events out of order: %v then %v", evs[0].Received, evs[1].Received)
	}
}
