package oncall

import (
	"context"
	"testing"
	"time"
)

// TestCancelledOverrideCountsUntilItWasCancelled: Until is the end, the
// cancellation when sooner, never before the start; the resolver and
// ListOverrides go by it whatever the store returns.
func TestCancelledOverrideCountsUntilItWasCancelled(t *testing.T) {
	ten := utc("2026-01-05T10:00:00Z")
	o := Override{Schedule: "d", Person: "dave", From: ten, To: ten.Add(2 * time.Hour)}
	for _, c := range []struct {
		cancelled, want time.Time
	}{
		{time.Time{}, ten.Add(2 * time.Hour)},
		{ten.Add(90 * time.Minute), ten.Add(90 * time.Minute)},
		{ten.Add(-time.Hour), ten},
		{ten.Add(3 * time.Hour), ten.Add(2 * time.Hour)},
	} {
		o.CancelledAt = c.cancelled
		if got := o.Until(); !got.Equal(c.want) {
			t.Errorf("cancelled at %v: until %v, want %v", c.cancelled, got, c.want)
		}
	}

	ctx := context.Background()
	st := &memStore{}
	r := NewResolver(map[string]Schedule{"d": {Name: "d", Location: time.UTC, Every: day, FirstHandoff: ten.Add(-time.Hour),
		Members: []string{"alice"}}}, st)
	dave, _ := r.AddOverride(ctx, Override{Schedule: "d", Person: "dave", From: ten, To: ten.Add(2 * time.Hour)})
	erin, _ := r.AddOverride(ctx, Override{Schedule: "d", Person: "erin", From: ten.Add(3 * time.Hour), To: ten.Add(4 * time.Hour)})
	st.ovs[dave.ID-1].CancelledAt = ten.Add(90 * time.Minute)
	st.ovs[erin.ID-1].CancelledAt = ten.Add(90 * time.Minute)
	for _, c := range []struct {
		at   time.Time
		want string
	}{{ten.Add(time.Hour), "dave"}, {ten.Add(90 * time.Minute), "alice"}, {ten.Add(3*time.Hour + time.Minute), "alice"}} {
		if who, err := r.Who(ctx, "d", c.at); err != nil || who != c.want {
			t.Errorf("at %v: %q %v, want %s", c.at, who, err, c.want)
		}
	}
	if list, err := r.ListOverrides(ctx, "d", ten.Add(time.Hour)); err != nil || len(list) != 1 || list[0].ID != dave.ID {
		t.Errorf("listed before the cancellation: %+v %v", list, err)
	}
	if list, err := r.ListOverrides(ctx, "d", ten.Add(90*time.Minute)); err != nil || len(list) != 0 {
		t.Errorf("listed after the cancellation: %+v %v", list, err)
	}
}
