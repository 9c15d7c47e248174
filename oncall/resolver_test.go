package oncall

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/warroomhq/warroom/config"
	"github.com/warroomhq/warroom/examples"
)

// memStore is an OverrideStore in memory; store/sqlite has the real one,
// tested against the same contract there.
type memStore struct {
	mu    sync.Mutex
	ovs   []Override
	reads int
}

func (m *memStore) AddOverride(_ context.Context, o Override) (Override, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o.ID = int64(len(m.ovs) + 1)
	m.ovs = append(m.ovs, o)
	return o, nil
}

func (m *memStore) Overrides(_ context.Context, schedule string, from, to time.Time) ([]Override, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	var out []Override
	for _, o := range m.ovs {
		if o.Schedule == schedule && o.From.Before(to) && o.To.After(from) {
			out = append(out, o)
		}
	}
	return out, nil
}

func describe(shifts []Shift) []string {
	var out []string
	for _, s := range shifts {
		kind := "rotation"
		if s.Override {
			kind = "override"
		}
		out = append(out, s.Start.UTC().Format("Jan 2 15:04")+"–"+s.End.UTC().Format("Jan 2 15:04")+" "+s.Person+" "+kind)
	}
	return out
}

func TestOverridesCutShiftsAndTheLaterOneWins(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	s := Schedule{Name: "d", Location: time.UTC, Every: day, FirstHandoff: utc("2026-01-01T09:00:00Z"),
		Members: []string{"a", "b"},
		Overrides: []Override{
			{Schedule: "d", Person: "x", From: utc("2026-01-02T12:00:00Z"), To: utc("2026-01-03T12:00:00Z")},
			{Schedule: "d", Person: "early", From: utc("2025-12-31T00:00:00Z"), To: utc("2026-01-01T12:00:00Z")},
		}}
	r := NewResolver(map[string]Schedule{"d": s}, st)
	add := func(person, from, to string) {
		t.Helper()
		o, err := r.AddOverride(ctx, Override{Schedule: "d", Person: person, From: utc(from), To: utc(to), CreatedBy: "U1"})
		if err != nil || o.ID == 0 {
			t.Fatalf("AddOverride: %+v %v", o, err)
		}
	}
	add("y", "2026-01-03T00:00:00Z", "2026-01-03T06:00:00Z") // over the config's x: y wins
	add("z", "2026-01-03T03:00:00Z", "2026-01-03T04:00:00Z") // over y: z wins

	shifts, err := r.Shifts(ctx, "d", utc("2026-01-02T09:00:00Z"), utc("2026-01-04T09:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "shifts", describe(shifts), []string{
		"Jan 2 09:00–Jan 2 12:00 b rotation",
		"Jan 2 12:00–Jan 3 00:00 x override",
		"Jan 3 00:00–Jan 3 03:00 y override",
		"Jan 3 03:00–Jan 3 04:00 z override",
		"Jan 3 04:00–Jan 3 06:00 y override",
		"Jan 3 06:00–Jan 3 12:00 x override", // the handoff at 09:00 happens under the override
		"Jan 3 12:00–Jan 4 09:00 a rotation",
	})

	for _, c := range []struct{ at, want string }{
		{"2026-01-02T13:00:00Z", "Jan 2 12:00–Jan 3 00:00 x override"},
		{"2026-01-03T03:30:00Z", "Jan 3 03:00–Jan 3 04:00 z override"},
		{"2026-01-03T07:00:00Z", "Jan 3 06:00–Jan 3 12:00 x override"},
		{"2026-01-03T12:00:00Z", "Jan 3 12:00–Jan 4 09:00 a rotation"},
		// Before the rotation starts, an override still puts someone on call.
		{"2025-12-31T05:00:00Z", "Dec 31 00:00–Jan 1 12:00 early override"},
		{"2026-01-01T11:59:00Z", "Dec 31 00:00–Jan 1 12:00 early override"},
		{"2026-01-01T12:00:00Z", "Jan 1 12:00–Jan 2 09:00 a rotation"},
	} {
		sh, err := r.OnCall(ctx, "d", utc(c.at))
		if err != nil {
			t.Errorf("at %s: %v", c.at, err)
			continue
		}
		if got := describe([]Shift{sh})[0]; got != c.want {
			t.Errorf("at %s: %s, want %s", c.at, got, c.want)
		}
		if who, _ := r.Who(ctx, "d", utc(c.at)); who != sh.Person {
			t.Errorf("at %s: Who %q, OnCall %q", c.at, who, sh.Person)
		}
	}
	if _, err := r.Who(ctx, "d", utc("2025-12-30T23:00:00Z")); !errors.Is(err, ErrNobodyOnCall) {
		t.Errorf("before everything: %v", err)
	}
}

