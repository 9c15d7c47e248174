package oncall

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestLocalTimeAcrossDaylightSaving(t *testing.T) {
	berlin, ny := zone(t, "Europe/Berlin"), zone(t, "America/New_York")
	hm := func(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }
	for _, c := range []struct {
		name  string
		loc   *time.Location
		date  [3]int
		clock time.Duration
		want  string
	}{
		{"Berlin winter", berlin, [3]int{2026, 3, 28}, hm(2, 30), "2026-03-28T01:30:00Z"},
		{"Berlin gap: the moment of the jump", berlin, [3]int{2026, 3, 29}, hm(2, 30), "2026-03-29T01:00:00Z"},
		{"Berlin gap start", berlin, [3]int{2026, 3, 29}, hm(2, 0), "2026-03-29T01:00:00Z"},
		{"Berlin just before the gap", berlin, [3]int{2026, 3, 29}, hm(1, 59), "2026-03-29T00:59:00Z"},
		{"Berlin after the gap", berlin, [3]int{2026, 3, 29}, hm(3, 0), "2026-03-29T01:00:00Z"},
		{"Berlin twice: the first", berlin, [3]int{2026, 10, 25}, hm(2, 30), "2026-10-25T00:30:00Z"},
		{"Berlin after the repeat", berlin, [3]int{2026, 10, 25}, hm(3, 0), "2026-10-25T02:00:00Z"},
		{"New York gap", ny, [3]int{2026, 3, 8}, hm(2, 30), "2026-03-08T07:00:00Z"},
		{"New York twice: the first", ny, [3]int{2026, 11, 1}, hm(1, 30), "2026-11-01T05:30:00Z"},
		{"New York summer", ny, [3]int{2026, 7, 1}, hm(9, 0), "2026-07-01T13:00:00Z"},
		{"clock past midnight is the next day", ny, [3]int{2026, 3, 7}, hm(26, 30), "2026-03-08T07:00:00Z"},
		{"UTC", time.UTC, [3]int{2026, 3, 29}, hm(2, 30), "2026-03-29T02:30:00Z"},
	} {
		got := localTime(c.date[0], time.Month(c.date[1]), c.date[2], c.clock, c.loc)
		if !got.Equal(utc(c.want)) || got.Location() != c.loc {
			t.Errorf("%s: %s, want %s", c.name, got.UTC().Format(time.RFC3339), c.want)
		}
	}
}

// TestLocalTimeNeverGoesBack walks the wall clock through both 2026
// changes of both zones in 5-minute steps.
func TestLocalTimeNeverGoesBack(t *testing.T) {
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe"} {
		loc := zone(t, name)
		for _, d := range [][3]int{{2026, 3, 8}, {2026, 3, 29}, {2026, 10, 25}, {2026, 11, 1}, {2026, 4, 5}, {2026, 10, 4}} {
			prev := time.Time{}
			for c := time.Duration(0); c < 2*day; c += 5 * time.Minute {
				got := localTime(d[0], time.Month(d[1]), d[2], c, loc)
				if got.Before(prev) {
					t.Fatalf("%s %v: %s reads %s, before %s", name, d, c, got, prev)
				}
				// Either the wall clock reads c, or c is skipped and got is the jump.
				h, m, _ := got.Clock()
				if start, _ := got.ZoneBounds(); time.Duration(h)*time.Hour+time.Duration(m)*time.Minute != c%day && !start.Equal(got) {
					t.Fatalf("%s %v: %s reads %s", name, d, c, got)
				}
				prev = got
			}
		}
	}
}

