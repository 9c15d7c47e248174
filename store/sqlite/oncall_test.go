package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroomhq/warroom/oncall"
)

func TestOverridesAreStoredAndReadByOverlap(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	h := time.Hour
	add := func(schedule, person string, from, to time.Duration) oncall.Override {
		t.Helper()
		o, err := s.AddOverride(ctx, oncall.Override{Schedule: schedule, Person: person,
			From: t0.Add(from), To: t0.Add(to), CreatedBy: "U01ALICE", Reason: "swap"})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	a := add("primary", "bob", 0, 2*h)
	b := add("primary", "dave", 1*h, 3*h)
	add("secondary", "carol", 0, 10*h)
	c := add("primary", "carol", 5*h, 6*h)
	if a.ID == 0 || b.ID <= a.ID || c.ID <= b.ID || !a.CreatedAt.Equal(t0) || a.CreatedBy != "U01ALICE" {
		t.Fatalf("IDs and creation: %+v %+v %+v", a, b, c)
	}

	names := func(from, to time.Duration) []string {
		t.Helper()
		ovs, err := s.Overrides(ctx, "primary", t0.Add(from), t0.Add(to))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range ovs {
			out = append(out, o.Person)
		}
		return out
	}
	for _, c := range []struct {
		from, to time.Duration
		want     []string
	}{
		{0, 24 * h, []string{"bob", "dave", "carol"}}, // in the order they were created
		{2 * h, 5 * h, []string{"dave"}},              // bob's ends at 2h; carol's starts at 5h
		{-h, 0, nil},
		{90 * time.Minute, 91 * time.Minute, []string{"bob", "dave"}},
		{6 * h, 7 * h, nil},
	} {
		if got := names(c.from, c.to); !slices.Equal(got, c.want) {
			t.Errorf("overlapping [%s, %s): %v, want %v", c.from, c.to, got, c.want)
		}
	}
	ovs, _ := s.Overrides(ctx, "primary", t0, t0.Add(h))
	if got := ovs[0]; got.ID != a.ID || !got.From.Equal(t0) || !got.To.Equal(t0.Add(2*h)) || got.Reason != "swap" ||
		got.Schedule != "primary" || !got.CreatedAt.Equal(t0) {
		t.Errorf("read back: %+v, stored %+v", got, a)
	}

	for _, bad := range []oncall.Override{
		{Schedule: "primary", Person: "bob", From: t0, To: t0},
		{Schedule: "primary", Person: "bob", From: t0.Add(h), To: t0},
		{Schedule: "primary", From: t0, To: t0.Add(h)},
		{Person: "bob", From: t0, To: t0.Add(h)},
	} {
		if _, err := s.AddOverride(ctx, bad); err == nil {
			t.Errorf("%+v was stored", bad)
		}
	}
}

// TestResolverOverTheStore: an override recorded through the Resolver
// changes who is on call, and a read-only store (the CLI) sees it.
func TestResolverOverTheStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := OpenMigrated(ctx, path, WithClock(func() time.Time { return t0 }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	schedules := map[string]oncall.Schedule{"primary": {Location: time.UTC, Every: 24 * time.Hour,
		FirstHandoff: t0.Add(-time.Hour), Members: []string{"alice", "bob"}}}
	r := oncall.NewResolver(schedules, s)
	if who, err := r.Who(ctx, "primary", t0); err != nil || who != "alice" {
		t.Fatalf("before the override: %q %v", who, err)
	}
	o, err := r.AddOverride(ctx, oncall.Override{Schedule: "primary", Person: "dave", From: t0, To: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ro, err := Open(ctx, path, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, st := range []oncall.OverrideStore{s, ro} {
		sh, err := oncall.NewResolver(schedules, st).OnCall(ctx, "primary", t0.Add(time.Minute))
		if err != nil || sh.Person != "dave" || !sh.Override || !sh.End.Equal(o.To) {
			t.Errorf("after the override: %+v %v", sh, err)
		}
	}
	if _, err := ro.AddOverride(ctx, oncall.Override{Schedule: "primary", Person: "x", From: t0, To: t0.Add(1)}); err == nil {
		t.Error("a read-only store recorded an override")
	}
	if _, err := r.AddOverride(ctx, oncall.Override{Schedule: "nope", Person: "x", From: t0, To: t0.Add(1)}); !errors.Is(err, oncall.ErrUnknownSchedule) {
		t.Errorf("unknown schedule: %v", err)
	}
}

func TestOverridesQueryUsesItsIndex(t *testing.T) {
	s := openTestStore(t)
	plan := strings.Join(queryPlan(t, s.writer, overridesQuery, "p", 1, 2), "\n")
	if !strings.Contains(plan, "oncall_overrides_schedule_ends_at") {
		t.Errorf("plan does not use the index:\n%s", plan)
	}
}
