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