// TestLongOverridesReportTheirWholeExtent: an override longer than the
// rotation's shifts is one shift, cut only by later overrides.
func TestLongOverridesReportTheirWholeExtent(t *testing.T) {
	ctx := context.Background()
	st := &memStore{}
	r := NewResolver(map[string]Schedule{"h": {Location: time.UTC, Every: time.Hour, FirstHandoff: utc("2026-01-01T00:00:00Z"),
		Members: []string{"a", "b"}}}, st)
	for _, o := range []Override{
		{Schedule: "h", Person: "w", From: utc("2026-01-10T00:00:00Z"), To: utc("2026-01-20T00:00:00Z")},
		{Schedule: "h", Person: "v", From: utc("2026-01-15T00:00:00Z"), To: utc("2026-01-16T00:00:00Z")},
		{Schedule: "h", Person: "hidden", From: utc("2026-01-15T01:00:00Z"), To: utc("2026-01-15T02:00:00Z")},
		{Schedule: "h", Person: "v2", From: utc("2026-01-15T00:30:00Z"), To: utc("2026-01-15T03:00:00Z")},
		{Schedule: "other", Person: "nope", From: utc("2026-01-01T00:00:00Z"), To: utc("2026-02-01T00:00:00Z")},
	} {
		if _, err := r.AddOverride(ctx, o); err != nil && o.Schedule == "h" {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ at, want string }{
		{"2026-01-11T05:00:00Z", "Jan 10 00:00–Jan 15 00:00 w override"},
		{"2026-01-17T05:00:00Z", "Jan 16 00:00–Jan 20 00:00 w override"},
		{"2026-01-15T01:30:00Z", "Jan 15 00:30–Jan 15 03:00 v2 override"},
		{"2026-01-15T12:00:00Z", "Jan 15 03:00–Jan 16 00:00 v override"},
		{"2026-01-20T00:10:00Z", "Jan 20 00:00–Jan 20 01:00 a rotation"},
	} {
		sh, err := r.OnCall(ctx, "h", utc(c.at))
		if err != nil {
			t.Fatalf("at %s: %v", c.at, err)
		}
		if got := describe([]Shift{sh})[0]; got != c.want {
			t.Errorf("at %s: %s, want %s", c.at, got, c.want)
		}
	}
}

func TestAddOverrideChecksItsInput(t *testing.T) {
	ctx := context.Background()
	s := map[string]Schedule{"d": {Every: day, FirstHandoff: utc("2026-01-01T09:00:00Z"), Members: []string{"a"}}}
	from, to := utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z")
	if _, err := NewResolver(s, nil).AddOverride(ctx, Override{Schedule: "d", Person: "b", From: from, To: to}); !errors.Is(err, ErrNoStore) {
		t.Errorf("without a store: %v", err)
	}
	r := NewResolver(s, &memStore{})
	for _, c := range []struct {
		o    Override
		want error
	}{
		{Override{Schedule: "x", Person: "b", From: from, To: to}, ErrUnknownSchedule},
		{Override{Schedule: "d", Person: " ", From: from, To: to}, ErrInvalidOverride},
		{Override{Schedule: "d", Person: "b", From: to, To: from}, ErrInvalidOverride},
		{Override{Schedule: "d", Person: "b", From: from, To: from}, ErrInvalidOverride},
		{Override{Schedule: "d", Person: "b", To: to}, ErrInvalidOverride},
	} {
		if _, err := r.AddOverride(ctx, c.o); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.o, err, c.want)
		}
	}
}

// TestExampleConfig: the shipped example's schedule, weekly on Mondays at
// 09:00 in Berlin from 2026-11-02, with dave covering Christmas.
func TestExampleConfig(t *testing.T) {
	cfg, err := config.Load(examples.Config, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	schedules := FromConfig(cfg.Schedules)
	s := schedules["payments-primary"]
	if s.Location.String() != "Europe/Berlin" || s.Every != 7*day || s.Handoff != 9*time.Hour ||
		!s.FirstHandoff.Equal(utc("2026-11-02T08:00:00Z")) || len(s.Overrides) != 1 {
		t.Fatalf("FromConfig: %+v", s)
	}
	r := NewResolver(schedules, nil)
	ctx := context.Background()
	shifts, err := r.Shifts(ctx, "payments-primary", utc("2026-11-01T00:00:00Z"), utc("2026-12-29T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "the example's first weeks", describe(shifts), []string{
		"Nov 2 08:00–Nov 9 08:00 alice rotation",
		"Nov 9 08:00–Nov 16 08:00 bob rotation",
		"Nov 16 08:00–Nov 23 08:00 carol rotation",
		"Nov 23 08:00–Nov 30 08:00 alice rotation",
		"Nov 30 08:00–Dec 7 08:00 bob rotation",
		"Dec 7 08:00–Dec 14 08:00 carol rotation",
		"Dec 14 08:00–Dec 21 08:00 alice rotation",
		"Dec 21 08:00–Dec 23 23:00 bob rotation",
		"Dec 23 23:00–Dec 26 23:00 dave override",
		"Dec 26 23:00–Dec 28 08:00 bob rotation",
		"Dec 28 08:00–Jan 4 08:00 carol rotation",
	})
	if _, err := r.Who(ctx, "payments-primary", utc("2026-11-01T12:00:00Z")); !errors.Is(err, ErrNobodyOnCall) {
		t.Errorf("before the start: %v", err)
	}
	if got := r.ScheduleNames(); len(got) != 1 || got[0] != "payments-primary" {
		t.Errorf("ScheduleNames: %v", got)
	}
}

// TestFromConfigStartsOnTheWeekday: a start date that is not the
// handoff's weekday starts the rotation on the next such day.
func TestFromConfigStartsOnTheWeekday(t *testing.T) {
	yaml := []byte(`
people: { a: { slack: U0A } }
schedules:
  s:
    timezone: America/New_York
    rotation: { every: 2w, handoff: "fri 17:30", start: "2026-03-04" }
    members: [a]
`)
	cfg, err := config.Load(yaml, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s := FromConfig(cfg.Schedules)["s"]
	// Friday 2026-03-06 17:30 EST; two weeks later is 17:30 EDT.
	if !s.FirstHandoff.Equal(utc("2026-03-06T22:30:00Z")) {
		t.Fatalf("first handoff %s", s.FirstHandoff)
	}
	wantList(t, "fortnightly", handoffs(t, s, utc("2026-03-06T22:30:00Z"), utc("2026-03-21T00:00:00Z")), []string{
		"2026-03-06T22:30:00Z a", "2026-03-20T21:30:00Z a",
	})
}