// handoffs returns the starts of the rotation shifts from..to, as UTC
// RFC 3339 strings, and the person of each.
func handoffs(t *testing.T, s Schedule, from, to time.Time) []string {
	t.Helper()
	r := NewResolver(map[string]Schedule{s.Name: s}, nil)
	shifts, err := r.Shifts(context.Background(), s.Name, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sh := range shifts {
		if sh.Start.Location() != s.Location {
			t.Errorf("shift start %s is not in the schedule's zone", sh.Start)
		}
		out = append(out, sh.Start.UTC().Format(time.RFC3339)+" "+sh.Person)
	}
	return out
}

func wantList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestWeeklyRotationKeepsLocalTimeAcrossDaylightSaving(t *testing.T) {
	berlin, ny := zone(t, "Europe/Berlin"), zone(t, "America/New_York")
	weekly := func(loc *time.Location, first time.Time) Schedule {
		return Schedule{Name: "s", Location: loc, Every: 7 * day, FirstHandoff: first, Handoff: 9 * time.Hour,
			Members: []string{"alice", "bob", "carol"}}
	}
	// Berlin, spring: Monday 09:00 is 08:00Z in winter, 07:00Z in summer.
	s := weekly(berlin, time.Date(2026, 3, 16, 9, 0, 0, 0, berlin))
	wantList(t, "Berlin, March", handoffs(t, s, utc("2026-03-16T08:00:00Z"), utc("2026-04-07T00:00:00Z")), []string{
		"2026-03-16T08:00:00Z alice", "2026-03-23T08:00:00Z bob", "2026-03-30T07:00:00Z carol", "2026-04-06T07:00:00Z alice",
	})
	// Berlin, autumn: the week with the change is 169 hours long.
	wantList(t, "Berlin, October", handoffs(t, s, utc("2026-10-19T07:00:00Z"), utc("2026-10-27T00:00:00Z")), []string{
		"2026-10-19T07:00:00Z bob", "2026-10-26T08:00:00Z carol",
	})
	// New York: 09:00 is 14:00Z in winter, 13:00Z in summer.
	s = weekly(ny, time.Date(2026, 3, 2, 9, 0, 0, 0, ny))
	wantList(t, "New York, March", handoffs(t, s, utc("2026-03-02T14:00:00Z"), utc("2026-03-10T00:00:00Z")), []string{
		"2026-03-02T14:00:00Z alice", "2026-03-09T13:00:00Z bob",
	})
	wantList(t, "New York, November", handoffs(t, s, utc("2026-10-27T00:00:00Z"), utc("2026-11-03T00:00:00Z")), []string{
		"2026-10-26T13:00:00Z bob", "2026-11-02T14:00:00Z carol", // 34 and 35 weeks after the start
	})

	r := NewResolver(map[string]Schedule{"s": s}, nil)
	sh, err := r.OnCall(context.Background(), "s", utc("2026-10-30T12:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if sh.Person != "bob" || !sh.Start.Equal(utc("2026-10-26T13:00:00Z")) || !sh.End.Equal(utc("2026-11-02T14:00:00Z")) ||
		sh.End.Sub(sh.Start) != 7*day+time.Hour || sh.Override {
		t.Errorf("on call in the week of the change: %+v", sh)
	}
}

func TestDailyRotationAtATimeThatDaylightSavingSkipsOrRepeats(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	s := Schedule{Name: "night", Location: berlin, Every: day, Handoff: 2*time.Hour + 30*time.Minute,
		FirstHandoff: time.Date(2026, 3, 27, 2, 30, 0, 0, berlin), Members: []string{"a", "b"}}
	wantList(t, "spring", handoffs(t, s, utc("2026-03-27T01:30:00Z"), utc("2026-03-31T00:00:00Z")), []string{
		"2026-03-27T01:30:00Z a",
		"2026-03-28T01:30:00Z b",
		"2026-03-29T01:00:00Z a", // 02:30 does not exist: the moment of the jump, 03:00 CEST
		"2026-03-30T00:30:00Z b",
	})
	wantList(t, "autumn", handoffs(t, s, utc("2026-10-24T00:30:00Z"), utc("2026-10-26T02:00:00Z")), []string{
		"2026-10-24T00:30:00Z b",
		"2026-10-25T00:30:00Z a", // 02:30 happens twice: the first, CEST
		"2026-10-26T01:30:00Z b",
	})
}

func TestTwelveAndEightHourSlots(t *testing.T) {
	berlin, ny := zone(t, "Europe/Berlin"), zone(t, "America/New_York")
	s := Schedule{Name: "half", Location: berlin, Every: 12 * time.Hour, Handoff: 9 * time.Hour,
		FirstHandoff: time.Date(2026, 3, 27, 9, 0, 0, 0, berlin), Members: []string{"day", "night"}}
	// 09:00 and 21:00 local every day: the night of the change is 11 hours.
	wantList(t, "Berlin 12h", handoffs(t, s, utc("2026-03-28T08:00:00Z"), utc("2026-03-29T20:00:00Z")), []string{
		"2026-03-28T08:00:00Z day",
		"2026-03-28T20:00:00Z night",
		"2026-03-29T07:00:00Z day",
		"2026-03-29T19:00:00Z night",
	})
	wantList(t, "Berlin 12h, October", handoffs(t, s, utc("2026-10-24T19:00:00Z"), utc("2026-10-25T09:00:00Z")), []string{
		"2026-10-24T19:00:00Z night", "2026-10-25T08:00:00Z day", // a 13-hour night
	})

	s = Schedule{Name: "thirds", Location: ny, Every: 8 * time.Hour, Handoff: time.Hour,
		FirstHandoff: time.Date(2026, 10, 31, 1, 0, 0, 0, ny), Members: []string{"a", "b", "c"}}
	// 01:00, 09:00 and 17:00 local; on Nov 1 the 01:00-09:00 shift is 9 hours.
	wantList(t, "New York 8h", handoffs(t, s, utc("2026-11-01T05:00:00Z"), utc("2026-11-02T06:00:01Z")), []string{
		"2026-11-01T05:00:00Z a",
		"2026-11-01T14:00:00Z b",
		"2026-11-01T22:00:00Z c",
		"2026-11-02T06:00:00Z a",
	})
	// An anchor late in the day: slots wrap past midnight.
	s = Schedule{Name: "late", Location: time.UTC, Every: 12 * time.Hour, Handoff: 21 * time.Hour,
		FirstHandoff: utc("2026-05-01T21:00:00Z"), Members: []string{"a", "b"}}
	wantList(t, "wrap", handoffs(t, s, utc("2026-05-01T20:00:00Z"), utc("2026-05-02T22:00:00Z")), []string{
		"2026-05-01T21:00:00Z a", "2026-05-02T09:00:00Z b", "2026-05-02T21:00:00Z a",
	})
}

// TestHourlySlotsInTheGap: two slots that fall on the moment of the jump
// make an empty shift, which is skipped.
func TestHourlySlotsInTheGap(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	s := Schedule{Name: "h", Location: berlin, Every: 30 * time.Minute, Handoff: 0,
		FirstHandoff: time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), Members: []string{"a", "b", "c", "d", "e", "f", "g"}}
	// Slots 00:00 a, 00:30 b, 01:00 c, 01:30 d, 02:00 e, 02:30 f, 03:00 g: e, f and g all
	// map to 01:00Z; e and f get empty shifts.
	wantList(t, "gap", handoffs(t, s, utc("2026-03-28T23:00:00Z"), utc("2026-03-29T01:31:00Z")), []string{
		"2026-03-28T23:00:00Z a", "2026-03-28T23:30:00Z b", "2026-03-29T00:00:00Z c", "2026-03-29T00:30:00Z d",
		"2026-03-29T01:00:00Z g", "2026-03-29T01:30:00Z a",
	})
}

func TestOddLengthsCountAbsoluteTime(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	s := Schedule{Name: "odd", Location: berlin, Every: 36 * time.Hour, Handoff: 9 * time.Hour,
		FirstHandoff: time.Date(2026, 3, 28, 9, 0, 0, 0, berlin), Members: []string{"a", "b"}}
	wantList(t, "36h", handoffs(t, s, utc("2026-03-28T08:00:00Z"), utc("2026-03-31T00:00:00Z")), []string{
		"2026-03-28T08:00:00Z a", "2026-03-29T20:00:00Z b",
	})
}

func TestWhoFollowsTheMembersInOrder(t *testing.T) {
	s := Schedule{Name: "d", Location: time.UTC, Every: day, FirstHandoff: utc("2026-01-01T09:00:00Z"),
		Members: []string{"alice", "bob", "carol"}}
	r := NewResolver(map[string]Schedule{"d": s}, nil)
	ctx := context.Background()
	for i, want := range []string{"alice", "bob", "carol", "alice", "bob"} {
		at := utc("2026-01-01T09:00:00Z").Add(time.Duration(i) * day)
		for _, t2 := range []time.Time{at, at.Add(day - time.Nanosecond)} {
			got, err := r.Who(ctx, "d", t2)
			if err != nil || got != want {
				t.Errorf("day %d at %s: %q %v, want %q", i, t2, got, err, want)
			}
		}
	}
	// A year on: 365 days later is shift 365, carol's (365 mod 3 = 2).
	if got, _ := r.Who(ctx, "d", utc("2027-01-01T10:00:00Z")); got != "carol" {
		t.Errorf("a year on: %q", got)
	}
}

func TestNobodyBeforeTheStartAndUnknownSchedules(t *testing.T) {
	s := Schedule{Name: "d", Location: time.UTC, Every: day, FirstHandoff: utc("2026-01-01T09:00:00Z"), Members: []string{"a"}}
	r := NewResolver(map[string]Schedule{"d": s}, nil)
	ctx := context.Background()
	if _, err := r.Who(ctx, "d", utc("2026-01-01T08:59:59Z")); !errors.Is(err, ErrNobodyOnCall) {
		t.Errorf("before the start: %v", err)
	}
	if _, err := r.OnCall(ctx, "nope", utc("2026-01-02T00:00:00Z")); !errors.Is(err, ErrUnknownSchedule) {
		t.Errorf("unknown schedule: %v", err)
	}
	if _, err := r.Shifts(ctx, "nope", utc("2026-01-02T00:00:00Z"), utc("2026-01-03T00:00:00Z")); !errors.Is(err, ErrUnknownSchedule) {
		t.Errorf("unknown schedule: %v", err)
	}
	if _, err := r.Shifts(ctx, "d", utc("2026-01-03T00:00:00Z"), utc("2026-01-02T00:00:00Z")); err == nil {
		t.Error("a period that ends before it starts: no error")
	}
	if _, err := r.Shifts(ctx, "d", utc("2026-01-01T00:00:00Z"), utc("2126-01-01T00:00:00Z")); err == nil {
		t.Errorf("a century of daily shifts: no error")
	}
	// The period that starts before the rotation shows its first shift.
	sh, err := r.Shifts(ctx, "d", utc("2025-12-01T00:00:00Z"), utc("2026-01-01T09:00:01Z"))
	if err != nil || len(sh) != 1 || !sh[0].Start.Equal(s.FirstHandoff) {
		t.Errorf("shifts around the start: %+v %v", sh, err)
	}
	// A schedule without members has nobody on call.
	r = NewResolver(map[string]Schedule{"empty": {Every: day, FirstHandoff: s.FirstHandoff}}, nil)
	if _, err := r.Who(ctx, "empty", utc("2026-02-01T00:00:00Z")); !errors.Is(err, ErrNobodyOnCall) {
		t.Errorf("no members: %v", err)
	}
}
