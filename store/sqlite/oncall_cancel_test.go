package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/warroomhq/warroom/oncall"
)

// TestCancelledOverrideNoLongerCounts: a cancelled override is kept, with
// who cancelled it when, but puts nobody on call from then on, for the
// resolver over the store and over a read-only store of the same file (as
// `warroom oncall` reads it); it is not listed, and cannot be cancelled
// twice.
func TestCancelledOverrideNoLongerCounts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := OpenMigrated(ctx, path, WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfgOverride := oncall.Override{Schedule: "primary", Person: "carol", From: t0.Add(48 * time.Hour), To: t0.Add(50 * time.Hour), CreatedBy: "config"}
	schedules := map[string]oncall.Schedule{"primary": {Location: time.UTC, Every: 24 * time.Hour,
		FirstHandoff: t0.Add(-time.Hour), Members: []string{"alice", "bob"}, Overrides: []oncall.Override{cfgOverride}}}
	r := oncall.NewResolver(schedules, s)
	dave, err := r.AddOverride(ctx, oncall.Override{Schedule: "primary", Person: "dave", From: t0, To: t0.Add(2 * time.Hour), CreatedBy: "U01BOB"})
	if err != nil {
		t.Fatal(err)
	}
	later, err := r.AddOverride(ctx, oncall.Override{Schedule: "primary", Person: "bob", From: t0.Add(5 * time.Hour), To: t0.Add(6 * time.Hour), CreatedBy: "U01BOB"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := r.ListOverrides(ctx, "", t0.Add(time.Minute))
	if err != nil || len(list) != 3 || list[0].ID != dave.ID || list[1].ID != later.ID || list[2].ID != 0 || list[2].Person != "carol" {
		t.Fatalf("overrides: %+v %v", list, err)
	}
	if sh, err := r.OnCall(ctx, "primary", t0.Add(time.Minute)); err != nil || sh.Person != "dave" || sh.OverrideID != dave.ID || sh.OverrideBy != "U01BOB" {
		t.Fatalf("with the override: %+v %v", sh, err)
	}

	at := t0.Add(30 * time.Minute)
	got, err := r.CancelOverride(ctx, dave.ID, "U01DAVE", at)
	if err != nil || !got.CancelledAt.Equal(at) || got.CancelledBy != "U01DAVE" || got.Person != "dave" {
		t.Fatalf("cancelled: %+v %v", got, err)
	}
	ro, err := Open(ctx, path, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, st := range []oncall.OverrideStore{s, ro} {
		who, err := oncall.NewResolver(schedules, st).Who(ctx, "primary", at.Add(time.Minute))
		if err != nil || who != "alice" {
			t.Errorf("after the cancellation: %q %v", who, err)
		}
	}
	if kept, err := r.Override(ctx, dave.ID); err != nil || !kept.CancelledAt.Equal(at) || kept.CancelledBy != "U01DAVE" {
		t.Errorf("the cancelled override as kept: %+v %v", kept, err)
	}
	if list, err := r.ListOverrides(ctx, "primary", at); err != nil || len(list) != 2 || list[0].ID != later.ID {
		t.Errorf("overrides after the cancellation: %+v %v", list, err)
	}
	if _, err := r.CancelOverride(ctx, dave.ID, "U01BOB", at); !errors.Is(err, oncall.ErrOverrideOver) {
		t.Errorf("cancelling twice: %v", err)
	}
	if _, err := s.CancelOverride(ctx, dave.ID, "U01BOB", at); !errors.Is(err, oncall.ErrOverrideOver) {
		t.Errorf("cancelling twice in the store: %v", err)
	}
	if _, err := r.CancelOverride(ctx, 999, "U01BOB", at); !errors.Is(err, oncall.ErrOverrideNotFound) {
		t.Errorf("cancelling an unknown override: %v", err)
	}
	if _, err := r.CancelOverride(ctx, later.ID, "U01BOB", t0.Add(7*time.Hour)); !errors.Is(err, oncall.ErrOverrideOver) {
		t.Errorf("cancelling an override that has ended: %v", err)
	}
	if _, err := oncall.NewResolver(schedules, nil).CancelOverride(ctx, later.ID, "U01BOB", at); !errors.Is(err, oncall.ErrNoStore) {
		t.Errorf("cancelling without a store: %v", err)
	}
}

// TestCancellingKeepsWhoWasOnCallBefore: cancelling an override changes who
// is on call from the cancellation on, never before: dave's override of
// 10:00–12:00, cancelled at 11:30, still put him on call at 11:00 (as
// `warroom oncall --at 11:00` asks), and the shifts show him until 11:30.
// An override cancelled before it started never put anyone on call. Neither
// is listed as current or future once cancelled.
func TestCancellingKeepsWhoWasOnCallBefore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := OpenMigrated(ctx, path, WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ten := t0.Add(-2 * time.Hour) // t0 is 12:00
	schedules := map[string]oncall.Schedule{"primary": {Location: time.UTC, Every: 24 * time.Hour,
		FirstHandoff: ten.Add(-time.Hour), Members: []string{"alice"}}}
	r := oncall.NewResolver(schedules, s)
	dave, err := r.AddOverride(ctx, oncall.Override{Schedule: "primary", Person: "dave", From: ten, To: ten.Add(2 * time.Hour), CreatedBy: "U01BOB"})
	if err != nil {
		t.Fatal(err)
	}
	erin, err := r.AddOverride(ctx, oncall.Override{Schedule: "primary", Person: "erin", From: ten.Add(3 * time.Hour), To: ten.Add(4 * time.Hour), CreatedBy: "U01BOB"})
	if err != nil {
		t.Fatal(err)
	}
	cancelledAt := ten.Add(90 * time.Minute) // 11:30
	if _, err := r.CancelOverride(ctx, dave.ID, "U01DAVE", cancelledAt); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CancelOverride(ctx, erin.ID, "U01BOB", cancelledAt); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(ctx, path, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, st := range []oncall.OverrideStore{s, ro} {
		res := oncall.NewResolver(schedules, st)
		for _, c := range []struct {
			at   time.Time
			want string
		}{
			{ten.Add(time.Hour), "dave"},                     // 11:00, before the cancellation
			{cancelledAt.Add(-time.Millisecond), "dave"},     // just before it
			{cancelledAt, "alice"},                           // from then on
			{ten.Add(3*time.Hour + 30*time.Minute), "alice"}, // erin's, cancelled before it started
		} {
			if who, err := res.Who(ctx, "primary", c.at); err != nil || who != c.want {
				t.Errorf("at %s: %q %v, want %s", c.at.Format("15:04:05.000"), who, err, c.want)
			}
		}
		shifts, err := res.Shifts(ctx, "primary", ten, ten.Add(5*time.Hour))
		if err != nil || len(shifts) != 2 || shifts[0].Person != "dave" || !shifts[0].End.Equal(cancelledAt) || shifts[0].OverrideID != dave.ID ||
			shifts[1].Person != "alice" || !shifts[1].Start.Equal(cancelledAt) {
			t.Errorf("shifts: %+v %v", shifts, err)
		}
		if sh, err := res.OnCall(ctx, "primary", ten.Add(time.Hour)); err != nil || !sh.End.Equal(cancelledAt) {
			t.Errorf("dave's shift at 11:00 ends at the cancellation: %+v %v", sh, err)
		}
	}
	for _, at := range []time.Time{ten.Add(time.Hour), cancelledAt, cancelledAt.Add(time.Minute)} {
		list, err := r.ListOverrides(ctx, "primary", at)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list {
			if !at.Before(cancelledAt) || o.ID == erin.ID {
				t.Errorf("listed at %s: %+v", at.Format("15:04"), o)
			}
		}
		if at.Before(cancelledAt) && (len(list) != 1 || list[0].ID != dave.ID) {
			t.Errorf("listed before the cancellation: %+v", list)
		}
	}
}
