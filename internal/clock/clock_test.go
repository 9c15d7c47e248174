package clock

import (
	"sync"
	"testing"
	"time"
)

func TestManual(t *testing.T) {
	start := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	c := NewManual(start)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Minute); _ = c.Now() })
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(10 * time.Minute)) {
		t.Fatalf("after 10 advances of a minute: %v", got)
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Fatal("Set did not move the clock")
	}
}
