package bot

import (
	"testing"
	"time"

	"github.com/warroomhq/warroom/internal/clock"
)

func TestPacerKeepsOneMessagePerSecondPerChannel(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC))
	p := newPacer(clk.Now)
	if d := p.reserve("chat.postMessage", "C1"); d != 0 {
		t.Fatalf("first post waits %v", d)
	}
	d := p.reserve("chat.postMessage", "C1")
	if d <= 0 || d > ChannelPostInterval {
		t.Fatalf("second post to C1 at once: wait %v, want (0, 1s]", d)
	}
	if d := p.reserve("chat.postMessage", "C2"); d != 0 {
		t.Fatalf("another channel waits %v", d)
	}
	clk.Advance(d)
	if d := p.reserve("chat.postMessage", "C1"); d != 0 {
		t.Fatalf("after waiting, C1 still waits %v", d)
	}
}

func TestPacerTierAndPause(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC))
	p := newPacer(clk.Now)
	// Tier 2: a burst of 5, then one call every 3s.
	for i := range 5 {
		if d := p.reserve("conversations.create", ""); d != 0 {
			t.Fatalf("call %d of the burst waits %v", i+1, d)
		}
	}
	d := p.reserve("conversations.create", "")
	if d < 2*time.Second || d > 3*time.Second {
		t.Fatalf("6th tier-2 call waits %v, want about 3s", d)
	}
	// A refused reservation takes nothing: waiting as told is enough.
	clk.Advance(d)
	if d := p.reserve("conversations.create", ""); d != 0 {
		t.Fatalf("after the wait: %v", d)
	}

	p.pause("chat.update", 30*time.Second)
	if d := p.reserve("chat.update", ""); d != 30*time.Second {
		t.Fatalf("paused method waits %v, want 30s", d)
	}
	p.pause("chat.update", 5*time.Second) // a shorter pause does not shorten it
	clk.Advance(29 * time.Second)
	if d := p.reserve("chat.update", ""); d != time.Second {
		t.Fatalf("paused method waits %v, want 1s", d)
	}
	clk.Advance(time.Second)
	if d := p.reserve("chat.update", ""); d != 0 {
		t.Fatalf("after the pause: %v", d)
	}
}

func TestPacerRefusedChannelPostKeepsMethodBudget(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC))
	p := newPacer(clk.Now)
	p.reserve("chat.postMessage", "C1")
	// 50 refused posts to C1 must not use up chat.postMessage's tier budget.
	for range 50 {
		if d := p.reserve("chat.postMessage", "C1"); d == 0 {
			t.Fatal("C1 was not paced")
		}
	}
	for i := range 19 {
		if d := p.reserve("chat.postMessage", "C"+string(rune('A'+i))); d != 0 {
			t.Fatalf("post %d to another channel waits %v", i, d)
		}
	}
}

func TestTSTime(t *testing.T) {
	got := tsTime("1762178520.000123")
	want := time.Unix(1762178520, 123000).UTC()
	if !got.Equal(want) {
		t.Errorf("tsTime = %v, want %v", got, want)
	}
	if !tsTime("bad").IsZero() || !tsTime("").IsZero() {
		t.Error("tsTime of a bad ts is not zero")
	}
}

func TestIsUserID(t *testing.T) {
	for s, want := range map[string]bool{"U01ALICE": true, "W123": true, "alice": false, "U1": false, "C0123": false, "U12a": false} {
		if got := isUserID(s); got != want {
			t.Errorf("isUserID(%q) = %v", s, got)
		}
	}
}
